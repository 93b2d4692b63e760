"""An order's sale: its identity and VAT decision read once, its lines, and the sale event
(the rules are described in `events`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.bookkeeping import parse, taxes
from woo_exact_pipeline.bookkeeping.currency import recorded_rate
from woo_exact_pipeline.bookkeeping.debtors import debtor_of
from woo_exact_pipeline.bookkeeping.model import (
    DESCRIPTION_LENGTH,
    REFERENCE_LENGTH,
    AccountingEvent,
    LineKind,
)
from woo_exact_pipeline.bookkeeping.money import ZERO
from woo_exact_pipeline.bookkeeping.order import OrderHeader, known
from woo_exact_pipeline.bookkeeping.parts import (
    INVOICE_DATE_META_KEY,
    INVOICE_NUMBER_META_KEY,
    ONE,
    Order,
    OrderItem,
    Part,
    Rules,
    account,
    balanced,
    checked_vat,
    journal_lines,
    product_item,
)
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import clean_text, cut_text


def book_sale(
    header: OrderHeader, rules: Rules, has_refunds: bool
) -> tuple[Order, AccountingEvent] | None:
    """The order read for booking and its sale; None while it waits for its invoice number.
    Raises `BookingProblem` for what holds the order back."""
    order, parts = _read(header, rules, has_refunds)
    if order is None:
        return None
    return order, _sale_event(order, parts, rules)


def _read(header: OrderHeader, rules: Rules, has_refunds: bool) -> tuple[Order | None, list[Part]]:
    """The order's identity, VAT decision and sale parts; None while it waits for a number."""
    raw = header.raw
    meta = parse.meta_values(raw, rules.order_meta_keys)
    if rules.uses_invoice_numbers:
        reference = clean_text(meta.get(INVOICE_NUMBER_META_KEY)) or clean_text(
            raw.get("wpo_wcpdf_invoice_number")
        )
        if not reference:
            return None, []
    else:
        reference = header.number
    if len(reference) > REFERENCE_LENGTH:
        raise BookingProblem(
            "too_long",
            f"reference {reference!r} is longer than Exact's {REFERENCE_LENGTH} characters "
            "for YourRef; shorten the order or invoice number format",
            reference=reference,
        )
    # An order in no currency is held here, before its VAT is decided.
    currency = known(header.currency)
    recorded = recorded_rate(meta, currency, rules.exact.administration_currency)
    total_tax = known(header.total_tax)
    decision = rules.vat.decide(header, meta, vat_charged=total_tax != 0)
    rules.vat.check_charged_countries(decision, taxes.charged_countries(raw))
    rates = taxes.order_rates(raw)
    order = Order(
        header=header,
        meta=meta,
        reference=reference,
        decision=decision,
        rates=rates,
        debtor=debtor_of(header, decision, rules),
        keeps_items=has_refunds,
        exchange_rate=None if recorded is None else recorded.rate,
    )
    parts = _sale_parts(order, rules)
    stated = taxes.stated_vat_by_rate(raw, "order")
    total = known(header.total)
    if stated is not None and not taxes.align_vat_with_tax_lines(
        parts, stated, total, f"order {header.number}"
    ):
        order.flags = (taxes.FLAG_TAX_LINES_NOT_RECALCULATED,)
    return order, parts


def _sale_parts(order: Order, rules: Rules) -> list[Part]:
    raw = order.raw
    parts: list[Part] = []
    discounts: list[Part] = []
    for index, line in enumerate(parse.records(raw, "line_items", "order")):
        where = f"line_items[{index}]"
        name = parse.text(line, "name") or f"product {line.get('product_id')}"
        quantity = parse.amount(line, "quantity", where)
        if quantity < 0:
            raise BookingProblem(
                "invalid_data",
                f"line item {name!r} has quantity {quantity}; an order cannot sell a negative "
                "quantity",
            )
        total = parse.amount(line, "total", where)
        total_tax = parse.amount(line, "total_tax", where)
        # The pre-discount subtotal is only booked with a discount item (profiled: skipping
        # it otherwise saves a third of the amount parsing).
        if rules.exact.items.discount is not None:
            subtotal = parse.amount(line, "subtotal", where)
            subtotal_tax = parse.amount(line, "subtotal_tax", where)
        else:
            subtotal, subtotal_tax = total, total_tax
        rate = taxes.line_rate(line, order.rates, raw, where) or ZERO
        if quantity == 0:
            if total or total_tax or subtotal or subtotal_tax:
                raise BookingProblem(
                    "invalid_data", f"line item {name!r} has quantity 0 but an amount"
                )
            continue
        checked_vat(order, rate, subtotal_tax or total_tax, f"line item {name!r}")
        item_code = product_item(parse.text(line, "sku"), rules, name)
        gl, vat_code = account(order, rules, rate, item_code)
        if order.keeps_items and isinstance(line.get("id"), int):
            order.items[line["id"]] = OrderItem(rate, item_code, name)
        if subtotal != total or subtotal_tax != total_tax:
            # The product at its list price, and what the coupons took off on the discount item.
            parts.append(
                Part(
                    "revenue", rate, gl, vat_code, item_code, name, quantity, subtotal, subtotal_tax
                )
            )
            discount_gl, _ = account(order, rules, rate, rules.exact.items.discount)
            discounts.append(
                Part(
                    "discount",
                    rate,
                    discount_gl,
                    vat_code,
                    rules.item("discount", "discounts"),
                    "",
                    ONE,
                    total - subtotal,
                    total_tax - subtotal_tax,
                )
            )
        else:
            parts.append(
                Part("revenue", rate, gl, vat_code, item_code, name, quantity, total, total_tax)
            )
    for index, line in enumerate(parse.records(raw, "shipping_lines", "order")):
        where = f"shipping_lines[{index}]"
        parts.extend(_cost_part(order, rules, line, where, "shipping"))
    for index, line in enumerate(parse.records(raw, "fee_lines", "order")):
        where = f"fee_lines[{index}]"
        parts.extend(_cost_part(order, rules, line, where, "fee"))
    if discounts:
        parts.extend(_discount_lines(order, discounts))
    if not parts:
        raise BookingProblem(
            "invalid_data", "the order has no line items, shipping or fees to book"
        )
    return parts


def _cost_part(
    order: Order, rules: Rules, line: Mapping[str, Any], where: str, kind: LineKind
) -> list[Part]:
    """A shipping or fee line (fees may be negative: some shops use them as discounts)."""
    total = parse.amount(line, "total", where)
    total_tax = parse.amount(line, "total_tax", where)
    shares = taxes.line_rate_shares(line, total, total_tax, order.rates, order.raw, where)
    if kind == "shipping":
        name = parse.text(line, "method_title") or "Shipping"
    else:
        name = parse.text(line, "name") or "Fee"
    if not total and not total_tax:
        # Free shipping needs no item, so its absence must not hold the order back.
        return []
    if kind == "shipping":
        item_code = rules.item("shipping", "shipping costs")
        explicit_gl = rules.exact.shipping_costs_gl
    else:
        item_code = rules.item("other_costs", "fees")
        explicit_gl = None
    if order.keeps_items and isinstance(line.get("id"), int):
        order.items[line["id"]] = OrderItem(shares[0].rate, item_code, name)
    parts: list[Part] = []
    for share in shares:
        checked_vat(order, share.rate, share.vat, f"{kind} line {name!r}")
        gl, vat_code = account(order, rules, share.rate, item_code, explicit_gl)
        parts.append(
            Part(kind, share.rate, gl, vat_code, item_code, name, ONE, share.net, share.vat)
        )
    return parts


def _discount_lines(order: Order, discounts: list[Part]) -> list[Part]:
    """One discount line per (ledger, VAT code, rate), named after the coupons used."""
    codes = ", ".join(
        code
        for coupon in parse.records(order.raw, "coupon_lines", "order")
        if (code := parse.text(coupon, "code"))
    )
    grouped: dict[tuple[str, str | None, Decimal], Part] = {}
    for part in discounts:
        key = (part.gl, part.vat_code, part.rate)
        if key in grouped:
            grouped[key].amount += part.amount
            grouped[key].vat += part.vat
        else:
            label = f"Discount {codes}" if codes else "Discount"
            part.description = f"{label} {part.rate}%"
            grouped[key] = part
    return list(grouped.values())


def _sale_event(order: Order, parts: list[Part], rules: Rules) -> AccountingEvent:
    total = known(order.header.total)
    if total < 0:
        raise BookingProblem(
            "invalid_data",
            f"the order total {total} is negative; WooCommerce never charges less than zero, "
            "so the order was edited by hand and needs a manual booking",
        )
    lines = balanced(
        journal_lines(parts, order, rules), total, order, rules, f"order {order.number}"
    )
    event_date = None
    if rules.uses_invoice_numbers:
        event_date = parse.unix_date(
            order.meta.get(INVOICE_DATE_META_KEY), INVOICE_DATE_META_KEY, rules.zone
        )
    event_date = event_date or order.header.created.day(rules.zone)
    if event_date is None:
        raise BookingProblem("invalid_data", "the order has no date_created")
    customer = order.debtor.company or order.debtor.name
    description = f"Order {order.number} {customer}".strip()
    return AccountingEvent(
        kind="sale",
        reference=order.reference,
        order_id=order.order_id,
        order_number=order.number,
        refund_id=None,
        event_date=event_date,
        currency=order.currency,
        description=cut_text(description, DESCRIPTION_LENGTH),
        debtor=order.debtor,
        vat_treatment=order.decision.treatment,
        vat_explanation=order.decision.explanation,
        flags=(*order.decision.flags, *order.flags),
        lines=tuple(lines),
        total_incl_vat=total,
        exchange_rate=order.exchange_rate,
    )
