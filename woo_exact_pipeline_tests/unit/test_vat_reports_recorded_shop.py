"""The fourth quarter of 2026 of the recorded real WooCommerce shop (its orders of 20 October to
1 December, `shared/woocommerce-recorded`): the three reports, worked out by hand from the
recorded orders' lines, tax lines and refunds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.bookkeeping.parse import parse_gmt
from woo_exact_pipeline.bookkeeping.vat_reports import (
    Period,
    figures,
    figures_csv,
    order_facts,
    report_lines,
)
from woo_exact_pipeline.config import ReportSettings
from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import start_woocommerce_sandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.staging import save_orders, save_refunds
from woo_exact_pipeline_tests.support.exact_client import store_sandbox_tokens
from woo_exact_pipeline_tests.support.pipeline import assets_of
from woo_exact_pipeline_tests.support.recorded_orders import (
    FIRST_SHOP,
    SETTINGS,
    booked,
    recorded_shop,
    skip_without_recordings,
)
from woo_exact_pipeline_tests.support.sandbox_pipeline import SHOP_KEY, resources, settings_for

pytestmark = skip_without_recordings

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")


def test_the_recorded_shops_quarter_by_hand() -> None:
    """Net from the orders' line totals (shipping at the rate its tax line names), VAT from the
    tax lines (`tax_total` + `shipping_tax_total`):

    - AT (order 32, the T-shirt 22.27 returned as refund 52, then 2.50 without lines as 1.57
      at 10% with 0.14 VAT and 0.93 at 20% with 0.16): 10% 22.93 - 1.43 = 21.50, VAT 2.29 -
      0.14 = 2.15; 20% 22.27 + 12.50 - 22.27 - 0.77 = 11.73, VAT 6.95 - 4.45 - 0.16 = 2.34.
    - BE (orders 29 and 41, 41's cookbook 22.93 returned): 6% 22.93 + 45.85 - 22.93 = 45.85,
      VAT 1.38 + 2.75 - 1.38 = 2.75; 21% 2 x (10.00 + 12.50) = 45.00, VAT 2 x 4.72 = 9.44.
    - DE (orders 30 and 44): 7% 2 x 22.93 = 45.86, VAT 2 x 1.60; 19% 10.00 + 20.62 + 12.50 +
      10.00 + 12.50 = 65.62, VAT 8.19 + 4.27 = 12.46.
    - FR (order 31, refunded in full): 0.00 at both rates.
    - ICP and 3b: the VAT-exempt German business, order 43, 158.35.
    - 1a: the 21% lines and 6.95 shipping of orders 25-28, 35-38, 42, 45 and 54 (order 45's
      fees +2.50 and -2.79 of -5.00), less refund 51's 7.11 and 0.75: 415.67, VAT 87.31.
    - 1b: 8.24 + 22.93 + 20.64 + 31.62 + 4.12 + (22.93 - 2.21) + 7.42 - 0.45 = 115.24, VAT
      0.74 + 2.06 + 1.86 + 2.84 + 0.37 + 1.86 + 0.67 - 0.04 = 10.36.
    - 1e: order 38's gift voucher, 25.00. 3a: orders 33 (US) and 34 (CH), 57.93 + 90.29.
    """
    shop = recorded_shop(FIRST_SHOP)
    result = booked(shop)
    facts = order_facts({order["id"]: order for order in shop.orders}, SETTINGS)
    assert figures_csv(figures(report_lines(result.events, facts, Q4))) == (
        "report,key,rate,net,vat\n"
        "oss,AT,10,21.50,2.15\n"
        "oss,AT,20,11.73,2.34\n"
        "oss,BE,6,45.85,2.75\n"
        "oss,BE,21,45.00,9.44\n"
        "oss,DE,7,45.86,3.20\n"
        "oss,DE,19,65.62,12.46\n"
        "oss,FR,5.5,0.00,0.00\n"
        "oss,FR,20,0.00,0.00\n"
        "icp,DE123456789,,158.35,0.00\n"
        "nl_return,1a,21,415.67,87.31\n"
        "nl_return,1b,9,115.24,10.36\n"
        "nl_return,1e,0,25.00,0.00\n"
        "nl_return,3a,0,148.22,0.00\n"
        "nl_return,3b,0,158.35,0.00\n"
    )


@pytest.fixture
def exact() -> Iterator[ExactSandbox]:
    sandbox = start_exact_sandbox(minute_limit=100_000)
    yield sandbox
    sandbox.stop()


def test_the_recorded_shops_quarter_passes_both_checks_once_booked_in_exact(
    exact: ExactSandbox, database_url: str, tmp_path: Path
) -> None:
    """The recorded orders staged as the extraction stages them (the WooCommerce sandbox
    does not serve them yet), transformed and booked into the Exact sandbox over HTTP."""
    shop = recorded_shop(FIRST_SHOP)
    settings = settings_for(exact).model_copy(
        update={"reports": ReportSettings(folder=str(tmp_path / "reports"))}
    )
    zone = ZoneInfo(settings.woocommerce.time_zone)
    day_of = {o["id"]: shop_day(parse_gmt(o["date_created_gmt"]), zone) for o in shop.orders}
    days = sorted(set(day_of.values()))
    engine = open_sync_database(database_url)
    store_sandbox_tokens(exact, engine)
    with engine.begin() as connection:
        for day in days:
            save_orders(
                connection, SHOP_KEY, day, [o for o in shop.orders if day_of[o["id"]] == day]
            )
        for order_id, refunds in shop.refunds.items():
            # The client adds the refunded order's id, as here.
            with_order = [{**refund, "parent_id": order_id} for refund in refunds]
            save_refunds(connection, SHOP_KEY, day_of[order_id], with_order)
    engine.dispose()

    assets = assets_of(settings)
    with start_woocommerce_sandbox(seed=1, days=1, orders_per_day=1, end_date=days[-1]) as woo:
        everything = resources(woo, exact, database_url)  # WooCommerce is not asked
        transformed = dg.materialize(
            [assets["exact_journal_lines"]],
            resources=everything,
            tags={
                "dagster/asset_partition_range_start": days[0].isoformat(),
                "dagster/asset_partition_range_end": days[-1].isoformat(),
            },
        )
        assert transformed.success
        for day in days:
            loaded = dg.materialize(
                [assets["exact_reference_data"], assets["exact_bookings"]],
                partition_key=day.isoformat(),
                resources=everything,
                selection=[assets["exact_bookings"]],
            )
            assert loaded.success
        reports = dg.materialize(
            [assets[name] for name in ("vat_return", "oss_declaration", "icp_listing")],
            partition_key="2026-10-01",
            resources=everything,
        )
    assert reports.success
    evaluations = reports.get_asset_check_evaluations()
    assert len(evaluations) == 6
    assert all(evaluation.passed for evaluation in evaluations), [
        (e.asset_key.path[-1], e.check_name, e.metadata) for e in evaluations if not e.passed
    ]
    csv = (tmp_path / "reports" / "2026-Q4_icp_listing.csv").read_text(encoding="utf-8")
    assert csv == "report,key,rate,net,vat\nicp,DE123456789,,158.35,0.00\n"
