"""Independent checks of the transform's output against WooCommerce's own figures.

They compare with WooCommerce's own totals (read by `order`, as every reader reads them)
rather than trusting the events, so a bug in the transform shows here instead of in Exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.bookkeeping.order import Readable, read_order, read_refund
from woo_exact_pipeline.bookkeeping.problems import BookingProblem

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Imbalance:
    reference: str
    woocommerce_total: Decimal | None
    event_total: Decimal
    lines_total: Decimal


def imbalances_against_woocommerce(
    events: Iterable[AccountingEvent],
    orders: Sequence[Mapping[str, Any]],
    refunds_by_order: Mapping[int, Sequence[Mapping[str, Any]]],
) -> list[Imbalance]:
    """Events whose lines do not add up to WooCommerce's order total (sale) or refund amount
    (credit, negative) to the cent. An event whose figure WooCommerce does not state readably
    is reported with none."""
    order_totals = {order.order_id: _stated(order.total) for order in _readable(read_order, orders)}
    refund_amounts = {
        refund.refund_id: _stated(refund.amount)
        for refunds in refunds_by_order.values()
        for refund in _readable(read_refund, refunds)
    }
    found = []
    for event in events:
        if event.kind == "sale":
            expected = order_totals.get(event.order_id)
        else:
            amount = refund_amounts.get(event.refund_id)
            expected = -amount if amount is not None else None
        if expected is None or event.lines_total != expected or event.total_incl_vat != expected:
            found.append(
                Imbalance(event.reference, expected, event.total_incl_vat, event.lines_total)
            )
    return found


def _readable(read: Callable[[Mapping[str, Any]], T], records: Iterable[object]) -> Iterator[T]:
    """The headers of the records that have one; the others have no event to check."""
    for record in records:
        if isinstance(record, Mapping):
            try:
                yield read(record)
            except BookingProblem:
                continue


def _stated(value: Readable[Decimal]) -> Decimal | None:
    return value if isinstance(value, Decimal) else None
