"""Properties over random orders built the way WooCommerce builds them (per-line tax rounded
half-up, 2-decimal strings, raw per-rate taxes): every order balances to the cent or is
quarantined with a reason; credits never exceed their sale; splits lose no cent."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from woo_exact_pipeline.bookkeeping.money import CENT, split_proportionally
from woo_exact_pipeline_tests.fixtures.bookkeeping import address, book, settings, wc_order
from woo_exact_pipeline_tests.support.orders import (
    coffee_order,
    moka_and_shipping_refund,
)

D = Decimal
EXAMPLES = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
RATES_BY_COUNTRY = {"NL": [21, 9, 0], "DE": [19, 7], "BE": [21, 6], "US": [0]}
UNMAPPED_RATE = 16
RATE_IDS = {21: 1, 9: 2, 0: 3, 19: 4, 7: 5, 6: 6, UNMAPPED_RATE: 7}


def cents(value: int) -> Decimal:
    return D(value) * CENT


def tax_on(net: Decimal, rate: int) -> Decimal:
    return (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@st.composite
def generated_orders(draw: st.DrawFn, order_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A wc/v3 order and what the test knows about it (off-by cents, unmapped rate used)."""
    country = draw(st.sampled_from(["NL", "NL", "DE", "BE", "US"]))
    rates = RATES_BY_COUNTRY[country]
    unmapped = country == "DE" and draw(st.integers(0, 9)) == 0
    used_rates: set[int] = set()
    lines: list[dict[str, Any]] = []
    line_rates: list[int] = []
    for index in range(draw(st.integers(1, 4))):
        rate = UNMAPPED_RATE if unmapped and index == 0 else draw(st.sampled_from(rates))
        quantity = draw(st.integers(1, 6))
        subtotal = cents(quantity * draw(st.integers(0, 40_000)))
        discount_percent = draw(st.sampled_from([0, 0, 0, 10, 25, 100]))
        total = subtotal - (subtotal * discount_percent / 100).quantize(CENT, ROUND_DOWN)
        used_rates.add(rate)
        line_rates.append(rate)
        taxes = [] if country == "US" else [
            {"id": RATE_IDS[rate], "total": str(total * rate / 100),
             "subtotal": str(subtotal * rate / 100)}
        ]  # fmt: skip
        lines.append(
            {"id": 100 + index, "name": f"Product {index} ☕", "product_id": index,
             "quantity": quantity, "tax_class": "", "subtotal": str(subtotal),
             "subtotal_tax": str(tax_on(subtotal, rate)), "total": str(total),
             "total_tax": str(tax_on(total, rate)), "taxes": taxes, "meta_data": [],
             "sku": draw(st.sampled_from(["", "SKU-1", "SKU-2"])), "price": float(total)}
        )  # fmt: skip
    shipping_rate = rates[0]
    shipping_lines: list[dict[str, Any]] = []
    if draw(st.booleans()):
        net = cents(draw(st.integers(0, 2_000)))
        used_rates.add(shipping_rate)
        shipping_lines.append(
            {"id": 200, "method_title": "PostNL", "method_id": "flat_rate", "total": str(net),
             "total_tax": str(tax_on(net, shipping_rate)),
             "taxes": [] if country == "US" else [{"id": RATE_IDS[shipping_rate],
                                                   "total": str(net * shipping_rate / 100)}]}
        )  # fmt: skip
    fee_lines: list[dict[str, Any]] = []
    if draw(st.booleans()):
        net = cents(draw(st.integers(-500, 500)))  # negative fees are used as discounts
        used_rates.add(shipping_rate)
        fee_lines.append(
            {"id": 300, "name": "Toeslag", "tax_status": "taxable", "amount": str(net),
             "total": str(net), "total_tax": str(tax_on(net, shipping_rate)),
             "taxes": [] if country == "US" else [{"id": RATE_IDS[shipping_rate],
                                                   "total": str(net * shipping_rate / 100)}]}
        )  # fmt: skip
    off_by = cents(draw(st.sampled_from([0, 0, 0, 0, 1, -2, 3, -7])))
    # The tax lines state per rate what the rounded line taxes add up to (a shop rounding per
    # line), or the raw taxes rounded once (a shop rounding at subtotal): then the line taxes
    # miss them by up to half a cent each, and WooCommerce's total follows the tax lines.
    at_subtotal = draw(st.booleans())
    stated = {rate: {"tax_total": D(0), "shipping_tax_total": D(0)} for rate in used_rates}
    taxed = [*zip(lines, line_rates, strict=True), *((fee, shipping_rate) for fee in fee_lines)]
    for line, rate in taxed if country != "US" else ():
        stated[rate]["tax_total"] += D(
            line["taxes"][0]["total"] if at_subtotal else line["total_tax"]
        )
    for shipping in shipping_lines if country != "US" else ():
        shipping_tax = shipping["taxes"][0]["total"] if at_subtotal else shipping["total_tax"]
        stated[shipping_rate]["shipping_tax_total"] += D(shipping_tax)
    for figures in stated.values():
        for key, value in figures.items():
            figures[key] = value.quantize(CENT, rounding=ROUND_HALF_UP)
    total_tax = sum((sum(figures.values(), D(0)) for figures in stated.values()), D(0))
    nets = sum((D(line["total"]) for line in [*lines, *shipping_lines, *fee_lines]), D(0))
    order = wc_order(
        order_id,
        country=country,
        billing={**address(country), "email": f"klant{order_id}@example.com"},
        total=str(nets + total_tax + off_by),
        total_tax=str(total_tax),
        line_items=lines,
        shipping_lines=shipping_lines,
        fee_lines=fee_lines,
        tax_lines=[
            {"id": 900 + rate, "rate_code": f"{country}-{rate}", "rate_id": RATE_IDS[rate],
             "label": "VAT", "compound": False, "tax_total": str(stated[rate]["tax_total"]),
             "shipping_tax_total": str(stated[rate]["shipping_tax_total"]),
             "rate_percent": float(rate)}
            for rate in sorted(used_rates)
        ],
    )  # fmt: skip
    return order, {"off_by": off_by, "unmapped": unmapped}


INSERTION = st.sampled_from(["sales_entry", "sales_invoice"])
DISCOUNT_ITEM = st.sampled_from([None, "KORTING"])


@EXAMPLES
@given(st.data(), INSERTION, DISCOUNT_ITEM)
def test_every_order_balances_to_the_cent_or_is_quarantined_with_a_reason(
    data: st.DataObject, insertion_type: str, discount_item: str | None
) -> None:
    generated = [data.draw(generated_orders(order_id)) for order_id in range(1, 6)]
    config = settings(
        exact={
            "insertion_type": insertion_type,
            "items": {"shipping": "VERZEND", "other_costs": "KOSTEN", "fallback": "DIVERSEN",
                      "discount": discount_item},
        }
    )  # fmt: skip
    result = book([order for order, _ in generated], config=config)

    sales = {event.order_id: event for event in result.events if event.kind == "sale"}
    held = {item.order_id: item for item in result.quarantined}
    assert not result.waiting
    for order, known in generated:
        order_id = order["id"]
        assert (order_id in sales) != (order_id in held), "exactly one outcome per order"
        if order_id in held:
            assert held[order_id].reason
            if known["unmapped"]:
                assert held[order_id].category == "unmapped_vat_rate"
            elif D(order["total"]) < 0:  # a negative fee larger than the goods
                assert held[order_id].category == "invalid_data"
            else:
                assert held[order_id].category == "unbalanced"
                assert abs(known["off_by"]) > D("0.02")
            continue
        sale = sales[order_id]
        assert not known["unmapped"] and abs(known["off_by"]) <= D("0.02")
        assert D(order["total"]) >= 0
        assert sale.lines_total == sale.total_incl_vat == D(order["total"])
        assert sale.vat_total == D(order["total_tax"])  # WooCommerce's VAT, sent as it is
        rounding = [line for line in sale.lines if line.kind == "rounding"]
        assert sum((line.amount_excl_vat for line in rounding), D(0)) == known["off_by"]


@st.composite
def refunds_for(draw: st.DrawFn, order: dict[str, Any]) -> list[dict[str, Any]]:
    """Random refunds, itemised (part of a line's quantity) or amount-only; may over-refund."""
    refunds = []
    for index in range(draw(st.integers(1, 4))):
        refund: dict[str, Any] = {
            "id": 1000 + index,
            "date_created_gmt": f"2026-03-{10 + index}T12:00:00",
            "reason": "",
            "line_items": [],
        }
        line = draw(st.sampled_from(order["line_items"]))
        if draw(st.booleans()) and D(line["total"]) > 0:
            quantity = draw(st.integers(1, line["quantity"]))
            net = (D(line["total"]) * quantity / line["quantity"]).quantize(CENT)
            vat = (D(line["total_tax"]) * quantity / line["quantity"]).quantize(CENT)
            refund["line_items"] = [
                {"id": 5000 + index, "name": line["name"], "quantity": -quantity,
                 "total": str(-net), "total_tax": str(-vat), "taxes": [],
                 "meta_data": [{"key": "_refunded_item_id", "value": str(line["id"])}],
                 "sku": line["sku"]}
            ]  # fmt: skip
            refund["amount"] = str(net + vat)
        else:
            refund["amount"] = str(cents(draw(st.integers(1, 60_000))))
        refunds.append(refund)
    return refunds


@EXAMPLES
@given(st.data(), INSERTION)
def test_credits_balance_and_never_exceed_their_sale(
    data: st.DataObject, insertion_type: str
) -> None:
    order, _ = data.draw(generated_orders(1))
    refunds = data.draw(refunds_for(order))
    config = settings(exact={"insertion_type": insertion_type})
    result = book([order], {1: refunds}, config=config)

    sales = [event for event in result.events if event.kind == "sale"]
    credits = [event for event in result.events if event.kind == "credit"]
    if not sales:
        assert not credits and result.quarantined[0].refund_id is None
        return
    (sale,) = sales
    assert sum((-credit.total_incl_vat for credit in credits), D(0)) <= sale.total_incl_vat
    for credit in credits:
        assert credit.is_balanced and credit.total_incl_vat < 0
        assert credit.event_date > sale.event_date
        assert all(line.amount_incl_vat <= 0 for line in credit.lines if line.kind != "rounding")
    booked = {credit.refund_id for credit in credits}
    for item in result.quarantined:
        assert item.refund_id is not None and item.refund_id not in booked and item.reason
    moving_money = [refund for refund in refunds if D(refund["amount"])]
    assert len(booked) + len(result.quarantined) == len(moving_money)


@EXAMPLES
@given(
    st.integers(-10_000_000, 10_000_000),
    st.lists(st.integers(0, 1_000_000), min_size=1, max_size=12).filter(any),
)
def test_splitting_an_amount_loses_no_cent(amount_cents: int, weights: list[int]) -> None:
    amount = cents(amount_cents)
    weight_values = [cents(weight) for weight in weights]
    parts = split_proportionally(amount, weight_values)

    assert sum(parts, D(0)) == amount
    total_weight = sum(weight_values, D(0))
    for part, weight in zip(parts, weight_values, strict=True):
        exact = amount * weight / total_weight
        assert abs(part - exact) < CENT
        assert part == part.quantize(CENT)
        assert part * amount >= 0  # the same sign as the amount
        if weight == 0:
            assert part == 0
    assert split_proportionally(-amount, weight_values) == [-part for part in parts]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path in a JSON document."""
    paths: list[tuple[Any, ...]] = []
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            paths.append((*prefix, key))
            paths.extend(_paths(child, (*prefix, key)))
    return paths


JUNK = st.sampled_from(
    [None, "", "abc", -1, 0, 1.5, "-0.01", [], {}, True, "1e999", "💥", "NL", 10**30, "0"]
)


@EXAMPLES
@given(st.data())
def test_a_mangled_order_is_booked_or_held_never_raised(data: st.DataObject) -> None:
    order = coffee_order()
    refund = moka_and_shipping_refund()
    target = data.draw(st.sampled_from(["order", "refund"]))
    document = order if target == "order" else refund
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JUNK)
        if not _paths(document):
            break

    result = book([order], {1001: [refund]})

    unexpected = [item for item in result.quarantined if item.category == "unexpected_error"]
    assert not unexpected, unexpected
    assert all(item.reason for item in [*result.quarantined, *result.waiting])
    assert all(event.is_balanced for event in result.events)
