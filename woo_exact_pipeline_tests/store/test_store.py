"""The sync database: created on first use, versioned, exact with money, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    inspect,
    select,
    update,
)

from woo_exact_pipeline.store import schema
from woo_exact_pipeline.store.cursors import read_cursor, write_cursor
from woo_exact_pipeline.store.database import (
    SCHEMA_VERSION,
    create_sync_engine,
    migrate,
    open_sync_database,
)
from woo_exact_pipeline.store.ledger import BookingLedger, EventToClaim
from woo_exact_pipeline.store.staging import forget_unseen, save_orders
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore


def test_first_use_creates_every_table_and_records_the_version(sync_engine: Engine) -> None:
    tables = set(inspect(sync_engine).get_table_names())
    assert set(schema.metadata.tables) <= tables
    with sync_engine.connect() as connection:
        assert connection.execute(select(schema.schema_version.c.version)).scalar_one() == (
            SCHEMA_VERSION
        )


def test_opening_again_migrates_nothing(database_url: str) -> None:
    open_sync_database(database_url).dispose()
    engine = create_sync_engine(database_url)
    assert migrate(engine) == SCHEMA_VERSION
    with engine.connect() as connection:
        assert connection.execute(select(schema.schema_version.c.version)).scalars().all() == [
            SCHEMA_VERSION
        ]
    engine.dispose()


def test_a_database_from_a_newer_release_is_refused(sync_engine: Engine) -> None:
    with sync_engine.begin() as connection:
        connection.execute(update(schema.schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(RuntimeError, match="newer than this woo-exact-pipeline"):
        migrate(sync_engine)


def version_1_exact_tokens() -> Table:
    """exact_tokens as version 1 created it: one row per app, whatever the division."""
    return Table(
        "exact_tokens",
        MetaData(),
        Column("client_id", String(100), primary_key=True),
        Column("encrypted_tokens", LargeBinary, nullable=False),
        Column("access_expires_at", DateTime(timezone=True), nullable=False),
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("refresh_expires_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


def test_a_fresh_database_keys_exact_tokens_by_app_and_division(sync_engine: Engine) -> None:
    key = inspect(sync_engine).get_pk_constraint("exact_tokens")["constrained_columns"]
    assert key == ["client_id", "division"]


def test_a_version_1_database_gets_tokens_per_division_and_loses_its_old_login(
    database_url: str,
) -> None:
    engine = create_sync_engine(database_url)
    old_tokens = version_1_exact_tokens()
    now = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        # The other tables are as version 1 made them: version 2 changes only exact_tokens.
        unchanged = [
            table for table in schema.metadata.sorted_tables if table.name != "exact_tokens"
        ]
        schema.metadata.create_all(connection, tables=unchanged)
        old_tokens.create(connection)
        connection.execute(
            insert(old_tokens).values(
                client_id="app",
                encrypted_tokens=b"a login of some division",
                access_expires_at=now,
                issued_at=now,
                refresh_expires_at=now,
                updated_at=now,
            )
        )
        connection.execute(insert(schema.schema_version).values(version=1))

    assert migrate(engine) == 1
    key = inspect(engine).get_pk_constraint("exact_tokens")["constrained_columns"]
    assert key == ["client_id", "division"]
    with engine.connect() as connection:
        assert connection.execute(select(schema.exact_tokens)).all() == []
        assert connection.execute(select(schema.schema_version.c.version)).scalars().all() == [
            SCHEMA_VERSION
        ]
    secret_key = Fernet.generate_key()
    tokens = ExactTokens("access", "refresh", now, now)
    TokenStore(engine, "app", 1, secret_key).save(tokens)
    TokenStore(engine, "app", 2, secret_key).save(ExactTokens("a2", "r2", now, now))
    assert TokenStore(engine, "app", 1, secret_key).load() == tokens
    engine.dispose()


def test_a_version_4_database_keeps_its_bookings_and_learns_their_amounts_in_euros(
    database_url: str,
) -> None:
    engine = create_sync_engine(database_url)
    new_columns = ("amount_dc", "exchange_rate")
    old_bookings = Table(
        "bookings",
        MetaData(),
        *(
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in schema.bookings.columns
            if c.name not in new_columns
        ),
    )
    day = date(2026, 10, 17)
    with engine.begin() as connection:
        others = [table for table in schema.metadata.sorted_tables if table.name != "bookings"]
        schema.metadata.create_all(connection, tables=others)
        old_bookings.create(connection)
        connection.execute(insert(schema.schema_version).values(version=4))
    assert migrate(engine) == 4
    assert set(new_columns) <= {c["name"] for c in inspect(engine).get_columns("bookings")}

    ledger = BookingLedger(engine, run_id="run")
    for number, key in enumerate(("sale:1133", "sale:1134"), start=1):
        claim = EventToClaim("shop", key, 1, "70", "sale", key[5:], key[5:], day, "hash")
        assert ledger.claim(claim).granted
        if key == "sale:1133":  # GBP 107.30 at 0.86
            ledger.mark_booked(
                "shop",
                key,
                "id",
                str(number),
                amount_dc=Decimal("124.76"),
                exchange_rate=Decimal("0.86"),
            )
        else:
            ledger.mark_booked("shop", key, "id2", str(number))
    rows = ledger.rows("shop", day)
    assert (rows["sale:1133"].amount_dc, rows["sale:1133"].exchange_rate) == (
        Decimal("124.76"),
        Decimal("0.86"),
    )
    assert (rows["sale:1134"].amount_dc, rows["sale:1134"].exchange_rate) == (None, None)
    engine.dispose()


def test_a_version_2_database_keys_problems_as_their_events_and_keeps_what_alerts_told(
    database_url: str,
) -> None:
    engine = create_sync_engine(database_url)
    seen = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    told = (
        '{"open": {"quarantined:order:1002": {"key": "quarantined:order:1002"}, '
        '"quarantined:refund:77": {"key": "quarantined:refund:77"}}}'
    )
    with engine.begin() as connection:
        schema.metadata.create_all(connection)
        connection.execute(
            insert(schema.order_problems),
            [
                {
                    "shop": "shop.example.nl",
                    "problem_key": key,
                    "partition_date": date(2026, 11, 17),
                    "order_id": 1002,
                    "refund_id": refund,
                    "order_number": "1002",
                    "outcome": "quarantined",
                    "category": "invalid_data",
                    "reason": "the order's total is not a number",
                    "details": {},
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                }
                for key, refund in (("order:1002", None), ("refund:77", 77))
            ],
        )
        write_cursor(connection, "alerts:shop.example.nl:conditions", told)
        write_cursor(connection, "woo_orders:shop.example.nl", '"order:1"')  # not an alert book
        connection.execute(insert(schema.schema_version).values(version=2))

    assert migrate(engine) == 2
    with engine.connect() as connection:
        keys = connection.execute(
            select(schema.order_problems.c.problem_key).order_by(schema.order_problems.c.refund_id)
        ).scalars()
        assert sorted(keys) == ["credit:77", "sale:1002"]
        assert read_cursor(connection, "alerts:shop.example.nl:conditions") == (
            '{"open": {"quarantined:sale:1002": {"key": "quarantined:sale:1002"}, '
            '"quarantined:credit:77": {"key": "quarantined:credit:77"}}}'
        )
        assert read_cursor(connection, "woo_orders:shop.example.nl") == '"order:1"'
    engine.dispose()


def test_amounts_come_back_exactly_as_stored(sync_engine: Engine) -> None:
    # 0.1 + 0.2 is the classic float trap; 12.345678 needs every stored digit.
    now = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    with sync_engine.begin() as connection:
        for refund_id, amount in [
            (1, Decimal("0.10")),
            (2, Decimal("0.20")),
            (3, Decimal("12.345678")),
        ]:
            connection.execute(
                insert(schema.woo_refunds).values(
                    shop="demo",
                    id=refund_id,
                    order_id=7,
                    partition_date=date(2026, 3, 29),
                    amount=amount,
                    date_created_gmt=now.replace(tzinfo=None),
                    raw={"id": refund_id, "amount": str(amount)},
                )
            )
    with sync_engine.connect() as connection:
        amounts = (
            connection.execute(
                select(schema.woo_refunds.c.amount).order_by(schema.woo_refunds.c.id)
            )
            .scalars()
            .all()
        )
    assert all(isinstance(amount, Decimal) for amount in amounts)
    assert amounts[0] + amounts[1] == Decimal("0.3")
    assert amounts[2] == Decimal("12.345678")


def test_a_cursor_is_created_then_moved(sync_engine: Engine) -> None:
    with sync_engine.begin() as connection:
        assert read_cursor(connection, "woo_products") is None
        write_cursor(connection, "woo_products", "2026-03-01T10:00:00")
    with sync_engine.begin() as connection:
        write_cursor(connection, "woo_products", "2026-03-02T08:30:00")
    with sync_engine.connect() as connection:
        assert read_cursor(connection, "woo_products") == "2026-03-02T08:30:00"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:
    engine = open_sync_database(f"sqlite:///{tmp_path / 'sync.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_the_default_database_is_a_sqlite_file_under_dot_woo_exact(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("WOO_EXACT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    engine = open_sync_database()
    assert (tmp_path / ".woo_exact" / "sync.db").exists()
    engine.dispose()


def test_orders_the_shop_no_longer_returns_are_forgotten_and_no_other_day_is_touched(
    sync_engine: Engine,
) -> None:
    def order(order_id: int, created: str) -> dict:
        return {
            "id": order_id,
            "number": str(order_id),
            "status": "processing",
            "currency": "EUR",
            "total": "12.10",
            "customer_id": 0,
            "date_created_gmt": created,
            "date_modified_gmt": created,
        }

    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    with sync_engine.begin() as connection:
        save_orders(
            connection,
            "shop",
            monday,
            [order(1, "2026-03-02T09:00:00"), order(2, "2026-03-02T10:00:00")],
        )
        save_orders(connection, "shop", tuesday, [order(3, "2026-03-03T09:00:00")])
    with sync_engine.begin() as connection:
        # Order 2 was deleted in the shop: the next extraction of Monday no longer returns it.
        removed = forget_unseen(connection, "shop", monday, order_ids=[1], refund_ids=[])
    with sync_engine.connect() as connection:
        left = connection.execute(select(schema.woo_orders.c.id).order_by(schema.woo_orders.c.id))
        assert left.scalars().all() == [1, 3]
    assert removed == 1


def test_a_sqlite_writer_waits_30_seconds_for_the_lock_unless_the_url_says_otherwise(
    tmp_path: Path,
) -> None:
    for url, waits_ms in (
        (f"sqlite:///{tmp_path / 'default.db'}", 30_000),
        (f"sqlite:///{tmp_path / 'impatient.db'}?timeout=2.5", 2_500),
    ):
        engine = open_sync_database(url)
        try:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == waits_ms
        finally:
            engine.dispose()
    assert (tmp_path / "impatient.db").exists()
