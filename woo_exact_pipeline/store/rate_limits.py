"""Exact's API limits as every process of one app and administration sees them.

Exact counts calls per app per division: 60 a minute and 5,000 a day by default, announced in
the `X-RateLimit-*` headers of every answer. Several runs (and the sensor) share those budgets,
so the last answer's headers live in `exact_rate_limits` and each call first reserves one unit
there under a lock. Errors are counted in `exact_api_errors` because Exact blocks an endpoint
for an hour after more than 10 errors on it within an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from woo_exact_pipeline.store.locks import lock_for_transaction
from woo_exact_pipeline.store.schema import exact_api_errors, exact_rate_limits
from woo_exact_pipeline.store.tokens import as_utc

ERROR_WINDOW = timedelta(hours=1)
# Answers from concurrent calls arrive out of order; resets this close belong to one window.
SAME_WINDOW_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class Window:
    """One rate-limit window: how many calls it allows, how many are left, when it resets."""

    limit: int
    remaining: int
    resets_at: datetime


@dataclass(frozen=True)
class RateLimits:
    minutely: Window | None
    daily: Window | None


@dataclass(frozen=True)
class Reservation:
    """The verdict on one call: go ahead, wait until `wait_until`, or the day is spent."""

    wait_until: datetime | None = None
    daily_spent_until: datetime | None = None


@dataclass(frozen=True)
class ErrorCount:
    errors: int
    oldest_at: datetime | None


def _next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _next_midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


class RateLimitStore:
    """The shared limits and error counts of one Exact app (client id) in one division."""

    def __init__(self, engine: Engine, client_id: str, division: int) -> None:
        self._engine = engine
        self.client_id = client_id
        self.division = division
        self._key = (exact_rate_limits.c.client_id == client_id) & (
            exact_rate_limits.c.division == division
        )

    def __repr__(self) -> str:
        return f"RateLimitStore(client_id={self.client_id!r}, division={self.division})"

    def current(self) -> RateLimits | None:
        with self._engine.connect() as connection:
            return self._read(connection)

    def reserve(self, now: datetime) -> Reservation:
        """Take one call from both windows, unless one of them is used up."""
        now = as_utc(now)
        with self._engine.begin() as connection:
            lock_for_transaction(connection, self._lock_name)
            limits = self._read(connection)
            if limits is None:
                return Reservation()
            daily = self._spend(limits.daily, now, _next_midnight)
            if daily is not None and daily.remaining < 0:
                return Reservation(daily_spent_until=daily.resets_at)
            minutely = self._spend(limits.minutely, now, _next_minute)
            if minutely is not None and minutely.remaining < 0:
                return Reservation(wait_until=minutely.resets_at)
            self._write(connection, RateLimits(minutely=minutely, daily=daily), now)
        return Reservation()

    def observe(self, announced: RateLimits, now: datetime) -> None:
        """Merge the windows an answer announced with what other processes recorded."""
        now = as_utc(now)
        with self._engine.begin() as connection:
            lock_for_transaction(connection, self._lock_name)
            stored = self._read(connection) or RateLimits(minutely=None, daily=None)
            merged = RateLimits(
                minutely=self._merge(stored.minutely, announced.minutely),
                daily=self._merge(stored.daily, announced.daily),
            )
            self._write(connection, merged, now)

    def record_error(self, endpoint: str, status: int, now: datetime) -> None:
        now = as_utc(now)
        with self._engine.begin() as connection:
            connection.execute(
                delete(exact_api_errors).where(
                    (exact_api_errors.c.client_id == self.client_id)
                    & (exact_api_errors.c.division == self.division)
                    & (exact_api_errors.c.occurred_at < now - ERROR_WINDOW)
                )
            )
            connection.execute(
                insert(exact_api_errors).values(
                    client_id=self.client_id,
                    division=self.division,
                    endpoint=endpoint,
                    status=status,
                    occurred_at=now,
                )
            )

    def errors_last_hour(self, endpoint: str, now: datetime) -> ErrorCount:
        now = as_utc(now)
        with self._engine.connect() as connection:
            count, oldest = connection.execute(
                select(func.count(), func.min(exact_api_errors.c.occurred_at)).where(
                    (exact_api_errors.c.client_id == self.client_id)
                    & (exact_api_errors.c.division == self.division)
                    & (exact_api_errors.c.endpoint == endpoint)
                    & (exact_api_errors.c.occurred_at >= now - ERROR_WINDOW)
                )
            ).one()
        return ErrorCount(errors=count, oldest_at=None if oldest is None else as_utc(oldest))

    @property
    def _lock_name(self) -> str:
        return f"exact_rate_limits:{self.client_id}:{self.division}"

    @staticmethod
    def _spend(
        window: Window | None, now: datetime, next_reset: Callable[[datetime], datetime]
    ) -> Window | None:
        if window is None:
            return None
        if now < window.resets_at:
            return Window(window.limit, window.remaining - 1, window.resets_at)
        # The window has rolled over since the last answer: a fresh one until the headers of
        # the next answer say exactly where it ends.
        return Window(window.limit, window.limit - 1, next_reset(now))

    @staticmethod
    def _merge(stored: Window | None, announced: Window | None) -> Window | None:
        if announced is None:
            return stored
        if stored is None or announced.resets_at > stored.resets_at + SAME_WINDOW_TOLERANCE:
            return announced
        if announced.resets_at < stored.resets_at - SAME_WINDOW_TOLERANCE:
            return stored  # a late answer about a window that has already passed
        return Window(
            announced.limit, min(stored.remaining, announced.remaining), announced.resets_at
        )

    def _read(self, connection: Connection) -> RateLimits | None:
        row = connection.execute(select(exact_rate_limits).where(self._key)).one_or_none()
        if row is None:
            return None

        def window(limit: int | None, remaining: int | None, resets: datetime | None) -> Window:
            assert limit is not None and remaining is not None and resets is not None
            return Window(limit, remaining, as_utc(resets))

        return RateLimits(
            minutely=None
            if row.minutely_resets_at is None
            else window(row.minutely_limit, row.minutely_remaining, row.minutely_resets_at),
            daily=None
            if row.daily_resets_at is None
            else window(row.daily_limit, row.daily_remaining, row.daily_resets_at),
        )

    def _write(self, connection: Connection, limits: RateLimits, now: datetime) -> None:
        values = {
            "minutely_limit": limits.minutely.limit if limits.minutely else None,
            "minutely_remaining": limits.minutely.remaining if limits.minutely else None,
            "minutely_resets_at": as_utc(limits.minutely.resets_at) if limits.minutely else None,
            "daily_limit": limits.daily.limit if limits.daily else None,
            "daily_remaining": limits.daily.remaining if limits.daily else None,
            "daily_resets_at": as_utc(limits.daily.resets_at) if limits.daily else None,
            "updated_at": now,
        }
        changed = connection.execute(update(exact_rate_limits).where(self._key).values(values))
        if not changed.rowcount:
            connection.execute(
                insert(exact_rate_limits).values(
                    client_id=self.client_id, division=self.division, **values
                )
            )
