"""The bookkeeping transform: WooCommerce orders and refunds in, Exact-ready events out.

Rules where WooCommerce leaves room for a choice (README-worthy, tested):

* **When a sale is booked.** An order is booked when its status is one of `booking_statuses`,
  or when its dates show it reached one earlier: `date_paid` is set (WooCommerce sets it when
  an order becomes processing or completed and never clears it) and `processing` is a booking
  status, or `date_completed` is set and `completed` is a booking status. So an order that was
  paid and later refunded or cancelled keeps its sale (and gets its credits), while an order
  cancelled, failed or refunded without ever being paid produces nothing; so does a trashed
  order or a checkout draft, whatever its dates.
* **Sale date.** The order's creation day in the shop's time zone (the day that owns the
  partition), or the PDF plugin's invoice date when the reference is its invoice number.
* **References.** The order number (or the PDF invoice number); a refund's credit is the sale's
  reference plus `-R<refund id>`, e.g. `1234-R5678`. A reference longer than Exact's 30
  characters is quarantined, never cut, since a cut reference could collide with another.
* **Credits.** Refunded line items, shipping and fees become credit lines at WooCommerce's
  refunded amounts, their VAT per rate aligned with the refund's own tax lines. What the
  refund amount holds beyond its itemised lines (an amount-only refund) is spread over the
  sale's (ledger, VAT code, rate) groups in proportion to what is left of each (its amount
  incl. VAT less earlier credits on it) with the largest-remainder rule
  (`money.split_proportionally`); inside a group the VAT is the group's VAT share rounded
  half-up to the cent, the rest is the amount excl. VAT, so no cent is lost. A credit that
  would bring an order's credits above its sale is quarantined.
* **Amounts.** Lines carry WooCommerce's own net and VAT amounts, the VAT per rate of a sale
  aligned with what the order's tax lines state (`taxes`); a difference to the order (or
  refund) total within `rounding_tolerance` becomes a rounding line on `rounding_gl` without
  VAT (`rounding_vat_code`, else the ledger's own code), a larger one quarantines the event
  with both figures. VAT of another country than the treatment's is quarantined (`vat`).
* **Lines.** Sales entries get one line per (kind, ledger, VAT code, rate): products,
  shipping, fees, discounts and rounding stay apart; invoices and orders one line per item.
  An untaxed line to an OSS country takes the shop's 0% code unless `oss.<country>` maps 0%.
* **Outcomes.** A `Quarantined` or `Waiting` without `refund_id` holds back the whole order
  with its refunds (except refunds without a readable id, reported beside a booked sale);
  with `refund_id` only that refund's credit. Nothing one order contains can raise out of
  the transform.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from woo_exact_pipeline.bookkeeping.credits import book_credits
from woo_exact_pipeline.bookkeeping.model import Quarantined, TransformResult, Waiting
from woo_exact_pipeline.bookkeeping.order import OrderHeader, order_number, read_order
from woo_exact_pipeline.bookkeeping.parts import ExactReferenceData, Rules, unexpected_error
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.sales import book_sale
from woo_exact_pipeline.config import SyncConfig


def transform_day(
    orders: Sequence[Mapping[str, Any]],
    refunds_by_order: Mapping[int, Sequence[Mapping[str, Any]]],
    settings: SyncConfig,
    reference: ExactReferenceData,
    booked: Collection[str] = frozenset(),
) -> TransformResult:
    """A day's orders with what Exact knows, the events already booked kept as they were booked.

    `booked` holds the content hashes of the day's booked events. When only Exact's knowledge
    (an item's own revenue account, e.g. just switched on) makes a booked event differ, the
    event keeps the lines Exact has, so it is not reported as changed after booking and the
    reconciliation still agrees; a change in WooCommerce still shows.
    """
    result = build_accounting_events(orders, refunds_by_order, settings, reference)
    if not booked or not reference.item_revenue_gl:
        return result
    as_booked = {
        (event.kind, event.reference): event
        for event in build_accounting_events(orders, refunds_by_order, settings).events
        if event.content_hash in booked
    }
    events = tuple(
        event
        if event.content_hash in booked
        else as_booked.get((event.kind, event.reference), event)
        for event in result.events
    )
    return TransformResult(events, result.waiting, result.quarantined)


def build_accounting_events(
    orders: Iterable[Mapping[str, Any]],
    refunds_by_order: Mapping[int, Sequence[Mapping[str, Any]]],
    settings: SyncConfig,
    reference: ExactReferenceData | None = None,
) -> TransformResult:
    """Book every order: its sale and credits, or why it waits or is quarantined.

    `orders` are wc/v3 order objects; `refunds_by_order` maps an order id to its full refund
    objects (`GET /orders/<id>/refunds`); `reference` is what Exact already knows (None:
    nothing). An order that appears twice (overlapping extraction pages) is booked once, in
    its most recently modified version. Events come in input order, each sale before its
    credits, credits by refund id.
    """
    rules = Rules(settings, reference or ExactReferenceData())
    latest: dict[object, OrderHeader | Quarantined] = {}
    malformed: list[Quarantined] = []
    for raw in orders:
        if not isinstance(raw, Mapping) or isinstance(raw.get("id"), bool):
            malformed.append(
                Quarantined(None, "", "invalid_data", "an order is not a JSON object with an id")
            )
            continue
        try:
            order = read_order(raw)
        except BookingProblem as problem:
            # An order without a number for an id cannot be deduplicated: it is held alone.
            latest[object()] = problem.quarantined(None, order_number(raw))
            continue
        except Exception as error:  # a shape no rule foresaw must not stop the other orders
            order_id = raw.get("id") if isinstance(raw.get("id"), int) else None
            latest[object()] = unexpected_error(order_id, order_number(raw), None, error)
            continue
        previous = latest.get(order.order_id)
        if not isinstance(previous, OrderHeader) or _modified(order) >= _modified(previous):
            latest[order.order_id] = order
    results = [TransformResult(quarantined=tuple(malformed))]
    for order in latest.values():
        if isinstance(order, Quarantined):
            results.append(TransformResult(quarantined=(order,)))
        else:
            results.append(_book_order(order, refunds_by_order.get(order.order_id, ()), rules))
    return TransformResult.combine(results)


def _modified(order: OrderHeader) -> datetime:
    """The version of an order that extraction pages overlapping saw twice; unreadable: oldest."""
    modified = order.modified_gmt
    return modified if isinstance(modified, datetime) else datetime.min


def _book_order(
    header: OrderHeader, refunds: Sequence[Mapping[str, Any]], rules: Rules
) -> TransformResult:
    """The order's sale and credits, or why it waits or is held back."""
    order_id, number = header.order_id, header.number
    try:
        if not rules.reached_booking_status(header):
            return TransformResult()
        booked = book_sale(header, rules, bool(refunds))
    except BookingProblem as problem:
        return TransformResult(quarantined=(problem.quarantined(order_id, number),))
    except Exception as error:  # a shape no rule foresaw must not stop the other orders
        return TransformResult(quarantined=(unexpected_error(order_id, number, None, error),))
    if booked is None:
        return TransformResult(
            waiting=(
                Waiting(
                    order_id,
                    number,
                    f"order {number} has no invoice number from the PDF Invoices plugin yet "
                    f"(document_number_source is {rules.woo.document_number_source}); it is booked "
                    "once the invoice is created",
                ),
            )
        )
    order, sale = booked
    return TransformResult.combine(
        [TransformResult(events=(sale,)), book_credits(order, sale, refunds, rules)]
    )
