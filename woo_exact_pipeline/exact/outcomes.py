"""What a load did with one accounting event: the one list of booking statuses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.store.journal import event_key


class BookingStatus(StrEnum):
    BOOKED = "booked"  # posted now
    RECOVERED = "recovered"  # an earlier post whose answer was lost turned out to have landed
    ALREADY_BOOKED = "already_booked"
    CHANGED_AFTER_BOOKING = "changed_after_booking"  # booked before, changed since: not re-posted
    HELD_BACK = "held_back"  # not posted: Exact would refuse it for a reason we can name
    FAILED = "failed"  # Exact refused it (message has Exact's words); retried on the next run
    OUTCOME_UNKNOWN = "outcome_unknown"  # sent, no answer; the next run looks it up first
    IN_PROGRESS_ELSEWHERE = "in_progress_elsewhere"  # another live run is posting it right now
    WOULD_BOOK = "would_book"  # dry run: every check passed, the event would be posted now

    @property
    def in_exact(self) -> bool:
        """The event is in Exact after this load (a row of the sync log's bookings table)."""
        return self in _IN_EXACT

    @property
    def not_booked(self) -> bool:
        """A real load left the event out of Exact (a row of the sync log's problems table)."""
        return self in _NOT_BOOKED

    @property
    def fails_the_sync(self) -> bool:
        """Exact refused the event or its answer was lost: `woo-exact sync` fails. Waiting,
        quarantined and held-back events wait for a person, not for a retry."""
        return self in (BookingStatus.FAILED, BookingStatus.OUTCOME_UNKNOWN)

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")


_IN_EXACT = frozenset(
    {
        BookingStatus.BOOKED,
        BookingStatus.RECOVERED,
        BookingStatus.ALREADY_BOOKED,
        BookingStatus.CHANGED_AFTER_BOOKING,
    }
)
_NOT_BOOKED = frozenset(
    {
        BookingStatus.HELD_BACK,
        BookingStatus.FAILED,
        BookingStatus.OUTCOME_UNKNOWN,
        BookingStatus.IN_PROGRESS_ELSEWHERE,
    }
)
#: The statuses a real load's sync log counts (a dry run's `would_book` is not one).
LOAD_STATUSES = tuple(status for status in BookingStatus if status != BookingStatus.WOULD_BOOK)


@dataclass(frozen=True)
class BookingOutcome:
    event_key: str
    kind: str
    order_number: str
    reference: str
    status: BookingStatus
    exact_number: str | None = None
    exact_id: str | None = None
    message: str | None = None
    #: The event's own amount (including VAT) and currency.
    amount: Decimal | None = None
    currency: str | None = None
    #: In the administration's currency as Exact booked it, and the rate (foreign only).
    amount_dc: Decimal | None = None
    exchange_rate: Decimal | None = None

    @classmethod
    def of(
        cls,
        event: AccountingEvent,
        status: BookingStatus,
        exact_number: str | None = None,
        exact_id: str | None = None,
        *,
        message: str | None = None,
        booked: Booked | None = None,
    ) -> BookingOutcome:
        """What became of `event`, with its own amount and currency."""
        return cls(
            event_key=event_key(event),
            kind=event.kind,
            order_number=event.order_number,
            reference=event.reference,
            status=status,
            exact_number=exact_number,
            exact_id=exact_id,
            message=message,
            amount=event.total_incl_vat,
            currency=event.currency,
            amount_dc=booked.amount_dc if booked else None,
            exchange_rate=booked.exchange_rate if booked else None,
        )


@dataclass(frozen=True)
class Booked:
    """What Exact made of a booking in its own currency: the amount its answer gave (None when
    it gave none) and the rate of a foreign currency (None in its own)."""

    amount_dc: Decimal | None
    exchange_rate: Decimal | None
