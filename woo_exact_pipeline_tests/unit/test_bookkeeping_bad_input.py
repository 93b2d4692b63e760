"""Odd and broken orders are booked correctly or quarantined with a reason a bookkeeper can act
on; one bad order never raises and never holds back the others."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from woo_exact_pipeline.bookkeeping import TransformResult, build_accounting_events, sales
from woo_exact_pipeline.bookkeeping.model import DESCRIPTION_LENGTH, NAME_LENGTH
from woo_exact_pipeline_tests.fixtures.bookkeeping import address, book, settings
from woo_exact_pipeline_tests.support.bad_orders import hundred_percent_coupon, simple_order
from woo_exact_pipeline_tests.support.orders import (
    DE_TAX_LINES,
    NL_TAX_LINES,
    business_order,
    coffee_order,
    german_order,
)

D = Decimal


def held_alone(order: dict[str, Any], **kwargs: Any) -> str:
    """Book `order` next to a good one; the good one books, `order` is held: its reason."""
    result = book([order, simple_order(9999)], **kwargs)
    assert [event.order_id for event in result.events] == [9999]
    (held,) = result.quarantined
    assert held.order_id == order["id"]
    assert held.reason
    return held.reason


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"total": None}, "order.total is missing"),
        ({"total": ["12.10"]}, "order.total: ['12.10'] is not an amount"),
        ({"total": "twelve"}, "order.total: 'twelve' is not an amount"),
        ({"total": "NaN"}, "not a finite amount"),
        ({"total": "1e30"}, "out of range"),
        ({"total": "-12.10"}, "the order total -12.10 is negative"),
        ({"total_tax": True}, "order.total_tax: True is not an amount"),
        ({"line_items": {"0": {}}}, "order.line_items is not a list"),
        ({"line_items": ["mug"]}, "order.line_items[0] is not a JSON object"),
        ({"currency": "EURO"}, "currency 'EURO' is not a three-letter ISO code"),
        ({"currency": None}, "currency None is not a three-letter ISO code"),
        ({"tax_lines": [{"rate_id": "x"}]}, "order.tax_lines[0].rate_id is 'x'"),
        ({"date_created": None, "date_created_gmt": None}, "no date_created"),
        ({"date_created_gmt": "2026-02-30T10:00:00"}, "order.date_created is not a date"),
    ],
)
def test_missing_fields_and_wrong_types_quarantine_with_the_field_named(
    change: dict[str, Any], expected: str
) -> None:
    assert expected in held_alone(simple_order(**change))


def test_a_line_field_of_the_wrong_type_is_named() -> None:
    order = simple_order()
    order["line_items"][0]["quantity"] = "two"
    assert "line_items[0].quantity: 'two' is not an amount" in held_alone(order)


def test_orders_that_are_not_objects_or_lack_an_id_are_quarantined() -> None:
    not_orders: list[Any] = ["not an order", {"id": "abc"}, {"id": True}]
    result = build_accounting_events([*not_orders, simple_order()], {}, settings())
    assert [event.order_id for event in result.events] == [3001]
    assert len(result.quarantined) == 3
    assert all(item.order_id is None and item.reason for item in result.quarantined)


def test_negative_quantity_is_quarantined() -> None:
    order = simple_order()
    order["line_items"][0].update(quantity=-1, total="-10.00", total_tax="-2.10")
    assert "quantity -1" in held_alone(order)


def test_zero_quantity_line_without_amount_is_skipped_but_with_amount_is_held() -> None:
    order = simple_order()
    order["line_items"].append(
        {"id": 2, "name": "Gratis sticker", "product_id": 6, "quantity": 0, "subtotal": "0.00",
         "subtotal_tax": "0.00", "total": "0.00", "total_tax": "0.00", "taxes": [], "sku": ""}
    )  # fmt: skip
    (sale,) = book([order]).events
    assert len(sale.lines) == 1
    order["line_items"][1]["total"] = "1.00"
    assert "quantity 0 but an amount" in held_alone(order)


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("XX", "shipping country 'XX' is not a known two-letter country code"),
        ("Netherlands", "'Netherlands' is not a known two-letter country code"),
        ("", "no country on its shipping or billing address"),
    ],
)
def test_unknown_or_missing_country_is_quarantined(country: str, expected: str) -> None:
    order = simple_order(
        billing={**address(country), "email": "x@example.nl"}, shipping=address(country)
    )
    assert expected in held_alone(order)


def test_lowercase_country_is_understood() -> None:
    order = simple_order(shipping=address("nl"))
    assert book([order]).events[0].vat_treatment == "domestic"


def test_unmapped_oss_rate_names_the_setting_to_add() -> None:
    order = german_order()
    order["tax_lines"] = [{**DE_TAX_LINES[0], "rate_percent": 16.0}, DE_TAX_LINES[1]]
    result = book([order, simple_order()])
    (held,) = result.quarantined
    assert held.category == "unmapped_vat_rate"
    assert held.reason == (
        "tax rate 16% to DE has no VAT code in the mapping; add one under exact.vat_mapping.oss.DE"
    )
    assert held.details == {"rate": "16", "country": "DE"}


def test_unmapped_domestic_rate_names_the_setting_to_add() -> None:
    order = simple_order(tax_lines=[{**NL_TAX_LINES[0], "rate_percent": "13.5"}])
    reason = held_alone(order)
    assert reason == (
        "tax rate 13.5% to NL has no VAT code in the mapping; add one under "
        "exact.vat_mapping.domestic"
    )


def test_unmapped_revenue_account_names_the_setting_to_add() -> None:
    config = settings(exact={"gl_mapping": {"domestic": {9: "8010"}}})
    (held,) = book([simple_order()], config=config).quarantined
    assert held.reason == (
        "tax rate 21% to NL has no revenue account in the mapping; add one under "
        "exact.gl_mapping.domestic"
    )


def test_missing_reverse_charge_code_names_the_setting() -> None:
    config = settings(
        exact={"vat_mapping": {"domestic": {21: "2"}, "export": "5"}},
    )
    reason = held_alone(business_order("DE"), config=config)
    assert reason.startswith("exact.vat_mapping.reverse_charge is empty")


def test_compound_taxes_on_one_line_are_refused() -> None:
    order = simple_order()
    order["line_items"][0]["taxes"] = [
        {"id": 1, "total": "2.1", "subtotal": "2.1"},
        {"id": 2, "total": "0.9", "subtotal": "0.9"},
    ]
    order["tax_lines"] = NL_TAX_LINES
    assert "2 tax rates at once" in held_alone(order)


def test_tax_rate_without_rate_percent_is_explained() -> None:
    tax_line = {key: value for key, value in NL_TAX_LINES[0].items() if key != "rate_percent"}
    reason = held_alone(simple_order(tax_lines=[tax_line]))
    assert "did not report rate_percent for tax rate NL-BTW HOOG-1" in reason


def test_tax_rate_id_missing_from_tax_lines_is_explained() -> None:
    assert "tax rate id 1, which is not among" in held_alone(simple_order(tax_lines=[]))


def test_vat_without_a_tax_rate_is_refused() -> None:
    order = simple_order()
    order["line_items"][0]["taxes"] = []
    assert "has VAT 2.10 but no tax rate" in held_alone(order)


def test_zero_total_order_books_one_zero_line() -> None:
    order = simple_order(total="0.00", total_tax="0.00", cart_tax="0.00")
    order["line_items"][0].update(
        subtotal="0.00", subtotal_tax="0.00", total="0.00", total_tax="0.00", price=0,
        taxes=[{"id": 1, "total": "0", "subtotal": "0"}],
    )  # fmt: skip
    (sale,) = book([order]).events
    assert sale.total_incl_vat == 0 and len(sale.lines) == 1
    assert sale.lines[0].vat_code == "2" and sale.lines[0].amount_incl_vat == 0


def test_hundred_percent_coupon_nets_to_zero_or_shows_the_discount() -> None:
    (sale,) = book([hundred_percent_coupon()]).events
    assert [(line.amount_excl_vat, line.vat_amount) for line in sale.lines] == [(0, 0)]
    assert sale.lines[0].vat_rate == 21  # the rate survives a zero tax amount

    config = settings(
        exact={"insertion_type": "sales_invoice", "items": {"discount": "KORTING",
                                                            "fallback": "DIVERSEN"}}
    )  # fmt: skip
    (sale,) = book([hundred_percent_coupon()], config=config).events
    assert [(line.kind, line.amount_excl_vat, line.vat_amount) for line in sale.lines] == [
        ("revenue", D("10.00"), D("2.10")),
        ("discount", D("-10.00"), D("-2.10")),
    ]
    assert sale.is_balanced


def test_zero_decimal_currency_books_whole_amounts() -> None:
    order = simple_order(currency="JPY", total="1210", total_tax="210", cart_tax="210")
    order["line_items"][0].update(
        subtotal="1000", subtotal_tax="210", total="1000", total_tax="210", price=1000
    )
    (sale,) = book([order]).events
    assert sale.currency == "JPY" and sale.lines_total == D("1210")


def test_emoji_rtl_and_overlong_names_are_kept_and_cut_on_whole_characters() -> None:
    family = "👨‍👩‍👧‍👦"
    name = "قهوة عربية ☕ קפה " + family * 20
    order = simple_order(billing={**address("NL", first_name="Zoë 🌷" * 12), "email": ""})
    order["line_items"][0]["name"] = name
    config = settings(exact={"insertion_type": "sales_invoice"})
    (sale,) = book([order], config=config).events

    description = sale.lines[0].description
    assert len(description) <= DESCRIPTION_LENGTH and name.startswith(description)
    assert description.startswith("قهوة عربية ☕ קפה ")
    assert description.count("\u200d") == 3 * description.count("👦")  # families are whole
    assert len(sale.debtor.name) <= NAME_LENGTH and sale.debtor.name.startswith("Zoë 🌷")
    assert sale.debtor.email is None


def test_duplicate_skus_stay_separate_lines_on_invoices_and_group_on_entries() -> None:
    order = simple_order(total="24.20", total_tax="4.20", cart_tax="4.20")
    order["line_items"].append({**order["line_items"][0], "id": 2, "name": "Mok (blauw)"})
    (sale,) = book([order]).events
    assert len(sale.lines) == 1 and sale.lines[0].quantity == 2

    config = settings(exact={"insertion_type": "sales_invoice"})
    (sale,) = book([order], config=config).events
    assert [line.item_code for line in sale.lines] == ["MOK", "MOK"]
    assert [line.description for line in sale.lines] == ["Mok", "Mok (blauw)"]


def test_the_same_order_twice_is_booked_once_in_its_latest_version() -> None:
    old = simple_order(date_modified_gmt="2026-03-02T09:00:00", total="99.99")
    new = simple_order(date_modified_gmt="2026-03-02T10:00:00")
    result = book([new, old])
    assert len(result.events) == 1 and result.events[0].total_incl_vat == D("12.10")


def test_invoice_types_need_a_sku_or_fallback_item_and_short_skus() -> None:
    config = settings(exact={"insertion_type": "sales_invoice", "items": {}})
    order = simple_order()
    order["line_items"][0]["sku"] = None
    assert "has no SKU and exact.items.fallback is empty" in held_alone(order, config=config)

    order["line_items"][0]["sku"] = "S" * 31
    assert "longer than Exact's 30-character item codes" in held_alone(order, config=config)


def test_invoice_types_need_the_shipping_item_for_paid_shipping_only() -> None:
    config = settings(exact={"insertion_type": "sales_invoice", "items": {"fallback": "DIVERSEN"}})
    free = simple_order(shipping_lines=[{"id": 3, "method_title": "Gratis", "total": "0.00",
                                         "total_tax": "0.00", "taxes": []}])  # fmt: skip
    assert len(book([free], config=config).events) == 1
    assert "exact.items.shipping is empty" in held_alone(coffee_order(), config=config)


def test_overlong_reference_is_quarantined_not_cut() -> None:
    assert "longer than Exact's 30 characters" in held_alone(simple_order(number="W" * 31))


def test_a_bad_refund_is_held_while_the_sale_and_other_refunds_book() -> None:
    bad = {"id": 71, "date_created_gmt": "2026-03-05T10:00:00", "amount": "5.00",
           "line_items": [{"id": 1, "name": "Mok", "quantity": 1, "total": "5.00",
                           "total_tax": "0.00", "taxes": []}]}  # fmt: skip
    good = {"id": 72, "date_created_gmt": "2026-03-06T10:00:00", "amount": "1.21"}
    refunds: list[Any] = [bad, "junk", good, {"amount": "1.00"}]
    result = book([simple_order()], {3001: refunds})

    assert [event.reference for event in result.events] == ["3001", "3001-R72"]
    reasons = {held.refund_id: held.reason for held in result.quarantined}
    assert "positive amount" in reasons[71]
    assert reasons[None] == "2 refund(s) of order 3001 are not JSON objects with an id"


def test_an_unforeseen_error_is_quarantined_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(sales, "debtor_of", broken)
    result: TransformResult = book([simple_order()])
    (held,) = result.quarantined
    assert held.category == "unexpected_error"
    assert "RuntimeError: something nobody foresaw" in held.reason


def test_a_point_of_sale_order_with_a_garbage_address_still_books() -> None:
    order = simple_order(created_via="woocommerce-pos", shipping=address("Kassa 1"))
    (sale,) = book([order]).events
    assert sale.vat_treatment == "pos" and sale.debtor.code == "900"


def test_tax_lines_far_from_the_line_taxes_quarantine_with_both_figures() -> None:
    """A tax line (and total) of 2.50 VAT on a 2.10 line is no rounding: edited by hand."""
    order = simple_order(
        total="12.50",
        tax_lines=[{**NL_TAX_LINES[0], "tax_total": "2.50", "shipping_tax_total": "0.00"}],
    )
    reason = held_alone(order)
    assert reason.startswith(
        "the 21% VAT of the lines of order 3001 adds up to 2.10, but its tax lines state 2.50"
    )
    assert "recalculate it in WooCommerce" in reason


def test_stale_tax_lines_beside_lines_that_make_the_total_book_the_lines_flagged() -> None:
    """The line and the total say 2.10 VAT, a tax line left from before the change 2.50."""
    order = simple_order(
        tax_lines=[{**NL_TAX_LINES[0], "tax_total": "2.50", "shipping_tax_total": "0.00"}]
    )
    (sale,) = book([order]).events
    assert sale.vat_total == D("2.10") and sale.lines_total == D("12.10")
    assert sale.flags == ("tax_lines_not_recalculated",)


def test_a_cent_between_line_taxes_and_tax_line_moves_onto_the_largest_line() -> None:
    """Rounded at subtotal: 2 x 0.105 is 0.21 in the tax line, 0.11 + 0.11 on the lines."""
    order = simple_order(total="1.21", total_tax="0.21", cart_tax="0.21")
    cheap = {
        "quantity": 1,
        "subtotal": "0.50",
        "subtotal_tax": "0.11",
        "total": "0.50",
        "total_tax": "0.11",
        "taxes": [{"id": 1, "total": "0.105", "subtotal": "0.105"}],
    }
    order["line_items"] = [
        {**order["line_items"][0], **cheap, "id": 1, "name": "Sticker"},
        {**order["line_items"][0], **cheap, "id": 2, "name": "Kaart"},
    ]  # fmt: skip
    config = settings(exact={"insertion_type": "sales_invoice"})
    (sale,) = book([order], config=config).events
    assert [(line.description, line.vat_amount) for line in sale.lines] == [
        ("Sticker", D("0.10")),
        ("Kaart", D("0.11")),
    ]
    assert sale.lines_total == D("1.21")


def test_tax_lines_without_amounts_leave_the_line_taxes_as_they_are() -> None:
    tax_line = {key: value for key, value in NL_TAX_LINES[0].items() if key != "tax_total"}
    (sale,) = book([simple_order(tax_lines=[tax_line])]).events
    assert sale.vat_total == D("2.10")


def test_vat_of_the_shop_country_on_an_oss_order_is_held_as_another_countrys_vat() -> None:
    """Dutch 21% charged to a German consumer under the OSS regime."""
    order = simple_order(
        billing={**address("DE"), "email": "kunde@example.de"}, shipping=address("DE")
    )
    reason = held_alone(order)
    assert reason.startswith(
        "WooCommerce charged NL VAT (NL-BTW HOOG-1) on goods delivered in DE, for which DE VAT "
        "is due."
    )


def test_a_rate_code_without_a_country_is_not_checked_against_the_destination() -> None:
    """A rate set up for every country has a code that starts with its name: 19% to DE."""
    order = simple_order(
        billing={**address("DE"), "email": "kunde@example.de"},
        shipping=address("DE"),
        total="11.90",
        total_tax="1.90",
        cart_tax="1.90",
        tax_lines=[{**NL_TAX_LINES[0], "rate_code": "MWST-1", "rate_percent": 19.0,
                    "tax_total": "1.90", "shipping_tax_total": "0.00"}],
    )  # fmt: skip
    order["line_items"][0].update(subtotal_tax="1.90", total_tax="1.90")
    (sale,) = book([order]).events
    assert [(line.vat_code, line.vat_amount) for line in sale.lines] == [("D19", D("1.90"))]


def test_a_rate_of_another_country_that_charged_nothing_is_no_mismatch() -> None:
    """A German consumer's gift voucher under the shop's own 0% rate: no VAT owed anywhere."""
    order = german_order()
    order["line_items"].append(
        {
            "id": 29,
            "name": "Cadeaubon",
            "product_id": 99,
            "quantity": 1,
            "tax_class": "zero-rate",
            "subtotal": "25.00",
            "subtotal_tax": "0.00",
            "total": "25.00",
            "total_tax": "0.00",
            "taxes": [{"id": 3, "total": "0", "subtotal": "0"}],
            "meta_data": [],
            "sku": "BON",
            "price": 25,
        }
    )
    order["tax_lines"].append(
        {"id": 403, "rate_code": "NL-BTW 0%-1", "rate_id": 3, "label": "BTW 0%", "compound": False,
         "tax_total": "0.00", "shipping_tax_total": "0.00", "rate_percent": 0, "meta_data": []}
    )  # fmt: skip
    order["total"] = str(D(order["total"]) + 25)
    (sale,) = book([order]).events
    assert sale.vat_treatment.value == "oss" and sale.lines_total == D(order["total"])
