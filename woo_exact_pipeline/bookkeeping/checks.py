"""Independent checks of the transform's output against WooCommerce's own figures.

They recompute from the raw orders rather than trusting the events, so a bug in the
transform shows here instead of in Exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from woo_exact_pipeline.bookkeeping.model import AccountingEvent


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
    (credit, negative) to the cent."""
    order_totals = {order.get("id"): _amount(order.get("total")) for order in orders}
    refund_amounts = {
        refund.get("id"): _amount(refund.get("amount"))
        for refunds in refunds_by_order.values()
        for refund in refunds
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


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
