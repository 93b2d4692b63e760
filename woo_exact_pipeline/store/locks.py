"""Cross-process locks inside a sync-database transaction."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text


def lock_for_transaction(connection: Connection, name: str) -> None:
    """Hold the lock called `name` until the current transaction commits or rolls back.

    PostgreSQL: a transaction-level advisory lock, which also works while the row to protect
    does not exist yet. SQLite: nothing to do, the engine from `store.database` starts every
    transaction with BEGIN IMMEDIATE, which already holds the database's single write lock.
    """
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
