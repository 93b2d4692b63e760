"""Orders, refunds, customers, products and tax rates as the wc/v3 REST API shows them.

Documents are plain dicts in WooCommerce's key order (the order of `get_base_data()`), without
`_links`, which depend on the URL the server is reached at and are added when served.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from woo_exact_pipeline.sandbox.woocommerce.money import (
    ZERO,
    CartTotals,
    TaxRate,
    format_amount,
    round_half_up,
)

WC_VERSION = "9.8.5"
CURRENCY_SYMBOLS = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "CHF": "CHF",
    "NOK": "kr",
    "SEK": "kr",
    "JPY": "¥",
}
EMPTY_IMAGE = {"id": "", "src": ""}


class IdSequence:
    """One auto-increment counter, like a WordPress table (posts, order items, meta rows)."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        return next(self._counter)

    def skip_to(self, minimum: int) -> None:
        self._counter = itertools.count(max(minimum, next(self._counter)))


@dataclass
class Sequences:
    """WordPress keeps orders and refunds in one posts table; items and meta have their own."""

    posts: IdSequence = field(default_factory=lambda: IdSequence(1000))
    items: IdSequence = field(default_factory=lambda: IdSequence(1))
    meta: IdSequence = field(default_factory=lambda: IdSequence(1))


def wc_dates(moment: datetime | None, timezone: ZoneInfo) -> tuple[str | None, str | None]:
    """(site-local, GMT) renderings of a moment, `YYYY-MM-DDTHH:MM:SS` without offset."""
    if moment is None:
        return None, None
    return (
        moment.astimezone(timezone).replace(tzinfo=None).isoformat(timespec="seconds"),
        moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
    )


def meta_entry(sequences: Sequences, key: str, value: Any) -> dict[str, Any]:
    return {"id": sequences.meta.next(), "key": key, "value": value}


def item_meta_entry(sequences: Sequences, key: str, value: Any) -> dict[str, Any]:
    """Order item meta also carries its display key and value."""
    return {
        "id": sequences.meta.next(),
        "key": key,
        "value": value,
        "display_key": key,
        "display_value": value,
    }


def address(
    *,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    address_1: str = "",
    address_2: str = "",
    city: str = "",
    state: str = "",
    postcode: str = "",
    country: str = "",
    email: str | None = None,
    phone: str = "",
    with_email: bool,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "company": company,
        "address_1": address_1,
        "address_2": address_2,
        "city": city,
        "state": state,
        "postcode": postcode,
        "country": country,
    }
    if with_email:
        fields["email"] = email
    fields["phone"] = phone
    return fields


@dataclass
class OrderLine:
    """What the customer bought; the money comes from the matching LineResult."""

    name: str
    product_id: int
    variation_id: int
    quantity: int
    tax_class: str
    sku: str | None
    parent_name: str | None = None
    attributes: list[tuple[str, str]] = field(default_factory=list)
    # Force-deleted since the order: product_id 0, sku and global_unique_id null, image id 0.
    deleted: bool = False


@dataclass
class CouponLine:
    code: str
    discount_type: str
    nominal_amount: Decimal
    free_shipping: bool = False
    coupon_id: int | None = None  # the shop's coupon post, named in the line's coupon_info


def _coupon_meta(sequences: Sequences, coupon: CouponLine) -> list[dict[str, Any]]:
    """WooCommerce 8.7+ keeps [id, code, type, amount] on the line as a JSON string."""
    if coupon.coupon_id is None:
        return []
    info = [coupon.coupon_id, coupon.code, coupon.discount_type, php_number(coupon.nominal_amount)]
    return [item_meta_entry(sequences, "coupon_info", json.dumps(info, separators=(",", ":")))]


def _taxes_list(
    taxes: dict[int, Decimal], decimals: int, *, with_subtotal: dict[int, Decimal] | None
) -> list:
    """An item's taxes per rate, the stored unrounded values shown at `dp` decimals (half up,
    whatever the tax rounding mode: 0.525 shows as 0.53 next to a total_tax of 0.52). Shipping
    and fees have no subtotal: ""."""
    entries = []
    for rate_id, tax in taxes.items():
        subtotal = "" if with_subtotal is None else with_subtotal.get(rate_id, ZERO)
        entries.append(
            {
                "id": rate_id,
                "subtotal": subtotal if subtotal == "" else format_amount(subtotal, decimals),
                "total": format_amount(tax, decimals),
            }
        )
    return entries


def format_unpadded(value: Decimal, decimals: int) -> str:
    text = format(round_half_up(value, Decimal(1).scaleb(-decimals)).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def php_number(value: Decimal) -> int | float:
    """A PHP float that happens to be whole goes out as an integer (21, not 21.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _image(variation_id: int) -> dict[str, Any]:
    # A variation's line shows its (absent) image id as 0, a simple product's as "".
    return {"id": 0, "src": ""} if variation_id else dict(EMPTY_IMAGE)


def _price(total: Decimal, quantity: int) -> float:
    """`price` is total / quantity as a PHP float: a JSON number, possibly repeating."""
    return float(total / quantity) if quantity else 0


def build_order(
    *,
    sequences: Sequences,
    order_id: int,
    created: datetime,
    timezone: ZoneInfo,
    decimals: int,
    prices_include_tax: bool,
    currency: str,
    customer_id: int,
    billing: dict[str, Any],
    shipping: dict[str, Any],
    payment_method: str,
    payment_method_title: str,
    created_via: str,
    order_key: str,
    lines: list[OrderLine],
    coupons: list[CouponLine],
    cart: CartTotals,
    rates_by_id: dict[int, TaxRate],
    meta: list[tuple[str, Any]],
    customer_note: str = "",
    customer_ip_address: str = "",
    customer_user_agent: str = "",
    cart_hash: str = "",
    pdf_invoices: bool = True,
) -> dict[str, Any]:
    """A freshly placed order in status `pending`; later steps move it along. `pdf_invoices`:
    the shop runs PDF Invoices & Packing Slips, which adds `wpo_wcpdf_invoice_number`."""
    created_local, created_gmt = wc_dates(created, timezone)
    money = lambda value: format_amount(value, decimals)  # noqa: E731 - local shorthand
    line_items = []
    for line, result in zip(lines, cart.lines, strict=True):
        line_items.append(
            {
                "id": sequences.items.next(),
                "name": line.name,
                "product_id": 0 if line.deleted else line.product_id,
                "variation_id": line.variation_id,
                "quantity": line.quantity,
                "tax_class": line.tax_class,
                "subtotal": money(result.subtotal),
                "subtotal_tax": money(result.subtotal_tax),
                "total": money(result.total),
                "total_tax": money(result.total_tax),
                "taxes": _taxes_list(result.taxes, decimals, with_subtotal=result.subtotal_taxes),
                "meta_data": [item_meta_entry(sequences, k, v) for k, v in line.attributes],
                "sku": None if line.deleted else line.sku,
                "global_unique_id": None if line.deleted else "",
                "price": _price(result.total, line.quantity),
                "image": {"id": 0, "src": ""} if line.deleted else _image(line.variation_id),
                "parent_name": line.parent_name,
            }
        )
    shipping_lines = [
        {
            "id": sequences.items.next(),
            "method_title": result.shipping.method_title,
            "method_id": result.shipping.method_id,
            "instance_id": result.shipping.instance_id,
            "total": money(result.total),
            "total_tax": money(result.total_tax),
            "taxes": _taxes_list(result.taxes, decimals, with_subtotal=None),
            "tax_status": "taxable",
            "meta_data": [],
        }
        for result in cart.shipping
    ]
    fee_lines = [
        {
            "id": sequences.items.next(),
            "name": result.fee.name,
            "tax_class": result.fee.tax_class,
            "tax_status": "taxable" if result.fee.taxable else "none",
            "amount": "",  # the REST API shows a fee's amount empty
            "total": money(result.total),
            "total_tax": money(result.total_tax),
            "taxes": _taxes_list(result.taxes, decimals, with_subtotal=None),
            "meta_data": [],
        }
        for result in cart.fees
    ]
    coupon_lines = []
    for coupon in coupons:
        discount, discount_tax = cart.coupon_discounts[coupon.code]
        coupon_lines.append(
            {
                "id": sequences.items.next(),
                "code": coupon.code,
                # Coupon lines show their float amounts unpadded: "4.5", not "4.50".
                "discount": format_unpadded(discount, decimals),
                "discount_tax": format_unpadded(discount_tax, decimals),
                "discount_type": coupon.discount_type,
                "nominal_amount": php_number(coupon.nominal_amount),
                "free_shipping": coupon.free_shipping,
                "meta_data": _coupon_meta(sequences, coupon),
            }
        )
    tax_lines = []
    # Tax lines come in the order the rates first appear: items and fees, then shipping.
    for rate_id in dict.fromkeys([*cart.rate_item_taxes, *cart.rate_shipping_taxes]):
        rate = rates_by_id[rate_id]
        tax_lines.append(
            {
                "id": sequences.items.next(),
                "rate_code": rate_code(rate),
                "rate_id": rate.id,
                "label": rate.name,
                "compound": rate.compound,
                "tax_total": money(cart.rate_item_taxes.get(rate_id, ZERO)),
                "shipping_tax_total": money(cart.rate_shipping_taxes.get(rate_id, ZERO)),
                "rate_percent": php_number(rate.rate),
                "meta_data": [],
            }
        )
    document: dict[str, Any] = {
        "id": order_id,
        "parent_id": 0,
        "status": "pending",
        "currency": currency,
        "version": WC_VERSION,
        "prices_include_tax": prices_include_tax,
        "date_created": created_local,
        "date_modified": created_local,
        "discount_total": money(cart.discount_total),
        "discount_tax": money(cart.discount_tax),
        "shipping_total": money(cart.shipping_total),
        "shipping_tax": money(cart.shipping_tax),
        "cart_tax": money(cart.cart_tax),
        "total": money(cart.total),
        "total_tax": money(cart.total_tax),
        "customer_id": customer_id,
        "order_key": order_key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": payment_method,
        "payment_method_title": payment_method_title,
        "transaction_id": "",
        "customer_ip_address": customer_ip_address,
        "customer_user_agent": customer_user_agent,
        "created_via": created_via,
        "customer_note": customer_note,
        "date_completed": None,
        "date_paid": None,
        "cart_hash": cart_hash,
        "number": str(order_id),
        "meta_data": [meta_entry(sequences, key, value) for key, value in meta],
        "line_items": line_items,
        "tax_lines": tax_lines,
        "shipping_lines": shipping_lines,
        "fee_lines": fee_lines,
        "coupon_lines": coupon_lines,
        "refunds": [],
        "payment_url": "",
        "is_editable": True,
        "needs_payment": True,
        "needs_processing": True,
        "date_created_gmt": created_gmt,
        "date_modified_gmt": created_gmt,
        "date_completed_gmt": None,
        "date_paid_gmt": None,
        "currency_symbol": CURRENCY_SYMBOLS.get(currency, currency),
    }
    if pdf_invoices:
        document["wpo_wcpdf_invoice_number"] = ""
    return document


def rate_code(rate: TaxRate) -> str:
    """WC_Tax::get_rate_code: COUNTRY-STATE-NAME-PRIORITY, empty parts dropped."""
    return "-".join(
        part for part in (rate.country, "", rate.name.upper(), str(rate.priority)) if part
    )


PAID_STATUSES = frozenset({"processing", "completed"})
# A checkout draft answers is_editable false (the second recorded shop's order 37).
EDITABLE_STATUSES = frozenset({"pending", "on-hold", "auto-draft"})


def touch(order: dict[str, Any], when: datetime, timezone: ZoneInfo) -> None:
    """Every save bumps date_modified, as WC_Order::save() does."""
    order["date_modified"], order["date_modified_gmt"] = wc_dates(when, timezone)


def set_status(
    order: dict[str, Any],
    status: str,
    when: datetime,
    timezone: ZoneInfo,
    *,
    transaction_id: str = "",
) -> None:
    """WC_Order::update_status with its side effects on date_paid and date_completed."""
    order["status"] = status
    if status in PAID_STATUSES and order["date_paid"] is None:
        order["date_paid"], order["date_paid_gmt"] = wc_dates(when, timezone)
        if transaction_id:
            order["transaction_id"] = transaction_id
    if status == "completed":
        order["date_completed"], order["date_completed_gmt"] = wc_dates(when, timezone)
    order["is_editable"] = status in EDITABLE_STATUSES
    order["needs_payment"] = (
        status in {"pending", "failed", "checkout-draft"} and Decimal(order["total"]) > 0
    )
    order["needs_processing"] = True
    touch(order, when, timezone)


def add_invoice(
    order: dict[str, Any],
    *,
    sequences: Sequences,
    number: int,
    when: datetime,
    timezone: ZoneInfo,
) -> None:
    """What PDF Invoices & Packing Slips stores when it creates an invoice for an order."""
    formatted = f"{when.astimezone(timezone).year}-{number:05d}"
    for key, value in (
        ("_wcpdf_invoice_number", formatted),
        (
            "_wcpdf_invoice_number_data",
            {
                "number": number,
                "formatted_number": formatted,
                "prefix": f"{when.astimezone(timezone).year}-",
                "suffix": "",
                "document_type": "invoice",
                "order_id": order["id"],
                "padding": 5,
            },
        ),
        ("_wcpdf_invoice_date", str(int(when.timestamp()))),
        ("_wcpdf_invoice_date_formatted", when.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S")),
        ("_wcpdf_invoice_creation_trigger", "email_attachment"),
    ):
        order["meta_data"].append(meta_entry(sequences, key, value))
    order["wpo_wcpdf_invoice_number"] = formatted
    touch(order, when, timezone)


def invoice_number(order: dict[str, Any]) -> str | None:
    for entry in order["meta_data"]:
        if entry["key"] == "_wcpdf_invoice_number":
            return str(entry["value"])
    return None


def refunded_amount(order: dict[str, Any]) -> Decimal:
    return sum((-Decimal(refund["total"]) for refund in order["refunds"]), ZERO)


@dataclass
class RefundLine:
    item_id: int
    quantity: int  # how many units go back; 0 when only money goes back for the line
    # What the shop owner typed in; None takes the line's own price for `quantity` units.
    total: Decimal | None = None
    taxes: dict[int, Decimal] | None = None


def build_refund(
    order: dict[str, Any],
    *,
    sequences: Sequences,
    refund_id: int,
    when: datetime,
    timezone: ZoneInfo,
    decimals: int,
    reason: str,
    lines: list[RefundLine] | None,
    amount: Decimal | None,
    refund_shipping_and_fees: bool = False,
    refunded_by: int = 1,
    refunded_payment: bool = False,
    rates_by_id: dict[int, TaxRate],
) -> dict[str, Any]:
    """A refund as wc_create_refund() stores it; the caller records it on the order.

    `lines=None` refunds everything that is left (a full refund); an empty list with an
    `amount` is an amount-only refund.
    """
    money = lambda value: format_amount(value, decimals)  # noqa: E731 - local shorthand
    exponent = Decimal(1).scaleb(-decimals)
    refund_lines: list[dict[str, Any]] = []
    refund_shipping: list[dict[str, Any]] = []
    refund_fees: list[dict[str, Any]] = []
    rate_totals: dict[int, Decimal] = {}
    rate_shipping: dict[int, Decimal] = {}
    computed = ZERO
    full = lines is None
    items_by_id = {item["id"]: item for item in order["line_items"]}
    wanted = (
        [RefundLine(item["id"], item["quantity"]) for item in order["line_items"]]
        if full
        else (lines or [])
    )
    for refund_line in wanted:
        item = items_by_id[refund_line.item_id]
        share = Decimal(refund_line.quantity) / Decimal(item["quantity"])
        total = (
            round_half_up(Decimal(item["total"]) * share, exponent)
            if refund_line.total is None
            else refund_line.total
        )
        taxes = (
            {
                tax["id"]: round_half_up(Decimal(tax["total"]) * share, exponent)
                for tax in item["taxes"]
            }
            if refund_line.taxes is None
            else refund_line.taxes
        )
        tax_sum = sum(taxes.values(), ZERO)
        computed += total + tax_sum
        for rate_id, tax in taxes.items():
            rate_totals[rate_id] = rate_totals.get(rate_id, ZERO) + tax
        refund_lines.append(
            {
                "id": sequences.items.next(),
                "name": item["name"],
                "product_id": item["product_id"],
                "variation_id": item["variation_id"],
                "quantity": -refund_line.quantity,
                "tax_class": item["tax_class"],
                "subtotal": money(-total),
                "subtotal_tax": money(-tax_sum),
                "total": money(-total),
                "total_tax": money(-tax_sum),
                "taxes": _taxes_list(
                    {rate_id: -tax for rate_id, tax in taxes.items()},
                    decimals,
                    with_subtotal={rate_id: -tax for rate_id, tax in taxes.items()},
                ),
                "meta_data": [item_meta_entry(sequences, "_refunded_item_id", str(item["id"]))],
                "sku": item["sku"],
                "global_unique_id": "",
                "price": _price(-total, refund_line.quantity),
                "image": _image(item["variation_id"]),
                "parent_name": item["parent_name"],
            }
        )
    if full or refund_shipping_and_fees:
        for kind, target in (("shipping_lines", refund_shipping), ("fee_lines", refund_fees)):
            for item in order[kind]:
                total = Decimal(item["total"])
                taxes = {tax["id"]: round_half_up(Decimal(tax["total"])) for tax in item["taxes"]}
                computed += total + sum(taxes.values(), ZERO)
                for rate_id, tax in taxes.items():
                    bucket = rate_shipping if kind == "shipping_lines" else rate_totals
                    bucket[rate_id] = bucket.get(rate_id, ZERO) + tax
                refunded_item = {
                    key: value
                    for key, value in item.items()
                    if key not in {"id", "total", "total_tax", "taxes", "meta_data", "amount"}
                }
                refunded_item.update(
                    id=sequences.items.next(),
                    total=money(-total),
                    total_tax=money(-sum(taxes.values(), ZERO)),
                    taxes=_taxes_list(
                        {rate_id: -tax for rate_id, tax in taxes.items()},
                        decimals,
                        with_subtotal=None,
                    ),
                    meta_data=[item_meta_entry(sequences, "_refunded_item_id", str(item["id"]))],
                )
                if kind == "fee_lines":
                    refunded_item["amount"] = ""
                target.append(refunded_item)
    if full:
        amount = Decimal(order["total"]) - refunded_amount(order)
    elif amount is None:
        amount = computed
    tax_lines = [
        {
            "id": sequences.items.next(),
            "rate_code": rate_code(rates_by_id[rate_id]),
            "rate_id": rate_id,
            "label": rates_by_id[rate_id].name,
            "compound": False,
            "tax_total": money(-rate_totals.get(rate_id, ZERO)),
            "shipping_tax_total": money(-rate_shipping.get(rate_id, ZERO)),
            "rate_percent": php_number(rates_by_id[rate_id].rate),
            "meta_data": [],
        }
        for rate_id in sorted(set(rate_totals) | set(rate_shipping))
        if rate_id in rates_by_id
    ]
    created_local, created_gmt = wc_dates(when, timezone)
    return {
        "id": refund_id,
        "date_created": created_local,
        "date_created_gmt": created_gmt,
        "amount": money(amount),
        "reason": reason,
        "refunded_by": refunded_by,
        "refunded_payment": refunded_payment,
        "meta_data": [],
        "line_items": refund_lines,
        "shipping_lines": refund_shipping,
        "tax_lines": tax_lines,
        "fee_lines": refund_fees,
    }


def record_refund(
    order: dict[str, Any], refund: dict[str, Any], when: datetime, timezone: ZoneInfo
) -> None:
    """The order lists its refunds newest first; a refund of what is left marks it refunded.

    Since WooCommerce 7.6 a refund bumps the order's date_modified.
    """
    order["refunds"].insert(
        0, {"id": refund["id"], "reason": refund["reason"], "total": "-" + refund["amount"]}
    )
    if refunded_amount(order) >= Decimal(order["total"]):
        set_status(order, "refunded", when, timezone)
    else:
        touch(order, when, timezone)
