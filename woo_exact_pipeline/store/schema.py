"""Tables of the sync database.

Plain SQLAlchemy Core tables with readable names, so an analyst can query them with SQL.
Raw WooCommerce and Exact records are kept as JSON next to the columns we filter by. Money is
stored exactly: NUMERIC on PostgreSQL, decimal text on SQLite (whose NUMERIC is a float).
Every table carries `shop` so one database can serve several shops later.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
)


class _DecimalText(TypeDecorator[Decimal]):
    """Decimal stored as text, for SQLite, which would otherwise round-trip through float."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


#: An exact decimal amount (money, quantities, unit prices).
Amount = Numeric(20, 6, asdecimal=True).with_variant(_DecimalText(), "sqlite")

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# --- staging: WooCommerce records as extracted -------------------------------------------

woo_orders = Table(
    "woo_orders",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("partition_date", Date, nullable=False, comment="Shop-local creation day"),
    Column("number", String(100), nullable=False),
    Column("status", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", Amount, nullable=False),
    Column("customer_id", BigInteger, nullable=False),
    Column("created_via", String(100)),
    Column("date_created_gmt", DateTime, nullable=False),
    Column("date_modified_gmt", DateTime, nullable=False),
    Column("raw", JSON, nullable=False),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
    Index("ix_woo_orders_partition", "shop", "partition_date"),
)

woo_refunds = Table(
    "woo_refunds",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, nullable=False),
    Column("partition_date", Date, nullable=False, comment="Creation day of the refunded order"),
    Column("amount", Amount, nullable=False),
    Column("date_created_gmt", DateTime, nullable=False),
    Column("raw", JSON, nullable=False),
    Index("ix_woo_refunds_partition", "shop", "partition_date"),
)

woo_customers = Table(
    "woo_customers",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("email", String(320)),
    Column("raw", JSON, nullable=False),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
)

woo_products = Table(
    "woo_products",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column(
        "parent_id",
        BigInteger,
        nullable=False,
        comment="0 for products, the product for variations",
    ),
    Column("sku", String(200)),
    Column("name", Text, nullable=False),
    Column("tax_class", String(200)),
    Column("date_modified_gmt", DateTime),
    Column("raw", JSON, nullable=False),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
)

woo_tax_rates = Table(
    "woo_tax_rates",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("country", String(2)),
    Column("rate", Amount, nullable=False),
    Column("tax_class", String(200), nullable=False),
    Column("name", Text),
    Column("raw", JSON, nullable=False),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
)

# --- Exact Online side ---------------------------------------------------------------------

exact_tokens = Table(
    "exact_tokens",
    metadata,
    Column("client_id", String(100), primary_key=True),
    Column("division", Integer, primary_key=True, autoincrement=False),
    Column("encrypted_tokens", LargeBinary, nullable=False, comment="Fernet-encrypted token pair"),
    Column("access_expires_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column(
        "refresh_expires_at",
        DateTime(timezone=True),
        nullable=False,
        comment="When the refresh token dies unused (30 days after issue): login needed after",
    ),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

exact_rate_limits = Table(
    "exact_rate_limits",
    metadata,
    Column("client_id", String(100), primary_key=True),
    Column("division", Integer, primary_key=True, autoincrement=False),
    Column("minutely_limit", Integer),
    Column("minutely_remaining", Integer),
    Column("minutely_resets_at", DateTime(timezone=True)),
    Column("daily_limit", Integer),
    Column("daily_remaining", Integer),
    Column("daily_resets_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

exact_api_errors = Table(
    "exact_api_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(100), nullable=False),
    Column("division", Integer, nullable=False),
    Column("endpoint", String(200), nullable=False, comment="e.g. salesentry/SalesEntries"),
    Column("status", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_exact_api_errors_endpoint", "client_id", "division", "endpoint", "occurred_at"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("event_key", String(200), primary_key=True, comment="sale:<order id>, credit:<id>"),
    Column("division", Integer, nullable=False),
    Column("kind", String(10), nullable=False, comment="sale or credit"),
    Column("order_number", String(100), nullable=False),
    Column("journal", String(20), nullable=False),
    Column("reference", String(100), nullable=False, comment="YourRef in Exact"),
    Column("partition_date", Date, nullable=False),
    Column("status", String(20), nullable=False, comment="pending, booked or failed"),
    Column("content_hash", String(64), nullable=False, comment="of the event as it was booked"),
    Column("claimed_by", String(64), comment="the run that wrote `pending` and is posting"),
    Column("claimed_at", DateTime(timezone=True)),
    Column("exact_id", String(36), comment="Exact's GUID of the entry, invoice or order"),
    Column("exact_number", String(40), comment="Entry, invoice or order number in Exact"),
    Column("error", Text),
    Column(
        "amount_dc",
        Amount,
        comment="Exact's AmountDC: the booking in the administration's currency, as posted",
    ),
    Column(
        "exchange_rate",
        _DecimalText(),
        comment="The rate a booking in another currency was converted at (1 own = rate)",
    ),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_bookings_reference", "division", "journal", "reference"),
    Index("ix_bookings_partition", "shop", "partition_date"),
)

exact_reference = Table(
    "exact_reference",
    metadata,
    Column("division", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(20), primary_key=True, comment="journal, vat_code, gl_account, ..."),
    Column("code", String(100), primary_key=True, comment="trimmed; debtors: pending:<e-mail>"),
    Column("exact_id", String(36), comment="Exact's GUID; empty while a creation is pending"),
    Column("email", String(320), comment="debtors: normalised e-mail"),
    Column("data", JSON, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Index("ix_exact_reference_email", "division", "kind", "email"),
)

# --- bookkeeping: what the transform made of each partition ---------------------------------

accounting_events = Table(
    "accounting_events",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column(
        "event_key", String(60), primary_key=True, comment="sale:<order id>, credit:<refund id>"
    ),
    Column("partition_date", Date, nullable=False),
    Column("kind", String(10), nullable=False, comment="sale or credit"),
    Column("reference", String(100), nullable=False, comment="becomes YourRef in Exact"),
    Column("order_id", BigInteger, nullable=False),
    Column("order_number", String(100), nullable=False),
    Column("refund_id", BigInteger),
    Column("event_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=False),
    Column("debtor", JSON, nullable=False),
    Column("vat_treatment", String(40), nullable=False),
    Column("vat_explanation", Text, nullable=False),
    Column("flags", JSON, nullable=False),
    Column("total_incl_vat", Amount, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("transformed_at", DateTime(timezone=True), nullable=False),
    # Decimal text on every database: a rate keeps all its digits (an inverse has 28), so the
    # event read back hashes as it was made.
    Column(
        "exchange_rate",
        _DecimalText(),
        comment="The shop's recorded rate: 1 unit of the administration's currency = rate",
    ),
    Index("ix_accounting_events_partition", "shop", "partition_date"),
)

journal_lines = Table(
    "journal_lines",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column("event_key", String(60), primary_key=True),
    Column("line_number", Integer, primary_key=True, autoincrement=False),
    Column(
        "kind", String(20), nullable=False, comment="revenue, shipping, fee, discount, rounding"
    ),
    Column("gl_account", String(40), nullable=False),
    Column("vat_code", String(10)),
    Column("vat_rate", Amount, nullable=False),
    Column("item_code", String(60)),
    Column("description", Text, nullable=False),
    Column("quantity", Amount, nullable=False),
    Column("unit_price", Amount),
    Column("amount_excl_vat", Amount, nullable=False),
    Column("vat_amount", Amount, nullable=False),
)

order_problems = Table(
    "order_problems",
    metadata,
    Column("shop", String(100), primary_key=True),
    Column(
        "problem_key", String(60), primary_key=True, comment="sale:<order id> or credit:<refund id>"
    ),
    Column("partition_date", Date, nullable=False),
    Column("order_id", BigInteger),
    Column("refund_id", BigInteger),
    Column("order_number", String(100), nullable=False),
    Column("outcome", String(20), nullable=False, comment="waiting or quarantined"),
    Column("category", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_order_problems_partition", "shop", "partition_date"),
)
