"""The demo shop: internally consistent as WooCommerce would store it, and every case is in it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from woo_exact_pipeline.sandbox.woocommerce.generator import generate_demo_shop
from woo_exact_pipeline.sandbox.woocommerce.shop import Shop, ShopSettings

END_DATE = date(2026, 11, 10)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EU_OSS = {"BE", "DE", "FR", "AT", "IT", "ES", "SE", "IE"}
EXPORTS = {"US", "CH", "GB", "NO"}
Order = dict[str, Any]


@pytest.fixture(scope="module")
def default_shop() -> Shop:
    """The default history (90 days, 40 orders a day), pinned to a reference date."""
    shop, _ = generate_demo_shop(end_date=END_DATE)
    return shop


@pytest.fixture(scope="module")
def orders(default_shop: Shop) -> list[Order]:
    return [record.document() for record in default_shop.orders.values()]


def money(value: str) -> Decimal:
    return Decimal(value)


def meta(order: Order, key: str) -> Any:
    return next((entry["value"] for entry in order["meta_data"] if entry["key"] == key), None)


def count(orders: list[Order], predicate: Callable[[Order], bool]) -> int:
    return sum(1 for order in orders if predicate(order))


def test_every_order_total_is_the_sum_of_its_lines_and_taxes(orders: list[Order]) -> None:
    for order in orders:
        lines = sum(money(item["total"]) for item in order["line_items"])
        shipping = sum(money(line["total"]) for line in order["shipping_lines"])
        fees = sum(money(fee["total"]) for fee in order["fee_lines"])
        assert money(order["total"]) == lines + shipping + fees + money(order["total_tax"]), order[
            "id"
        ]
        assert money(order["total_tax"]) == money(order["cart_tax"]) + money(order["shipping_tax"])


def test_tax_lines_add_up_the_per_line_rounded_taxes(orders: list[Order]) -> None:
    for order in orders:
        item_tax = sum(money(item["total_tax"]) for item in order["line_items"]) + sum(
            money(fee["total_tax"]) for fee in order["fee_lines"]
        )
        assert (
            money(order["cart_tax"])
            == item_tax
            == sum(money(line["tax_total"]) for line in order["tax_lines"])
        )
        assert (
            money(order["shipping_tax"])
            == sum(money(line["shipping_tax_total"]) for line in order["tax_lines"])
            == sum(money(line["total_tax"]) for line in order["shipping_lines"])
        )
        for item in order["line_items"]:
            rounded = sum(round(money(tax["total"]), 2) for tax in item["taxes"])
            assert money(item["total_tax"]) == rounded
            assert isinstance(item["price"], float | int)
            assert item["price"] == pytest.approx(
                float(money(item["total"])) / item["quantity"], abs=0.005
            )
        assert money(order["discount_total"]) == sum(
            money(item["subtotal"]) - money(item["total"]) for item in order["line_items"]
        )


def test_refunds_never_exceed_the_order_and_a_full_refund_marks_it_refunded(
    default_shop: Shop, orders: list[Order]
) -> None:
    refunds_by_order: dict[int, list[Order]] = {}
    for record in default_shop.refunds.values():
        refunds_by_order.setdefault(record.order_id, []).append(record.document())
    for order in orders:
        refunds = refunds_by_order.get(order["id"], [])
        assert sorted(r["id"] for r in refunds) == sorted(r["id"] for r in order["refunds"])
        refunded = sum(money(refund["amount"]) for refund in refunds)
        assert refunded == -sum(money(refund["total"]) for refund in order["refunds"])
        assert refunded <= money(order["total"])
        assert (order["status"] == "refunded") == (
            refunds != [] and refunded == money(order["total"])
        )
        for refund in refunds:
            assert refund["date_created_gmt"] > order["date_created_gmt"]
            assert refund["id"] > order["id"]  # refunds are later posts in the same table
            assert order["date_modified_gmt"] >= refund["date_created_gmt"]


def test_dates_are_site_local_and_gmt_across_the_dst_change(orders: list[Order]) -> None:
    offsets = Counter()
    for order in orders:
        local = datetime.fromisoformat(order["date_created"])
        gmt = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC)
        assert gmt.astimezone(AMSTERDAM).replace(tzinfo=None) == local
        offsets[local - gmt.replace(tzinfo=None)] += 1
        assert order["date_modified_gmt"] >= order["date_created_gmt"]
        if order["date_paid_gmt"]:
            assert order["date_paid_gmt"] >= order["date_created_gmt"]
    assert len(offsets) == 2, "the history must span a daylight-saving change"


def test_statuses_move_on_over_later_days(orders: list[Order]) -> None:
    statuses = Counter(order["status"] for order in orders)
    for status in (
        "pending",
        "on-hold",
        "processing",
        "completed",
        "cancelled",
        "refunded",
        "failed",
    ):
        assert statuses[status] > 0, status
    completed_days_later = count(
        orders,
        lambda o: (
            o["date_completed"] is not None
            and datetime.fromisoformat(o["date_completed"])
            - datetime.fromisoformat(o["date_created"])
            > (datetime(2000, 1, 2) - datetime(2000, 1, 1)) / 2
        ),
    )
    assert completed_days_later > 100
    assert count(orders, lambda o: o["date_modified"][:10] > o["date_created"][:10]) > 100


def test_every_vat_case_a_bookkeeper_meets_is_present(orders: list[Order]) -> None:
    def country(order: Order) -> str:
        return order["shipping"]["country"] or order["billing"]["country"]

    domestic = count(orders, lambda o: country(o) == "NL" and money(o["total_tax"]) > 0)
    assert domestic > 1000
    for oss_country in EU_OSS:
        oss = count(
            orders,
            lambda o, c=oss_country: (
                country(o) == c
                and any(line["rate_code"].startswith(f"{c}-") for line in o["tax_lines"])
            ),
        )
        assert oss > 0, oss_country
    reverse_charge = [o for o in orders if meta(o, "_billing_vat_number")]
    assert len(reverse_charge) >= 20
    assert all(
        money(o["total_tax"]) == 0 and meta(o, "is_vat_exempt") == "yes" and country(o) in EU_OSS
        for o in reverse_charge
    )
    for export_country in EXPORTS:
        exports = [o for o in orders if country(o) == export_country]
        assert exports, export_country
        assert all(o["tax_lines"] == [] and money(o["total_tax"]) == 0 for o in exports)
    assert count(orders, lambda o: any(line["rate_percent"] == 13.5 for line in o["tax_lines"]))


def test_channels_customers_discounts_fees_and_shipping_are_all_represented(
    default_shop: Shop, orders: list[Order]
) -> None:
    assert count(orders, lambda o: o["created_via"] == "pos-rest-api") > 50
    assert count(orders, lambda o: o["customer_id"] == 0) > 500
    registered = [o for o in orders if o["customer_id"]]
    assert len(registered) > 500
    assert all(o["customer_id"] in default_shop.customers for o in registered)
    coupon_types = Counter(c["discount_type"] for o in orders for c in o["coupon_lines"])
    assert coupon_types["percent"] > 0 and coupon_types["fixed_cart"] > 0
    assert count(orders, lambda o: o["fee_lines"] != []) > 0
    methods = Counter(line["method_id"] for o in orders for line in o["shipping_lines"])
    assert methods["free_shipping"] > 0 and methods["flat_rate"] > 0
    assert count(orders, lambda o: money(o["shipping_tax"]) > 0) > 100


def test_invoices_products_currencies_and_awkward_names(
    default_shop: Shop, orders: list[Order]
) -> None:
    invoiced = [o for o in orders if meta(o, "_wcpdf_invoice_number")]
    assert len(invoiced) > 100
    assert all(o["wpo_wcpdf_invoice_number"] == meta(o, "_wcpdf_invoice_number") for o in invoiced)
    assert all(meta(o, "_wcpdf_invoice_date") for o in invoiced)
    numbers = [meta(o, "_wcpdf_invoice_number_data")["number"] for o in invoiced]
    assert len(set(numbers)) == len(numbers)
    assert count(orders, lambda o: o["wpo_wcpdf_invoice_number"] == "") > 100

    assert any(product["sku"] == "" for product in default_shop.products.values())
    assert count(orders, lambda o: any(item["sku"] == "" for item in o["line_items"])) > 0
    currencies = Counter(o["currency"] for o in orders)
    assert currencies["USD"] > 0 and currencies["GBP"] > 0 and currencies["EUR"] > 3000

    def names(order: Order) -> str:
        billing = order["billing"]
        return f"{billing['first_name']} {billing['last_name']} {billing['company']}"

    assert count(orders, lambda o: any(ord(c) > 0xFFFF for c in names(o)))  # emoji
    assert count(orders, lambda o: any(c in "éëöüçñ" for c in names(o)))  # accents
    assert count(orders, lambda o: len(o["billing"]["company"]) > 80)


def bookkeeping_cases(shop: Shop) -> Counter[str]:
    """How many orders (or refunds) of each case the issue lists a shop contains."""
    cases: Counter[str] = Counter()
    for record in shop.orders.values():
        order = record.document()
        destination = order["shipping"]["country"] or order["billing"]["country"]
        billing = order["billing"]
        names = f"{billing['first_name']} {billing['last_name']} {billing['company']}"
        rate_percents = {line["rate_percent"] for line in order["tax_lines"]}
        amounts = [order["total"], *(item["total"] for item in order["line_items"])]
        flags = {
            "Dutch consumer with VAT": destination == "NL" and money(order["total_tax"]) > 0,
            "reverse charge: VAT number, no VAT": bool(meta(order, "_billing_vat_number"))
            and money(order["total_tax"]) == 0,
            "POS order": order["created_via"] == "pos-rest-api",
            "guest": order["customer_id"] == 0,
            "registered customer": order["customer_id"] in shop.customers,
            "percent coupon": any(c["discount_type"] == "percent" for c in order["coupon_lines"]),
            "fixed cart coupon": any(
                c["discount_type"] == "fixed_cart" for c in order["coupon_lines"]
            ),
            "fee line": bool(order["fee_lines"]),
            "free shipping": any(
                line["method_id"] == "free_shipping" for line in order["shipping_lines"]
            ),
            "paid shipping with tax": money(order["shipping_tax"]) > 0,
            "invoice number": bool(order["wpo_wcpdf_invoice_number"]),
            "product without SKU": any(item["sku"] == "" for item in order["line_items"]),
            "other currency": order["currency"] != "EUR",
            "emoji in a name": any(ord(character) > 0xFFFF for character in names),
            "accent in a name": any(character in "éëöüçñäå" for character in names),
            "very long company name": len(billing["company"]) > 80,
            "rate a typical mapping lacks (13.5%)": 13.5 in rate_percents,
            "negative fee taxed at several rates": any(
                money(fee["total"]) < 0 and len(fee["taxes"]) > 1 for fee in order["fee_lines"]
            ),
            "line of a deleted product": any(
                item["product_id"] == 0 and item["sku"] is None for item in order["line_items"]
            ),
            "custom order number": order["number"] != str(order["id"]),
            "checkout draft that became an order": order["created_via"] == "store-api"
            and order["status"] in ("processing", "completed"),
            "modified later without a change": order["status"] == "completed"
            and not order["refunds"]
            and order["date_modified_gmt"] > order["date_completed_gmt"],
            "zero-decimal currency (JPY), whole amounts": order["currency"] == "JPY"
            and all(money(amount) == money(amount).to_integral_value() for amount in amounts),
        }
        cases.update(name for name, present in flags.items() if present)
        cases[f"status {order['status']}"] += 1
        if destination in EU_OSS and order["tax_lines"]:
            cases[f"OSS {destination}"] += 1
        if destination in EXPORTS and not order["tax_lines"]:
            cases[f"export {destination}"] += 1
    for record in shop.refunds.values():
        refund = record.document()
        order = shop.orders[record.order_id].document()
        if any(money(fee["total"]) > 0 for fee in refund["fee_lines"]):
            cases["refund giving a negative fee back"] += 1
        if refund["line_items"] == []:
            cases["amount-only refund"] += 1
        elif order["status"] == "refunded" and len(order["refunds"]) == 1:
            cases["full refund"] += 1
        else:
            cases["partial refund with lines"] += 1
    return cases


EVERY_CASE = [
    "Dutch consumer with VAT",
    *(f"OSS {country}" for country in sorted(EU_OSS)),
    "reverse charge: VAT number, no VAT",
    *(f"export {country}" for country in sorted(EXPORTS)),
    "POS order",
    "guest",
    "registered customer",
    "percent coupon",
    "fixed cart coupon",
    "fee line",
    "free shipping",
    "paid shipping with tax",
    *(
        f"status {status}"
        for status in (
            "pending",
            "on-hold",
            "processing",
            "completed",
            "cancelled",
            "refunded",
            "failed",
            "checkout-draft",
            "trash",
        )
    ),
    "full refund",
    "partial refund with lines",
    "amount-only refund",
    "refund giving a negative fee back",
    "invoice number",
    "product without SKU",
    "other currency",
    "emoji in a name",
    "accent in a name",
    "very long company name",
    "rate a typical mapping lacks (13.5%)",
    "negative fee taxed at several rates",
    "line of a deleted product",
    "custom order number",
    "checkout draft that became an order",
    "modified later without a change",
    "zero-decimal currency (JPY), whole amounts",
]


def test_every_case_occurs_in_the_default_demo_shop(default_shop: Shop) -> None:
    cases = bookkeeping_cases(default_shop)
    assert [case for case in EVERY_CASE if cases[case] == 0] == []


def test_every_case_occurs_even_in_the_30_day_shop_the_tests_use() -> None:
    shop, _ = generate_demo_shop(seed=42, days=30, orders_per_day=20, end_date=END_DATE)
    cases = bookkeeping_cases(shop)
    assert [case for case in EVERY_CASE if cases[case] == 0] == []


def test_orders_follow_a_weekly_rhythm(default_shop: Shop) -> None:
    per_weekday: Counter[int] = Counter(
        datetime.fromisoformat(record.created_local).weekday()
        for record in default_shop.orders.values()
    )
    assert per_weekday[6] > per_weekday[5] * 1.3  # Sunday evenings beat Saturdays


def test_the_same_seed_and_reference_date_give_the_same_shop() -> None:
    first, _ = generate_demo_shop(seed=5, days=12, orders_per_day=10, end_date=END_DATE)
    again, _ = generate_demo_shop(seed=5, days=12, orders_per_day=10, end_date=END_DATE)
    other, _ = generate_demo_shop(seed=6, days=12, orders_per_day=10, end_date=END_DATE)
    assert first.export() == again.export()
    assert first.export()["orders"] != other.export()["orders"]


@pytest.mark.parametrize(
    "machine_date", [datetime(2026, 1, 5, 9), datetime(2026, 10, 25, 2, 30), datetime(2031, 7, 19)]
)
def test_the_same_seed_and_end_date_give_the_same_shop_whatever_day_it_runs(
    machine_date: datetime,
) -> None:
    expected, _ = generate_demo_shop(seed=5, days=12, orders_per_day=10, end_date=END_DATE)
    # The machine's clock (datetime, date and time, down to the C level) on another day.
    with time_machine.travel(machine_date.replace(tzinfo=UTC), tick=False):
        assert date.today() == machine_date.date()
        shop, _ = generate_demo_shop(seed=5, days=12, orders_per_day=10, end_date=END_DATE)
    assert shop.export() == expected.export()
    assert shop.now == datetime(2026, 11, 10, 22, 59, 59, tzinfo=UTC)  # 23:59:59 CET


def test_nothing_happens_after_the_shops_clock(default_shop: Shop) -> None:
    assert default_shop.now is not None
    last_moment = default_shop.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert max(record.modified_gmt for record in default_shop.orders.values()) <= last_moment
    assert max(record.created_gmt for record in default_shop.refunds.values()) <= last_moment


def test_a_shop_with_net_prices_rounding_at_subtotal_states_its_tax_once_per_rate() -> None:
    """As the second recorded shop: catalogue prices are net, each line keeps its unrounded
    tax, and the order rounds once per rate (its tax lines) and once more for total_tax."""
    settings = ShopSettings(prices_include_tax=False, round_at_subtotal=True)
    shop, _ = generate_demo_shop(
        seed=3, days=10, orders_per_day=20, end_date=END_DATE, settings=settings
    )
    orders = [record.document() for record in shop.orders.values()]
    assert orders and not any(order["prices_include_tax"] for order in orders)
    uncouponed = [o for o in orders if not o["coupon_lines"] and o["currency"] == "EUR"]
    for order in uncouponed:
        for item in order["line_items"]:
            if item["product_id"] in shop.products and not item["variation_id"]:
                price = money(shop.products[item["product_id"]]["price"])
                assert money(item["subtotal"]) == price * item["quantity"], order["id"]

    def lines_tax(order: Order) -> Decimal:
        return sum(money(line["total_tax"]) for line in order["line_items"] + order["fee_lines"])

    def tax_lines(order: Order) -> Decimal:
        return sum(
            money(t["tax_total"]) + money(t["shipping_tax_total"]) for t in order["tax_lines"]
        )

    # The line taxes, each rounded on its own, miss the rate's tax rounded once.
    assert count(orders, lambda o: lines_tax(o) != money(o["cart_tax"])) > 0
    # The tax lines, each rounded on its own, miss total_tax (rounded once) by at most a
    # cent a rate, and the order's total is the net plus the unrounded tax, rounded once.
    assert count(orders, lambda o: tax_lines(o) != money(o["total_tax"])) > 0
    for order in orders:
        difference = abs(tax_lines(order) - money(order["total_tax"]))
        assert difference <= Decimal("0.01") * len(order["tax_lines"]), order["id"]
        net = sum(
            money(line["total"])
            for line in order["line_items"] + order["shipping_lines"] + order["fee_lines"]
        )
        assert abs(net + money(order["total_tax"]) - money(order["total"])) <= Decimal("0.03")


def test_variations_are_named_by_their_options_and_order_lines_by_parent_and_options(
    default_shop: Shop, orders: list[Order]
) -> None:
    """As WooCommerce 11.0.1 lists them: variation 21 of the recorded shop is "L", and its
    order lines say "T-shirt Grachten - L"."""
    assert default_shop.variations
    for variation in default_shop.variations.values():
        assert variation["name"] == variation["attributes"][0]["option"]
    lines = [item for order in orders for item in order["line_items"] if item["variation_id"]]
    assert lines
    for item in lines:
        option = default_shop.variations[item["variation_id"]]["attributes"][0]["option"]
        assert item["name"] == f"{item['parent_name']} - {option}"
