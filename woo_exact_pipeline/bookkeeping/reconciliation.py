"""Reconciliation: does Exact hold what WooCommerce says was sold and refunded on a day?

Pure: the day's accounting events (what was to be booked) and the documents Exact holds under
their references go in; a comparison per currency and VAT code and the bookings that differ
come out. No Dagster, HTTP or database here; money is `Decimal`.

Documents are matched to events by YourRef (the reference the loader books them under):

- **missing**: an event without any document in Exact;
- **extra**: a second document with the same reference (the one that agrees with WooCommerce,
  else the first, counts as the booking), or a document whose reference no event of the day
  has (e.g. the order was trashed in WooCommerce after it was booked);
- **different**: the booking's type (sale or credit), currency or lines differ, line by line
  in booking order: GL account, VAT code, amount excluding VAT, VAT amount, and in a foreign
  currency both amounts in the administration's currency as Exact derived them (each line
  divided by the booking's rate, to the cent) where Exact shows them. Sales orders have
  no GL account on their lines (the invoice made from an order takes the item's revenue
  account), so their lines are compared by item instead.

Exact has no notion of a shipping or discount line: an Exact line takes the kind of the
WooCommerce line at the same position of the same document, and counts as revenue when there
is none (an unknown or extra document), so a difference shows under the kind it belongs to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from woo_exact_pipeline.bookkeeping.currency import in_administration_currency
from woo_exact_pipeline.bookkeeping.model import AccountingEvent, EventKind, JournalLine, LineKind
from woo_exact_pipeline.bookkeeping.money import ZERO
from woo_exact_pipeline.markdown import amount_text, markdown_table

#: Where a line's VAT code is left to Exact (a rounding line without rounding_vat_code): Exact
#: takes the GL account's default, which both sides are tabulated under this label.
EXACTS_DEFAULT_VAT_CODE = "(GL default)"

DifferenceKind = Literal["missing", "extra", "different"]


@dataclass(frozen=True, slots=True)
class ExactLine:
    gl_account: str | None  # code; None when the GUID is unknown to the cached master data
    vat_code: str | None
    amount_excl_vat: Decimal
    vat_amount: Decimal
    item_code: str | None = None
    # In the administration's currency (AmountDC, VATAmountDC); None where Exact shows none.
    amount_excl_vat_dc: Decimal | None = None
    vat_amount_dc: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ExactDocument:
    """A sales entry, invoice or order as Exact holds it, lines in Exact's line order."""

    exact_id: str
    number: str | None
    your_ref: str
    kind: EventKind | None  # None: the document type does not say (sales orders)
    currency: str
    lines: tuple[ExactLine, ...]
    #: False for sales orders: Exact's order lines carry an item, not a GL account.
    gl_on_lines: bool = True

    @property
    def amount_excl_vat(self) -> Decimal:
        return sum((line.amount_excl_vat for line in self.lines), ZERO)

    @property
    def vat_amount(self) -> Decimal:
        return sum((line.vat_amount for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class Figures:
    """One side's totals for a currency and VAT code; credits count negative, as booked."""

    amount_excl_vat: Decimal = ZERO
    vat_amount: Decimal = ZERO
    # Both in the administration's currency: the same as the above in its own currency.
    amount_excl_vat_dc: Decimal = ZERO
    vat_amount_dc: Decimal = ZERO
    shipping: Decimal = ZERO  # excluding VAT, part of amount_excl_vat
    discounts: Decimal = ZERO  # excluding VAT, part of amount_excl_vat
    credits: Decimal = ZERO  # excluding VAT of credit notes, part of amount_excl_vat
    documents: int = 0  # documents with at least one line of this VAT code


@dataclass(frozen=True, slots=True)
class VatCodeComparison:
    currency: str
    vat_code: str
    woocommerce: Figures
    exact: Figures

    @property
    def agrees(self) -> bool:
        return self.woocommerce == self.exact


@dataclass(frozen=True, slots=True)
class BookingDifference:
    kind: DifferenceKind
    reference: str
    reason: str
    woocommerce_excl_vat: Decimal | None  # None: WooCommerce has no event of this reference
    woocommerce_vat: Decimal | None
    exact_excl_vat: Decimal | None  # None: Exact has no document of this reference
    exact_vat: Decimal | None
    exact_number: str | None = None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    by_vat_code: tuple[VatCodeComparison, ...]
    missing: tuple[BookingDifference, ...]
    extra: tuple[BookingDifference, ...]
    different: tuple[BookingDifference, ...]
    events: int
    documents: int

    @property
    def differences(self) -> tuple[BookingDifference, ...]:
        return self.missing + self.extra + self.different

    @property
    def agrees(self) -> bool:
        # The booking lists explain every table difference; a table difference without one
        # would still be one (it cannot happen, but the check must not depend on that).
        return not self.differences and all(row.agrees for row in self.by_vat_code)


@dataclass(frozen=True, slots=True)
class _LineFigures:
    """One line's amounts as they count in the totals."""

    kind: LineKind
    excl_vat: Decimal
    vat: Decimal
    excl_vat_dc: Decimal | None  # None: the rate is unknown (the event cannot be booked)
    vat_dc: Decimal | None


@dataclass
class _Totals:
    amount_excl_vat: Decimal = ZERO
    vat_amount: Decimal = ZERO
    amount_excl_vat_dc: Decimal = ZERO
    vat_amount_dc: Decimal = ZERO
    shipping: Decimal = ZERO
    discounts: Decimal = ZERO
    credits: Decimal = ZERO
    references: set[str] = field(default_factory=set)

    def add(self, reference: str, is_credit: bool, line: _LineFigures) -> None:
        self.amount_excl_vat += line.excl_vat
        self.vat_amount += line.vat
        self.amount_excl_vat_dc += line.excl_vat_dc or ZERO
        self.vat_amount_dc += line.vat_dc or ZERO
        if line.kind == "shipping":
            self.shipping += line.excl_vat
        elif line.kind == "discount":
            self.discounts += line.excl_vat
        if is_credit:
            self.credits += line.excl_vat
        self.references.add(reference)

    def figures(self) -> Figures:
        return Figures(
            amount_excl_vat=self.amount_excl_vat,
            vat_amount=self.vat_amount,
            amount_excl_vat_dc=self.amount_excl_vat_dc,
            vat_amount_dc=self.vat_amount_dc,
            shipping=self.shipping,
            discounts=self.discounts,
            credits=self.credits,
            documents=len(self.references),
        )


def reconcile(
    events: Iterable[AccountingEvent],
    documents: Iterable[ExactDocument],
    *,
    rounding_vat_code: str | None = None,
    ledger_notes: Mapping[str, str] | None = None,
    rates: Mapping[str, Decimal | None] | None = None,
) -> Reconciliation:
    """Compare a day's events with the documents Exact holds under their references.

    `rounding_vat_code` is what the loader sends for lines without a VAT code (sync.yaml's
    exact.rounding_vat_code); `ledger_notes` (reference -> what the booking ledger knows
    of it) says why a missing booking is missing; `rates` (reference -> the rate it is booked
    at, None when there is none) covers every event in a foreign currency: the others are in
    the administration's own.
    """
    events = list(events)
    documents = list(documents)
    notes = ledger_notes or {}
    booking_rates = rates or {}
    by_reference: dict[str, list[ExactDocument]] = defaultdict(list)
    for document in documents:
        by_reference[document.your_ref].append(document)
    woocommerce_side: dict[tuple[str, str], _Totals] = defaultdict(_Totals)
    exact_side: dict[tuple[str, str], _Totals] = defaultdict(_Totals)
    missing: list[BookingDifference] = []
    extra: list[BookingDifference] = []
    different: list[BookingDifference] = []

    known_references = set()
    for event in events:
        known_references.add(event.reference)
        expected = _expected_lines(event, rounding_vat_code)
        rate = booking_rates.get(event.reference, Decimal(1))
        figures = [_expected_figures(line, rate) for line in event.lines]
        for line, vat_code in zip(figures, expected, strict=True):
            key = (event.currency, vat_code or EXACTS_DEFAULT_VAT_CODE)
            woocommerce_side[key].add(event.reference, event.kind == "credit", line)
        candidates = [
            _parts_joined(document, event) for document in by_reference.get(event.reference, [])
        ]
        if not candidates:
            reason = notes.get(event.reference) or "not booked in Exact"
            missing.append(_difference("missing", event, None, f"{event.kind}: {reason}"))
            continue
        problems = [_mismatch(event, expected, figures, document) for document in candidates]
        booking_index = next(
            (index for index, problem in enumerate(problems) if problem is None), 0
        )
        booking = candidates[booking_index]
        _tabulate(exact_side, booking, event, expected, figures)
        if (problem := problems[booking_index]) is not None:
            different.append(_difference("different", event, booking, problem))
        for index, duplicate in enumerate(candidates):
            if index == booking_index:
                continue
            _tabulate(exact_side, duplicate, event, expected, figures)
            extra.append(
                _difference(
                    "extra",
                    event,
                    duplicate,
                    f"booked {len(candidates)} times in Exact (this one is a duplicate of "
                    f"{booking.number or booking.exact_id})",
                )
            )

    for reference, unknown in by_reference.items():
        if reference in known_references:
            continue
        for document in unknown:
            _tabulate(exact_side, document, None, (), ())
            extra.append(
                _difference(
                    "extra",
                    None,
                    document,
                    "in Exact, but no sale or refund of this day in WooCommerce has this "
                    "reference (changed or removed after it was booked?)",
                )
            )

    keys = sorted(set(woocommerce_side) | set(exact_side))
    return Reconciliation(
        by_vat_code=tuple(
            VatCodeComparison(
                currency,
                vat_code,
                _figures(woocommerce_side.get((currency, vat_code))),
                _figures(exact_side.get((currency, vat_code))),
            )
            for currency, vat_code in keys
        ),
        missing=tuple(missing),
        extra=tuple(extra),
        different=tuple(different),
        events=len(events),
        documents=len(documents),
    )


def _parts_joined(document: ExactDocument, event: AccountingEvent) -> ExactDocument:
    """The document with each line of ours that an XML upload split in parts (so that Exact's
    VAT adds up to the shop's) joined again: consecutive lines of the same GL account, VAT
    code and item are added up while they fall short of our line's amount."""
    if len(document.lines) <= len(event.lines):
        return document
    remaining = list(document.lines)
    joined: list[ExactLine] = []
    for ours in event.lines:
        if not remaining:
            break
        line = remaining.pop(0)
        while (
            remaining
            and _same_place(remaining[0], line)
            and abs(line.amount_excl_vat) < abs(ours.amount_excl_vat)
        ):
            line = _added(line, remaining.pop(0))
        joined.append(line)
    return replace(document, lines=(*joined, *remaining))


def _same_place(one: ExactLine, other: ExactLine) -> bool:
    return (one.gl_account, one.vat_code, one.item_code) == (
        other.gl_account,
        other.vat_code,
        other.item_code,
    )


def _added(one: ExactLine, other: ExactLine) -> ExactLine:
    def both(a: Decimal | None, b: Decimal | None) -> Decimal | None:
        return None if a is None or b is None else a + b

    return replace(
        one,
        amount_excl_vat=one.amount_excl_vat + other.amount_excl_vat,
        vat_amount=one.vat_amount + other.vat_amount,
        amount_excl_vat_dc=both(one.amount_excl_vat_dc, other.amount_excl_vat_dc),
        vat_amount_dc=both(one.vat_amount_dc, other.vat_amount_dc),
    )


def _expected_lines(event: AccountingEvent, rounding_vat_code: str | None) -> list[str | None]:
    """The VAT code the loader sends per line; None leaves it to Exact (the GL default)."""
    return [line.vat_code or rounding_vat_code for line in event.lines]


def _expected_figures(line: JournalLine, rate: Decimal | None) -> _LineFigures:
    """A line as Exact books it: in the administration's currency each amount divided by the
    rate and rounded to the cent, line by line."""
    return _LineFigures(
        line.kind,
        line.amount_excl_vat,
        line.vat_amount,
        None if rate is None else in_administration_currency(line.amount_excl_vat, rate),
        None if rate is None else in_administration_currency(line.vat_amount, rate),
    )


def _mismatch(
    event: AccountingEvent,
    expected: Sequence[str | None],
    figures: Sequence[_LineFigures],
    document: ExactDocument,
) -> str | None:
    """The first way the document differs from the event, in words; None when it agrees."""
    if document.kind is not None and document.kind != event.kind:
        return f"a {event.kind} in WooCommerce, a {document.kind} in Exact"
    if document.currency != event.currency:
        return f"currency {event.currency} in WooCommerce, {document.currency} in Exact"
    if len(document.lines) != len(event.lines):
        return f"{len(event.lines)} lines in WooCommerce, {len(document.lines)} in Exact"
    for number, (line, vat_code, ours, booked) in enumerate(
        zip(event.lines, expected, figures, document.lines, strict=True), start=1
    ):
        if not document.gl_on_lines:
            if booked.item_code != line.item_code:
                return (
                    f"line {number}: item {line.item_code} in WooCommerce, "
                    f"{booked.item_code or 'none'} in Exact"
                )
        elif booked.gl_account != line.gl_account:
            return (
                f"line {number}: GL account {line.gl_account} in WooCommerce, "
                f"{booked.gl_account or 'unknown'} in Exact"
            )
        if vat_code is not None and booked.vat_code != vat_code:
            return f"line {number}: VAT code {vat_code} in WooCommerce, {booked.vat_code} in Exact"
        if booked.amount_excl_vat != line.amount_excl_vat:
            return (
                f"line {number}: {amount_text(line.amount_excl_vat)} excl. VAT in WooCommerce, "
                f"{amount_text(booked.amount_excl_vat)} in Exact"
            )
        if booked.vat_amount != line.vat_amount:
            return (
                f"line {number}: VAT {amount_text(line.vat_amount)} in WooCommerce, "
                f"{amount_text(booked.vat_amount)} in Exact"
            )
        for what, woocommerce, exact in (
            ("excl. VAT", ours.excl_vat_dc, booked.amount_excl_vat_dc),
            ("VAT", ours.vat_dc, booked.vat_amount_dc),
        ):
            if woocommerce is not None and exact is not None and woocommerce != exact:
                return (
                    f"line {number}: {what} in the administration's currency "
                    f"{amount_text(woocommerce)} at the booking's rate, "
                    f"{amount_text(exact)} in Exact"
                )
    return None


def _tabulate(
    totals: dict[tuple[str, str], _Totals],
    document: ExactDocument,
    event: AccountingEvent | None,
    expected: Sequence[str | None],
    figures: Sequence[_LineFigures],
) -> None:
    """Add a document's lines to Exact's side. Where Exact shows no amount in its own
    currency (a sales order's VAT), the line's expected one stands in, else its own."""
    for position, line in enumerate(document.lines):
        ours = figures[position] if position < len(figures) else None
        vat_code = line.vat_code
        if ours is not None and expected[position] is None:
            vat_code = EXACTS_DEFAULT_VAT_CODE
        is_credit = (document.kind or (event.kind if event else None)) == "credit"
        as_booked = _LineFigures(
            ours.kind if ours is not None else "revenue",
            line.amount_excl_vat,
            line.vat_amount,
            _shown_or(line.amount_excl_vat_dc, ours.excl_vat_dc if ours else line.amount_excl_vat),
            _shown_or(line.vat_amount_dc, ours.vat_dc if ours else line.vat_amount),
        )
        totals[(document.currency, vat_code or EXACTS_DEFAULT_VAT_CODE)].add(
            document.your_ref, is_credit, as_booked
        )


def _shown_or(shown: Decimal | None, stand_in: Decimal | None) -> Decimal | None:
    return shown if shown is not None else stand_in


def _figures(totals: _Totals | None) -> Figures:
    return Figures() if totals is None else totals.figures()


def _difference(
    kind: DifferenceKind,
    event: AccountingEvent | None,
    document: ExactDocument | None,
    reason: str,
) -> BookingDifference:
    reference = event.reference if event is not None else document.your_ref if document else ""
    return BookingDifference(
        kind=kind,
        reference=reference,
        reason=reason,
        woocommerce_excl_vat=(
            None if event is None else sum((li.amount_excl_vat for li in event.lines), ZERO)
        ),
        woocommerce_vat=None if event is None else event.vat_total,
        exact_excl_vat=None if document is None else document.amount_excl_vat,
        exact_vat=None if document is None else document.vat_amount,
        exact_number=None if document is None else document.number,
    )


# --- for people: the tables a bookkeeper reads before filing the VAT return -------------------


def vat_code_table(reconciliation: Reconciliation, administration_currency: str) -> str:
    """Per currency and VAT code: WooCommerce against Exact, excluding VAT and VAT (markdown);
    with foreign currencies on the day, both in the administration's currency as well."""
    if not reconciliation.by_vat_code:
        return "No sales or refunds on this day, and nothing in Exact under its references."
    rows = reconciliation.by_vat_code
    in_own = administration_currency
    foreign = any(row.currency != in_own for row in rows)
    header = (
        "Currency",
        "VAT code",
        "WooCommerce excl. VAT",
        "Exact excl. VAT",
        "Difference",
        "WooCommerce VAT",
        "Exact VAT",
        "Difference",
        *((f"{in_own} excl. VAT (W / E)", f"{in_own} VAT (W / E)") if foreign else ()),
        "Shipping (W / E)",
        "Discounts (W / E)",
        "Credits (W / E)",
        "Documents (W / E)",
    )
    table = [
        (
            row.currency,
            row.vat_code,
            amount_text(row.woocommerce.amount_excl_vat),
            amount_text(row.exact.amount_excl_vat),
            _signed(row.exact.amount_excl_vat - row.woocommerce.amount_excl_vat),
            amount_text(row.woocommerce.vat_amount),
            amount_text(row.exact.vat_amount),
            _signed(row.exact.vat_amount - row.woocommerce.vat_amount),
            *(
                (
                    _both(row.woocommerce.amount_excl_vat_dc, row.exact.amount_excl_vat_dc),
                    _both(row.woocommerce.vat_amount_dc, row.exact.vat_amount_dc),
                )
                if foreign
                else ()
            ),
            _both(row.woocommerce.shipping, row.exact.shipping),
            _both(row.woocommerce.discounts, row.exact.discounts),
            _both(row.woocommerce.credits, row.exact.credits),
            f"{row.woocommerce.documents} / {row.exact.documents}",
        )
        for row in rows
    ]
    return markdown_table(header, table, right=range(2, len(header)))


def _both(woocommerce: Decimal, exact: Decimal) -> str:
    return f"{amount_text(woocommerce)} / {amount_text(exact)}"


def differences_table(differences: Sequence[BookingDifference]) -> str:
    """The bookings that differ, with both sides' figures (markdown)."""
    if not differences:
        return "none"
    header = (
        "Reference",
        "Exact number",
        "WooCommerce excl. VAT",
        "WooCommerce VAT",
        "Exact excl. VAT",
        "Exact VAT",
        "Why",
    )
    rows = [
        (
            item.reference,
            item.exact_number,
            _amount(item.woocommerce_excl_vat),
            _amount(item.woocommerce_vat),
            _amount(item.exact_excl_vat),
            _amount(item.exact_vat),
            item.reason,
        )
        for item in differences
    ]
    return markdown_table(header, rows, right=range(2, 6))


def _amount(value: Decimal | None) -> str:
    return "—" if value is None else amount_text(value)


def _signed(value: Decimal) -> str:
    return "0" if not value else ("+" if value > 0 else "") + amount_text(value)
