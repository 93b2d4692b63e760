"""Broken WooCommerce orders: what a shop or a plugin can send that cannot be booked as is."""

from __future__ import annotations

from typing import Any

from woo_exact_pipeline_tests.fixtures.bookkeeping import wc_order
from woo_exact_pipeline_tests.support.orders import (
    NL_TAX_LINES,
)


def simple_order(order_id: int = 3001, **fields: Any) -> dict[str, Any]:
    """One mug at 12.10 incl. 21% (10.00 + 2.10)."""
    order = wc_order(
        order_id,
        cart_tax="2.10",
        total="12.10",
        total_tax="2.10",
        line_items=[
            {"id": 1, "name": "Mok", "product_id": 5, "quantity": 1, "tax_class": "",
             "subtotal": "10.00", "subtotal_tax": "2.10", "total": "10.00", "total_tax": "2.10",
             "taxes": [{"id": 1, "total": "2.1", "subtotal": "2.1"}], "meta_data": [],
             "sku": "MOK", "price": 10},
        ],
    )  # fmt: skip
    order.update(fields)
    if "tax_lines" not in fields:
        # As in WooCommerce, the 21% tax line states the order's cart tax.
        order["tax_lines"] = [
            {**NL_TAX_LINES[0], "tax_total": order["cart_tax"], "shipping_tax_total": "0.00"}
        ]
    return order


def hundred_percent_coupon() -> dict[str, Any]:
    order = simple_order(
        total="0.00", total_tax="0.00", cart_tax="0.00", discount_total="10.00",
        discount_tax="2.10",
        coupon_lines=[{"id": 7, "code": "gratis", "discount": "10.00", "discount_tax": "2.10",
                       "discount_type": "percent", "nominal_amount": 100, "free_shipping": False,
                       "meta_data": []}],
    )  # fmt: skip
    order["line_items"][0].update(
        total="0.00", total_tax="0.00", price=0, taxes=[{"id": 1, "total": "0", "subtotal": "2.1"}]
    )
    return order
