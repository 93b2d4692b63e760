"""The balance check: every event's lines and total against WooCommerce's own order total
(sale) or refund amount (credit), to the cent, read from the orders as the shop sent them."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.bookkeeping.checks import Imbalance, imbalances_against_woocommerce
from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline_tests.fixtures.bookkeeping import book
from woo_exact_pipeline_tests.support.bad_orders import simple_order

D = Decimal

#: The mug order of 12.10 incl. 21% VAT and its refund of 1.21 (1.00 + 0.21 VAT).
REFUND: dict[str, Any] = {"id": 72, "parent_id": 3001, "amount": "1.21",
                          "date_created_gmt": "2026-03-06T10:00:00"}  # fmt: skip


def booked_sale_and_credit() -> tuple[AccountingEvent, AccountingEvent]:
    sale, credit = book([simple_order()], {3001: [REFUND]}).events
    assert (sale.total_incl_vat, credit.total_incl_vat) == (D("12.10"), D("-1.21"))
    return sale, credit


def test_events_that_match_woocommerces_figures_pass() -> None:
    events = booked_sale_and_credit()
    assert imbalances_against_woocommerce(events, [simple_order()], {3001: [REFUND]}) == []


def test_a_sale_a_cent_off_the_order_total_is_reported_with_both_figures() -> None:
    sale, _ = booked_sale_and_credit()
    assert imbalances_against_woocommerce([sale], [simple_order(total="12.11")], {}) == [
        Imbalance("3001", D("12.11"), D("12.10"), D("12.10"))
    ]


def test_a_credit_is_checked_against_the_refund_amount_negated() -> None:
    _, credit = booked_sale_and_credit()
    refunds = {3001: [{**REFUND, "amount": "1.22"}]}
    assert imbalances_against_woocommerce([credit], [simple_order()], refunds) == [
        Imbalance("3001-R72", D("-1.22"), D("-1.21"), D("-1.21"))
    ]


def test_an_event_whose_lines_miss_its_own_total_is_reported() -> None:
    sale, _ = booked_sale_and_credit()
    off = dataclasses.replace(sale, total_incl_vat=D("13.00"))
    assert imbalances_against_woocommerce([off], [simple_order()], {}) == [
        Imbalance("3001", D("12.10"), D("13.00"), D("12.10"))
    ]


def test_an_event_without_a_readable_woocommerce_figure_is_reported_with_none() -> None:
    sale, credit = booked_sale_and_credit()
    assert imbalances_against_woocommerce([sale, credit], [simple_order(total="twelve")], {}) == [
        Imbalance("3001", None, D("12.10"), D("12.10")),
        Imbalance("3001-R72", None, D("-1.21"), D("-1.21")),
    ]


def test_records_without_a_readable_id_are_skipped_not_raised() -> None:
    sale, credit = booked_sale_and_credit()
    orders: list[Any] = ["junk", {"id": "abc"}, simple_order()]
    refunds: dict[int, list[Any]] = {3001: [{"amount": "1.21"}, 7, REFUND]}
    assert imbalances_against_woocommerce([sale, credit], orders, refunds) == []
