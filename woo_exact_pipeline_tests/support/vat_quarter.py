"""A quarter of orders and returns for the VAT report tests."""

from __future__ import annotations

from typing import Any

from woo_exact_pipeline_tests.fixtures.bookkeeping import address
from woo_exact_pipeline_tests.support.orders import (
    business_order,
    coffee_order,
    german_order,
)


def book_returned_in_april() -> dict[str, Any]:
    """The German customer sends the Kaffeebuch back on 2 April: 18.64 + 1.31 (7%)."""
    return {
        "id": 503,
        "date_created": "2026-04-02T10:00:00",
        "date_created_gmt": "2026-04-02T08:00:00",
        "amount": "19.95",
        "reason": "Retour",
        "refunded_by": 1,
        "refunded_payment": True,
        "meta_data": [],
        "line_items": [
            {"id": 701, "name": "Kaffeebuch", "product_id": 81, "variation_id": 0,
             "quantity": -1, "tax_class": "reduced-rate", "subtotal": "-18.64",
             "subtotal_tax": "-1.31", "total": "-18.64", "total_tax": "-1.31",
             "taxes": [{"id": 8, "total": "-1.3048", "subtotal": "-1.3048"}],
             "meta_data": [{"id": 7101, "key": "_refunded_item_id", "value": "22"}],
             "sku": "BOEK-DE", "price": -18.64},
        ],
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
    }  # fmt: skip


def the_quarters_orders() -> list[dict[str, Any]]:
    """All dated 2 March 2026: Dutch coffee (21% and 9%), a German consumer (OSS 19% and 7%),
    a German business with VAT number "DE 123.456.789" (reverse charge) and the same goods
    shipped to the United States (export, order 1006)."""
    export = business_order("US", id=1006, number="1006", meta_data=[])
    export["shipping"] = address("US", city="Portland", postcode="97201", state="OR")
    return [
        coffee_order(refunds=[{"id": 501, "reason": "Retour", "total": "-45.95"}]),
        german_order(refunds=[{"id": 503, "reason": "Retour", "total": "-19.95"}]),
        business_order("DE"),
        export,
    ]
