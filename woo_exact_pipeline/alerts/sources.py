"""The sync database's side of alerts: quarantined orders and the login's expiry (a day's
figures: store/day_summary.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from woo_exact_pipeline.alerts.rules import QuarantinedOrder
from woo_exact_pipeline.store.schema import exact_tokens, order_problems
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
