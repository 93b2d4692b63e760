"""The wc/v3 order and refund fields the pipeline reads in more than one place, read once.

Staging stores them as columns and files an order under its creation day, the change sensor
finds the days of changed orders, the balance check compares totals, and the transform books
them. Each field is read here, one way, with `parse`'s rules. A field that cannot be read holds
the `BookingProblem` naming it instead of a value (`Readable`), so each reader keeps its own
policy: the transform quarantines an order only when it reaches the field (a cancelled order
with a broken total still books nothing, an order waiting for its invoice number still waits),
staging stores a neutral column value and keeps the raw order for the transform to explain.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from woo_exact_pipeline.bookkeeping import parse
from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import clean_text

#: A WooCommerce JSON object as the REST API returns it.
Record = dict[str, Any]

T = TypeVar("T")
#: A field's value, or the problem that names why it could not be read.
Readable = T | BookingProblem

_EMPTY: Mapping[str, Any] = {}


def known(value: Readable[T]) -> T:
    """The value of a field the reader cannot do without; its problem raised when unreadable."""
    if isinstance(value, BookingProblem):
        # A fresh exception per raise: the header may be read by more than one reader.
        raise BookingProblem(value.category, value.reason, **value.details)
    return value


def normalise_email(value: object) -> str | None:
    """The key a customer is recognised by: trimmed, lower case; None when it is no address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    return email if "@" in email else None


def order_number(raw: Mapping[str, Any]) -> str:
    """The number customers see, cleaned; the id when the shop sends none."""
    return clean_text(raw.get("number")) or str(raw.get("id"))


class Created(NamedTuple):
    """When an order or refund was created, as WooCommerce states it.

    `gmt` (naive GMT) comes from `date_created_gmt`; `local` (naive, the shop's time) from
    `date_created`, read only when an older shop sends it alone. None: absent or empty.
    """

    gmt: Readable[datetime | None]
    local: Readable[datetime | None]

    def day(self, time_zone: ZoneInfo) -> date | None:
        """The shop-local day: of the GMT moment when there is one, else of the local time."""
        if self.gmt is not None:
            return shop_day(known(self.gmt), time_zone)
        local = known(self.local)
        return local.date() if local is not None else None

    def moment_gmt(self, owner: str) -> datetime:
        """The GMT moment, which files `owner` (e.g. "order 12") under its day."""
        if not isinstance(self.gmt, datetime):
            raise BookingProblem("invalid_data", f"{owner} has no readable date_created_gmt")
        return self.gmt


def _created(raw: Mapping[str, Any], where: str) -> Created:
    gmt = raw.get("date_created_gmt")
    if isinstance(gmt, str) and gmt:
        try:
            return Created(parse.parse_gmt(gmt), None)  # the local twin is not needed
        except (ValueError, OverflowError):
            return Created(_unreadable_creation(raw, where), None)
    local = raw.get("date_created")
    if isinstance(local, str) and local:
        try:
            return Created(None, datetime.fromisoformat(local).replace(tzinfo=None))
        except ValueError:
            return Created(None, _unreadable_creation(raw, where))
    return Created(None, None)


def _unreadable_creation(raw: Mapping[str, Any], where: str) -> BookingProblem:
    # Named as WooCommerce shows the date, the local one, whichever twin was unreadable.
    return BookingProblem(
        "invalid_data", f"{where}.date_created is not a date", value=raw.get("date_created")
    )


class OrderHeader(NamedTuple):
    """An order's identity, state, money totals, dates and customer; its lines stay in `raw`.

    Immutable like the model's frozen dataclasses, but a named tuple: one is made for every
    order the transform reads, and a tuple is made several times faster (a frozen dataclass
    sets each field through `object.__setattr__`). What the transform reads of every order
    is read as the header is made; the rest (properties) when a reader asks, from `raw`.
    """

    raw: Mapping[str, Any]
    order_id: int
    number: str
    status: str  # "" when missing
    currency: Readable[str]  # a three-letter ISO code, upper case
    total: Readable[Decimal]  # incl. VAT
    total_tax: Readable[Decimal]
    created: Created
    paid: bool  # WooCommerce recorded a payment date (it never clears one)
    completed: bool  # ... or a completion date

    @property
    def modified_gmt(self) -> Readable[datetime | None]:
        """When the order last changed (naive GMT); None when absent."""
        return _gmt(self.raw, "date_modified_gmt", "order")

    @property
    def customer_id(self) -> int:
        """0 for a guest, or an id that is no whole number."""
        return _whole_or_zero(self.raw.get("customer_id"))

    @property
    def created_via(self) -> str | None:
        """ "checkout", "admin", a point-of-sale plugin's name."""
        value = self.raw.get("created_via")
        return value if isinstance(value, str) else None

    @property
    def billing(self) -> Mapping[str, Any]:
        """The billing address; empty when missing."""
        billing = self.raw.get("billing")
        return billing if isinstance(billing, Mapping) else _EMPTY

    @property
    def shipping(self) -> Mapping[str, Any]:
        """The shipping address; empty when missing."""
        shipping = self.raw.get("shipping")
        return shipping if isinstance(shipping, Mapping) else _EMPTY

    @property
    def email(self) -> str | None:
        """The billing e-mail, normalised (`normalise_email`)."""
        return normalise_email(self.billing.get("email"))

    @property
    def refund_ids(self) -> tuple[int, ...]:
        """The ids of the refunds the order lists (with their totals only)."""
        return _listed_ids(self.raw.get("refunds"))

    def created_gmt(self) -> datetime:
        """When the order was created (naive GMT), which files it under its shop-local day."""
        return self.created.moment_gmt(f"order {self.order_id}")

    def last_change_gmt(self) -> datetime:
        """When the order last changed (naive GMT): its modification date, else (absent or
        unreadable, which nothing books on) its creation."""
        modified = self.modified_gmt
        return modified if isinstance(modified, datetime) else self.created_gmt()


def read_order(raw: Mapping[str, Any]) -> OrderHeader:
    """The header of a wc/v3 order. Raises `BookingProblem` only when its id is no number:
    without one no reader can tell the order apart; other fields hold their problems."""
    order_id = raw.get("id")
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        raise BookingProblem("invalid_data", f"the order id {order_id!r} is not a number")
    status = raw.get("status")
    return OrderHeader(
        raw,
        order_id,
        order_number(raw),
        status if isinstance(status, str) else "",
        _currency(raw.get("currency")),
        _amount(raw, "total", "order"),
        _amount(raw, "total_tax", "order"),
        _created(raw, "order"),
        bool(raw.get("date_paid") or raw.get("date_paid_gmt")),
        bool(raw.get("date_completed") or raw.get("date_completed_gmt")),
    )


class RefundHeader(NamedTuple):
    """A refund's identity, amount (positive, as WooCommerce reports it) and creation date."""

    raw: Mapping[str, Any]
    refund_id: int
    order_id: int | None  # `parent_id`; None when it is no number
    amount: Readable[Decimal]
    created: Created

    def created_gmt(self) -> datetime:
        """When the refund was created (naive GMT)."""
        return self.created.moment_gmt(f"refund {self.refund_id}")


def read_refund(raw: Mapping[str, Any]) -> RefundHeader:
    """The header of a wc/v3 refund. Raises `BookingProblem` only when its id is no number."""
    refund_id = raw.get("id")
    if not isinstance(refund_id, int) or isinstance(refund_id, bool):
        raise BookingProblem("invalid_data", f"the refund id {refund_id!r} is not a number")
    parent = raw.get("parent_id")
    where = f"refund {refund_id}"
    return RefundHeader(
        raw=raw,
        refund_id=refund_id,
        order_id=parent if isinstance(parent, int) and not isinstance(parent, bool) else None,
        amount=_amount(raw, "amount", where),
        created=_created(raw, where),
    )


def _amount(raw: Mapping[str, Any], key: str, where: str) -> Readable[Decimal]:
    try:
        return parse.amount(raw, key, where)
    except BookingProblem as problem:
        return problem


def _currency(value: object) -> Readable[str]:
    code = clean_text(value).upper()
    if len(code) != 3 or not code.isalpha():
        return BookingProblem("invalid_data", f"currency {value!r} is not a three-letter ISO code")
    return code


def _gmt(raw: Mapping[str, Any], key: str, where: str) -> Readable[datetime | None]:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse.parse_gmt(value)
    except (ValueError, OverflowError):
        return BookingProblem("invalid_data", f"{where}.{key} is not a date", value=value)


def _whole_or_zero(value: object) -> int:
    if type(value) is int:
        return value
    try:
        return parse.integer(value, "customer_id") if value not in (None, "") else 0
    except BookingProblem:
        return 0


def _listed_ids(value: object) -> tuple[int, ...]:
    if not value or not isinstance(value, list):
        return ()
    return tuple(
        item["id"]
        for item in value
        if isinstance(item, Mapping) and isinstance(item.get("id"), int)
    )
