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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from woo_exact_pipeline.bookkeeping import parse, taxes
from woo_exact_pipeline.bookkeeping.model import (
    ADDRESS_LENGTH,
    CITY_LENGTH,
    DESCRIPTION_LENGTH,
    ITEM_CODE_LENGTH,
    NAME_LENGTH,
    POSTCODE_LENGTH,
    REFERENCE_LENGTH,
    VAT_NUMBER_LENGTH,
    AccountingEvent,
    Debtor,
    JournalLine,
    LineKind,
    Quarantined,
    TransformResult,
    VatTreatment,
    Waiting,
)
from woo_exact_pipeline.bookkeeping.money import ZERO, split_proportionally, to_cents
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import clean_text, cut_text
from woo_exact_pipeline.bookkeeping.vat import (
    KNOWN_COUNTRIES,
    VAT_NUMBER_VALIDITY_META_KEY,
    VatDecision,
    VatRules,
)
from woo_exact_pipeline.config import SyncConfig

ONE = Decimal(1)
UNIT_PRICE_QUANTUM = Decimal("0.000001")
INVOICE_NUMBER_META_KEY = "_wcpdf_invoice_number"
INVOICE_DATE_META_KEY = "_wcpdf_invoice_date"
REFUNDED_ITEM_META_KEY = "_refunded_item_id"
#: A checkout the shopper never placed, and an order the shop owner deleted (to the trash):
#: neither is a sale, whatever dates an earlier life left on it.
NEVER_BOOKED_STATUSES = frozenset({"checkout-draft", "trash"})


def normalise_email(value: object) -> str | None:
    """The key a customer is recognised by: trimmed, lower case; None when it is no address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    return email if "@" in email else None


@dataclass(frozen=True)
class ExactReferenceData:
    """What Exact already knows, read by the Exact client; empty means nothing is known.

    `vat_codes`, `gl_accounts` and `item_codes` are None when unknown (nothing is checked);
    a set makes every line's code be checked against it before anything is posted.
    """

    item_revenue_gl: Mapping[str, str] = field(default_factory=dict)
    debtor_code_by_email: Mapping[str, str] = field(default_factory=dict)
    vat_codes: frozenset[str] | None = None
    gl_accounts: frozenset[str] | None = None
    item_codes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        # Exact pads codes with spaces ("2  ", "            25"); the mapping does not.
        emails = {
            key: code.strip()
            for email, code in self.debtor_code_by_email.items()
            if (key := normalise_email(email))
        }
        object.__setattr__(self, "debtor_code_by_email", MappingProxyType(emails))
        items = {code.strip(): gl.strip() for code, gl in self.item_revenue_gl.items()}
        object.__setattr__(self, "item_revenue_gl", MappingProxyType(items))
        for name in ("vat_codes", "gl_accounts", "item_codes"):
            codes = getattr(self, name)
            if codes is not None:
                object.__setattr__(self, name, frozenset(code.strip() for code in codes))


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
    rules = _Rules(settings, reference or ExactReferenceData())
    latest: dict[object, Mapping[str, Any]] = {}
    malformed: list[Quarantined] = []
    for order in orders:
        if not isinstance(order, Mapping) or isinstance(order.get("id"), bool):
            malformed.append(
                Quarantined(None, "", "invalid_data", "an order is not a JSON object with an id")
            )
            continue
        # A non-integer id cannot be deduplicated; _book_order quarantines it on its own.
        key = order.get("id") if isinstance(order.get("id"), int) else object()
        previous = latest.get(key)
        if previous is None or str(order.get("date_modified_gmt") or "") >= str(
            previous.get("date_modified_gmt") or ""
        ):
            latest[key] = order
    events: list[AccountingEvent] = []
    waiting: list[Waiting] = []
    quarantined = malformed
    for order in latest.values():
        order_id = order.get("id")
        refunds = refunds_by_order.get(order_id, ()) if isinstance(order_id, int) else ()
        _book_order(order, refunds, rules, events, waiting, quarantined)
    return TransformResult(tuple(events), tuple(waiting), tuple(quarantined))


class _Rules:
    """All settings the transform reads, resolved once per run rather than once per order."""

    def __init__(self, settings: SyncConfig, reference: ExactReferenceData) -> None:
        woo, exact = settings.woocommerce, settings.exact
        self.vat = VatRules(settings)
        self.order_meta_keys = frozenset(
            (
                *woo.vat_number_meta_keys,
                VAT_NUMBER_VALIDITY_META_KEY,
                INVOICE_NUMBER_META_KEY,
                INVOICE_DATE_META_KEY,
            )
        )
        self.reference = reference
        self.zone = ZoneInfo(woo.time_zone)
        statuses = set(woo.booking_statuses)
        self.booking_statuses = frozenset(statuses)
        self.paid_date_counts = "processing" in statuses
        self.completed_date_counts = "completed" in statuses
        self.uses_invoice_numbers = woo.document_number_source != "order_number"
        self.document_number_source = woo.document_number_source
        self.item_lines = exact.insertion_type != "sales_entry"
        self.insertion_type = exact.insertion_type
        self.shipping_item = exact.items.shipping
        self.costs_item = exact.items.other_costs
        self.discount_item = exact.items.discount
        self.fallback_item = exact.items.fallback
        self.shipping_gl = exact.shipping_costs_gl
        self.rounding_gl = exact.rounding_gl
        self.rounding_vat_code = exact.rounding_vat_code
        self.tolerance = exact.rounding_tolerance
        self.use_item_gl = exact.use_item_gl_accounts
        self.create_missing_items = exact.create_missing_items
        self.default_debtor = exact.default_debtor
        self.pos_debtor = exact.pos_debtor

    def reached_booking_status(self, order: Mapping[str, Any]) -> bool:
        status = order.get("status")
        if status in NEVER_BOOKED_STATUSES:
            return False
        if isinstance(status, str) and status in self.booking_statuses:
            return True
        if self.paid_date_counts and (order.get("date_paid") or order.get("date_paid_gmt")):
            return True
        return bool(
            self.completed_date_counts
            and (order.get("date_completed") or order.get("date_completed_gmt"))
        )

    def item(self, configured: str | None, setting: str, what: str) -> str | None:
        """The item for a non-product line; required only by the invoice and order types."""
        if not self.item_lines:
            return None
        if configured is None:
            raise BookingProblem(
                "missing_setting",
                f"exact.items.{setting} is empty, but insertion type {self.insertion_type} "
                f"needs an item for {what}; set it",
                setting=f"exact.items.{setting}",
            )
        return configured

    def item_gl(self, item_code: str | None) -> str | None:
        if self.use_item_gl and item_code is not None:
            return self.reference.item_revenue_gl.get(item_code)
        return None


@dataclass(slots=True)
class _Part:
    """A piece of an order before lines are formed (grouped for sales entries)."""

    kind: LineKind
    rate: Decimal
    gl: str
    vat_code: str | None
    item_code: str | None
    description: str
    quantity: Decimal
    amount: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True)
class _OrderItem:
    """What a refund line needs to know about the order line it refunds."""

    rate: Decimal
    item_code: str | None
    description: str


@dataclass(slots=True)
class _Order:
    """The parts of one order shared by its sale and its credits."""

    raw: Mapping[str, Any]
    meta: dict[str, object]  # the meta_data keys the bookkeeping reads
    order_id: int
    number: str
    reference: str
    currency: str
    decision: VatDecision
    rates: dict[int, Decimal | None]
    debtor: Debtor
    keeps_items: bool  # only credits look items up; an order without refunds skips the work
    items: dict[int, _OrderItem] = field(default_factory=dict)


def _book_order(
    raw: Mapping[str, Any],
    refunds: Sequence[Mapping[str, Any]],
    rules: _Rules,
    events: list[AccountingEvent],
    waiting: list[Waiting],
    quarantined: list[Quarantined],
) -> None:
    number = clean_text(raw.get("number")) or str(raw.get("id"))
    order_id = raw.get("id") if isinstance(raw.get("id"), int) else None
    try:
        if order_id is None:
            raise BookingProblem("invalid_data", f"the order id {raw.get('id')!r} is not a number")
        if not rules.reached_booking_status(raw):
            return
        order, sale_parts = _read_order(raw, order_id, number, rules, bool(refunds))
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
        quarantined.append(_unexpected(order_id, number, None, error))
        return
    events.append(sale)
    _book_credits(order, sale, refunds, rules, events, waiting, quarantined)


def _unexpected(
    order_id: int | None, number: str, refund_id: int | None, error: Exception
) -> Quarantined:
    return Quarantined(
        order_id,
        number,
        "unexpected_error",
        f"the order could not be read ({type(error).__name__}: {error}); please report it "
        "with the order's JSON",
        MappingProxyType({"error": type(error).__name__}),
        refund_id,
    )


def _read_order(
    raw: Mapping[str, Any], order_id: int, number: str, rules: _Rules, has_refunds: bool
) -> tuple[_Order | None, list[_Part]]:
    """The order's identity, VAT decision and sale parts; None while it waits for a number."""
    meta = parse.meta_values(raw, rules.order_meta_keys)
    if rules.uses_invoice_numbers:
        reference = clean_text(meta.get(INVOICE_NUMBER_META_KEY)) or clean_text(
            raw.get("wpo_wcpdf_invoice_number")
        )
        if not reference:
            return None, []
    else:
        reference = number
    if len(reference) > REFERENCE_LENGTH:
        raise BookingProblem(
            "too_long",
            f"reference {reference!r} is longer than Exact's {REFERENCE_LENGTH} characters "
            "for YourRef; shorten the order or invoice number format",
            reference=reference,
        )
    currency = clean_text(raw.get("currency")).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BookingProblem(
            "invalid_data", f"currency {raw.get('currency')!r} is not a three-letter ISO code"
        )
    total_tax = parse.amount(raw, "total_tax", "order")
    decision = rules.vat.decide(raw, meta, vat_charged=total_tax != 0)
    rules.vat.check_charged_countries(decision, taxes.charged_countries(raw))
    rates = taxes.order_rates(raw)
    order = _Order(
        raw=raw,
        meta=meta,
        order_id=order_id,
        number=number,
        reference=reference,
        currency=currency,
        decision=decision,
        rates=rates,
        debtor=_debtor(raw, decision, rules),
        keeps_items=has_refunds,
    )
    parts = _sale_parts(order, rules)
    stated = taxes.stated_vat_by_rate(raw, "order")
    if stated is not None:
        taxes.align_vat_with_tax_lines(parts, stated, f"order {number}")
    return order, parts


def _product_item(sku: str, rules: _Rules, name: str) -> str | None:
    if not rules.item_lines:
        return sku or None
    if not sku:
        if rules.fallback_item is None:
            raise BookingProblem(
                "missing_setting",
                f"product {name!r} has no SKU and exact.items.fallback is empty; give the "
                "product a SKU or set a fallback item",
                setting="exact.items.fallback",
            )
        return rules.fallback_item
    if len(sku) > ITEM_CODE_LENGTH:
        raise BookingProblem(
            "too_long",
            f"SKU {sku!r} of {name!r} is longer than Exact's {ITEM_CODE_LENGTH}-character "
            "item codes; shorten it in WooCommerce",
            sku=sku,
        )
    return sku


def _account(
    order: _Order, rules: _Rules, rate: Decimal, item_code: str | None, gl: str | None = None
) -> tuple[str, str]:
    """(GL account, VAT code) of a line: explicit ledger, else the item's own, else the mapping."""
    vat_code = rules.vat.vat_code(order.decision, rate)
    chosen = gl or rules.item_gl(item_code) or rules.vat.revenue_gl(order.decision, rate)
    return chosen, vat_code


def _checked_vat(order: _Order, rate: Decimal, vat: Decimal, where: str) -> None:
    if vat and order.decision.treatment in (VatTreatment.REVERSE_CHARGE, VatTreatment.EXPORT):
        raise BookingProblem(
            "invalid_data",
            f"{where} has VAT {vat} although the order charges no VAT (total_tax is 0)",
        )
    if vat and rate == 0:
        raise BookingProblem(
            "invalid_data", f"{where} has VAT {vat} but no tax rate in its taxes[]"
        )


def _sale_parts(order: _Order, rules: _Rules) -> list[_Part]:
    raw = order.raw
    parts: list[_Part] = []
    discounts: list[_Part] = []
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
        _checked_vat(order, rate, subtotal_tax or total_tax, f"line item {name!r}")
        item_code = _product_item(parse.text(line, "sku"), rules, name)
        gl, vat_code = _account(order, rules, rate, item_code)
        if order.keeps_items and isinstance(line.get("id"), int):
            order.items[line["id"]] = _OrderItem(rate, item_code, name)
        if subtotal != total or subtotal_tax != total_tax:
            # The product at its list price, and what the coupons took off on the discount item.
            parts.append(
                _Part(
                    "revenue", rate, gl, vat_code, item_code, name, quantity, subtotal, subtotal_tax
                )
            )
            discount_gl, _ = _account(order, rules, rate, rules.discount_item)
            discounts.append(
                _Part(
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
                _Part("revenue", rate, gl, vat_code, item_code, name, quantity, total, total_tax)
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
    order: _Order, rules: _Rules, line: Mapping[str, Any], where: str, kind: LineKind
) -> list[_Part]:
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
        order.items[line["id"]] = _OrderItem(shares[0].rate, item_code, name)
    parts: list[_Part] = []
    for share in shares:
        _checked_vat(order, share.rate, share.vat, f"{kind} line {name!r}")
        gl, vat_code = _account(order, rules, share.rate, item_code, explicit_gl)
        parts.append(
            _Part(kind, share.rate, gl, vat_code, item_code, name, ONE, share.net, share.vat)
        )
    return parts


def _discount_lines(order: _Order, discounts: list[_Part]) -> list[_Part]:
    """One discount line per (ledger, VAT code, rate), named after the coupons used."""
    codes = ", ".join(
        code
        for coupon in parse.records(order.raw, "coupon_lines", "order")
        if (code := parse.text(coupon, "code"))
    )
    grouped: dict[tuple[str, str | None, Decimal], _Part] = {}
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


_GROUP_LABELS: dict[LineKind, str] = {
    "revenue": "Sales",
    "shipping": "Shipping",
    "fee": "Fees",
    "discount": "Discounts",
    "rounding": "Rounding difference",
}


def _group_description(kind: LineKind, rate: Decimal, decision: VatDecision) -> str:
    label = _GROUP_LABELS[kind]
    treatment = decision.treatment
    if treatment is VatTreatment.REVERSE_CHARGE:
        return f"{label}, intra-community (VAT reverse-charged)"
    if treatment is VatTreatment.EXPORT:
        return f"{label}, export outside the EU"
    if treatment is VatTreatment.OSS:
        return f"{label} {decision.country} {rate}% VAT (OSS)"
    return f"{label} {rate}% VAT"


def _lines(parts: list[_Part], order: _Order, rules: _Rules) -> list[JournalLine]:
    """Parts to journal lines: grouped per (kind, ledger, VAT code, rate) for sales entries,
    one per item for the invoice and order types. Empty parts are dropped unless nothing
    else is left (an entry needs a line), and product lines are kept on invoices."""
    if rules.item_lines:
        kept = [p for p in parts if p.amount or p.vat or p.kind == "revenue"] or parts[:1]
        return [
            JournalLine(
                kind=p.kind,
                gl_account=p.gl,
                vat_code=p.vat_code,
                vat_rate=p.rate,
                item_code=p.item_code,
                description=cut_text(p.description, DESCRIPTION_LENGTH),
                quantity=p.quantity,
                unit_price=(p.amount / p.quantity).quantize(
                    UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP
                ),
                amount_excl_vat=p.amount,
                vat_amount=p.vat,
            )
            for p in kept
        ]
    grouped: dict[tuple[LineKind, str, str | None, Decimal], list[Decimal]] = {}
    for p in parts:
        key = (p.kind, p.gl, p.vat_code, p.rate)
        sums = grouped.get(key)
        if sums is None:
            grouped[key] = [p.amount, p.vat, p.quantity]
        else:
            sums[0] += p.amount
            sums[1] += p.vat
            sums[2] += p.quantity
    lines = [
        JournalLine(
            kind=kind,
            gl_account=gl,
            vat_code=vat_code,
            vat_rate=rate,
            item_code=None,
            description=_group_description(kind, rate, order.decision),
            quantity=quantity if kind == "revenue" else ONE,
            unit_price=None,
            amount_excl_vat=amount,
            vat_amount=vat,
        )
        for (kind, gl, vat_code, rate), (amount, vat, quantity) in grouped.items()
    ]
    return [line for line in lines if line.amount_excl_vat or line.vat_amount] or lines[:1]


def _balanced(
    lines: list[JournalLine], target: Decimal, order: _Order, rules: _Rules, what: str
) -> list[JournalLine]:
    """The lines, plus a rounding line when they miss `target` by no more than the tolerance."""
    lines_total = sum((line.amount_incl_vat for line in lines), ZERO)
    difference = target - lines_total
    if not difference:
        return lines
    if abs(difference) > rules.tolerance:
        raise BookingProblem(
            "unbalanced",
            f"the lines of {what} add up to {lines_total} {order.currency} but WooCommerce's "
            f"total is {target}; the difference {difference} is more than the rounding "
            f"tolerance {rules.tolerance}",
            lines_total=lines_total,
            woocommerce_total=target,
        )
    item_code = rules.item(rules.costs_item, "other_costs", "rounding differences")
    rounding = JournalLine(
        kind="rounding",
        gl_account=rules.rounding_gl,
        vat_code=rules.rounding_vat_code,
        vat_rate=ZERO,
        item_code=item_code,
        description=_GROUP_LABELS["rounding"],
        quantity=ONE,
        unit_price=difference if rules.item_lines else None,
        amount_excl_vat=difference,
        vat_amount=ZERO,
    )
    return [*lines, rounding]


def _check_known(lines: Sequence[JournalLine], rules: _Rules) -> None:
    """Codes that Exact's reference data says do not exist would fail at posting; say so now."""
    known = rules.reference
    for line in lines:
        if known.gl_accounts is not None and line.gl_account not in known.gl_accounts:
            raise BookingProblem(
                "unknown_in_exact",
                f"GL account {line.gl_account} ({line.kind}) does not exist in Exact; create "
                "it there or correct the mapping",
                gl_account=line.gl_account,
            )
        if (
            known.vat_codes is not None
            and line.vat_code is not None
            and line.vat_code not in known.vat_codes
        ):
            raise BookingProblem(
                "unknown_in_exact",
                f"VAT code {line.vat_code} (rate {line.vat_rate}%) does not exist in Exact; "
                "create it there or correct exact.vat_mapping",
                vat_code=line.vat_code,
            )
        if (
            known.item_codes is not None
            and not rules.create_missing_items
            and line.item_code is not None
            and line.item_code not in known.item_codes
        ):
            raise BookingProblem(
                "unknown_in_exact",
                f"item {line.item_code} does not exist in Exact; create it there or enable "
                "exact.create_missing_items",
                item_code=line.item_code,
            )


def _sale_event(order: _Order, parts: list[_Part], rules: _Rules) -> AccountingEvent:
    raw = order.raw
    total = parse.amount(raw, "total", "order")
    if total < 0:
        raise BookingProblem(
            "invalid_data",
            f"the order total {total} is negative; WooCommerce never charges less than zero, "
            "so the order was edited by hand and needs a manual booking",
        )
    lines = _balanced(_lines(parts, order, rules), total, order, rules, f"order {order.number}")
    _check_known(lines, rules)
    event_date = None
    if rules.uses_invoice_numbers:
        event_date = parse.unix_date(
            order.meta.get(INVOICE_DATE_META_KEY), INVOICE_DATE_META_KEY, rules.zone
        )
    event_date = event_date or parse.local_date(raw, "date_created", "order", rules.zone)
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
        flags=order.decision.flags,
        lines=tuple(lines),
        total_incl_vat=total,
    )


def _book_credits(
    order: _Order,
    sale: AccountingEvent,
    refunds: Sequence[Mapping[str, Any]],
    rules: _Rules,
    events: list[AccountingEvent],
    waiting: list[Waiting],
    quarantined: list[Quarantined],
) -> None:
    """One credit per refund, oldest first, never more in total than the sale."""
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
    listed = order.raw.get("refunds")
    for summary in listed if isinstance(listed, list) else ():
        refund_id = summary.get("id") if isinstance(summary, Mapping) else None
        if isinstance(refund_id, int) and refund_id not in by_id:
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
            credit = _credit_event(order, remaining, by_id[refund_id], refund_id, rules)
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
            quarantined.append(
                Quarantined(
                    order.order_id,
                    order.number,
                    problem.category,
                    problem.reason,
                    MappingProxyType(problem.details),
                    refund_id,
                )
            )
            continue
        except Exception as error:  # one odd refund must not stop the others
            quarantined.append(_unexpected(order.order_id, order.number, refund_id, error))
            continue
        credited -= credit.total_incl_vat
        _add_to_groups(remaining, credit.lines)
        events.append(credit)


def _credit_event(
    order: _Order,
    remaining: dict[_GroupKey, _Group],
    refund: Mapping[str, Any],
    refund_id: int,
    rules: _Rules,
) -> AccountingEvent | None:
    where = f"refund {refund_id}"
    refund_amount = parse.amount(refund, "amount", where)
    if refund_amount < 0:
        raise BookingProblem(
            "invalid_data",
            f"{where} has a negative amount {refund_amount}; WooCommerce "
            "reports refund amounts as positive figures",
        )
    parts = _refund_parts(order, refund, rules, where)
    if not refund_amount and not parts:
        return None
    stated = taxes.stated_vat_by_rate(refund, where)
    if stated is not None:
        taxes.align_vat_with_tax_lines(parts, stated, where)
    target = -refund_amount
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
    if remainder < 0 and -remainder > rules.tolerance:
        parts.extend(_amount_only_parts(order, remaining, remainder, rules, reason))
    lines = _balanced(_lines(parts, order, rules), target, order, rules, where)
    _check_known(lines, rules)
    event_date = parse.local_date(refund, "date_created", where, rules.zone)
    if event_date is None:
        raise BookingProblem("invalid_data", f"{where} has no date_created")
    description = f"Refund {refund_id} of order {order.number}" + (f": {reason}" if reason else "")
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
    )


def _refund_parts(
    order: _Order, refund: Mapping[str, Any], rules: _Rules, where: str
) -> list[_Part]:
    """The refunded lines, at WooCommerce's (negative) refunded amounts."""
    parts: list[_Part] = []
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
            if total > 0 or total_tax > 0:
                raise BookingProblem(
                    "invalid_data",
                    f"{line_where} has a positive amount; WooCommerce refund lines are negative",
                )
            refunded_id = parse.meta_values(line, (REFUNDED_ITEM_META_KEY,)).get(
                REFUNDED_ITEM_META_KEY
            )
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
                item_code = _product_item(parse.text(line, "sku"), rules, name)
            elif kind == "shipping":
                item_code = rules.item(rules.shipping_item, "shipping", "shipping costs")
            else:
                item_code = rules.item(rules.costs_item, "other_costs", "fees")
            _checked_vat(order, rate, total_tax, line_where)
            explicit_gl = rules.shipping_gl if kind == "shipping" else None
            gl, vat_code = _account(order, rules, rate, item_code, explicit_gl)
            quantity = abs(parse.amount(line, "quantity", line_where)) if kind == "revenue" else ONE
            parts.append(
                _Part(
                    kind,
                    rate,
                    gl,
                    vat_code,
                    item_code,
                    name or _GROUP_LABELS[kind],
                    quantity or ONE,
                    total,
                    total_tax,
                )
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
    order: _Order,
    remaining: dict[_GroupKey, _Group],
    remainder: Decimal,
    rules: _Rules,
    reason: str,
) -> list[_Part]:
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
    item_code = rules.item(rules.fallback_item, "fallback", "refunds not tied to a product")
    label = f"Refund: {reason}" if reason else "Refund"
    parts: list[_Part] = []
    for ((gl, vat_code, rate), group), share in zip(left, shares, strict=True):
        share_vat = to_cents(share * group.vat / group.gross)
        parts.append(
            _Part(
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


def _debtor(raw: Mapping[str, Any], decision: VatDecision, rules: _Rules) -> Debtor:
    """POS debtor for till orders, else the default debtor, else the customer by e-mail."""
    if decision.treatment is VatTreatment.POS and rules.pos_debtor is not None:
        return Debtor("pos", rules.pos_debtor)
    if rules.default_debtor is not None:
        return Debtor("default", rules.default_debtor)
    billing = raw.get("billing")
    billing = billing if isinstance(billing, Mapping) else {}
    email = normalise_email(billing.get("email"))
    code = rules.reference.debtor_code_by_email.get(email) if email else None
    if code is not None:
        return Debtor("existing", code, email=email, vat_number=decision.vat_number)
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
