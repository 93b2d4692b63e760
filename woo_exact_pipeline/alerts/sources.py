"""The sync database's side of alerts: the login's expiry (a day's figures:
store/day_summary.py; order problems: store/journal.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from woo_exact_pipeline.store.schema import exact_tokens
from woo_exact_pipeline.store.tokens import as_utc


def refresh_expires_at(connection: Connection, client_id: str, division: int) -> datetime | None:
    """When the Exact login of this administration dies unused (readable without the key)."""
    value = connection.execute(
        select(exact_tokens.c.refresh_expires_at).where(
            exact_tokens.c.client_id == client_id, exact_tokens.c.division == division
        )
    ).scalar()
    return as_utc(value) if value is not None else None
