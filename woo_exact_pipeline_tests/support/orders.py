"""WooCommerce orders and refunds for the bookkeeping tests, their figures worked out by hand."""

from __future__ import annotations

from typing import Any

from woo_exact_pipeline_tests.fixtures.bookkeeping import address, wc_order

NL_TAX_LINES = [
    {
        "id": 301,
        "rate_code": "NL-BTW HOOG-1",
        "rate_id": 1,
        "label": "BTW hoog",
        "compound": False,
        "tax_total": "15.49",
        "shipping_tax_total": "1.21",
        "rate_percent": 21.0,
        "meta_data": [],
    },
    {
        "id": 302,
        "rate_code": "NL-BTW LAAG-1",
        "rate_id": 2,
        "label": "BTW laag",
        "compound": False,
        "tax_total": "2.06",
        "shipping_tax_total": "0.00",
        "rate_percent": 9.0,
        "meta_data": [],
    },
]


def nl_tax_lines(high: str, low: str | None = None, shipping: str = "0.00") -> list[dict[str, Any]]:
    """NL_TAX_LINES stating `high` (21%, plus `shipping`) and `low` (9%; None: no 9% line)."""
    lines = [{**NL_TAX_LINES[0], "tax_total": high, "shipping_tax_total": shipping}]
    if low is not None:
        lines.append({**NL_TAX_LINES[1], "tax_total": low})
    return lines


def coffee_order(order_id: int = 1001, **fields: Any) -> dict[str, Any]:
    """Two bags of coffee and a moka pot (21%), a cookbook without SKU (9%), PostNL, iDEAL fee.

    21%: 41.24 + 32.23 = 73.47 net, 8.66 + 6.77 = 15.43 VAT; 9%: 22.89 + 2.06;
    shipping 5.74 + 1.21; fee 0.29 + 0.06. Total 121.15, of which VAT 18.76.
    """
    order = wc_order(
        order_id,
        shipping_total="5.74",
        shipping_tax="1.21",
        cart_tax="17.55",
        total="121.15",
        total_tax="18.76",
        line_items=[
            {
                "id": 11,
                "name": "Koffiebonen Ethiopië 1kg",
                "product_id": 70,
                "variation_id": 0,
                "quantity": 2,
                "tax_class": "",
                "subtotal": "41.24",
                "subtotal_tax": "8.66",
                "total": "41.24",
                "total_tax": "8.66",
                "taxes": [{"id": 1, "total": "8.6603", "subtotal": "8.6603"}],
                "meta_data": [],
                "sku": "KOF-ETH-1000",
                "price": 20.62,
                "image": {"id": "", "src": ""},
                "parent_name": None,
            },
            {
                "id": 12,
                "name": "Kookboek &ndash; Koffie",
                "product_id": 71,
                "variation_id": 0,
                "quantity": 1,
                "tax_class": "reduced-rate",
                "subtotal": "22.89",
                "subtotal_tax": "2.06",
                "total": "22.89",
                "total_tax": "2.06",
                "taxes": [{"id": 2, "total": "2.0601", "subtotal": "2.0601"}],
                "meta_data": [],
                "sku": "",
                "price": 22.89,
                "image": {"id": "", "src": ""},
                "parent_name": None,
            },
            {
                "id": 13,
                "name": "Moka pot 3 kops",
                "product_id": 72,
                "variation_id": 0,
                "quantity": 1,
                "tax_class": "",
                "subtotal": "32.23",
                "subtotal_tax": "6.77",
                "total": "32.23",
                "total_tax": "6.77",
                "taxes": [{"id": 1, "total": "6.7683", "subtotal": "6.7683"}],
                "meta_data": [],
                "sku": "MOKA-3",
                "price": 32.23,
                "image": {"id": "", "src": ""},
                "parent_name": None,
            },
        ],
        tax_lines=NL_TAX_LINES,
        shipping_lines=[
            {
                "id": 14,
                "method_title": "PostNL",
                "method_id": "flat_rate",
                "instance_id": "1",
                "total": "5.74",
                "total_tax": "1.21",
                "taxes": [{"id": 1, "total": "1.2054", "subtotal": ""}],
                "meta_data": [],
            }
        ],
        fee_lines=[
            {
                "id": 15,
                "name": "Betaalkosten iDEAL",
                "tax_class": "",
                "tax_status": "taxable",
                "amount": "0.29",
                "total": "0.29",
                "total_tax": "0.06",
                "taxes": [{"id": 1, "total": "0.0609", "subtotal": ""}],
                "meta_data": [],
            }
        ],
    )
    order.update(fields)
    return order


DE_TAX_LINES = [
    {"id": 401, "rate_code": "DE-MWST-1", "rate_id": 7, "label": "MwSt.", "compound": False,
     "tax_total": "5.99", "shipping_tax_total": "1.59", "rate_percent": 19.0, "meta_data": []},
    {"id": 402, "rate_code": "DE-MWST ERM-1", "rate_id": 8, "label": "MwSt. ermäßigt",
     "compound": False, "tax_total": "1.31", "shipping_tax_total": "0.00", "rate_percent": 7.0,
     "meta_data": []},
]  # fmt: skip


def german_order(order_id: int = 1002, **fields: Any) -> dict[str, Any]:
    """Three bags at 12.50 incl. 19% (31.51 + 5.99), a book at 19.95 incl. 7% (18.64 + 1.31),
    DHL at 9.95 incl. 19% (8.36 + 1.59). Total 67.40, VAT 8.89."""
    billing = {
        **address("DE", first_name="Jürgen", last_name="Groß", city="München",
                  postcode="80331", address_1="Marienplatz 8"),
        "email": "juergen@example.de",
    }  # fmt: skip
    order = wc_order(
        order_id,
        billing=billing,
        shipping_total="8.36",
        shipping_tax="1.59",
        cart_tax="7.30",
        total="67.40",
        total_tax="8.89",
        line_items=[
            {"id": 21, "name": "Koffiebonen Brazilië 500g", "product_id": 80, "variation_id": 0,
             "quantity": 3, "tax_class": "", "subtotal": "31.51", "subtotal_tax": "5.99",
             "total": "31.51", "total_tax": "5.99",
             "taxes": [{"id": 7, "total": "5.9869", "subtotal": "5.9869"}],
             "meta_data": [], "sku": "KOF-BRA-500", "price": 10.503333},
            {"id": 22, "name": "Kaffeebuch", "product_id": 81, "variation_id": 0, "quantity": 1,
             "tax_class": "reduced-rate", "subtotal": "18.64", "subtotal_tax": "1.31",
             "total": "18.64", "total_tax": "1.31",
             "taxes": [{"id": 8, "total": "1.3048", "subtotal": "1.3048"}],
             "meta_data": [], "sku": "BOEK-DE", "price": 18.64},
        ],
        tax_lines=DE_TAX_LINES,
        shipping_lines=[
            {"id": 23, "method_title": "DHL Paket", "method_id": "flat_rate", "instance_id": "3",
             "total": "8.36", "total_tax": "1.59", "taxes": [{"id": 7, "total": "1.5884"}],
             "meta_data": []},
        ],
    )  # fmt: skip
    order.update(fields)
    return order


def business_order(country: str, **fields: Any) -> dict[str, Any]:
    """Ten bags at 20.62 excl. VAT to a business, shipping 5.74, no VAT: total 211.94."""
    billing = {
        **address(country, company="Kaffeerösterei Müller GmbH", first_name="Anna",
                  last_name="Müller", city="Köln", postcode="50667"),
        "email": "Einkauf@Mueller-Kaffee.de",
    }  # fmt: skip
    order = wc_order(
        1004,
        billing=billing,
        shipping_total="5.74",
        total="211.94",
        total_tax="0.00",
        meta_data=[
            {"id": 9101, "key": "_billing_vat_number", "value": "DE 123.456.789"},
            {"id": 9102, "key": "_vat_number_is_valid", "value": "true"},
        ],
        line_items=[
            {"id": 41, "name": "Koffiebonen Ethiopië 1kg", "product_id": 70, "quantity": 10,
             "tax_class": "", "subtotal": "206.20", "subtotal_tax": "0.00", "total": "206.20",
             "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": "KOF-ETH-1000",
             "price": 20.62},
        ],
        shipping_lines=[
            {"id": 42, "method_title": "DHL Paket", "method_id": "flat_rate", "total": "5.74",
             "total_tax": "0.00", "taxes": [], "meta_data": []},
        ],
    )  # fmt: skip
    order.update(fields)
    return order


def moka_and_shipping_refund() -> dict[str, Any]:
    """The moka pot returned and shipping refunded: 32.23 + 6.77 + 5.74 + 1.21 = 45.95.

    Created 23:30 UTC on 4 March, which is 00:30 on 5 March in Amsterdam."""
    return {
        "id": 501,
        "date_created": "2026-03-05T00:30:00",
        "date_created_gmt": "2026-03-04T23:30:00",
        "amount": "45.95",
        "reason": "Retour",
        "refunded_by": 1,
        "refunded_payment": True,
        "meta_data": [],
        "line_items": [
            {"id": 601, "name": "Moka pot 3 kops", "product_id": 72, "variation_id": 0,
             "quantity": -1, "tax_class": "", "subtotal": "-32.23", "subtotal_tax": "-6.77",
             "total": "-32.23", "total_tax": "-6.77",
             "taxes": [{"id": 1, "total": "-6.7683", "subtotal": "-6.7683"}],
             "meta_data": [{"id": 7001, "key": "_refunded_item_id", "value": "13",
                            "display_key": "_refunded_item_id", "display_value": "13"}],
             "sku": "MOKA-3", "price": -32.23},
        ],
        "shipping_lines": [
            {"id": 602, "method_title": "PostNL", "method_id": "flat_rate", "total": "-5.74",
             "total_tax": "-1.21", "taxes": [{"id": 1, "total": "-1.2054", "subtotal": ""}],
             "meta_data": [{"id": 7002, "key": "_refunded_item_id", "value": "14"}]},
        ],
        "tax_lines": [],
        "fee_lines": [],
    }  # fmt: skip


def goodwill_refund(refund_id: int = 502, amount: str = "10.00") -> dict[str, Any]:
    return {
        "id": refund_id,
        "date_created": "2026-03-10T14:00:00",
        "date_created_gmt": "2026-03-10T13:00:00",
        "amount": amount,
        "reason": "Coulance",
        "refunded_by": 1,
        "refunded_payment": False,
        "meta_data": [],
        "line_items": [],
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
    }
