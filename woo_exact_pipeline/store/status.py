"""Where each day stands, from the sync database alone (what `woo-exact status` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select

from woo_exact_pipeline.store.schema import (
    accounting_events,
    bookings,
    order_problems,
    woo_orders,
)


@dataclass
class DayStatus:
    day: date
    orders: int = 0  # extracted from WooCommerce (any status)
    events: int = 0  # sales and credit notes the transform made
    booked: int = 0
    pending: int = 0  # sent to Exact, answer lost: looked up by YourRef on the next load
    failed: int = 0  # refused by Exact or held back before posting (with the reason)
    waiting: int = 0
    quarantined: int = 0
    timestamps: list[datetime] = field(default_factory=list)

    @property
    def to_book(self) -> int:
        """Events the ledger has not seen yet (the next load posts them)."""
        return max(self.events - self.booked - self.pending - self.failed, 0)

    @property
    def last_sync(self) -> datetime | None:
        """The last extraction, transform or booking attempt of the day."""
        return max(self.timestamps, default=None)


def day_statuses(
    connection: Connection, shop: str, days: tuple[date, date] | None = None
) -> list[DayStatus]:
    """One row per day that has anything in the sync database, oldest first."""
    found: dict[date, DayStatus] = {}

    def day_of(value: date) -> DayStatus:
        return found.setdefault(value, DayStatus(value))

    for day, orders, extracted_at in _per_day(
        connection, woo_orders, shop, days, func.count(), func.max(woo_orders.c.extracted_at)
    ):
        status = day_of(day)
        status.orders = orders
        status.timestamps.append(_utc(extracted_at))
    for day, events, transformed_at in _per_day(
        connection,
        accounting_events,
        shop,
        days,
        func.count(),
        func.max(accounting_events.c.transformed_at),
    ):
        status = day_of(day)
        status.events = events
        status.timestamps.append(_utc(transformed_at))
    for day, ledger_status, count, updated_at in _per_day(
        connection,
        bookings,
        shop,
        days,
        func.count(),
        func.max(bookings.c.updated_at),
        group_by=bookings.c.status,
    ):
        status = day_of(day)
        setattr(status, ledger_status, count)
        status.timestamps.append(_utc(updated_at))
    for day, outcome, count in _per_day(
        connection, order_problems, shop, days, func.count(), group_by=order_problems.c.outcome
    ):
        setattr(day_of(day), outcome, count)
    return [found[day] for day in sorted(found)]


def _per_day(
    connection: Connection,
    table: Table,
    shop: str,
    days: tuple[date, date] | None,
    *aggregates: Any,
    group_by: Any = None,
) -> list[Any]:
    keys = [table.c.partition_date] + ([group_by] if group_by is not None else [])
    query = select(*keys, *aggregates).where(table.c.shop == shop)
    if days is not None:
        query = query.where(table.c.partition_date.between(*days))
    return list(connection.execute(query.group_by(*keys)))


def _utc(moment: datetime) -> datetime:
    # SQLite hands back the naive UTC it was given.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
