"""Staging tables: WooCommerce records as extracted, replaced per partition idempotently."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.bookkeeping.money import ZERO
from woo_exact_pipeline.bookkeeping.order import (
    OrderHeader,
    Record,
    RefundHeader,
    read_order,
    read_refund,
)
from woo_exact_pipeline.bookkeeping.parse import parse_gmt
from woo_exact_pipeline.store.schema import (
    woo_customers,
    woo_orders,
    woo_products,
    woo_refunds,
    woo_tax_rates,
)


class RangeStaging:
    """Stages a range of days from pages of orders, each order under its own creation day.

    Pages are written in short transactions as they arrive (memory stays one page), refunds
    follow in bulk, and `finish` drops what the shop no longer returned for these days.
    """

    def __init__(self, engine: Engine, shop: str, days: Sequence[date], time_zone: ZoneInfo):
        self._engine = engine
        self._shop = shop
        self._zone = time_zone
        self._order_ids: dict[date, list[int]] = {day: [] for day in days}
        self._refund_ids: dict[date, list[int]] = {day: [] for day in days}
        self._day_of_refunded_order: dict[int, date] = {}
        #: Id and refund totals of the refunded orders: what `client.refunds` needs.
        self.refunded_orders: list[Record] = []

    def save_orders(self, orders: Sequence[Record]) -> None:
        by_day: dict[date, list[OrderHeader]] = {}
        for order in map(read_order, orders):
            day = shop_day(order.created_gmt(), self._zone)
            by_day.setdefault(day, []).append(order)
            if order.refund_ids:
                self._day_of_refunded_order[order.order_id] = day
                self.refunded_orders.append(
                    {"id": order.order_id, "refunds": [{"id": i} for i in order.refund_ids]}
                )
        with self._engine.begin() as connection:
            for day, day_orders in by_day.items():
                _save_orders(connection, self._shop, day, day_orders)
                self._order_ids[day] += [order.order_id for order in day_orders]

    def save_refunds(self, refunds: Sequence[Record]) -> None:
        with self._engine.begin() as connection:
            for refund in map(read_refund, refunds):
                day = self._day_of_refunded_order[refund.order_id]
                _save_refunds(connection, self._shop, day, [refund])
                self._refund_ids[day].append(refund.refund_id)

    def finish(self) -> StagedRange:
        removed = 0
        with self._engine.begin() as connection:
            for day, order_ids in self._order_ids.items():
                removed += forget_unseen(
                    connection, self._shop, day, order_ids, self._refund_ids[day]
                )
            counts = [
                count
                for day in self._order_ids
                for count in partition_status_counts(connection, self._shop, day)
            ]
        return StagedRange(
            orders=sum(len(ids) for ids in self._order_ids.values()),
            refunds=sum(len(ids) for ids in self._refund_ids.values()),
            removed=removed,
            status_counts=counts,
        )


@dataclass(frozen=True)
class StagedRange:
    orders: int
    refunds: int
    removed: int  # rows of orders and refunds the shop no longer returned
    status_counts: list[StatusCount]


def forget_unseen(
    connection: Connection,
    shop: str,
    partition_date: date,
    order_ids: Iterable[int],
    refund_ids: Iterable[int],
) -> int:
    """Drop a partition's orders and refunds the shop no longer returned (deleted, trashed).

    Extraction upserts page by page in short transactions and calls this at the end, so the
    partition ends up exactly as the shop has it without holding a lock for the whole run.
    Returns how many rows went.
    """
    removed = 0
    for table, kept in ((woo_refunds, set(refund_ids)), (woo_orders, set(order_ids))):
        stored = connection.execute(
            select(table.c.id).where(table.c.shop == shop, table.c.partition_date == partition_date)
        ).scalars()
        gone = [identifier for identifier in stored if identifier not in kept]
        for chunk_start in range(0, len(gone), 500):
            removed += connection.execute(
                delete(table).where(
                    table.c.shop == shop, table.c.id.in_(gone[chunk_start : chunk_start + 500])
                )
            ).rowcount
    return removed


def save_orders(
    connection: Connection, shop: str, partition_date: date, orders: Sequence[Record]
) -> None:
    _save_orders(connection, shop, partition_date, [read_order(order) for order in orders])


def _save_orders(
    connection: Connection, shop: str, partition_date: date, orders: Sequence[OrderHeader]
) -> None:
    # A column the shop sent no readable value for gets a neutral one (no currency, a zero
    # total): the raw order keeps what was sent, and the transform quarantines the order with
    # the reason. One bad order must not fail its whole day's extraction.
    now = datetime.now(UTC)
    rows = [
        {
            "shop": shop,
            "id": order.order_id,
            "partition_date": partition_date,
            "number": order.number,
            "status": order.status,
            "currency": order.currency if isinstance(order.currency, str) else "",
            "total": order.total if isinstance(order.total, Decimal) else ZERO,
            "customer_id": order.customer_id,
            "created_via": order.created_via,
            "date_created_gmt": order.created_gmt(),
            "date_modified_gmt": order.last_change_gmt(),
            "raw": order.raw,
            "extracted_at": now,
        }
        for order in orders
    ]
    _upsert(connection, woo_orders, rows)


def save_refunds(
    connection: Connection, shop: str, partition_date: date, refunds: Sequence[Record]
) -> None:
    _save_refunds(connection, shop, partition_date, [read_refund(refund) for refund in refunds])


def _save_refunds(
    connection: Connection, shop: str, partition_date: date, refunds: Sequence[RefundHeader]
) -> None:
    rows = [
        {
            "shop": shop,
            "id": refund.refund_id,
            "order_id": refund.order_id,
            "partition_date": partition_date,
            "amount": refund.amount if isinstance(refund.amount, Decimal) else ZERO,
            "date_created_gmt": refund.created_gmt(),
            "raw": refund.raw,
        }
        for refund in refunds
    ]
    _upsert(connection, woo_refunds, rows)


def save_customers(connection: Connection, shop: str, customers: Sequence[Record]) -> None:
    now = datetime.now(UTC)
    rows = [
        {"shop": shop, "id": c["id"], "email": c.get("email"), "raw": c, "extracted_at": now}
        for c in customers
    ]
    _upsert(connection, woo_customers, rows)


def save_products(connection: Connection, shop: str, products: Sequence[Record]) -> None:
    """Products and variations (variations carry their product as `parent_id`)."""
    now = datetime.now(UTC)
    rows = [
        {
            "shop": shop,
            "id": product["id"],
            "parent_id": int(product.get("parent_id") or 0),
            "sku": product.get("sku") or None,
            "name": product.get("name") or "",
            "tax_class": product.get("tax_class") or "",
            "date_modified_gmt": (
                parse_gmt(product["date_modified_gmt"])
                if product.get("date_modified_gmt")
                else None
            ),
            "raw": product,
            "extracted_at": now,
        }
        for product in products
    ]
    _upsert(connection, woo_products, rows)


def replace_tax_rates(connection: Connection, shop: str, tax_rates: Sequence[Record]) -> None:
    now = datetime.now(UTC)
    connection.execute(delete(woo_tax_rates).where(woo_tax_rates.c.shop == shop))
    rows = [
        {
            "shop": shop,
            "id": rate["id"],
            "country": rate.get("country") or None,
            "rate": Decimal(str(rate.get("rate") or "0")),
            "tax_class": rate.get("class") or "standard",
            "name": rate.get("name"),
            "raw": rate,
            "extracted_at": now,
        }
        for rate in tax_rates
    ]
    _upsert(connection, woo_tax_rates, rows)


@dataclass(frozen=True)
class PartitionOrders:
    orders: list[Record]
    refunds_by_order: dict[int, list[Record]]


def load_partition(connection: Connection, shop: str, partition_date: date) -> PartitionOrders:
    """A partition's orders (by id) with the full objects of their refunds."""
    orders = connection.execute(
        select(woo_orders.c.raw)
        .where(woo_orders.c.shop == shop, woo_orders.c.partition_date == partition_date)
        .order_by(woo_orders.c.id)
    ).scalars()
    refunds: dict[int, list[Record]] = {}
    for order_id, raw in connection.execute(
        select(woo_refunds.c.order_id, woo_refunds.c.raw)
        .where(woo_refunds.c.shop == shop, woo_refunds.c.partition_date == partition_date)
        .order_by(woo_refunds.c.id)
    ):
        refunds.setdefault(order_id, []).append(raw)
    return PartitionOrders(orders=list(orders), refunds_by_order=refunds)


def customer_ids_of_partition(connection: Connection, shop: str, partition_date: date) -> list[int]:
    return list(
        connection.execute(
            select(woo_orders.c.customer_id)
            .where(
                woo_orders.c.shop == shop,
                woo_orders.c.partition_date == partition_date,
                woo_orders.c.customer_id != 0,
            )
            .distinct()
        ).scalars()
    )


def customers_extracted_since(
    connection: Connection, shop: str, customer_ids: Iterable[int], since: datetime
) -> set[int]:
    """Which of these customers were staged at or after `since`."""
    ids = list(customer_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found |= set(
            connection.execute(
                select(woo_customers.c.id).where(
                    woo_customers.c.shop == shop,
                    woo_customers.c.id.in_(ids[start : start + 500]),
                    woo_customers.c.extracted_at >= since,
                )
            ).scalars()
        )
    return found


@dataclass(frozen=True)
class StatusCount:
    status: str
    currency: str
    orders: int
    total: Decimal


def partition_status_counts(
    connection: Connection, shop: str, partition_date: date
) -> list[StatusCount]:
    """Orders and their total per status and currency (the sums are done in Python, exactly)."""
    counts: dict[tuple[str, str], list[Any]] = {}
    for status, currency, total in connection.execute(
        select(woo_orders.c.status, woo_orders.c.currency, woo_orders.c.total).where(
            woo_orders.c.shop == shop, woo_orders.c.partition_date == partition_date
        )
    ):
        entry = counts.setdefault((status, currency), [0, Decimal("0")])
        entry[0] += 1
        entry[1] += total
    return [
        StatusCount(status, currency, orders, total)
        for (status, currency), (orders, total) in sorted(counts.items())
    ]


def _upsert(connection: Connection, table: Any, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(rows)
    keys = [column.name for column in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={name: statement.excluded[name] for name in rows[0] if name not in keys},
    )
    connection.execute(statement)
