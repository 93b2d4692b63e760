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
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from woo_exact_pipeline.bookkeeping import parse, taxes
from woo_exact_pipeline.bookkeeping.credits import book_credits
from woo_exact_pipeline.bookkeeping.model import (
    ADDRESS_LENGTH,
    CITY_LENGTH,
    DESCRIPTION_LENGTH,
    NAME_LENGTH,
    POSTCODE_LENGTH,
    REFERENCE_LENGTH,
    VAT_NUMBER_LENGTH,
    AccountingEvent,
    Debtor,
    LineKind,
    Quarantined,
    TransformResult,
    VatTreatment,
    Waiting,
)
from woo_exact_pipeline.bookkeeping.money import ZERO
from woo_exact_pipeline.bookkeeping.order import (
    OrderHeader,
    known,
    order_number,
    read_order,
)
from woo_exact_pipeline.bookkeeping.parts import (
    INVOICE_DATE_META_KEY,
    INVOICE_NUMBER_META_KEY,
    ONE,
    ExactReferenceData,
    Order,
    OrderItem,
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
from woo_exact_pipeline.bookkeeping.text import clean_text, cut_text
from woo_exact_pipeline.bookkeeping.vat import (
    KNOWN_COUNTRIES,
    VatDecision,
)
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
            latest[object()] = Quarantined(
                None,
                order_number(raw),
                problem.category,
                problem.reason,
                MappingProxyType(problem.details),
            )
            continue
        except Exception as error:  # a shape no rule foresaw must not stop the other orders
            order_id = raw.get("id") if isinstance(raw.get("id"), int) else None
            latest[object()] = unexpected_error(order_id, order_number(raw), None, error)
            continue
        previous = latest.get(order.order_id)
        if not isinstance(previous, OrderHeader) or _modified(order) >= _modified(previous):
            latest[order.order_id] = order
    events: list[AccountingEvent] = []
    waiting: list[Waiting] = []
    quarantined = malformed
    for order in latest.values():
        if isinstance(order, Quarantined):
            quarantined.append(order)
            continue
        refunds = refunds_by_order.get(order.order_id, ())
        _book_order(order, refunds, rules, events, waiting, quarantined)
    return TransformResult(tuple(events), tuple(waiting), tuple(quarantined))


def _modified(order: OrderHeader) -> datetime:
    """The version of an order that extraction pages overlapping saw twice; unreadable: oldest."""
    modified = order.modified_gmt
    return modified if isinstance(modified, datetime) else datetime.min


def _book_order(
    header: OrderHeader,
    refunds: Sequence[Mapping[str, Any]],
    rules: Rules,
    events: list[AccountingEvent],
    waiting: list[Waiting],
    quarantined: list[Quarantined],
) -> None:
    order_id, number = header.order_id, header.number
    try:
        if not rules.reached_booking_status(header):
            return
        order, sale_parts = _read_order(header, rules, bool(refunds))
        if order is None:
            waiting.append(
                Waiting(
                    order_id,
                    number,
                    f"order {number} has no invoice number from the PDF Invoices plugin yet "
                    f"(document_number_source is {rules.document_number_source}); it is booked "
                    "once the invoice is created",
                )
            )
            return
        sale = _sale_event(order, sale_parts, rules)
    except BookingProblem as problem:
        quarantined.append(
            Quarantined(
                order_id,
                number,
                problem.category,
                problem.reason,
                MappingProxyType(problem.details),
            )
        )
        return
    except Exception as error:  # a shape no rule foresaw must not stop the other orders
        quarantined.append(unexpected_error(order_id, number, None, error))
        return
    events.append(sale)
    book_credits(order, sale, refunds, rules, events, waiting, quarantined)


def _read_order(
    header: OrderHeader, rules: Rules, has_refunds: bool
) -> tuple[Order | None, list[Part]]:
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
    known(header.currency)  # an order in no currency is held here, before its VAT is decided
    total_tax = known(header.total_tax)
    decision = rules.vat.decide(raw, meta, vat_charged=total_tax != 0)
    rules.vat.check_charged_countries(decision, taxes.charged_countries(raw))
    rates = taxes.order_rates(raw)
    order = Order(
        header=header,
        meta=meta,
        reference=reference,
        decision=decision,
        rates=rates,
        debtor=_debtor(header, decision, rules),
        keeps_items=has_refunds,
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
        if rules.discount_item is not None:
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
            discount_gl, _ = account(order, rules, rate, rules.discount_item)
            discounts.append(
                Part(
                    "discount",
                    rate,
                    discount_gl,
                    vat_code,
                    rules.item(rules.discount_item, "discount", "discounts"),
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
        item_code = rules.item(rules.shipping_item, "shipping", "shipping costs")
        explicit_gl = rules.shipping_gl
    else:
        item_code = rules.item(rules.costs_item, "other_costs", "fees")
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
    )


def _debtor(header: OrderHeader, decision: VatDecision, rules: Rules) -> Debtor:
    """POS debtor for till orders, else the default debtor, else the customer by e-mail."""
    if decision.treatment is VatTreatment.POS and rules.pos_debtor is not None:
        return Debtor("pos", rules.pos_debtor)
    if rules.default_debtor is not None:
        return Debtor("default", rules.default_debtor)
    # The customer by e-mail: the loader finds their debtor in Exact, or creates it.
    billing, email = header.billing, header.email
    person = " ".join(
        part
        for part in (parse.text(billing, "first_name"), parse.text(billing, "last_name"))
        if part
    )
    company = parse.text(billing, "company")
    name = person or company or email or ""
    if not name:
        is_pos = decision.treatment is VatTreatment.POS
        hint = "exact.pos_debtor" if is_pos else "exact.default_debtor"
        raise BookingProblem(
            "invalid_data",
            "the order has no customer name, company or e-mail address to find or create a "
            f"debtor with; complete the billing address or set {hint}",
        )
    billing_country = parse.text(billing, "country").upper()
    return Debtor(
        source="new",
        code=None,
        email=email,
        name=cut_text(name, NAME_LENGTH),
        company=cut_text(company, NAME_LENGTH),
        address_line_1=cut_text(parse.text(billing, "address_1"), ADDRESS_LENGTH),
        address_line_2=cut_text(parse.text(billing, "address_2"), ADDRESS_LENGTH),
        postcode=cut_text(parse.text(billing, "postcode"), POSTCODE_LENGTH),
        city=cut_text(parse.text(billing, "city"), CITY_LENGTH),
        country=billing_country if billing_country in KNOWN_COUNTRIES else decision.country,
        vat_number=cut_text(decision.vat_number, VAT_NUMBER_LENGTH)
        if decision.vat_number
        else None,
    )
