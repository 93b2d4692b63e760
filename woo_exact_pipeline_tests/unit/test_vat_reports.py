"""The bookkeeper's quarter from a handful of orders: each treatment booked by the transform,
then the quarter's VAT return, OSS declaration and ICP listing, figures written by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from woo_exact_pipeline.bookkeeping.model import AccountingEvent, Debtor, JournalLine, VatTreatment
from woo_exact_pipeline.bookkeeping.vat_reports import (
    Period,
    figures,
    figures_csv,
    icp_vat_number,
    in_euros,
    order_facts,
    period_start,
    period_starting,
    report_lines,
)
from woo_exact_pipeline.config import ReportSettings
from woo_exact_pipeline.defs.reports.files import report_folder
from woo_exact_pipeline_tests.fixtures.bookkeeping import address, book, settings, wc_order
from woo_exact_pipeline_tests.support.orders import (
    moka_and_shipping_refund,
    nl_tax_lines,
)
from woo_exact_pipeline_tests.support.vat_quarter import book_returned_in_april, the_quarters_orders

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31), "2026-Q1")
Q2 = Period(date(2026, 4, 1), date(2026, 6, 30), "2026-Q2")


def quarter_csv(period: Period) -> str:
    orders = the_quarters_orders()
    result = book(orders, {1001: [moka_and_shipping_refund()], 1002: [book_returned_in_april()]})
    assert result.quarantined == () and result.waiting == ()
    facts = order_facts({order["id"]: order for order in orders}, settings())
    return figures_csv(figures(report_lines(result.events, facts, period)))


def test_the_quarters_three_reports_from_orders_of_every_treatment() -> None:
    """1a: coffee 73.47 + fee 0.29 + shipping 5.74 = 79.50 net, 15.43 + 0.06 + 1.21 = 16.70
    VAT, less the moka pot and shipping returned on 5 March (32.23 + 5.74 = 37.97, VAT 6.77 +
    1.21 = 7.98): 41.53 and 8.72. 1b: the cookbook, 22.89 and 2.06. OSS DE 19%: coffee 31.51 +
    DHL 8.36 = 39.87, VAT 5.99 + 1.59 = 7.58; DE 7%: the Kaffeebuch 18.64 and 1.31 (returned
    in April, so still here). 3a and 3b: 206.20 + 5.74 = 211.94 each; the ICP listing names
    the number without its spaces and dots."""
    assert quarter_csv(Q1) == (
        "report,key,rate,net,vat\n"
        "oss,DE,7,18.64,1.31\n"
        "oss,DE,19,39.87,7.58\n"
        "icp,DE123456789,,211.94,0.00\n"
        "nl_return,1a,21,41.53,8.72\n"
        "nl_return,1b,9,22.89,2.06\n"
        "nl_return,3a,0,211.94,0.00\n"
        "nl_return,3b,0,211.94,0.00\n"
    )


def test_a_refund_dated_in_the_next_quarter_lands_there() -> None:
    assert quarter_csv(Q2) == "report,key,rate,net,vat\noss,DE,7,-18.64,-1.31\n"


def test_an_eu_consumer_charged_dutch_vat_and_a_till_sale_are_in_1a_not_in_oss() -> None:
    """A Belgian consumer charged Dutch 21% under shop_country_vat (20.00 + 4.20) and two
    espresso cups at the till (10.00 + 2.10): 1a 30.00 and 6.30, no OSS row."""
    belgian = wc_order(
        1003,
        country="BE",
        cart_tax="4.20",
        total="24.20",
        total_tax="4.20",
        line_items=[
            {"id": 31, "name": "Melkopschuimer", "product_id": 90, "quantity": 1,
             "tax_class": "", "subtotal": "20.00", "subtotal_tax": "4.20", "total": "20.00",
             "total_tax": "4.20", "taxes": [{"id": 1, "total": "4.2", "subtotal": "4.2"}],
             "meta_data": [], "sku": "MELK-1", "price": 20},
        ],
        tax_lines=nl_tax_lines("4.20"),
    )  # fmt: skip
    empty = {key: "" for key in address("")}
    till = wc_order(
        1005,
        created_via="pos-rest-api",
        billing={**empty, "email": ""},
        shipping=empty,
        cart_tax="2.10",
        total="12.10",
        total_tax="2.10",
        line_items=[
            {"id": 51, "name": "Espressokopje", "product_id": 95, "quantity": 2,
             "tax_class": "", "subtotal": "10.00", "subtotal_tax": "2.10", "total": "10.00",
             "total_tax": "2.10", "taxes": [{"id": 1, "total": "2.1", "subtotal": "2.1"}],
             "meta_data": [], "sku": "ESP-KOP", "price": 5},
        ],
        tax_lines=nl_tax_lines("2.10"),
    )  # fmt: skip
    config = settings(exact={"eu_consumer_vat_regime": "shop_country_vat"})
    orders = [belgian, till]
    result = book(orders, config=config)
    assert [event.vat_treatment for event in result.events] == [
        VatTreatment.EU_CONSUMER_SHOP_VAT,
        VatTreatment.POS,
    ]
    facts = order_facts({order["id"]: order for order in orders}, config)
    assert figures_csv(figures(report_lines(result.events, facts, Q1))) == (
        "report,key,rate,net,vat\nnl_return,1a,21,30.00,6.30\n"
    )


def test_icp_numbers_carry_their_country_code() -> None:
    assert icp_vat_number("BE", "0123456749") == "BE0123456749"
    assert icp_vat_number("GR", "094014201") == "EL094014201"
    assert icp_vat_number("DE", "DE123456789") == "DE123456789"


def test_periods_are_quarters_or_months() -> None:
    assert period_starting(date(2026, 10, 1), "quarter") == Period(
        date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"
    )
    assert period_starting(date(2026, 2, 1), "month") == Period(
        date(2026, 2, 1), date(2026, 2, 28), "2026-02"
    )
    assert period_start(date(2026, 11, 10), "quarter") == date(2026, 10, 1)


def odd_cents_sale(number: int, net_cents: int, vat_cents: int) -> AccountingEvent:
    net, vat = Decimal(net_cents) / 100, Decimal(vat_cents) / 100
    line = JournalLine(
        "revenue", "8000", "2", Decimal(21), None, "Sales", Decimal(1), None, net, vat
    )
    return AccountingEvent(
        kind="sale",
        reference=str(number),
        order_id=number,
        order_number=str(number),
        refund_id=None,
        event_date=date(2026, 1, 1 + number % 28),
        currency="EUR",
        description=f"Order {number}",
        debtor=Debtor("default", "1"),
        vat_treatment=VatTreatment.DOMESTIC,
        vat_explanation="Delivered in NL",
        flags=(),
        lines=(line,),
        total_incl_vat=net + vat,
    )


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-99_999, 999_999), st.integers(-20_999, 209_999)),
        min_size=1,
        max_size=400,
    )
)
def test_a_quarter_of_odd_cents_sums_exactly(amounts: list[tuple[int, int]]) -> None:
    """Hundreds of sales of 0.01, 0.07, 0.10...: the figure is their sum to the cent, which
    float arithmetic would miss (0.1 + 0.2 != 0.3)."""
    events = [odd_cents_sale(n, net, vat) for n, (net, vat) in enumerate(amounts)]
    table = figures(report_lines(events, {}, Q1))
    assert table["net_cents"].dtype == "int64"
    [row] = table.itertuples(index=False)
    assert (row.report, row.key, row.rate) == ("nl_return", "1a", "21")
    assert row.net_cents == sum(net for net, _ in amounts)
    assert row.vat_cents == sum(vat for _, vat in amounts)
    expected_net = sum((Decimal(net) / 100 for net, _ in amounts), Decimal(0))
    assert figures_csv(table).splitlines()[1].split(",")[3] == f"{expected_net:.2f}"


def test_a_dollar_sale_counts_in_euros_at_its_booked_rate_and_one_not_booked_is_left_out() -> None:
    sale = odd_cents_sale(1, 1000, 210)
    dollars = AccountingEvent(**{**_fields(odd_cents_sale(2, 10000, 2100)), "currency": "USD"})
    pounds = AccountingEvent(**{**_fields(odd_cents_sale(3, 500, 105)), "currency": "GBP"})

    reported, left_out = in_euros([sale, dollars, pounds], {"2": Decimal("1.08")})

    # 100.00 / 1.08 = 92.59 and 21.00 / 1.08 = 19.44 beside the euro sale's 10.00 and 2.10;
    # the pounds were not booked yet, so no rate: left out and counted.
    table = figures(report_lines(reported, {}, Q1))
    assert table[["key", "net_cents", "vat_cents"]].values.tolist() == [["1a", 10259, 2154]]
    assert left_out == {"GBP": 1}
    assert isinstance(table, pd.DataFrame)


def _fields(event: AccountingEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AccountingEvent.__dataclass_fields__
            if name != "content_hash"}  # fmt: skip


def test_a_period_without_bookings_is_the_header_alone() -> None:
    assert figures_csv(figures(report_lines([], {}, Q1))) == "report,key,rate,net,vat\n"


def test_the_files_go_next_to_a_sqlite_database_or_to_the_configured_folder() -> None:
    sqlite = "sqlite:////srv/woo/.woo_exact/sync.db"
    assert report_folder(settings(), sqlite) == Path("/srv/woo/.woo_exact/reports")
    postgres = "postgresql://sync@db/woo"
    assert report_folder(settings(), postgres) == Path(".woo_exact/reports")
    configured = settings().model_copy(update={"reports": ReportSettings(folder="/srv/vat")})
    assert report_folder(configured, postgres) == Path("/srv/vat")
