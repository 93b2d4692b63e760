"""Connecting to the sync database and keeping its schema current.

SQLite (a file in `.woo_exact/`) on a laptop, PostgreSQL by URL in production. The schema is
versioned: `MIGRATIONS[n]` brings a database from version n to n + 1, and `open_sync_database`
applies whatever is missing on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from woo_exact_pipeline.store import schema

DEFAULT_SQLITE_PATH = Path(".woo_exact") / "sync.db"
#: How long a SQLite writer waits for the write lock; `?timeout=SECONDS` in the URL changes it.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def _create_version_1(connection: Connection) -> None:
    schema.metadata.create_all(connection)


def _version_2_tokens_per_division(connection: Connection) -> None:
    """exact_tokens is keyed by app and division: each shop signs in to its own division.

    A version-1 table holds at most one pair per app, and which division that login was for is
    not recorded, so its rows are dropped with it: the user runs `woo-exact exact login` once
    more. On a fresh database version 1 already created the new shape (it creates from the
    current tables); recreating that empty table changes nothing.
    """
    schema.exact_tokens.drop(connection)
    schema.exact_tokens.create(connection)


def _version_3_one_key_per_event(connection: Connection) -> None:
    """A problem is keyed as the event it holds back: `credit:<refund id>` (was `refund:`)
    and `sale:<order id>` (was `order:`). The alert books' announced problems follow, so an
    open problem is neither cleared nor announced again by the change."""
    problems, cursors = schema.order_problems, schema.cursors
    renamed = (("refund:", "credit:"), ("order:", "sale:"))
    for old, new in renamed:
        key = problems.c.problem_key
        connection.execute(
            update(problems)
            .where(key.startswith(old))
            .values(problem_key=literal(new) + func.substr(key, len(old) + 1))
        )
    alert_books = select(cursors.c.name, cursors.c.value).where(
        cursors.c.name.startswith("alerts:")
    )
    for name, value in connection.execute(alert_books).all():
        renewed = value
        for old, new in renamed:
            renewed = renewed.replace(f'"quarantined:{old}', f'"quarantined:{new}')
        if renewed != value:
            connection.execute(update(cursors).where(cursors.c.name == name).values(value=renewed))


def _version_4_exchange_rates(connection: Connection) -> None:
    """accounting_events.exchange_rate: the rate the shop recorded for an event in another
    currency than the administration's (a fresh database has it from version 1)."""
    columns = {column["name"] for column in inspect(connection).get_columns("accounting_events")}
    if "exchange_rate" not in columns:
        connection.execute(
            text("ALTER TABLE accounting_events ADD COLUMN exchange_rate VARCHAR(40)")
        )


def _version_5_booked_amounts(connection: Connection) -> None:
    """bookings.amount_dc and bookings.exchange_rate: what Exact made of a booking in the
    administration's currency (a fresh database has them from version 1)."""
    columns = {column["name"] for column in inspect(connection).get_columns("bookings")}
    numeric = "VARCHAR(40)" if connection.dialect.name == "sqlite" else "NUMERIC(20, 6)"
    for name, kind in (("amount_dc", numeric), ("exchange_rate", "VARCHAR(40)")):
        if name not in columns:
            connection.execute(text(f"ALTER TABLE bookings ADD COLUMN {name} {kind}"))


#: Forward migrations; index n upgrades version n to n + 1. Append, never edit released ones.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _create_version_1,
    _version_2_tokens_per_division,
    _version_3_one_key_per_event,
    _version_4_exchange_rates,
    _version_5_booked_amounts,
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_database_url() -> str:
    configured = os.environ.get("WOO_EXACT_DATABASE_URL")
    if configured:
        return configured
    return f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}"


def create_sync_engine(url: str | None = None) -> Engine:
    """An engine for the sync database; `postgresql://` URLs use psycopg 3."""
    parsed = make_url(url or default_database_url())
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _create_sqlite_engine(url: Any) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    timeout = float(url.query.get("timeout", SQLITE_BUSY_TIMEOUT_SECONDS))
    engine = create_engine(
        url.difference_update_query(["timeout"]), connect_args={"timeout": timeout}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={round(timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on the busy timeout
        # instead of one failing when it upgrades a read lock (SQLite's classic deadlock).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def migrate(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before."""
    with engine.begin() as connection:
        schema.schema_version.create(connection, checkfirst=True)
        found = connection.execute(select(schema.schema_version.c.version)).scalar()
        current = found or 0
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"the sync database has schema version {current}, newer than this "
                f"woo-exact-pipeline ({SCHEMA_VERSION}); upgrade the package"
            )
        for migration in MIGRATIONS[current:]:
            migration(connection)
        if found is None:
            connection.execute(insert(schema.schema_version).values(version=SCHEMA_VERSION))
        elif current != SCHEMA_VERSION:
            connection.execute(schema.schema_version.update().values(version=SCHEMA_VERSION))
    return current


def open_sync_database(url: str | None = None) -> Engine:
    engine = create_sync_engine(url)
    migrate(engine)
    return engine
