"""Every order and refund of the two recorded WooCommerce 11.0.1 shops, booked.

The orders are the answers a genuine WooCommerce gave (`shared/woocommerce-recorded`): a Dutch
shop with prices including tax, rounding per line (half down), tax by shipping address; and
`shop2_tax_exclusive`, with prices excluding tax, tax rounded at subtotal and tax by billing
address. They go through the transform with the rates mapped as a sync.yaml maps them. The
expected figures are written by hand from the recorded JSON: the receivable is the order's
`total`, the VAT per code what its `tax_lines` state (`tax_total` + `shipping_tax_total`), and
where those lines miss the total (WooCommerce rounds `total_tax` once), the cent is a rounding
line on the rounding ledger.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from woo_exact_pipeline.bookkeeping import AccountingEvent, VatTreatment
from woo_exact_pipeline_tests.fixtures.bookkeeping import book
from woo_exact_pipeline_tests.support.recorded_orders import (
    FIRST_SHOP,
    RECORDED,
    SETTINGS,
    booked,
    recorded_settings,
    recorded_shop,
    skip_without_recordings,
)

pytestmark = skip_without_recordings

D = Decimal
SECOND_SHOP = RECORDED / "shop2_tax_exclusive"


@dataclass(frozen=True)
class Booking:
    """What one event must book: its total, VAT per VAT code, and the rounding line's amount."""

    total: str
    vat: dict[str, str]
    rounding: str = "0"


def vat_by_code(event: AccountingEvent) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in event.lines:
        if line.kind != "rounding":
            assert line.vat_code is not None
            sums[line.vat_code] += line.vat_amount
    return dict(sums)


def assert_books(event: AccountingEvent, expected: Booking) -> None:
    assert event.total_incl_vat == D(expected.total) == event.lines_total
    assert vat_by_code(event) == {code: D(vat) for code, vat in expected.vat.items()}
    rounding = sum((line.amount_excl_vat for line in event.lines if line.kind == "rounding"), D(0))
    assert rounding == D(expected.rounding)
    assert all(line.vat_amount == 0 for line in event.lines if line.kind == "rounding")


# --- the first shop: prices including tax, rounded per line (half down) -------------------

FIRST_SALES = {
    25: Booking("29.49", {"2": "3.56", "1": "0.74"}),
    26: Booking("57.60", {"2": "5.66", "1": "2.06"}),
    27: Booking("102.00", {"2": "13.80", "1": "1.86"}),
    28: Booking("53.97", {"2": "3.39", "1": "2.84"}),
    29: Booking("51.53", {"BEH": "4.72", "BEM": "1.38"}),
    30: Booking("75.84", {"DEH": "8.19", "DEL": "1.60"}),
    31: Booking("35.69", {"FRH": "4.50", "FRM": "0.45"}),
    32: Booking("66.94", {"ATH": "6.95", "ATM": "2.29"}),
    33: Booking("57.93", {"6": "0.00"}),  # US: export
    34: Booking("90.29", {"6": "0.00"}),  # CH: export
    35: Booking("17.40", {"2": "3.02"}),
    36: Booking("13.57", {"2": "2.37"}),  # 0.35 + 0.30 + 0.26 per line, shipping 1.46
    37: Booking("87.26", {"2": "15.14"}),
    38: Booking("45.51", {"2": "3.56", "4": "0.00"}),  # the gift voucher at 0%
    41: Booking("75.82", {"BEH": "4.72", "BEM": "2.75"}),
    42: Booking("91.90", {"2": "15.17", "1": "0.37"}),
    43: Booking("158.35", {"7": "0.00"}),  # VAT-exempt business with a VAT number
    44: Booking("51.30", {"DEH": "4.27", "DEL": "1.60"}),
    45: Booking("54.83", {"2": "5.59", "1": "1.86"}),  # fees +2.50 and -5.00 (two rates)
    54: Booking("110.05", {"2": "17.70", "1": "0.67"}),
}
FIRST_CREDITS = {
    49: Booking("-35.69", {"FRH": "-4.50", "FRM": "-0.45"}),  # order 31 refunded in full
    50: Booking("-24.31", {"BEM": "-1.38"}),  # one of order 41's books
    # 10.00 without lines over order 42's 79.00 (21%), 4.49 (9%) and 8.41 (shipping 21%):
    # 8.60 with 1.49 VAT, 0.49 with 0.04 and 0.91 with 0.16.
    51: Booking("-10.00", {"2": "-1.65", "1": "-0.04"}),
    52: Booking("-26.72", {"ATH": "-4.45"}),  # order 32's T-shirt line
    # Then 2.50 over what is left: 25.22 at 10% and the 15.00 shipping at 20%: 1.57 with 0.14
    # VAT and 0.93 with 0.16.
    53: Booking("-2.50", {"ATM": "-0.14", "ATH": "-0.16"}),
}
FIRST_NOT_BOOKED = {
    39: "cancelled",
    40: "on-hold",
    46: "pending",
    47: "failed",
    48: "trash",
    55: "on-hold",
}


def test_the_first_shop_books_20_sales_and_5_credits_and_nothing_else() -> None:
    result = booked(recorded_shop(FIRST_SHOP))
    assert result.quarantined == () and result.waiting == ()
    sales = [event.order_id for event in result.events if event.kind == "sale"]
    credits = [event.refund_id for event in result.events if event.kind == "credit"]
    assert sorted(sales) == sorted(FIRST_SALES) and len(sales) == 20
    assert sorted(c for c in credits if c is not None) == sorted(FIRST_CREDITS)
    assert not set(sales) & set(FIRST_NOT_BOOKED)
    statuses = {order["id"]: order["status"] for order in recorded_shop(FIRST_SHOP).orders}
    assert {order_id: statuses[order_id] for order_id in FIRST_NOT_BOOKED} == FIRST_NOT_BOOKED


@pytest.mark.parametrize("order_id", sorted(FIRST_SALES))
def test_each_sale_of_the_first_shop_books_the_total_and_the_tax_lines(order_id: int) -> None:
    result = booked(recorded_shop(FIRST_SHOP))
    (sale,) = (e for e in result.events if e.kind == "sale" and e.order_id == order_id)
    assert_books(sale, FIRST_SALES[order_id])


@pytest.mark.parametrize("refund_id", sorted(FIRST_CREDITS))
def test_each_refund_of_the_first_shop_is_its_credit_note(refund_id: int) -> None:
    result = booked(recorded_shop(FIRST_SHOP))
    (credit,) = (e for e in result.events if e.refund_id == refund_id)
    assert credit.reference == f"{credit.order_number}-R{refund_id}"
    assert_books(credit, FIRST_CREDITS[refund_id])


def test_the_vat_treatments_of_the_first_shop() -> None:
    result = booked(recorded_shop(FIRST_SHOP))
    treatment = {e.order_id: e.vat_treatment for e in result.events if e.kind == "sale"}
    assert {i for i, t in treatment.items() if t is VatTreatment.OSS} == {29, 30, 31, 32, 41, 44}
    assert {i for i, t in treatment.items() if t is VatTreatment.EXPORT} == {33, 34}
    assert {i for i, t in treatment.items() if t is VatTreatment.REVERSE_CHARGE} == {43}


def test_a_negative_fee_taxed_at_two_rates_books_one_part_per_rate() -> None:
    """Order 45: the fee -5.00 carries -0.59 (21%) and -0.20 (9%). Its net is split in
    proportion to 0.59 / 21% = 2.81 and 0.20 / 9% = 2.22: -2.79 and -2.21. The positive fee
    2.50 at 21% is 0.52 VAT (WooCommerce rounds 0.525 half down; its taxes[] says 0.53)."""
    config = recorded_settings(insertion_type="sales_invoice")
    result = booked(recorded_shop(FIRST_SHOP), config)
    (sale,) = (e for e in result.events if e.order_id == 45)
    fees = [(line.vat_code, line.amount_excl_vat, line.vat_amount) for line in sale.lines
            if line.kind == "fee"]  # fmt: skip
    assert fees == [
        ("2", D("2.50"), D("0.52")),
        ("2", D("-2.79"), D("-0.59")),
        ("1", D("-2.21"), D("-0.20")),
    ]
    assert sale.lines_total == D("54.83")


def test_two_rates_on_the_same_amount_are_still_refused() -> None:
    """Stacked taxes: 21% and 9% both on the whole -5.00 (-1.05 and -0.45) split nothing."""
    order = recorded_shop(FIRST_SHOP).order(45)
    order["fee_lines"][1].update(
        total_tax="-1.50",
        taxes=[{"id": 1, "subtotal": "", "total": "-1.05"},
               {"id": 2, "subtotal": "", "total": "-0.45"}],
    )  # fmt: skip
    (held,) = book([order], config=SETTINGS).quarantined
    assert held.order_id == 45 and held.category == "invalid_data"
    assert "fee_lines[1] carries 2 tax rates at once (compound or stacked taxes)" in held.reason


# --- the second shop: prices excluding tax, rounded at subtotal, tax by billing address ---

SECOND_SALES = {
    29: Booking("66.24", {"2": "5.66", "1": "2.78"}),
    # The line taxes at 21% add up to 0.93 and at 9% to 0.33; the tax lines say 0.91 and 0.32.
    30: Booking("17.56", {"2": "2.37", "1": "0.32"}),
    31: Booking("17.56", {"2": "2.37", "1": "0.32"}),
    32: Booking("54.78", {"2": "4.68", "1": "2.30"}),  # the fee -10.00 over 21% and 9%
    # Tax lines 2.63 + 1.46 and 0.36 = 4.45 against total_tax 4.44: the cent is rounding.
    33: Booking("27.84", {"2": "4.09", "1": "0.36"}, rounding="-0.01"),
    34: Booking("36.86", {"2": "3.56", "1": "1.35"}),  # a line of a deleted product
    35: Booking("53.72", {"IEH": "5.18", "IEL": "3.10"}, rounding="-0.01"),  # Irish OSS
    38: Booking("91.30", {"2": "15.10", "1": "0.36"}, rounding="-0.01"),
    39: Booking("63.23", {"DEH": "6.18", "DEL": "1.61"}, rounding="-0.01"),
    41: Booking("53.22", {"2": "9.24"}, rounding="-0.01"),  # 3 x 12.345: a line of 37.035
    42: Booking("16.41", {"2": "2.10", "1": "0.36"}),  # free shipping: no shipping line
    # Line taxes 3.91 and 0.34 = 4.25; WooCommerce charged 3.91 and 0.35 = 4.26.
    43: Booking("26.72", {"2": "3.91", "1": "0.35"}),
    49: Booking("116.30", {"1": "9.61"}, rounding="-0.01"),  # shipping at 9% too
}
SECOND_CREDITS = {
    # The refund's lines add up to 91.31 for an amount of 91.30: the mirror of the sale.
    44: Booking("-91.30", {"2": "-15.10", "1": "-0.36"}, rounding="0.01"),
    45: Booking("-26.78", {"DEH": "-4.28"}),
}
SECOND_NOT_BOOKED = {37: "checkout-draft", 40: "on-hold"}


def test_the_second_shop_books_every_paid_order_and_holds_back_the_belgian_vat() -> None:
    result = booked(recorded_shop(SECOND_SHOP))
    sales = sorted(e.order_id for e in result.events if e.kind == "sale")
    credits = sorted(e.refund_id for e in result.events if e.refund_id is not None)
    assert sales == sorted(SECOND_SALES) and credits == sorted(SECOND_CREDITS)
    assert result.waiting == ()
    (held,) = result.quarantined
    assert held.order_id == 36 and held.category == "vat_country_mismatch"
    assert held.reason.startswith(
        "WooCommerce charged BE VAT (BE-BTW/TVA LAAG-1, BE-BTW/TVA-1) on goods delivered in "
        "NL, for which NL VAT is due."
    )
    assert "billing address" in held.reason and "vat_mapping" not in held.reason


@pytest.mark.parametrize("order_id", sorted(SECOND_SALES))
def test_each_sale_of_the_second_shop_books_the_total_and_the_tax_lines(order_id: int) -> None:
    result = booked(recorded_shop(SECOND_SHOP))
    (sale,) = (e for e in result.events if e.kind == "sale" and e.order_id == order_id)
    assert_books(sale, SECOND_SALES[order_id])


@pytest.mark.parametrize("refund_id", sorted(SECOND_CREDITS))
def test_each_refund_of_the_second_shop_is_its_credit_note(refund_id: int) -> None:
    result = booked(recorded_shop(SECOND_SHOP))
    (credit,) = (e for e in result.events if e.refund_id == refund_id)
    assert_books(credit, SECOND_CREDITS[refund_id])


def test_the_cents_rounded_at_subtotal_land_on_the_largest_line_of_the_rate() -> None:
    """Order 43: the 9% lines say 0.24 (drop, 2.68) and 0.10 (kaaskoekjes, 1.16), the tax line
    0.35: the cent goes onto the drop. The 21% lines (1.89 + 0.56) agree with their 2.45."""
    config = recorded_settings(insertion_type="sales_invoice")
    (sale,) = (e for e in booked(recorded_shop(SECOND_SHOP), config).events if e.order_id == 43)
    assert [(line.description, line.amount_excl_vat, line.vat_amount) for line in sale.lines] == [
        ("Koffiemok Amsterdam", D("8.99"), D("1.89")),
        ("Balpen Delfts Blauw", D("2.68"), D("0.56")),
        ("Drop (zakje)", D("2.68"), D("0.25")),
        ("Kaaskoekjes", D("1.16"), D("0.10")),
        ("Verzending", D("6.95"), D("1.46")),
    ]
    assert sale.lines_total == D("26.72")


def test_the_negative_fee_of_the_second_shop_books_per_rate() -> None:
    """Order 32: -10.00 with -0.98 (21%) and -0.48 (9%): nets in proportion to 4.67 and 5.33."""
    (sale,) = (e for e in booked(recorded_shop(SECOND_SHOP)).events if e.order_id == 32)
    fees = [(line.vat_code, line.amount_excl_vat, line.vat_amount) for line in sale.lines
            if line.kind == "fee"]  # fmt: skip
    assert fees == [("2", D("-4.67"), D("-0.98")), ("1", D("-5.33"), D("-0.48"))]


def test_a_line_of_a_deleted_product_books_on_the_fallback_item_under_its_own_name() -> None:
    """Order 34: the deleted Proefpakket has product_id 0 and sku null; 2 x 7.50 at 9%."""
    config = recorded_settings(insertion_type="sales_invoice")
    (sale,) = (e for e in booked(recorded_shop(SECOND_SHOP), config).events if e.order_id == 34)
    first = sale.lines[0]
    assert (first.item_code, first.description, first.quantity, first.unit_price) == (
        "DIVERSEN", "Proefpakket koffiebonen", D(2), D("7.50")
    )  # fmt: skip
    assert (first.vat_code, first.amount_excl_vat, first.vat_amount) == ("1", D("15.00"), D("1.35"))


def test_a_checkout_draft_is_never_booked_but_the_order_it_becomes_is() -> None:
    """Order 37 was left as a checkout draft; had the shopper paid, the same id would have
    become a processing order with a payment date and a later date_modified."""
    draft = recorded_shop(SECOND_SHOP).order(37)
    result = book([draft], config=SETTINGS)
    assert result.events == () and result.quarantined == () and result.waiting == ()
    # A draft never booked even if a plugin left a payment date on it.
    assert book([{**draft, "date_paid_gmt": "2026-11-11T21:50:00"}], config=SETTINGS).events == ()

    placed = {
        **draft,
        "status": "processing",
        "payment_method_title": "Overboeking",
        "date_paid": "2026-11-11T22:50:00",
        "date_paid_gmt": "2026-11-11T21:50:00",
        "date_modified_gmt": "2026-12-02T05:00:00",
    }
    result = book([draft, placed], config=SETTINGS)
    (sale,) = result.events
    assert sale.order_id == 37 and sale.total_incl_vat == D("87.00")
    assert vat_by_code(sale) == {"2": D("15.10")}


def test_a_trashed_order_is_not_booked_though_it_was_completed() -> None:
    """Order 48 of the first shop was completed, then moved to the trash."""
    trashed = recorded_shop(FIRST_SHOP).order(48)
    assert trashed["date_completed_gmt"] and trashed["status"] == "trash"
    assert book([trashed], config=SETTINGS).events == ()


def test_a_three_decimal_price_keeps_its_unit_price_on_an_invoice() -> None:
    """Order 40, had it been paid: 10 x 12.345 = 123.45 with 25.92 VAT, shipping 6.95."""
    order = recorded_shop(SECOND_SHOP).order(40)
    order["status"] = "processing"
    config = recorded_settings(insertion_type="sales_invoice")
    (sale,) = book([order], config=config).events
    bolts = sale.lines[0]
    assert (bolts.item_code, bolts.quantity, bolts.unit_price) == ("BOLT-M8", D(10), D("12.345"))
    assert (bolts.amount_excl_vat, bolts.vat_amount) == (D("123.45"), D("25.92"))
    assert sale.lines_total == D("157.78")


def sticker_refund(line_id: int, name: str) -> dict[str, Any]:
    """One of order 30's 0.79 lines given back, as WooCommerce writes a refund line."""
    return {
        "id": line_id + 100, "name": name, "quantity": -1, "price": 0.79, "sku": "",
        "subtotal": "-0.79", "subtotal_tax": "-0.17", "total": "-0.79", "total_tax": "-0.17",
        "taxes": [{"id": 1, "subtotal": "-0.17", "total": "-0.17"}],
        "meta_data": [{"key": "_refunded_item_id", "value": str(line_id)}],
    }  # fmt: skip


def test_a_refund_rounded_at_subtotal_credits_the_vat_its_tax_lines_state() -> None:
    """Order 30's three 0.79 stickers refunded: the lines say 3 x 0.17 VAT, but a shop that
    rounds at subtotal states 2.37 x 21% = 0.4977, so 0.50; the amount is 2.87."""
    shop = recorded_shop(SECOND_SHOP)
    refund = {
        "id": 90, "amount": "2.87", "reason": "", "date_created": "2026-11-06T10:00:00",
        "date_created_gmt": "2026-11-06T09:00:00", "refunded_payment": False, "meta_data": [],
        "line_items": [sticker_refund(9, "Sticker Tulp"), sticker_refund(10, "Ansichtkaart Molen"),
                       sticker_refund(11, "Magneet Kubuswoning")],
        "shipping_lines": [], "fee_lines": [],
        "tax_lines": [{"id": 91, "rate_code": "NL-BTW-1", "rate_id": 1, "label": "BTW",
                       "compound": False, "tax_total": "-0.50", "shipping_tax_total": "0.00",
                       "rate_percent": 21, "meta_data": []}],
    }  # fmt: skip
    order = {**shop.order(30), "refunds": [{"id": 90, "reason": "", "total": "-2.87"}]}
    sale, credit = book([order], {30: [refund]}, config=SETTINGS).events
    assert_books(sale, SECOND_SALES[30])
    assert_books(credit, Booking("-2.87", {"2": "-0.50"}))


def refund_line(item_id: int, total: str, taxes: dict[int, str], **fields: Any) -> dict[str, Any]:
    """A refund line as WooCommerce writes it: the opposite of the order line it refunds."""
    tax = sum((D(amount) for amount in taxes.values()), D(0))
    return {
        "id": item_id + 100, "total": total, "total_tax": str(tax),
        "taxes": [{"id": rate, "subtotal": "", "total": amount} for rate, amount in taxes.items()],
        "meta_data": [{"key": "_refunded_item_id", "value": str(item_id)}], **fields,
    }  # fmt: skip


def test_refunding_a_negative_fee_credits_the_discount_per_rate() -> None:
    """Order 45 refunded in full: its lines, its shipping and its fees come back, the discount
    fee of -5.00 as +5.00 with +0.59 (21%) and +0.20 (9%) VAT. The credit is the sale's
    mirror: -54.83 with VAT -5.59 and -1.86, the discount credited as +2.79 and +2.21."""
    refund = {
        "id": 91, "amount": "54.83", "reason": "", "refunded_payment": False, "meta_data": [],
        "date_created": "2026-11-30T10:00:00", "date_created_gmt": "2026-11-30T09:00:00",
        "line_items": [
            refund_line(92, "-20.00", {1: "-4.20"}, name="Koffiemok Amsterdam", quantity=-2),
            refund_line(93, "-22.93", {2: "-2.06"}, name="Kookboek Hollandse Pot", quantity=-1),
        ],
        "shipping_lines": [refund_line(94, "-6.95", {1: "-1.46"}, method_title="Verzending")],
        "fee_lines": [
            refund_line(95, "-2.50", {1: "-0.52"}, name="Verzendverzekering"),
            refund_line(96, "5.00", {1: "0.59", 2: "0.20"}, name="Korting vaste klant"),
        ],
        "tax_lines": [
            {"id": 97, "rate_code": "NL-BTW-1", "rate_id": 1, "label": "BTW", "compound": False,
             "tax_total": "-4.13", "shipping_tax_total": "-1.46", "rate_percent": 21},
            {"id": 98, "rate_code": "NL-BTW LAAG-1", "rate_id": 2, "label": "BTW laag",
             "compound": False, "tax_total": "-1.86", "shipping_tax_total": "0.00",
             "rate_percent": 9},
        ],
    }  # fmt: skip
    order = {**recorded_shop(FIRST_SHOP).order(45), "status": "refunded"}
    order["refunds"] = [{"id": 91, "reason": "", "total": "-54.83"}]
    config = recorded_settings(insertion_type="sales_invoice")
    result = book([order], {45: [refund]}, config=config)
    assert result.quarantined == ()
    sale, credit = result.events
    assert_books(sale, FIRST_SALES[45])
    assert_books(credit, Booking("-54.83", {"2": "-5.59", "1": "-1.86"}))
    fees = [(line.vat_code, line.amount_excl_vat, line.vat_amount) for line in credit.lines
            if line.kind == "fee"]  # fmt: skip
    assert fees == [
        ("2", D("-2.50"), D("-0.52")),
        ("2", D("2.79"), D("0.59")),
        ("1", D("2.21"), D("0.20")),
    ]


def test_a_positive_fee_refund_line_beyond_the_discount_is_still_refused() -> None:
    """+6.00 back on a discount of 5.00 is more than the sale gave: quarantined."""
    refund = {
        "id": 91, "amount": "1.52", "reason": "", "refunded_payment": False, "meta_data": [],
        "date_created": "2026-11-30T10:00:00", "date_created_gmt": "2026-11-30T09:00:00",
        "line_items": [refund_line(92, "-7.00", {1: "-1.47"}, name="Koffiemok", quantity=-1)],
        "shipping_lines": [], "tax_lines": [],
        "fee_lines": [refund_line(96, "6.00", {1: "0.71", 2: "0.24"}, name="Korting")],
    }  # fmt: skip
    order = recorded_shop(FIRST_SHOP).order(45)
    order["refunds"] = [{"id": 91, "reason": "", "total": "-1.52"}]
    (held,) = book([order], {45: [refund]}, config=SETTINGS).quarantined
    assert held.refund_id == 91
    assert "refund 91.fee_lines[0] has a positive amount" in held.reason
