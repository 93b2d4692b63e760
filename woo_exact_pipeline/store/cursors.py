"""Named cursors: where an incremental read stopped (products' modified_after, sensors)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from woo_exact_pipeline.store.schema import cursors


def read_cursor(connection: Connection, name: str) -> str | None:
    return connection.execute(select(cursors.c.value).where(cursors.c.name == name)).scalar()


def write_cursor(connection: Connection, name: str, value: str) -> None:
    now = datetime.now(UTC)
    changed = connection.execute(
        update(cursors).where(cursors.c.name == name).values(value=value, updated_at=now)
    ).rowcount
    if not changed:
        connection.execute(insert(cursors).values(name=name, value=value, updated_at=now))
