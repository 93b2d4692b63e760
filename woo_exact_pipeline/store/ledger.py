"""The booking ledger: what was booked in Exact, where, and what is on its way.

The write-ahead protocol: a run claims an event (`pending`, with its run id) and commits that
*before* it posts to Exact; after Exact's answer the row becomes `booked` with Exact's ids, or
`failed` with Exact's reason. A `pending` row found later means the answer was lost (a crash,
a timeout): the next run asks Exact by YourRef before it posts again. An event uploaded as XML
has its entry number reserved with the claim (`exact_number` of the pending row): the next
upload sends it under the same number, which Exact refuses if it landed. A claim of another run
that is still alive is respected, so two runs never post the same event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import BigInteger, Connection, Engine, cast, func, insert, select, update

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.store.journal import event_key
from woo_exact_pipeline.store.locks import lock_for_transaction
from woo_exact_pipeline.store.schema import bookings

LedgerStatus = Literal["pending", "booked", "failed"]

#: How long a claim holds without the claiming run being known alive.
DEFAULT_CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class LedgerRow:
    event_key: str
    reference: str
    status: LedgerStatus
    content_hash: str
    exact_id: str | None
    exact_number: str | None
    error: str | None
    attempts: int
    amount_dc: Decimal | None
    exchange_rate: Decimal | None
    claimed_by: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to claim an event for posting."""

    granted: bool
    #: The row before the claim: None for a new event; `pending` means an answer was lost.
    previous: LedgerRow | None

    @property
    def answer_was_lost(self) -> bool:
        return self.granted and self.previous is not None and self.previous.status == "pending"


@dataclass(frozen=True)
class EventToClaim:
    shop: str
    event_key: str
    division: int
    journal: str
    kind: str
    order_number: str
    reference: str
    partition_date: date
    content_hash: str
    #: For an XML upload: the entry number reserved for it, written with the claim (a pending
    #: row keeps the number it has, so a re-upload is refused as existing, never booked twice).
    entry_number: int | None = None

    @classmethod
    def of(
        cls,
        event: AccountingEvent,
        *,
        shop: str,
        division: int,
        journal: str,
        partition_date: date,
        entry_number: int | None = None,
    ) -> EventToClaim:
        return cls(
            shop=shop,
            event_key=event_key(event),
            division=division,
            journal=journal,
            kind=event.kind,
            order_number=event.order_number,
            reference=event.reference,
            partition_date=partition_date,
            content_hash=event.content_hash,
            entry_number=entry_number,
        )


class BookingLedger:
    def __init__(
        self,
        engine: Engine,
        *,
        run_id: str,
        is_run_alive: Callable[[str], bool] = lambda run_id: True,
        lease: timedelta = DEFAULT_CLAIM_LEASE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._run_id = run_id
        self._is_run_alive = is_run_alive
        self._lease = lease
        self._clock = clock

    def rows(self, shop: str, partition_date: date) -> dict[str, LedgerRow]:
        with self._engine.connect() as connection:
            return {
                row.event_key: row
                for row in map(
                    _ledger_row,
                    connection.execute(
                        select(bookings).where(
                            bookings.c.shop == shop, bookings.c.partition_date == partition_date
                        )
                    ).mappings(),
                )
            }

    def claim(self, event: EventToClaim) -> Claim:
        """Write `pending` for this run, unless it is booked or another live run holds it."""
        now = self._clock()
        with self._engine.begin() as connection:
            lock_for_transaction(connection, f"ledger:{event.shop}:{event.event_key}")
            previous = _read(connection, event.shop, event.event_key)
            if previous is not None and not self._claimable(previous, now):
                return Claim(granted=False, previous=previous)
            claimed = {
                "status": "pending",
                "claimed_by": self._run_id,
                "claimed_at": now,
                "content_hash": event.content_hash,
                "reference": event.reference,
                "journal": event.journal,
                "updated_at": now,
                "error": None,
            }
            if event.entry_number is not None and reserved_entry_number(previous) is None:
                claimed["exact_number"] = str(event.entry_number)
            if previous is None:
                connection.execute(
                    insert(bookings).values(
                        shop=event.shop,
                        event_key=event.event_key,
                        division=event.division,
                        kind=event.kind,
                        order_number=event.order_number,
                        partition_date=event.partition_date,
                        attempts=1,
                        created_at=now,
                        **claimed,
                    )
                )
            else:
                connection.execute(
                    update(bookings)
                    .where(bookings.c.shop == event.shop, bookings.c.event_key == event.event_key)
                    .values(attempts=bookings.c.attempts + 1, **claimed)
                )
        return Claim(granted=True, previous=previous)

    def mark_booked(
        self,
        shop: str,
        event_key: str,
        exact_id: str | None,
        exact_number: str | None,
        *,
        amount_dc: Decimal | None = None,
        exchange_rate: Decimal | None = None,
    ) -> None:
        """Booked as Exact's `exact_id` (None from an XML upload, whose answer names only the
        entry number); with what Exact made of it in its own currency, where its answer said
        (not when the booking was found again by its reference)."""
        self._finish(
            shop,
            event_key,
            status="booked",
            exact_id=exact_id,
            exact_number=exact_number,
            amount_dc=amount_dc,
            exchange_rate=exchange_rate,
        )

    def mark_failed(self, shop: str, event_key: str, error: str) -> None:
        self._finish(shop, event_key, status="failed", error=error)

    def release(self, shop: str, event_key: str) -> None:
        """Leave the row `pending` (the outcome is unknown) but let the next run take it."""
        self._finish(shop, event_key, status="pending")

    def _finish(self, shop: str, event_key: str, **values: Any) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(bookings)
                .where(bookings.c.shop == shop, bookings.c.event_key == event_key)
                .values(claimed_by=None, claimed_at=None, updated_at=self._clock(), **values)
            )

    def _claimable(self, row: LedgerRow, now: datetime) -> bool:
        if row.status == "booked":
            return False
        if row.status == "failed" or row.claimed_by in (None, self._run_id):
            return True
        claimed_at = row.claimed_at
        if claimed_at is not None and claimed_at.tzinfo is None:
            claimed_at = claimed_at.replace(tzinfo=UTC)  # SQLite drops the zone
        expired = claimed_at is None or now - claimed_at > self._lease
        return expired or not self._is_run_alive(row.claimed_by)

    def highest_entry_number(self, division: int, journal: str) -> int | None:
        """The highest number in the journal that the ledger knows booked or reserved."""
        with self._engine.connect() as connection:
            highest = connection.execute(
                select(func.max(cast(bookings.c.exact_number, BigInteger))).where(
                    bookings.c.division == division,
                    bookings.c.journal == journal,
                    bookings.c.exact_number.is_not(None),
                )
            ).scalar()
        return None if highest is None else int(highest)


def reserved_entry_number(row: LedgerRow | None) -> int | None:
    """The entry number an upload was sent under and whose answer was lost: a pending row's."""
    if row is None or row.status != "pending" or row.exact_number is None:
        return None
    return int(row.exact_number)


def _read(connection: Connection, shop: str, event_key: str) -> LedgerRow | None:
    row = (
        connection.execute(
            select(bookings).where(bookings.c.shop == shop, bookings.c.event_key == event_key)
        )
        .mappings()
        .first()
    )
    return None if row is None else _ledger_row(row)


def _ledger_row(row: Any) -> LedgerRow:
    return LedgerRow(
        event_key=row["event_key"],
        reference=row["reference"],
        status=row["status"],
        content_hash=row["content_hash"],
        exact_id=row["exact_id"],
        exact_number=row["exact_number"],
        error=row["error"],
        attempts=row["attempts"],
        amount_dc=row["amount_dc"],
        exchange_rate=row["exchange_rate"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
    )


def booked_content(connection: Connection, shop: str, partition_date: date) -> frozenset[str]:
    """The content hashes of the day's events as they were booked."""
    return frozenset(
        connection.execute(
            select(bookings.c.content_hash).where(
                bookings.c.shop == shop,
                bookings.c.partition_date == partition_date,
                bookings.c.status == "booked",
            )
        ).scalars()
    )


def unbooked(
    connection: Connection, shop: str, days: tuple[date, date] | None = None
) -> list[dict[str, Any]]:
    """Events Exact refused or whose outcome is unknown, with the reason (over every day or
    the days given, first and last inclusive)."""
    return [
        dict(row)
        for row in connection.execute(
            select(bookings.c.order_number, bookings.c.kind, bookings.c.status, bookings.c.error)
            .where(bookings.c.shop == shop, bookings.c.status != "booked", *_within(days))
            .order_by(bookings.c.partition_date, bookings.c.event_key)
        ).mappings()
    ]


def _within(days: tuple[date, date] | None) -> list[Any]:
    if days is None:
        return []
    return [bookings.c.partition_date.between(*days)]
