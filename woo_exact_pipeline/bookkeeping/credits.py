"""Credit notes: one per refund of a booked sale, never more in total than the sale (the
rules are described in `events`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.bookkeeping import parse, taxes
from woo_exact_pipeline.bookkeeping.currency import RATE_META_KEYS, recorded_rate
from woo_exact_pipeline.bookkeeping.model import (
    DESCRIPTION_LENGTH,
    REFERENCE_LENGTH,
    AccountingEvent,
    JournalLine,
    LineKind,
    Quarantined,
    TransformResult,
    Waiting,
)
from woo_exact_pipeline.bookkeeping.money import ZERO, split_proportionally, to_cents
from woo_exact_pipeline.bookkeeping.order import RefundHeader, known, read_refund
from woo_exact_pipeline.bookkeeping.parts import (
    GROUP_LABELS,
    ONE,
    Order,
    Part,
    Rules,
    account,
    balanced,
    checked_vat,
    journal_lines,
    product_item,
    unexpected_error,
)
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import cut_text

REFUNDED_ITEM_META_KEY = "_refunded_item_id"


def book_credits(
    order: Order,
    sale: AccountingEvent,
    refunds: Sequence[Mapping[str, Any]],
    rules: Rules,
) -> TransformResult:
    """One credit per refund, oldest first, never more in total than the sale."""
    events: list[AccountingEvent] = []
    waiting: list[Waiting] = []
    quarantined: list[Quarantined] = []
    by_id: dict[int, Mapping[str, Any]] = {}
    unreadable = 0
    for refund in refunds:
        if isinstance(refund, Mapping) and isinstance(refund.get("id"), int):
            by_id[refund["id"]] = refund
        else:
            unreadable += 1
    if unreadable:
        # One report for all of them: without ids they cannot be told apart.
        quarantined.append(
            Quarantined(
                order.order_id,
                order.number,
                "invalid_data",
                f"{unreadable} refund(s) of order {order.number} are not JSON objects with an id",
            )
        )
    for refund_id in order.header.refund_ids:
        if refund_id not in by_id:
            waiting.append(
                Waiting(
                    order.order_id,
                    order.number,
                    f"refund {refund_id} of order {order.number} is listed on the order but its "
                    "details have not been extracted yet",
                    refund_id,
                )
            )
    credited = ZERO
    remaining = _add_to_groups({}, sale.lines)
    for refund_id in sorted(by_id):
        try:
            credit = _credit_event(order, remaining, read_refund(by_id[refund_id]), rules)
            if credit is None:
                continue
            if credited - credit.total_incl_vat > sale.total_incl_vat:
                raise BookingProblem(
                    "over_refund",
                    f"refund {refund_id} of {-credit.total_incl_vat} {order.currency} would "
                    f"bring the credits of order {order.number} to "
                    f"{credited - credit.total_incl_vat}, more than the sale of "
                    f"{sale.total_incl_vat}",
                    refunded=credited - credit.total_incl_vat,
                    sale_total=sale.total_incl_vat,
                )
        except BookingProblem as problem:
            quarantined.append(problem.quarantined(order.order_id, order.number, refund_id))
            continue
        except Exception as error:  # one odd refund must not stop the others
            quarantined.append(unexpected_error(order.order_id, order.number, refund_id, error))
            continue
        credited -= credit.total_incl_vat
        _add_to_groups(remaining, credit.lines)
        events.append(credit)
    return TransformResult(tuple(events), tuple(waiting), tuple(quarantined))


def _credit_event(
    order: Order,
    remaining: dict[_GroupKey, _Group],
    header: RefundHeader,
    rules: Rules,
) -> AccountingEvent | None:
    refund, refund_id = header.raw, header.refund_id
    where = f"refund {refund_id}"
    refund_amount = known(header.amount)
    if refund_amount < 0:
        raise BookingProblem(
            "invalid_data",
            f"{where} has a negative amount {refund_amount}; WooCommerce "
            "reports refund amounts as positive figures",
        )
    parts = _refund_parts(order, refund, rules, where)
    if not refund_amount and not parts:
        return None
    target = -refund_amount
    stated = taxes.stated_vat_by_rate(refund, where)
    if stated is not None:
        taxes.align_vat_with_tax_lines(parts, stated, target, where)
    reference = f"{order.reference}-R{refund_id}"
    if len(reference) > REFERENCE_LENGTH:
        raise BookingProblem(
            "too_long",
            f"credit reference {reference!r} is longer than Exact's {REFERENCE_LENGTH} "
            "characters for YourRef",
            reference=reference,
        )
    reason = parse.text(refund, "reason")
    itemised = sum((p.amount + p.vat for p in parts), ZERO)
    remainder = target - itemised
    if remainder < 0 and -remainder > rules.exact.rounding_tolerance:
        parts.extend(_amount_only_parts(order, remaining, remainder, rules, reason))
    lines = balanced(journal_lines(parts, order, rules), target, order, rules, where)
    event_date = header.created.day(rules.zone)
    if event_date is None:
        raise BookingProblem("invalid_data", f"{where} has no date_created")
    description = f"Refund {refund_id} of order {order.number}" + (f": {reason}" if reason else "")
    # The sale's rate, unless the plugin recorded one on the refund itself.
    meta = parse.meta_values(refund, RATE_META_KEYS)
    recorded = recorded_rate(meta, order.currency, rules.exact.administration_currency)
    return AccountingEvent(
        kind="credit",
        reference=reference,
        order_id=order.order_id,
        order_number=order.number,
        refund_id=refund_id,
        event_date=event_date,
        currency=order.currency,
        description=cut_text(description, DESCRIPTION_LENGTH),
        debtor=order.debtor,
        vat_treatment=order.decision.treatment,
        vat_explanation=order.decision.explanation,
        flags=order.decision.flags,
        lines=tuple(lines),
        total_incl_vat=target,
        exchange_rate=order.exchange_rate if recorded is None else recorded.rate,
    )


def _refund_parts(order: Order, refund: Mapping[str, Any], rules: Rules, where: str) -> list[Part]:
    """The refunded lines, at WooCommerce's (negative) refunded amounts."""
    parts: list[Part] = []
    sections: tuple[tuple[str, LineKind], ...] = (
        ("line_items", "revenue"),
        ("shipping_lines", "shipping"),
        ("fee_lines", "fee"),
    )
    for key, kind in sections:
        for index, line in enumerate(parse.records(refund, key, where)):
            line_where = f"{where}.{key}[{index}]"
            total = parse.amount(line, "total", line_where)
            total_tax = parse.amount(line, "total_tax", line_where)
            if not total and not total_tax:
                continue  # a restock-only line moves no money
            refunded_id = parse.meta_values(line, (REFUNDED_ITEM_META_KEY,)).get(
                REFUNDED_ITEM_META_KEY
            )
            if (total > 0 or total_tax > 0) and not (
                kind == "fee" and _returns_a_discount(order, refunded_id, total, line_where)
            ):
                raise BookingProblem(
                    "invalid_data",
                    f"{line_where} has a positive amount; WooCommerce refund lines are negative",
                )
            if kind == "fee":
                shares = taxes.line_rate_shares(
                    line, total, total_tax, order.rates, order.raw, line_where
                )
                if len(shares) > 1:  # a fee taxed over several rates, credited per rate
                    parts += _fee_share_parts(order, line, shares, rules, line_where)
                    continue
            original = None
            if refunded_id is not None:
                original = order.items.get(parse.integer(refunded_id, f"{line_where} item id"))
            rate = taxes.line_rate(line, order.rates, order.raw, line_where)
            if rate is None:
                rate = original.rate if original else ZERO
            name = parse.text(line, "name") or parse.text(line, "method_title")
            if original is not None:
                item_code = original.item_code
                name = name or original.description
            elif kind == "revenue":
                item_code = product_item(parse.text(line, "sku"), rules, name)
            elif kind == "shipping":
                item_code = rules.item("shipping", "shipping costs")
            else:
                item_code = rules.item("other_costs", "fees")
            checked_vat(order, rate, total_tax, line_where)
            explicit_gl = rules.exact.shipping_costs_gl if kind == "shipping" else None
            gl, vat_code = account(order, rules, rate, item_code, explicit_gl)
            quantity = abs(parse.amount(line, "quantity", line_where)) if kind == "revenue" else ONE
            parts.append(
                Part(
                    kind,
                    rate,
                    gl,
                    vat_code,
                    item_code,
                    name or GROUP_LABELS[kind],
                    quantity or ONE,
                    total,
                    total_tax,
                )
            )
    return parts


def _returns_a_discount(order: Order, refunded_id: object, total: Decimal, where: str) -> bool:
    """A refund line of a negative fee (a discount given as a fee) is positive: the credit
    note takes back up to the discount the sale gave, not more."""
    if refunded_id is None:
        return False
    fee_id = parse.integer(refunded_id, f"{where} item id")
    for fee in parse.records(order.raw, "fee_lines", "order"):
        if fee.get("id") == fee_id:
            return 0 <= total <= -parse.amount(fee, "total", f"fee line {fee_id}")
    return False


def _fee_share_parts(
    order: Order,
    line: Mapping[str, Any],
    shares: Sequence[taxes.RateShare],
    rules: Rules,
    where: str,
) -> list[Part]:
    name = parse.text(line, "name") or GROUP_LABELS["fee"]
    item_code = rules.item("other_costs", "fees")
    parts = []
    for share in shares:
        checked_vat(order, share.rate, share.vat, where)
        gl, vat_code = account(order, rules, share.rate, item_code, None)
        parts.append(
            Part("fee", share.rate, gl, vat_code, item_code, name, ONE, share.net, share.vat)
        )
    return parts


_GroupKey = tuple[str, str | None, Decimal]  # (GL account, VAT code, rate)


@dataclass(slots=True)
class _Group:
    """What a sale's (ledger, VAT code, rate) group holds, less the credits booked on it."""

    kind: LineKind
    gross: Decimal
    vat: Decimal


def _add_to_groups(
    groups: dict[_GroupKey, _Group], lines: Iterable[JournalLine]
) -> dict[_GroupKey, _Group]:
    for line in lines:
        if line.kind == "rounding":
            continue
        key = (line.gl_account, line.vat_code, line.vat_rate)
        group = groups.get(key)
        if group is None:
            groups[key] = _Group(line.kind, line.amount_incl_vat, line.vat_amount)
        else:
            group.gross += line.amount_incl_vat
            group.vat += line.vat_amount
    return groups


def _amount_only_parts(
    order: Order,
    remaining: dict[_GroupKey, _Group],
    remainder: Decimal,
    rules: Rules,
    reason: str,
) -> list[Part]:
    """Spread a refund's non-itemised `remainder` (negative) over what is left of the sale's
    groups after earlier credits, so no group is credited more than it sold."""
    if to_cents(remainder) != remainder:
        raise BookingProblem("invalid_data", f"refund amount {-remainder} is not whole cents")
    left = [(key, group) for key, group in remaining.items() if group.gross > 0]
    if not left:
        raise BookingProblem(
            "over_refund",
            f"order {order.number} has nothing left to refund an amount of {-remainder} against",
        )
    shares = split_proportionally(remainder, [group.gross for _, group in left])
    item_code = rules.item("fallback", "refunds not tied to a product")
    label = f"Refund: {reason}" if reason else "Refund"
    parts: list[Part] = []
    for ((gl, vat_code, rate), group), share in zip(left, shares, strict=True):
        share_vat = to_cents(share * group.vat / group.gross)
        parts.append(
            Part(
                group.kind,
                rate,
                gl,
                vat_code,
                item_code,
                label,
                ONE,
                share - share_vat,
                share_vat,
            )
        )
    return parts
