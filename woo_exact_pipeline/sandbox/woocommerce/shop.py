"""The in-memory shop the sandbox serves.

Orders and refunds are kept as compact JSON (exactly what the API returns, minus `_links`)
next to a small index of the fields the filters need: that is what keeps 100,000 orders well
under a gigabyte and a page of 100 orders a matter of joining bytes.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from woo_exact_pipeline.sandbox.woocommerce.documents import Sequences
from woo_exact_pipeline.sandbox.woocommerce.money import TaxRate

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)


@dataclass(frozen=True)
class ShopSettings:
    timezone: str = "Europe/Amsterdam"
    currency: str = "EUR"
    decimals: int = 2
    prices_include_tax: bool = True
    # The demo shop runs PDF Invoices & Packing Slips; a recorded shop ran no plugins.
    pdf_invoices: bool = True
    round_at_subtotal: bool = False  # woocommerce_tax_round_at_subtotal
    tax_based_on: str = "shipping"  # woocommerce_tax_based_on: shipping | billing

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def encode(document: Any) -> bytes:
    """JSON as WordPress sends it (PHP json_encode): compact, `\\/` and `\\uXXXX` escapes."""
    return json.dumps(document, separators=(",", ":")).replace("/", "\\/").encode()


class OrderRecord:
    """The filterable fields of one order and its stored JSON."""

    __slots__ = (
        "blob",
        "created_gmt",
        "created_local",
        "created_via",
        "customer_id",
        "id",
        "modified_gmt",
        "modified_local",
        "product_ids",
        "status",
    )

    def __init__(self, document: dict[str, Any]) -> None:
        self.id: int = document["id"]
        self.status: str = document["status"]
        self.created_local: str = document["date_created"]
        self.created_gmt: str = document["date_created_gmt"]
        self.modified_local: str = document["date_modified"]
        self.modified_gmt: str = document["date_modified_gmt"]
        self.customer_id: int = document["customer_id"]
        self.created_via: str = document["created_via"]
        self.product_ids: frozenset[int] = frozenset(
            item["product_id"] for item in document["line_items"]
        )
        self.blob: bytes = encode(document)

    def document(self) -> dict[str, Any]:
        return json.loads(self.blob)


class RefundRecord:
    __slots__ = ("blob", "created_gmt", "created_local", "id", "order_id")

    def __init__(self, document: dict[str, Any], order_id: int) -> None:
        self.id: int = document["id"]
        self.order_id = order_id
        self.created_local: str = document["date_created"]
        self.created_gmt: str = document["date_created_gmt"]
        # Refunds have no modified date; the CRUD filters fall back to the creation date.
        self.blob: bytes = encode({k: v for k, v in document.items() if k != "parent_id"})

    @property
    def modified_local(self) -> str:
        return self.created_local

    @property
    def modified_gmt(self) -> str:
        return self.created_gmt

    def document(self) -> dict[str, Any]:
        return json.loads(self.blob)


TRASH = "trash"  # trashed orders leave "any" and only show up under status=trash
CHECKOUT_DRAFT = "checkout-draft"  # left by a failed block checkout; never under "any"


class SortedOrders:
    """Orders ascending by (column, id), kept in order as orders change: paging a large shop
    must not re-sort it on every change."""

    def __init__(self, records: Iterable[OrderRecord], column: str) -> None:
        self.column = column
        self.records = sorted(records, key=attrgetter(column, "id"))
        self.keys = [(getattr(record, column), record.id) for record in self.records]

    def remove(self, old: OrderRecord) -> None:
        position = bisect_left(self.keys, (getattr(old, self.column), old.id))
        del self.keys[position]
        del self.records[position]

    def replace(self, old: OrderRecord | None, new: OrderRecord) -> None:
        if old is not None:
            self.remove(old)
        key = (getattr(new, self.column), new.id)
        position = bisect_left(self.keys, key)
        self.keys.insert(position, key)
        self.records.insert(position, new)


@dataclass
class Shop:
    settings: ShopSettings = field(default_factory=ShopSettings)
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    refunds: dict[int, RefundRecord] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    variations: dict[int, dict[str, Any]] = field(default_factory=dict)
    variation_parents: dict[int, int] = field(default_factory=dict)
    taxes: list[dict[str, Any]] = field(default_factory=list)
    tax_classes: list[dict[str, str]] = field(default_factory=list)
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)  # by code
    sequences: Sequences = field(default_factory=Sequences)
    last_invoice_number: int = 0
    # The moment the generated history ends; None for a loaded shop.
    now: datetime | None = None
    # Bumped on every change so cached query results are never stale.
    revision: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _sorted_orders: dict[str, SortedOrders] = field(default_factory=dict, repr=False)
    trashed_orders: int = 0
    draft_orders: int = 0

    # --- writing -------------------------------------------------------------------------

    def put_order(self, document: dict[str, Any]) -> None:
        with self.lock:
            record = OrderRecord(document)
            previous = self.orders.get(record.id)
            self.orders[record.id] = record
            for index in self._sorted_orders.values():
                index.replace(previous, record)
            self.trashed_orders += (record.status == TRASH) - (
                previous is not None and previous.status == TRASH
            )
            self.draft_orders += (record.status == CHECKOUT_DRAFT) - (
                previous is not None and previous.status == CHECKOUT_DRAFT
            )
            self.revision += 1

    def delete_order(self, order_id: int) -> None:
        """A permanent delete: the order and its refunds are gone without a trace."""
        with self.lock:
            record = self.orders.pop(order_id)
            for index in self._sorted_orders.values():
                index.remove(record)
            self.trashed_orders -= record.status == TRASH
            self.draft_orders -= record.status == CHECKOUT_DRAFT
            for refund_id in [r.id for r in self.refunds.values() if r.order_id == order_id]:
                del self.refunds[refund_id]
            self.revision += 1

    def sorted_orders(self, column: str) -> SortedOrders:
        """Orders ascending by `column` then ID (`id`, `created_local`, `modified_local`)."""
        with self.lock:
            if column not in self._sorted_orders:
                self._sorted_orders[column] = SortedOrders(self.orders.values(), column)
            return self._sorted_orders[column]

    def put_refund(self, document: dict[str, Any], order_id: int) -> None:
        with self.lock:
            self.refunds[document["id"]] = RefundRecord(document, order_id)
            self.revision += 1

    def put_variation(self, document: dict[str, Any], parent_id: int) -> None:
        with self.lock:
            self.variations[document["id"]] = document
            self.variation_parents[document["id"]] = parent_id
            self.revision += 1

    def next_invoice_number(self) -> int:
        with self.lock:
            self.last_invoice_number += 1
            return self.last_invoice_number

    def reserve_ids_after_existing(self) -> None:
        """New objects get IDs above everything loaded, as auto-increment columns do."""
        posts = [*self.orders, *self.refunds, *self.products, *self.variations, 0]
        self.sequences.posts.skip_to(max(posts) + 1)
        item_ids = [0]
        meta_ids = [0]
        for record in (*self.orders.values(), *self.refunds.values()):
            document = record.document()
            meta_ids.extend(entry.get("id", 0) for entry in document.get("meta_data", []))
            for kind in ("line_items", "shipping_lines", "fee_lines", "coupon_lines", "tax_lines"):
                for item in document.get(kind, []):
                    item_ids.append(item.get("id", 0))
                    meta_ids.extend(entry.get("id", 0) for entry in item.get("meta_data", []))
        self.sequences.items.skip_to(max(item_ids) + 1)
        self.sequences.meta.skip_to(max(meta_ids) + 1)

    # --- reading -------------------------------------------------------------------------

    def tax_rates(self) -> list[TaxRate]:
        return [
            TaxRate(
                id=tax["id"],
                country=tax["country"],
                rate=Decimal(tax["rate"]),
                name=tax["name"],
                tax_class="" if tax["class"] == "standard" else tax["class"],
                shipping=tax["shipping"],
                compound=tax["compound"],
                priority=tax["priority"],
            )
            for tax in self.taxes
        ]

    def rates_by_class(self, country: str) -> dict[str, list[TaxRate]]:
        """WC_Tax::find_rates for a country: the best-matching rate per priority and class."""
        by_class: dict[str, list[TaxRate]] = {}
        for rate in self.tax_rates():
            if rate.country in (country, ""):
                by_class.setdefault(rate.tax_class, [])
                if all(other.priority != rate.priority for other in by_class[rate.tax_class]):
                    by_class[rate.tax_class].append(rate)
        return by_class

    def export(self) -> dict[str, Any]:
        """The shop in the `--shop-data` file format."""
        with self.lock:
            refunds = []
            for record in self.refunds.values():
                refunds.append({**record.document(), "order_id": record.order_id})
            variations = [
                {**variation, "parent_id": self.variation_parents[variation_id]}
                for variation_id, variation in self.variations.items()
            ]  # variations carry their parent, as on the store-wide /variations listing
            return {
                "settings": {
                    "timezone": self.settings.timezone,
                    "currency": self.settings.currency,
                    "decimals": self.settings.decimals,
                    "prices_include_tax": self.settings.prices_include_tax,
                    "pdf_invoices": self.settings.pdf_invoices,
                    "round_at_subtotal": self.settings.round_at_subtotal,
                    "tax_based_on": self.settings.tax_based_on,
                },
                "orders": [record.document() for record in self.orders.values()],
                "refunds": refunds,
                "customers": list(self.customers.values()),
                "products": list(self.products.values()),
                "variations": variations,
                "taxes": list(self.taxes),
                "tax_classes": list(self.tax_classes),
                "coupons": list(self.coupons.values()),
            }
