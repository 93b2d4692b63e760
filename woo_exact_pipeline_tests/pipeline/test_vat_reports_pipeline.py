"""The VAT reports end to end: a sandbox shop's days across a quarter's end extracted,
transformed and booked into the Exact sandbox over HTTP, then each quarter's reports
materialized with both checks; then Exact is tampered with and the Exact check fails."""

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from woo_exact_pipeline.config import ReportSettings, SyncConfig, load_config
from woo_exact_pipeline.defs.reports.assets import (
    EQUALS_EXACT,
    EQUALS_JOURNAL,
    filing_periods,
    partition_period,
)
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.store.vat_periods import load_period_events
from woo_exact_pipeline_tests.support.exact_client import book_by_hand
from woo_exact_pipeline_tests.support.pipeline import assets_of
from woo_exact_pipeline_tests.support.sandbox_pipeline import (
    SHOP_KEY,
    STAGE,
    resources,
    settings_for,
)

LAST_DAY = date(2026, 10, 3)  # eight days: 26 September to 3 October, two quarters
DAYS = [f"2026-09-{day}" for day in range(26, 31)] + [f"2026-10-0{day}" for day in (1, 2, 3)]
Q3, Q4 = "2026-07-01", "2026-10-01"
REPORT_ASSETS = ("vat_return", "oss_declaration", "icp_listing")


@pytest.fixture
def shop() -> Iterator[WooSandbox]:
    with start_woocommerce_sandbox(
        seed=11, days=len(DAYS), orders_per_day=6, end_date=LAST_DAY
    ) as sandbox:
        yield sandbox


def book_every_day(
    shop: WooSandbox, exact: ExactSandbox, url: str, settings: SyncConfig
) -> dict[str, Any]:
    assets = assets_of(settings)
    everything = resources(shop, exact, url)
    staged = dg.materialize(
        [assets[name] for name in STAGE],
        resources=everything,
        tags={
            "dagster/asset_partition_range_start": DAYS[0],
            "dagster/asset_partition_range_end": DAYS[-1],
        },
    )
    assert staged.success
    for day in DAYS:
        loaded = dg.materialize(
            [assets["exact_reference_data"], assets["exact_bookings"]],
            partition_key=day,
            resources=everything,
            selection=[assets["exact_bookings"]],
        )
        assert loaded.success
    return everything


def materialize_reports(
    settings: SyncConfig, everything: dict[str, Any], quarter: str
) -> dg.ExecuteInProcessResult:
    assets = assets_of(settings)
    result = dg.materialize(
        [assets[name] for name in REPORT_ASSETS], partition_key=quarter, resources=everything
    )
    assert result.success
    return result


def checks_of(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {
        (evaluation.asset_key.path[-1], evaluation.check_name): evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    }


def test_each_quarters_reports_equal_the_journal_and_exact_until_exact_changes(
    shop: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    settings = settings_for(exact).model_copy(
        update={"reports": ReportSettings(folder=str(folder))}
    )
    everything = book_every_day(shop, exact, database_url, settings)
    with engine.connect() as connection:
        q3 = load_period_events(connection, SHOP_KEY, date(2026, 7, 1), date(2026, 9, 30))
        q4 = load_period_events(connection, SHOP_KEY, date(2026, 10, 1), date(2026, 12, 31))
    assert q3 and q4
    assert all(event.event_date.month == 9 for event in q3)
    assert all(event.event_date.month == 10 for event in q4)

    for quarter, label in ((Q3, "2026-Q3"), (Q4, "2026-Q4")):
        result = materialize_reports(settings, everything, quarter)
        assert checks_of(result) == {
            (asset, check): True
            for asset in REPORT_ASSETS
            for check in (EQUALS_JOURNAL, EQUALS_EXACT)
        }
        [vat_return] = result.asset_materializations_for_node("vat_return")
        assert vat_return.metadata["period"].value == label
        assert (
            (folder / f"{label}_vat_return.csv")
            .read_text()
            .startswith("report,key,rate,net,vat\nnl_return,1a,21,")
        )
        sheet = load_workbook(folder / f"{label}_vat_return.xlsx")["NL return"]
        assert [cell.value for cell in sheet[1]] == [
            "rubriek",
            "description",
            "rate %",
            "net",
            "VAT",
        ]
        assert sheet["A2"].value == "1a"

    # Someone books a Dutch sale of October a second time in Exact, by hand.
    sale = next(e for e in q4 if e.kind == "sale" and e.vat_treatment == "domestic")
    book_by_hand(exact, engine, settings, sale.reference, date(2026, 10, 2))
    again = checks_of(materialize_reports(settings, everything, Q4))
    assert again[("vat_return", EQUALS_JOURNAL)] is True
    assert again[("vat_return", EQUALS_EXACT)] is False
    assert again[("oss_declaration", EQUALS_EXACT)] is True


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [("quarter", "2025-01-01", "2026-10-01"), ("month", "2025-01-01", "2026-10-01")],
)
def test_a_partition_per_quarter_or_month_up_to_the_one_holding_the_last_day(
    period: str, first: str, last: str
) -> None:
    base = load_config()  # exports from 1 January 2025
    settings = base.model_copy(
        update={
            "woocommerce": base.woocommerce.model_copy(update={"export_orders_until": LAST_DAY}),
            "reports": ReportSettings(period=period),
        }
    )
    # Asked long after the last day, so the answer does not depend on today's date.
    keys = filing_periods(Shop(settings)).get_partition_keys(current_time=datetime(2027, 6, 1))
    assert (keys[0], keys[-1]) == (first, last)
    assert len(keys) == (8 if period == "quarter" else 22)
    assert partition_period(Shop(settings), keys[-1]).label == (
        "2026-Q4" if period == "quarter" else "2026-10"
    )
