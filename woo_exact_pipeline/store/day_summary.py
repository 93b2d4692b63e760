"""Where each day stands, from the sync database alone: the one count of a day, used by
`woo-exact status`, the sync report, the freshness check and the daily digest."""

from __future__ import annotations

from collections.abc import Iterable
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
class DaySummary:
    day: date
    orders: int = 0  # extracted from WooCommerce (any status)
    events: int = 0  # sales and credit notes the transform made
    sales_booked: int = 0
    credits_booked: int = 0
    pending: int = 0  # sent to Exact, answer lost: looked up by YourRef on the next load
    failed: int = 0  # refused by Exact or held back before posting (with the reason)
    waiting: int = 0
    quarantined: int = 0
    timestamps: list[datetime] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return self.sales_booked + self.credits_booked

    @property
    def to_book(self) -> int:
        """Events the ledger has not seen yet (the next load posts them)."""
        return max(self.events - self.booked - self.pending - self.failed, 0)

    @property
    def last_sync(self) -> datetime | None:
        """The last extraction, transform or booking attempt of the day."""
        return max(self.timestamps, default=None)


def day_summaries(
    connection: Connection, shop: str, days: tuple[date, date] | None = None
) -> list[DaySummary]:
    """One summary per day that has anything in the sync database, oldest first (over every
    day, or the days given, first and last inclusive)."""
    found: dict[date, DaySummary] = {}

    def day_of(value: date) -> DaySummary:
        return found.setdefault(value, DaySummary(value))

    for day, orders, extracted_at in _per_day(
        connection, woo_orders, shop, days, func.count(), func.max(woo_orders.c.extracted_at)
    ):
        summary = day_of(day)
        summary.orders = orders
        summary.timestamps.append(_utc(extracted_at))
    for day, events, transformed_at in _per_day(
        connection,
        accounting_events,
        shop,
        days,
        func.count(),
        func.max(accounting_events.c.transformed_at),
    ):
        summary = day_of(day)
        summary.events = events
        summary.timestamps.append(_utc(transformed_at))
    for day, kind, ledger_status, count, updated_at in _per_day(
        connection,
        bookings,
        shop,
        days,
        func.count(),
        func.max(bookings.c.updated_at),
        group_by=(bookings.c.kind, bookings.c.status),
    ):
        summary = day_of(day)
        if ledger_status == "booked":
            if kind == "sale":
                summary.sales_booked += count
            else:
                summary.credits_booked += count
        else:
            setattr(summary, ledger_status, getattr(summary, ledger_status) + count)
        summary.timestamps.append(_utc(updated_at))
    for day, outcome, count in _per_day(
        connection,
        order_problems,
        shop,
        days,
        func.count(),
        group_by=(order_problems.c.outcome,),
    ):
        setattr(day_of(day), outcome, count)
    return [found[day] for day in sorted(found)]


def day_summary(connection: Connection, shop: str, day: date) -> DaySummary:
    """The summary of one day (all zero when nothing of it is in the sync database)."""
    return next(iter(day_summaries(connection, shop, (day, day))), DaySummary(day))


def _per_day(
    connection: Connection,
    table: Table,
    shop: str,
    days: tuple[date, date] | None,
    *aggregates: Any,
    group_by: Iterable[Any] = (),
) -> list[Any]:
    keys = [table.c.partition_date, *group_by]
    query = select(*keys, *aggregates).where(table.c.shop == shop)
    if days is not None:
        query = query.where(table.c.partition_date.between(*days))
    return list(connection.execute(query.group_by(*keys)))


def _utc(moment: datetime) -> datetime:
    # SQLite hands back the naive UTC it was given.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
