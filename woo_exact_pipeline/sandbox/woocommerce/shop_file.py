"""`--shop-data FILE`: replay a shop from records in the exact shape the REST API returns.

The file is a JSON object with `orders`, `refunds` (each with its `order_id`), `customers`,
`products`, `variations` (with `parent_id`, or listed in their product's `variations`),
`taxes`, optional `tax_classes`, `coupons` (orders created through the API apply them by
code) and `settings` (`timezone`, `currency`, `decimals`,
`prices_include_tax`, `round_at_subtotal`, `tax_based_on`, `pdf_invoices`: whether new orders
get the PDF invoice plugin's field).
Every record is checked for the fields the sandbox serves and filters on; a problem names the
record and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from woo_exact_pipeline.sandbox.woocommerce.catalogue import TAX_CLASSES
from woo_exact_pipeline.sandbox.woocommerce.shop import ORDER_STATUSES, TRASH, Shop, ShopSettings

WC_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
MONEY = re.compile(r"^-?\d+(\.\d+)?$")


class ShopDataError(ValueError):
    """The shop file is not usable; the message names the record and the field."""


def _where(kind: str, index: int, record: Any) -> str:
    record_id = record.get("id") if isinstance(record, dict) else None
    return f"{kind}[{index}]" + (f" (id {record_id})" if record_id is not None else "")


def _require(record: dict[str, Any], where: str, name: str, kind: str) -> None:
    if name not in record:
        raise ShopDataError(f"{where}: field '{name}' is missing")
    value = record[name]
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
        "date": isinstance(value, str) and bool(WC_DATE.match(value)),
        "money": isinstance(value, str) and bool(MONEY.match(value)),
        "status": value in (*ORDER_STATUSES, TRASH),
    }[kind]
    if not ok:
        expected = {
            "date": "a date 'YYYY-MM-DDTHH:MM:SS'",
            "money": "an amount string like '12.34'",
            "status": "one of " + ", ".join((*ORDER_STATUSES, TRASH)),
        }.get(kind, f"of type {kind}")
        raise ShopDataError(f"{where}: field '{name}' must be {expected}, got {value!r}")


ORDER_FIELDS = {
    "id": "int",
    "status": "status",
    "currency": "str",
    "date_created": "date",
    "date_created_gmt": "date",
    "date_modified": "date",
    "date_modified_gmt": "date",
    "total": "money",
    "total_tax": "money",
    "customer_id": "int",
    "order_key": "str",
    "created_via": "str",
    "number": "str",
    "billing": "dict",
    "shipping": "dict",
    "meta_data": "list",
    "line_items": "list",
    "tax_lines": "list",
    "shipping_lines": "list",
    "fee_lines": "list",
    "coupon_lines": "list",
    "refunds": "list",
}
LINE_ITEM_FIELDS = {
    "id": "int",
    "product_id": "int",
    "quantity": "int",
    "total": "money",
    "total_tax": "money",
    "taxes": "list",
}
REFUND_FIELDS = {
    "id": "int",
    "order_id": "int",
    "date_created": "date",
    "date_created_gmt": "date",
    "amount": "money",
    "line_items": "list",
}
CUSTOMER_FIELDS = {
    "id": "int",
    "email": "str",
    "role": "str",
    "username": "str",
    "first_name": "str",
    "last_name": "str",
    "date_created": "date",
    "date_created_gmt": "date",
}
PRODUCT_FIELDS = {
    "id": "int",
    "name": "str",
    "type": "str",
    "status": "str",
    "sku": "str",
    "price": "str",
    "tax_class": "str",
    "date_created": "date",
    "date_created_gmt": "date",
    "date_modified": "date",
    "date_modified_gmt": "date",
}
VARIATION_FIELDS = {
    name: kind for name, kind in PRODUCT_FIELDS.items() if name not in ("name", "type")
}
COUPON_FIELDS = {"id": "int", "code": "str", "discount_type": "str", "amount": "money"}
TAX_FIELDS = {
    "id": "int",
    "country": "str",
    "rate": "str",
    "name": "str",
    "priority": "int",
    "compound": "bool",
    "shipping": "bool",
    "order": "int",
    "class": "str",
}


def _records(data: dict[str, Any], kind: str, fields: dict[str, str]) -> list[dict[str, Any]]:
    records = data.get(kind, [])
    if not isinstance(records, list):
        raise ShopDataError(f"'{kind}' must be a list of {kind} objects")
    for index, record in enumerate(records):
        where = _where(kind, index, record)
        if not isinstance(record, dict):
            raise ShopDataError(f"{where}: must be an object")
        for name, field_kind in fields.items():
            _require(record, where, name, field_kind)
    # Links in an export point at the shop it came from; the sandbox adds its own.
    return [{key: value for key, value in record.items() if key != "_links"} for record in records]


def _settings(data: dict[str, Any]) -> ShopSettings:
    raw = data.get("settings", {})
    if not isinstance(raw, dict):
        raise ShopDataError("'settings' must be an object")
    settings = ShopSettings(
        timezone=raw.get("timezone", "Europe/Amsterdam"),
        currency=raw.get("currency", "EUR"),
        decimals=raw.get("decimals", 2),
        prices_include_tax=raw.get("prices_include_tax", True),
        pdf_invoices=raw.get("pdf_invoices", True),
        round_at_subtotal=raw.get("round_at_subtotal", False),
        tax_based_on=raw.get("tax_based_on", "shipping"),
    )
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ShopDataError(
            f"settings: field 'timezone' is not a known time zone: {error}"
        ) from error
    if not isinstance(settings.decimals, int) or not 0 <= settings.decimals <= 6:
        raise ShopDataError("settings: field 'decimals' must be an integer from 0 to 6")
    if not isinstance(settings.prices_include_tax, bool):
        raise ShopDataError("settings: field 'prices_include_tax' must be true or false")
    for name in ("pdf_invoices", "round_at_subtotal"):
        if not isinstance(getattr(settings, name), bool):
            raise ShopDataError(f"settings: field '{name}' must be true or false")
    if settings.tax_based_on not in ("shipping", "billing"):
        raise ShopDataError("settings: field 'tax_based_on' must be 'shipping' or 'billing'")
    return settings


def load_shop(data: dict[str, Any]) -> Shop:
    if not isinstance(data, dict):
        raise ShopDataError("the shop file must hold one JSON object")
    shop = Shop(settings=_settings(data))
    orders = _records(data, "orders", ORDER_FIELDS)
    for index, order in enumerate(orders):
        for item_index, item in enumerate(order["line_items"]):
            where = f"{_where('orders', index, order)} line_items[{item_index}]"
            if not isinstance(item, dict):
                raise ShopDataError(f"{where}: must be an object")
            for name, field_kind in LINE_ITEM_FIELDS.items():
                _require(item, where, name, field_kind)
    refunds = _records(data, "refunds", REFUND_FIELDS)
    order_ids = {order["id"] for order in orders}
    for index, refund in enumerate(refunds):
        if refund["order_id"] not in order_ids:
            raise ShopDataError(
                f"{_where('refunds', index, refund)}: field 'order_id' names order "
                f"{refund['order_id']}, which is not in 'orders'"
            )
    customers = _records(data, "customers", CUSTOMER_FIELDS)
    products = _records(data, "products", PRODUCT_FIELDS)
    variations = _records(data, "variations", VARIATION_FIELDS)
    taxes = _records(data, "taxes", TAX_FIELDS)
    coupons = _records(data, "coupons", COUPON_FIELDS)
    for order in orders:
        shop.put_order(order)
    for refund in refunds:
        shop.put_refund({k: v for k, v in refund.items() if k != "order_id"}, refund["order_id"])
    shop.customers = {customer["id"]: customer for customer in customers}
    shop.products = {product["id"]: product for product in products}
    # /products/{id}/variations answers without parent_id; the parent's list names it.
    parents = {
        variation_id: product["id"]
        for product in products
        for variation_id in product.get("variations") or []
    }
    for index, variation in enumerate(variations):
        parent_id = variation.get("parent_id") or parents.get(variation["id"])
        if not isinstance(parent_id, int) or parent_id not in shop.products:
            raise ShopDataError(
                f"{_where('variations', index, variation)}: field 'parent_id' is missing and "
                "no product lists this variation in its 'variations'"
            )
        shop.put_variation(variation, parent_id)
    shop.taxes = taxes
    shop.coupons = {coupon["code"].lower(): coupon for coupon in coupons}
    shop.tax_classes = data.get("tax_classes") or [dict(item) for item in TAX_CLASSES]
    shop.last_invoice_number = _highest_invoice_number(orders)
    shop.reserve_ids_after_existing()
    return shop


def _highest_invoice_number(orders: list[dict[str, Any]]) -> int:
    highest = 0
    for order in orders:
        for entry in order["meta_data"]:
            if entry.get("key") == "_wcpdf_invoice_number_data" and isinstance(
                entry.get("value"), dict
            ):
                highest = max(highest, int(entry["value"].get("number") or 0))
    return highest


def load_shop_file(path: Path) -> Shop:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ShopDataError(f"cannot read shop file {path}: {error}") from error
    except json.JSONDecodeError as error:
        raise ShopDataError(f"{path} is not valid JSON: {error}") from error
    return load_shop(data)
