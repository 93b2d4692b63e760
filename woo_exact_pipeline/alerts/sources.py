"""The sync database's side of alerts: quarantined orders, the login's expiry, a day's ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from woo_exact_pipeline.alerts.rules import QuarantinedOrder
from woo_exact_pipeline.store.schema import (
    accounting_events,
    bookings,
    exact_tokens,
    order_problems,
    woo_orders,
)
from woo_exact_pipeline.store.tokens import as_utc


def quarantined_orders(connection: Connection, shop: str) -> list[QuarantinedOrder]:
    rows = connection.execute(
        select(order_problems).where(
            order_problems.c.shop == shop, order_problems.c.outcome == "quarantined"
        )
    )
    return [
        QuarantinedOrder(
            order_number=row.order_number,
            day=row.partition_date,
            reason=row.reason,
            first_seen_at=as_utc(row.first_seen_at),
            problem_key=row.problem_key,
        )
        for row in rows
    ]


def refresh_expires_at(connection: Connection, client_id: str, division: int) -> datetime | None:
    """When the Exact login of this administration dies unused (readable without the key)."""
    value = connection.execute(
        select(exact_tokens.c.refresh_expires_at).where(
            exact_tokens.c.client_id == client_id, exact_tokens.c.division == division
        )
    ).scalar()
    return as_utc(value) if value is not None else None


@dataclass(frozen=True)
class DayLedger:
    """One day in the sync database: orders read, events made, and their fate in Exact."""

    day: date
    orders: int
    events: int
    sales_booked: int
    credits_booked: int
    failed: int
    waiting: int
    quarantined: int

    @property
    def booked(self) -> int:
        return self.sales_booked + self.credits_booked


def day_ledger(connection: Connection, shop: str, day: date) -> DayLedger:
    def count(table: object, *conditions: object) -> int:
        query = select(func.count()).select_from(table).where(*conditions)  # type: ignore[arg-type]
        return int(connection.execute(query).scalar() or 0)

    in_day = (bookings.c.shop == shop, bookings.c.partition_date == day)
    problems = (order_problems.c.shop == shop, order_problems.c.partition_date == day)
    return DayLedger(
        day=day,
        orders=count(woo_orders, woo_orders.c.shop == shop, woo_orders.c.partition_date == day),
        events=count(
            accounting_events,
            accounting_events.c.shop == shop,
            accounting_events.c.partition_date == day,
        ),
        sales_booked=count(
            bookings, *in_day, bookings.c.status == "booked", bookings.c.kind == "sale"
        ),
        credits_booked=count(
            bookings, *in_day, bookings.c.status == "booked", bookings.c.kind == "credit"
        ),
        failed=count(bookings, *in_day, bookings.c.status == "failed"),
        waiting=count(order_problems, *problems, order_problems.c.outcome == "waiting"),
        quarantined=count(order_problems, *problems, order_problems.c.outcome == "quarantined"),
    )
