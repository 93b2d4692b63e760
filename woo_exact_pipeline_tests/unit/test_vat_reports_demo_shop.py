"""The VAT reports of the sandbox's demo shop (fixed seed, last day 10 April 2026) against what
its customers paid, worked out from the WooCommerce documents with the bookkeeper's rules
rather than by the transform: per member state, per VAT number and per rubriek, every paid
order's total counts on its creation day and every refund's amount on its own day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from woo_exact_pipeline.bookkeeping import build_accounting_events
from woo_exact_pipeline.bookkeeping.vat_reports import (
    Period,
    figures,
    in_euros,
    order_facts,
    report_lines,
)
from woo_exact_pipeline.sandbox.woocommerce.generator import generate_demo_shop
from woo_exact_pipeline_tests.support.demo_shop import demo_settings

_MEMBER_STATES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
EU = frozenset(_MEMBER_STATES.split())
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31), "2026-Q1")
Q2 = Period(date(2026, 4, 1), date(2026, 6, 30), "2026-Q2")
VAT_NUMBER_KEYS = ("vat_number", "_billing_vat_number", "_billing_eu_vat_number")


@pytest.fixture(scope="module")
def demo() -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]], Any]:
    shop, _ = generate_demo_shop(seed=5, days=20, orders_per_day=25, end_date=date(2026, 4, 10))
    refunds: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in shop.refunds.values():
        refunds[record.order_id].append(record.document())
    return [record.document() for record in shop.orders.values()], refunds, shop.taxes


def local_day(document: dict[str, Any]) -> date:
    return datetime.fromisoformat(document["date_created"]).date()


def paid(order: dict[str, Any]) -> bool:
    return order["status"] not in ("trash", "checkout-draft") and bool(
        order["status"] in ("processing", "completed") or order["date_paid"]
    )


def bucket(order: dict[str, Any]) -> tuple[str, str]:
    """Where the bookkeeper puts the order: OSS per member state, ICP per VAT number, or the
    Dutch return (1: Dutch VAT at any rate, 3a: exports, 3b: intra-community supplies)."""
    if order["created_via"] == "pos-rest-api":
        return ("nl_return", "1")
    country = order["shipping"]["country"] or order["billing"]["country"]
    meta = {entry["key"]: entry["value"] for entry in order["meta_data"]}
    vat_number = next((meta[key] for key in VAT_NUMBER_KEYS if meta.get(key)), None)
    untaxed = Decimal(order["total_tax"]) == 0
    if country == "NL":
        return ("nl_return", "1")
    if country in EU:
        if vat_number and untaxed:
            return ("icp", vat_number.replace(" ", "").upper())
        return ("oss", country)
    return ("nl_return", "3a") if untaxed else ("nl_return", "1")


def paid_per_bucket(
    orders: list[dict[str, Any]], refunds: dict[int, list[dict[str, Any]]], period: Period
) -> dict[tuple[str, str], Decimal]:
    """Incl. VAT: paid orders' totals on their day, less refunds on theirs (euros only)."""
    money: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for order in orders:
        if not paid(order) or order["currency"] != "EUR":
            continue
        where = bucket(order)
        if period.holds(local_day(order)):
            money[where] += Decimal(order["total"])
            if where[0] == "icp":  # an ICP supply is in rubriek 3b too
                money[("nl_return", "3b")] += Decimal(order["total"])
        for refund in refunds.get(order["id"], []):
            if period.holds(local_day(refund)):
                money[where] -= Decimal(refund["amount"])
                if where[0] == "icp":
                    money[("nl_return", "3b")] -= Decimal(refund["amount"])
    return dict(money)


def reported_per_bucket(table: Any) -> dict[tuple[str, str], Decimal]:
    money: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for report, key, _rate, net, vat in table.itertuples(index=False):
        where = (report, "1" if key in ("1a", "1b", "1c", "1e") else key)
        money[where] += Decimal(net + vat) / 100
    return dict(money)


@pytest.mark.parametrize("period", [Q1, Q2], ids=["Q1", "Q2"])
def test_each_quarter_reports_what_customers_paid_per_member_state_vat_number_and_rubriek(
    demo: Any, period: Period
) -> None:
    orders, refunds, taxes = demo
    config = demo_settings(taxes)
    result = build_accounting_events(orders, refunds, config)
    assert result.quarantined == ()
    facts = order_facts({order["id"]: order for order in orders}, config)
    table = figures(report_lines(result.events, facts, period))

    assert reported_per_bucket(table) == paid_per_bucket(orders, refunds, period)
    # Nothing of OSS or ICP reaches the Dutch VAT lines, and ICP and exports carry no VAT.
    assert set(table["report"]) == {"nl_return", "oss", "icp"}
    untaxed = table[(table["report"] == "icp") | table["key"].isin(["3a", "3b"])]
    assert (untaxed["vat_cents"] == 0).all()
    foreign = [
        o for o in orders if paid(o) and o["currency"] != "EUR" and period.holds(local_day(o))
    ]
    # Nothing booked here: the foreign-currency sales have no rate yet and are counted apart.
    assert sum(in_euros(result.events, {})[1].values()) >= len(foreign) > 0


def test_a_refund_of_a_march_order_dated_in_april_counts_in_the_second_quarter(demo: Any) -> None:
    orders, refunds, taxes = demo
    config = demo_settings(taxes)
    late = [
        (order, refund)
        for order in orders
        if paid(order) and order["currency"] == "EUR" and Q1.holds(local_day(order))
        for refund in refunds.get(order["id"], [])
        if Q2.holds(local_day(refund))
    ]
    assert late, "the demo shop has a March order refunded in April"
    result = build_accounting_events(orders, refunds, config)
    facts = order_facts({order["id"]: order for order in orders}, config)
    in_q1 = set(report_lines(result.events, facts, Q1)["reference"])
    in_q2 = set(report_lines(result.events, facts, Q2)["reference"])
    for order, refund in late:
        assert order["number"] in in_q1 and order["number"] not in in_q2
        credit = f"{order['number']}-R{refund['id']}"
        assert credit in in_q2 and credit not in in_q1
