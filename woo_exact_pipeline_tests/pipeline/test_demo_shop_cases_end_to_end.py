"""`woo-exact sync` over the demo shop's day that holds the cases real shops produce.

The demo shop (seed 11, 20 days of 25 orders up to 10 March 2026) forces them on 20 February
2026: discounts given as a negative fee over two rates (orders 1067 and, to Belgium, 1068),
a line of a force-deleted product (1069), custom order numbers (WC-2026-0001 and -0002), a
checkout draft left behind (1072) and one placed later (1073), an order completed and then
trashed (1074), one opened in the admin days later (1075) and a JPY order (1076). The day is
synced into the Exact sandbox and read back; the figures are written by hand from the
generated orders' JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from woo_exact_pipeline.sandbox.woocommerce import start_woocommerce_sandbox
from woo_exact_pipeline_tests.support.recorded_shops import (
    Entry,
    Synced,
    as_booked,
    cli_for,
    read_back,
    run_sync,
    summary_count,
)

DAY = date(2026, 2, 20)


@pytest.fixture(name="synced_day", scope="module")
def synced_day_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    tmp_path = tmp_path_factory.mktemp("demo_cases")
    woo = start_woocommerce_sandbox(seed=11, days=20, orders_per_day=25, end_date=date(2026, 3, 10))
    cli = cli_for(woo, tmp_path, f"sqlite:///{tmp_path / 'sync.db'}", DAY, DAY)
    try:
        yield run_sync(cli, DAY, DAY)
    finally:
        cli.exact.stop()
        woo.stop()


NEW_CASES = {
    # -5.00 over 21 % and 9 %: the tax lines 6.14 and 0.91 already hold its -0.78 and -0.12.
    "1067": Entry("46.49", {"2": "6.14", "1": "0.91"}),
    # The same discount to a Belgian consumer: -0.93 at 21 %, -0.03 at 6 %, OSS codes.
    "1068": Entry("51.86", {"BEH": "8.10", "BEM": "0.30"}),
    # 2 x Proefpakket koffiebonen (product_id 0, sku null): 13.76 with 1.24 VAT at 9 %.
    "1069": Entry("73.19", {"2": "4.33", "1": "3.98"}),
    "WC-2026-0001": Entry("68.19", {"1": "1.50", "4": "0.00"}),  # with a gift card at 0 %
    "WC-2026-0002": Entry("27.94", {"2": "4.85"}),
    "1073": Entry("17.23", {"1": "0.56", "2": "1.82"}),  # the draft, placed later
    "1075": Entry("33.19", {"1": "2.74"}),  # date_modified moved days later
}


def test_the_new_cases_book_in_exact_under_their_numbers_with_the_vat_charged(
    synced_day: Synced,
) -> None:
    assert synced_day.exit_code == 0, synced_day.output
    booked = read_back(synced_day.cli.exact)  # each YourRef once
    assert {reference: booked.get(reference) for reference in NEW_CASES} == as_booked(NEW_CASES)
    assert summary_count(synced_day.output, "Quarantined") == 0, synced_day.output


def test_drafts_trashed_orders_and_the_yen_order_are_not_booked(synced_day: Synced) -> None:
    booked = {entry["YourRef"] for entry in synced_day.cli.exact.sales_entries()}
    assert not booked & {"1072", "1074", "1076"}
    # The yen order is held back with what the bookkeeper can do about it.
    assert summary_count(synced_day.output, "Not booked, with reason") == 1, synced_day.output
    assert "the order is in JPY, which the administration does not book in" in synced_day.output
    assert "add it under exact.currencies" in synced_day.output
