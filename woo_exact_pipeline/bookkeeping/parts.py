"""What sales and credits share: the run's rules, an order's parts, and how parts become the
balanced journal lines of an event (the rules themselves are described in `events`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

from woo_exact_pipeline.bookkeeping.currency import RATE_META_KEYS
from woo_exact_pipeline.bookkeeping.model import (
    DESCRIPTION_LENGTH,
    ITEM_CODE_LENGTH,
    Debtor,
    JournalLine,
    LineKind,
    Quarantined,
    VatTreatment,
)
from woo_exact_pipeline.bookkeeping.money import ZERO
from woo_exact_pipeline.bookkeeping.order import OrderHeader, known
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import cut_text
from woo_exact_pipeline.bookkeeping.vat import (
    VAT_NUMBER_VALIDITY_META_KEY,
    VatDecision,
    VatRules,
)
from woo_exact_pipeline.config import SyncConfig

ONE = Decimal(1)
UNIT_PRICE_QUANTUM = Decimal("0.000001")
INVOICE_NUMBER_META_KEY = "_wcpdf_invoice_number"
INVOICE_DATE_META_KEY = "_wcpdf_invoice_date"
#: A checkout the shopper never placed, and an order the shop owner deleted (to the trash):
#: neither is a sale, whatever dates an earlier life left on it.
NEVER_BOOKED_STATUSES = frozenset({"checkout-draft", "trash"})
#: The `exact.items` settings that name the item of a non-product line.
ItemSetting = Literal["shipping", "other_costs", "discount", "fallback"]


@dataclass(frozen=True)
class ExactReferenceData:
    """What Exact knows that changes a journal line's content: each item's own revenue account
    (by item code), read from the master data the `exact_reference_data` asset stored. Empty
    means nothing is known. Whatever needs a live Exact (does a code exist now, is there a
    debtor with this e-mail, create one) is the loader's business, not the transform's."""

    item_revenue_gl: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Exact pads codes with spaces ("            25"); the mapping does not.
        items = {code.strip(): gl.strip() for code, gl in self.item_revenue_gl.items()}
        object.__setattr__(self, "item_revenue_gl", MappingProxyType(items))


class Rules:
    """All settings the transform reads, resolved once per run rather than once per order."""

    def __init__(self, settings: SyncConfig, reference: ExactReferenceData) -> None:
        # The settings themselves are read from the frozen config; only what is derived from
        # them is kept here.
        self.woo, self.exact = woo, exact = settings.woocommerce, settings.exact
        self.vat = VatRules(settings)
        self.order_meta_keys = frozenset(
            (
                *woo.vat_number_meta_keys,
                VAT_NUMBER_VALIDITY_META_KEY,
                INVOICE_NUMBER_META_KEY,
                INVOICE_DATE_META_KEY,
                *RATE_META_KEYS,
            )
        )
        self.reference = reference
        self.zone = ZoneInfo(woo.time_zone)
        self.booking_statuses = frozenset(woo.booking_statuses)
        self.paid_date_counts = "processing" in self.booking_statuses
        self.completed_date_counts = "completed" in self.booking_statuses
        self.uses_invoice_numbers = woo.document_number_source != "order_number"
        self.item_lines = exact.insertion_type != "sales_entry"

    def reached_booking_status(self, order: OrderHeader) -> bool:
        if order.status in NEVER_BOOKED_STATUSES:
            return False
        if order.status in self.booking_statuses:
            return True
        return (self.paid_date_counts and order.paid) or (
            self.completed_date_counts and order.completed
        )

    def item(self, setting: ItemSetting, what: str) -> str | None:
        """The item `exact.items.<setting>` for a non-product line; required only by the
        invoice and order types."""
        if not self.item_lines:
            return None
        configured: str | None = getattr(self.exact.items, setting)
        if configured is None:
            raise BookingProblem(
                "missing_setting",
                f"exact.items.{setting} is empty, but insertion type {self.exact.insertion_type} "
                f"needs an item for {what}; set it",
                setting=f"exact.items.{setting}",
            )
        return configured

    def item_gl(self, item_code: str | None) -> str | None:
        if self.exact.use_item_gl_accounts and item_code is not None:
            return self.reference.item_revenue_gl.get(item_code)
        return None


@dataclass(slots=True)
class Part:
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
class OrderItem:
    """What a refund line needs to know about the order line it refunds."""

    rate: Decimal
    item_code: str | None
    description: str


@dataclass(slots=True)
class Order:
    """The parts of one order shared by its sale and its credits."""

    header: OrderHeader
    meta: dict[str, object]  # the meta_data keys the bookkeeping reads
    reference: str
    decision: VatDecision
    rates: dict[int, Decimal | None]
    debtor: Debtor
    keeps_items: bool  # only credits look items up; an order without refunds skips the work
    items: dict[int, OrderItem] = field(default_factory=dict)
    flags: tuple[str, ...] = ()  # besides the VAT decision's, e.g. stale tax lines
    exchange_rate: Decimal | None = None  # the shop's recorded rate (`currency`)

    @property
    def raw(self) -> Mapping[str, Any]:
        return self.header.raw

    @property
    def order_id(self) -> int:
        return self.header.order_id

    @property
    def number(self) -> str:
        return self.header.number

    @property
    def currency(self) -> str:
        return known(self.header.currency)  # read before the order is built


def unexpected_error(
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


def product_item(sku: str, rules: Rules, name: str) -> str | None:
    if not rules.item_lines:
        return sku or None
    if not sku:
        if rules.exact.items.fallback is None:
            raise BookingProblem(
                "missing_setting",
                f"product {name!r} has no SKU and exact.items.fallback is empty; give the "
                "product a SKU or set a fallback item",
                setting="exact.items.fallback",
            )
        return rules.exact.items.fallback
    if len(sku) > ITEM_CODE_LENGTH:
        raise BookingProblem(
            "too_long",
            f"SKU {sku!r} of {name!r} is longer than Exact's {ITEM_CODE_LENGTH}-character "
            "item codes; shorten it in WooCommerce",
            sku=sku,
        )
    return sku


def account(
    order: Order, rules: Rules, rate: Decimal, item_code: str | None, gl: str | None = None
) -> tuple[str, str]:
    """(GL account, VAT code) of a line: explicit ledger, else the item's own, else the mapping."""
    vat_code = rules.vat.vat_code(order.decision, rate)
    chosen = gl or rules.item_gl(item_code) or rules.vat.revenue_gl(order.decision, rate)
    return chosen, vat_code


def checked_vat(order: Order, rate: Decimal, vat: Decimal, where: str) -> None:
    if vat and order.decision.treatment in (VatTreatment.REVERSE_CHARGE, VatTreatment.EXPORT):
        raise BookingProblem(
            "invalid_data",
            f"{where} has VAT {vat} although the order charges no VAT (total_tax is 0)",
        )
    if vat and rate == 0:
        raise BookingProblem(
            "invalid_data", f"{where} has VAT {vat} but no tax rate in its taxes[]"
        )


GROUP_LABELS: dict[LineKind, str] = {
    "revenue": "Sales",
    "shipping": "Shipping",
    "fee": "Fees",
    "discount": "Discounts",
    "rounding": "Rounding difference",
}


def _group_description(kind: LineKind, rate: Decimal, decision: VatDecision) -> str:
    label = GROUP_LABELS[kind]
    treatment = decision.treatment
    if treatment is VatTreatment.REVERSE_CHARGE:
        return f"{label}, intra-community (VAT reverse-charged)"
    if treatment is VatTreatment.EXPORT:
        return f"{label}, export outside the EU"
    if treatment is VatTreatment.OSS:
        return f"{label} {decision.country} {rate}% VAT (OSS)"
    return f"{label} {rate}% VAT"


def journal_lines(parts: list[Part], order: Order, rules: Rules) -> list[JournalLine]:
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


def balanced(
    lines: list[JournalLine], target: Decimal, order: Order, rules: Rules, what: str
) -> list[JournalLine]:
    """The lines, plus a rounding line when they miss `target` by no more than the tolerance."""
    lines_total = sum((line.amount_incl_vat for line in lines), ZERO)
    difference = target - lines_total
    if not difference:
        return lines
    if abs(difference) > rules.exact.rounding_tolerance:
        raise BookingProblem(
            "unbalanced",
            f"the lines of {what} add up to {lines_total} {order.currency} but WooCommerce's "
            f"total is {target}; the difference {difference} is more than the rounding "
            f"tolerance {rules.exact.rounding_tolerance}",
            lines_total=lines_total,
            woocommerce_total=target,
        )
    item_code = rules.item("other_costs", "rounding differences")
    rounding = JournalLine(
        kind="rounding",
        gl_account=rules.exact.rounding_gl,
        vat_code=rules.exact.rounding_vat_code,
        vat_rate=ZERO,
        item_code=item_code,
        description=GROUP_LABELS["rounding"],
        quantity=ONE,
        unit_price=difference if rules.item_lines else None,
        amount_excl_vat=difference,
        vat_amount=ZERO,
    )
    return [*lines, rounding]
