"""`woo-exact report vat`: the quarter's figures from the sync database, in the CSV format the
issue fixes (report,key,rate,net,vat), as a workbook, and as a table for reading."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook

from woo_exact_pipeline.bookkeeping.vat_reports import Period, expected_totals, report_totals
from woo_exact_pipeline.cli import main
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.journal import replace_partition_journal
from woo_exact_pipeline.store.staging import save_orders
from woo_exact_pipeline.store.vat_periods import journal_sums, period_figures
from woo_exact_pipeline_tests.fixtures.bookkeeping import BASE_SETTINGS, book
from woo_exact_pipeline_tests.support.orders import moka_and_shipping_refund
from woo_exact_pipeline_tests.support.vat_quarter import book_returned_in_april, the_quarters_orders

SHOP = "shop.example.nl"  # BASE_SETTINGS' shop_url without its scheme
ORDER_DAY = date(2026, 3, 2)
Q1 = ["--from", "2026-01-01", "--to", "2026-03-31"]
PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31), "2026-Q1")


def settings_of(config: Path) -> SyncConfig:
    return SyncConfig.model_validate(yaml.safe_load(config.read_text(encoding="utf-8")))


@pytest.fixture
def synced(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quarter's orders staged and transformed in the sync database; its sync.yaml."""
    orders = the_quarters_orders()
    result = book(orders, {1001: [moka_and_shipping_refund()], 1002: [book_returned_in_april()]})
    engine = open_sync_database(database_url)
    with engine.begin() as connection:
        save_orders(connection, SHOP, ORDER_DAY, orders)
        replace_partition_journal(connection, SHOP, ORDER_DAY, result)
    engine.dispose()
    monkeypatch.setenv("WOO_EXACT_DATABASE_URL", database_url)
    config = tmp_path / "sync.yaml"
    settings = {**BASE_SETTINGS, "reports": {"folder": str(tmp_path / "reports")}}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


def run(config: Path, *arguments: str) -> str:
    outcome = CliRunner().invoke(main, ["report", "vat", "--config", str(config), *arguments])
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def test_csv_prints_the_header_and_a_row_per_figure(synced: Path) -> None:
    assert run(synced, *Q1, "--format", "csv") == (
        "report,key,rate,net,vat\n"
        "oss,DE,7,18.64,1.31\n"
        "oss,DE,19,39.87,7.58\n"
        "icp,DE123456789,,211.94,0.00\n"
        "nl_return,1a,21,41.53,8.72\n"
        "nl_return,1b,9,22.89,2.06\n"
        "nl_return,3a,0,211.94,0.00\n"
        "nl_return,3b,0,211.94,0.00\n"
    )


def test_the_april_return_is_in_the_second_quarter(synced: Path) -> None:
    second = ["--from", "2026-04-01", "--to", "2026-06-30", "--format", "csv"]
    assert run(synced, *second) == "report,key,rate,net,vat\noss,DE,7,-18.64,-1.31\n"


def test_xlsx_writes_a_sheet_per_report_with_exact_amounts(synced: Path, tmp_path: Path) -> None:
    output = run(synced, *Q1, "--format", "xlsx")
    path = tmp_path / "reports" / "2026-01-01_to_2026-03-31_vat_reports.xlsx"
    assert output == f"wrote {path}\n"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["NL return", "OSS", "ICP"]
    nl = [[cell.value for cell in row] for row in workbook["NL return"].iter_rows(min_row=2)]
    assert nl[0][0] == "1a" and nl[0][3:] == [41.53, 8.72]
    assert workbook["NL return"]["D2"].number_format == "0.00"
    assert [[cell.value for cell in row] for row in workbook["ICP"].iter_rows()] == [
        ["country code", "VAT number", "net"],
        ["DE", "DE123456789", 211.94],
    ]
    # Written from Decimals: the cell holds the amount's own digits.
    assert str(Decimal(str(workbook["OSS"]["C3"].value))) == "39.87"


def test_the_table_says_it_is_a_preparation_not_a_filing(synced: Path) -> None:
    output = run(synced, *Q1)
    assert "a preparation to check, not a filing" in output
    assert "1a Leveringen/diensten belast met hoog tarief" in output
    assert "41.53" in output and "DE123456789" in output


def test_a_period_ending_before_it_starts_is_refused(synced: Path) -> None:
    outcome = CliRunner().invoke(
        main,
        ["report", "vat", "--config", str(synced), "--from", "2026-03-31", "--to", "2026-01-01"],
    )
    assert outcome.exit_code == 1
    assert "--to 2026-01-01 is before --from 2026-03-31" in outcome.output


def test_the_journal_check_sums_the_tables_per_report(synced: Path, database_url: str) -> None:
    """What the totals check holds the reports to, from the tables: NL return 41.53 + 22.89 +
    211.94 (3a) + 211.94 (3b) = 488.30 net and 8.72 + 2.06 = 10.78 VAT; OSS 18.64 + 39.87 =
    58.51 and 1.31 + 7.58 = 8.89; ICP 211.94. A report that lost a line would differ."""
    engine = open_sync_database(database_url)
    with engine.connect() as connection:
        sums = journal_sums(connection, SHOP, date(2026, 1, 1), date(2026, 3, 31))
        table = period_figures(connection, settings_of(synced), PERIOD).table
    engine.dispose()
    assert expected_totals(sums, "nl_return") == (48830, 1078)
    assert expected_totals(sums, "oss") == (5851, 889)
    assert expected_totals(sums, "icp") == (21194, 0)
    for report in ("nl_return", "oss", "icp"):
        assert report_totals(table, report) == expected_totals(sums, report)
    without_3a = table[table["key"] != "3a"]
    assert report_totals(without_3a, "nl_return") != expected_totals(sums, "nl_return")
