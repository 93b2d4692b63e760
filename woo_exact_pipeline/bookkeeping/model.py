"""What the transform hands to the loader: accounting events with journal lines, and the
orders it could not book yet (waiting) or must not book until a person looks (quarantined).

Sign convention: a sale has positive amounts; a credit (refund) has negative amounts, as the
WooCommerce refund lines do and as Exact shows a credit note, so adding every event of an order
gives what the shop kept. Quantities are always positive counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from woo_exact_pipeline.bookkeeping.money import ZERO

#: Field lengths in Exact (reference file section 5). YourRef and descriptions are not
#: documented; 30 and 60 are the conservative limits the reference recommends.
REFERENCE_LENGTH = 30
DESCRIPTION_LENGTH = 60
NAME_LENGTH = 50
ADDRESS_LENGTH = 80
CITY_LENGTH = 30
POSTCODE_LENGTH = 20
EMAIL_LENGTH = 100
VAT_NUMBER_LENGTH = 35
ITEM_CODE_LENGTH = 30

EventKind = Literal["sale", "credit"]
LineKind = Literal["revenue", "shipping", "fee", "discount", "rounding"]
DebtorSource = Literal["default", "pos", "new"]


class VatTreatment(StrEnum):
    """How VAT is applied to an order, named as a bookkeeper reports it."""

    DOMESTIC = "domestic"
    OSS = "oss"  # EU consumer abroad, destination-country VAT via the One Stop Shop
    EU_CONSUMER_SHOP_VAT = "eu_consumer_shop_country_vat"  # EU consumer abroad, shop's VAT
    REVERSE_CHARGE = "reverse_charge"  # EU business with VAT number, intra-community supply
    EXPORT = "export"  # outside the EU
    POS = "pos"  # point of sale: sold in the shop, shop-country VAT


@dataclass(frozen=True, slots=True)
class Debtor:
    """Who the entry is booked on: a configured Exact account (`code`), or the customer by
    e-mail, whose debtor the loader finds in Exact or creates."""

    source: DebtorSource
    code: str | None
    email: str | None = None
    name: str = ""
    company: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    postcode: str = ""
    city: str = ""
    country: str | None = None
    vat_number: str | None = None


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One line of the Exact entry; `amount_excl_vat` and `vat_amount` are sent as they are."""

    kind: LineKind
    gl_account: str
    vat_code: str | None  # None only on rounding lines without a rounding_vat_code setting
    vat_rate: Decimal  # percent, as WooCommerce charged it (21 for 21%)
    item_code: str | None  # set for the invoice and order insertion types only
    description: str
    quantity: Decimal
    unit_price: Decimal | None  # None for sales entries, which have no unit prices
    amount_excl_vat: Decimal
    vat_amount: Decimal

    @property
    def amount_incl_vat(self) -> Decimal:
        return self.amount_excl_vat + self.vat_amount


@dataclass(frozen=True, slots=True)
class AccountingEvent:
    """A sale or a credit of one order, ready to post; `reference` becomes Exact's YourRef."""

    kind: EventKind
    reference: str
    order_id: int
    order_number: str
    refund_id: int | None
    event_date: date
    currency: str
    description: str
    debtor: Debtor
    vat_treatment: VatTreatment
    vat_explanation: str
    flags: tuple[str, ...]
    lines: tuple[JournalLine, ...]
    total_incl_vat: Decimal  # WooCommerce's figure: order total, or minus the refund amount
    # The shop's rate for an order in another currency than the administration's (1 unit of
    # the administration's currency = rate units of `currency`); None: Exact's rate applies.
    exchange_rate: Decimal | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        # The loader compares hashes to notice an event that changed after it was booked.
        # Left out: the explanation (rewording it is no change to the booking) and the order
        # number (the reference carries it).
        fingerprint = repr(
            (
                self.kind,
                self.reference,
                self.order_id,
                self.refund_id,
                self.event_date,
                self.currency,
                self.description,
                self.debtor,  # holds no Decimals, so its repr is already canonical
                str(self.vat_treatment),
                self.flags,
                tuple(_line_fingerprint(line) for line in self.lines),
                _amount_text(self.total_incl_vat),
                # Only when set, so events booked before rates were read keep their hashes.
                *(() if self.exchange_rate is None else (_amount_text(self.exchange_rate),)),
            )
        )
        digest = hashlib.blake2b(fingerprint.encode(), digest_size=16).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount_incl_vat for line in self.lines), ZERO)

    @property
    def vat_total(self) -> Decimal:
        return sum((line.vat_amount for line in self.lines), ZERO)

    @property
    def is_balanced(self) -> bool:
        """The lines add up to WooCommerce's total to the cent (the loader's precondition)."""
        return self.lines_total == self.total_incl_vat


def _amount_text(value: Decimal) -> str:
    """A Decimal's text independent of its notation.

    Decimal('21') and Decimal('21.000000') (as a NUMERIC column returns it) are one amount,
    so a round trip through the database must not look like a change; -0 is 0.
    """
    # normalize() drops trailing zeros, so its str() is one spelling per value (10 -> 1E+1).
    return str(value.normalize()) if value else "0"


def _line_fingerprint(line: JournalLine) -> tuple[object, ...]:
    # Written out field by field rather than via dataclasses.fields(): this runs for every
    # line of every event and dominated the transform's profile.
    return (
        line.kind,
        line.gl_account,
        line.vat_code,
        _amount_text(line.vat_rate),
        line.item_code,
        line.description,
        _amount_text(line.quantity),
        None if line.unit_price is None else _amount_text(line.unit_price),
        _amount_text(line.amount_excl_vat),
        _amount_text(line.vat_amount),
    )


@dataclass(frozen=True, slots=True)
class Waiting:
    """Not bookable yet, expected to become bookable by itself (e.g. no invoice number yet)."""

    order_id: int
    order_number: str
    reason: str
    refund_id: int | None = None


QuarantineCategory = Literal[
    "invalid_data",
    "unknown_country",
    "unmapped_vat_rate",
    "vat_country_mismatch",
    "missing_setting",
    "unbalanced",
    "over_refund",
    "too_long",
    "unexpected_error",
]


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Must not be booked until a person fixes the data or the settings; `reason` says how."""

    order_id: int | None
    order_number: str
    category: QuarantineCategory
    reason: str
    details: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Set when only this refund's credit is held back (the sale and other refunds book).
    # None holds back the whole order, except for a refund without a readable id, which is
    # reported as None next to its order's booked sale.
    refund_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransformResult:
    """What the transform made of some orders: the events to book, and what is held back."""

    events: tuple[AccountingEvent, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()

    @staticmethod
    def combine(results: Iterable[TransformResult]) -> TransformResult:
        """The results one after the other, in their order."""
        events: list[AccountingEvent] = []
        waiting: list[Waiting] = []
        quarantined: list[Quarantined] = []
        for result in results:
            events += result.events
            waiting += result.waiting
            quarantined += result.quarantined
        return TransformResult(tuple(events), tuple(waiting), tuple(quarantined))
