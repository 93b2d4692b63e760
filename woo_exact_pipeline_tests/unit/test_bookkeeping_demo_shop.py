"""The transform on the sandbox's demo shop, whose totals the sandbox computes its own way:
every order it paid books to the cent, every refund credits its amount, nothing else books."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from woo_exact_pipeline.bookkeeping import TransformResult, VatTreatment, build_accounting_events
from woo_exact_pipeline.sandbox.woocommerce.generator import generate_demo_shop
from woo_exact_pipeline.sandbox.woocommerce.shop import ShopSettings
from woo_exact_pipeline_tests.support.demo_shop import demo_settings

Shop = tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def demo_shop() -> Shop:
    shop, _ = generate_demo_shop(seed=11, days=20, orders_per_day=25, end_date=date(2026, 3, 10))
    refunds: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in shop.refunds.values():
        refunds[record.order_id].append(record.document())
    return [record.document() for record in shop.orders.values()], refunds, shop.taxes


def check_bookings(orders: list[dict[str, Any]], refunds: Any, result: TransformResult) -> None:
    assert result.quarantined == ()
    sales = {event.order_id: event for event in result.events if event.kind == "sale"}
    credits = {event.refund_id: event for event in result.events if event.kind == "credit"}
    for order in orders:
        # A trashed order or a checkout draft is no sale, whatever dates it carries.
        paid = order["status"] not in ("trash", "checkout-draft") and (
            order["status"] in ("processing", "completed") or order["date_paid"]
        )
        if not paid:
            assert order["id"] not in sales, order["status"]
            continue
        sale = sales[order["id"]]
        assert sale.is_balanced and sale.total_incl_vat == Decimal(order["total"])
        assert sale.currency == order["currency"]
        assert not any(line.kind == "rounding" for line in sale.lines)
        for refund in refunds.get(order["id"], []):
            credit = credits[refund["id"]]
            assert credit.is_balanced and credit.total_incl_vat == -Decimal(refund["amount"])
    assert len(credits) == sum(len(items) for items in refunds.values())


@pytest.mark.parametrize(
    "exact",
    [
        {},
        {
            "insertion_type": "sales_invoice",
            "items": {
                "shipping": "VERZEND",
                "other_costs": "KOSTEN",
                "discount": "KORTING",
                "fallback": "DIVERSEN",
            },
        },
    ],
)
def test_every_paid_demo_order_and_refund_books_to_the_cent(
    demo_shop: Shop, exact: dict[str, Any]
) -> None:
    orders, refunds, taxes = demo_shop
    result = build_accounting_events(orders, refunds, demo_settings(taxes, **exact))
    check_bookings(orders, refunds, result)
    assert {event.vat_treatment for event in result.events} == set(VatTreatment) - {
        VatTreatment.EU_CONSUMER_SHOP_VAT
    }


def test_demo_orders_without_an_invoice_yet_wait_and_the_rest_use_it(demo_shop: Shop) -> None:
    orders, refunds, taxes = demo_shop
    config = demo_settings(taxes)
    config = config.model_copy(
        update={
            "woocommerce": config.woocommerce.model_copy(
                update={"document_number_source": "invoice_number"}
            )
        }
    )
    result = build_accounting_events(orders, refunds, config)

    numbers = {
        order["id"]: entry["value"]
        for order in orders
        for entry in order["meta_data"]
        if entry["key"] == "_wcpdf_invoice_number"
    }
    assert result.waiting and result.quarantined == ()
    assert all(item.order_id not in numbers for item in result.waiting)
    for event in result.events:
        assert event.reference.startswith(numbers[event.order_id])


def vat_code(tax_line: dict[str, Any]) -> str:
    """The code demo_settings maps a tax line's rate to."""
    country = tax_line["rate_code"].split("-")[0]
    percent = Decimal(str(tax_line["rate_percent"])).normalize()
    return {21: "2", 9: "1", 0: "0"}[int(percent)] if country == "NL" else f"{country}{percent}"


def test_a_shop_with_net_prices_rounding_at_subtotal_books_its_tax_lines() -> None:
    """Each paid order books its total, with the VAT per code its tax lines state (not the
    line taxes); where those miss total_tax by a cent, the cent is a rounding line."""
    settings = ShopSettings(prices_include_tax=False, round_at_subtotal=True)
    shop, _ = generate_demo_shop(
        seed=11, days=20, orders_per_day=25, end_date=date(2026, 3, 10), settings=settings
    )
    orders = [record.document() for record in shop.orders.values()]
    refunds: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in shop.refunds.values():
        refunds[record.order_id].append(record.document())
    result = build_accounting_events(orders, refunds, demo_settings(shop.taxes))
    assert result.quarantined == () and result.waiting == ()
    sales = {event.order_id: event for event in result.events if event.kind == "sale"}
    rounded = 0
    for order in orders:
        if order["status"] not in ("processing", "completed", "refunded"):
            assert order["id"] not in sales
            continue
        sale = sales[order["id"]]
        assert sale.is_balanced and sale.total_incl_vat == Decimal(order["total"])
        stated: dict[str, Decimal] = defaultdict(Decimal)
        for tax_line in order["tax_lines"]:
            stated[vat_code(tax_line)] += Decimal(tax_line["tax_total"]) + Decimal(
                tax_line["shipping_tax_total"]
            )
        booked: dict[str, Decimal] = defaultdict(Decimal)
        rounding = Decimal(0)
        for line in sale.lines:
            if line.kind == "rounding":
                rounding += line.amount_excl_vat
            else:
                booked[str(line.vat_code)] += line.vat_amount
        assert {c: v for c, v in booked.items() if v} == {c: v for c, v in stated.items() if v}
        assert abs(rounding) <= Decimal("0.02")
        rounded += rounding != 0
    assert rounded > 0  # total_tax rounded once misses the tax lines on some orders
    credits = [event for event in result.events if event.kind == "credit"]
    assert len(credits) == sum(len(items) for items in refunds.values()) > 0
    amounts = {refund["id"]: Decimal(refund["amount"]) for r in refunds.values() for refund in r}
    assert all(credit.total_incl_vat == -amounts[credit.refund_id] for credit in credits)
