"""The write side of the REST API: create and update orders, create refunds.

REST-created orders are priced from the catalogue with the same checkout arithmetic as the
demo history, so their cents behave like the rest of the shop.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from woo_exact_pipeline.sandbox.woocommerce.catalogue import variation_line_name
from woo_exact_pipeline.sandbox.woocommerce.documents import (
    CouponLine,
    OrderLine,
    RefundLine,
    add_invoice,
    address,
    build_order,
    build_refund,
    invoice_number,
    meta_entry,
    record_refund,
    refunded_amount,
    set_status,
    touch,
)
from woo_exact_pipeline.sandbox.woocommerce.money import (
    ZERO,
    CouponInput,
    FeeInput,
    LineInput,
    ShippingInput,
    calculate_cart,
)
from woo_exact_pipeline.sandbox.woocommerce.shop import ORDER_STATUSES, TRASH, Shop, encode

# Gateways without a refund API: WooCommerce refuses `api_refund: true` for them.
MANUAL_GATEWAYS = frozenset({"bacs", "cheque", "cod", "pos_cash", ""})
BASE_COUNTRY = "NL"


class WriteError(Exception):
    """A refused write, carrying WooCommerce's error code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class RefundRefused(WriteError):
    """wc_create_refund's errors carry their status as a bare number in `data`, which WordPress
    answers with HTTP 500 whatever the number ("data": 400 for a negative amount)."""


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise WriteError(
            "rest_invalid_param", f"Invalid parameter(s): {field_name}", 400
        ) from error


def _integer(value: Any, field_name: str) -> int:
    """WordPress validates integer arguments before the endpoint runs."""
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise WriteError(
            "rest_invalid_param", f"Invalid parameter(s): {field_name}", 400
        ) from error


def _address(values: dict[str, Any] | None, *, with_email: bool) -> dict[str, Any]:
    allowed = {
        key: str(value)
        for key, value in (values or {}).items()
        if key
        in {
            "first_name",
            "last_name",
            "company",
            "address_1",
            "address_2",
            "city",
            "state",
            "postcode",
            "country",
            "email",
            "phone",
        }
    }
    if not with_email:
        allowed.pop("email", None)
    return address(**allowed, with_email=with_email)


def create_order(shop: Shop, body: dict[str, Any], when: datetime) -> dict[str, Any]:
    """POST /orders."""
    settings = shop.settings
    billing = _address(body.get("billing"), with_email=True)
    shipping = _address(body.get("shipping"), with_email=False)
    # The VAT country: the shipping address's, or the billing address's when the shop says so.
    first, second = (
        (billing, shipping) if settings.tax_based_on == "billing" else (shipping, billing)
    )
    country = first["country"] or second["country"] or BASE_COUNTRY
    line_inputs: list[LineInput] = []
    order_lines: list[OrderLine] = []
    for index, item in enumerate(body.get("line_items") or []):
        product = shop.products.get(_integer(item.get("product_id") or 0, "line_items"))
        variation_id = _integer(item.get("variation_id") or 0, "line_items")
        variation = shop.variations.get(variation_id) if variation_id else None
        if product is None or (variation_id and variation is None):
            raise WriteError(
                "woocommerce_rest_invalid_product_id",
                f"Product ID provided is invalid (line_items[{index}]).",
            )
        source = variation or product
        quantity = _integer(item.get("quantity") or 1, "line_items")
        line_inputs.append(
            LineInput(Decimal(source["price"] or "0"), quantity, product["tax_class"])
        )
        attribute = variation["attributes"][0] if variation else None
        order_lines.append(
            OrderLine(
                name=variation_line_name(product, variation) if variation else product["name"],
                product_id=product["id"],
                variation_id=variation_id,
                quantity=quantity,
                tax_class=product["tax_class"],
                sku=source["sku"],
                parent_name=product["name"] if variation else None,
                attributes=[(attribute["slug"], attribute["option"])] if attribute else [],
            )
        )
    coupons = [_coupon(shop, coupon) for coupon in body.get("coupon_lines") or []]
    fees = [
        FeeInput(
            str(fee.get("name", "")),
            _decimal(fee.get("total", "0"), "fee_lines"),
            taxable=fee.get("tax_status", "taxable") == "taxable",
            tax_class=str(fee.get("tax_class", "")),
        )
        for fee in body.get("fee_lines") or []
    ]
    shipping_inputs = [
        ShippingInput(
            str(line.get("method_id", "flat_rate")),
            str(line.get("method_title", "")),
            str(line.get("instance_id", "")),
            _decimal(line.get("total", "0"), "shipping_lines"),
        )
        for line in body.get("shipping_lines") or []
    ]
    vat_exempt = any(
        entry.get("key") == "is_vat_exempt" and entry.get("value") == "yes"
        for entry in body.get("meta_data") or []
    )
    cart = calculate_cart(
        line_inputs,
        rates_for_class=shop.rates_by_class(country),
        base_rates_for_class=shop.rates_by_class(BASE_COUNTRY),
        prices_include_tax=settings.prices_include_tax,
        vat_exempt=vat_exempt,
        coupons=coupons,
        fees=fees,
        shipping=shipping_inputs,
        at_subtotal=settings.round_at_subtotal,
    )
    customer_id = _integer(body.get("customer_id") or 0, "customer_id")
    if customer_id and customer_id not in shop.customers:
        raise WriteError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
    with shop.lock:
        order = build_order(
            sequences=shop.sequences,
            order_id=shop.sequences.posts.next(),
            created=when,
            timezone=settings.zone,
            decimals=settings.decimals,
            prices_include_tax=settings.prices_include_tax,
            currency=str(body.get("currency") or settings.currency),
            customer_id=customer_id,
            billing=billing,
            shipping=shipping,
            payment_method=str(body.get("payment_method", "")),
            payment_method_title=str(body.get("payment_method_title", "")),
            created_via=str(body.get("created_via") or "rest-api"),
            order_key="wc_order_" + secrets.token_hex(7)[:13],
            lines=order_lines,
            coupons=[
                CouponLine(
                    coupon.code,
                    coupon.discount_type,
                    coupon.amount,
                    coupon_id=shop.coupons[coupon.code]["id"]
                    if coupon.code in shop.coupons
                    else None,
                )
                for coupon in coupons
            ],
            cart=cart,
            rates_by_id={rate.id: rate for rate in shop.tax_rates()},
            meta=[(str(entry["key"]), entry.get("value")) for entry in body.get("meta_data") or []],
            customer_note=str(body.get("customer_note", "")),
            pdf_invoices=settings.pdf_invoices,
        )
        status = str(body.get("status") or "pending")
        _check_status(status)
        if status != "pending":
            set_status(order, status, when, settings.zone)
        # payment_complete() only moves orders that still wait for their money.
        if body.get("set_paid") and order["status"] in ("pending", "on-hold", "failed"):
            set_status(
                order,
                "processing",
                when,
                settings.zone,
                transaction_id=str(body.get("transaction_id", "")),
            )
        shop.put_order(order)
    return order


def _coupon(shop: Shop, line: dict[str, Any]) -> CouponInput:
    """A coupon line names a code; a shop with coupons applies the coupon of that code. The
    demo shop keeps none, so a line there says its own type and amount."""
    code = str(line.get("code", "")).lower()
    if not shop.coupons:
        return CouponInput(
            code,
            str(line.get("discount_type", "percent")),
            _decimal(line.get("amount", "10"), "coupon_lines"),
        )
    coupon = shop.coupons.get(code)
    if coupon is None:
        raise WriteError("woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!')
    return CouponInput(code, coupon["discount_type"], Decimal(coupon["amount"]))


def _check_status(status: str) -> None:
    if status not in ORDER_STATUSES:
        raise WriteError(
            "rest_invalid_param",
            "Invalid parameter(s): status",
            400,
        )


def update_order(shop: Shop, order_id: int, body: dict[str, Any], when: datetime) -> dict:
    """PUT/PATCH/POST /orders/{id}: status changes and edits; any change bumps date_modified."""
    zone = shop.settings.zone
    with shop.lock:
        record = shop.orders.get(order_id)
        if record is None:
            raise WriteError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        order = record.document()
        before = record.blob
        if "status" in body and body["status"] != order["status"]:
            _check_status(str(body["status"]))
            set_status(order, str(body["status"]), when, zone)
            if order["status"] == "refunded":
                _refund_what_is_left(shop, order, when)
        if body.get("set_paid") and order["date_paid"] is None:
            set_status(order, "processing", when, zone)
        for field_name in (
            "customer_note",
            "transaction_id",
            "payment_method",
            "payment_method_title",
        ):
            if field_name in body:
                order[field_name] = str(body[field_name])
        for kind in ("billing", "shipping"):
            if isinstance(body.get(kind), dict):
                order[kind].update({k: str(v) for k, v in body[kind].items() if k in order[kind]})
        for entry in body.get("meta_data") or []:
            existing = next(
                (meta for meta in order["meta_data"] if meta["key"] == entry.get("key")), None
            )
            if existing is not None:
                existing["value"] = entry.get("value")
            else:
                order["meta_data"].append(
                    meta_entry(shop.sequences, str(entry["key"]), entry.get("value"))
                )
        if encode(order) != before:
            touch(order, when, zone)
            shop.put_order(order)
    return order


def delete_order(shop: Shop, order_id: int, *, force: bool, when: datetime) -> dict[str, Any]:
    """DELETE /orders/{id}: to the trash (kept, status `trash`), or gone with `force=true`."""
    with shop.lock:
        record = shop.orders.get(order_id)
        if record is None:
            raise WriteError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        order = record.document()
        if force:
            shop.delete_order(order_id)
            return order
        if order["status"] == TRASH:
            raise WriteError(
                "woocommerce_rest_already_trashed",
                "The shop_order has already been trashed.",
                410,
            )
        order["status"] = TRASH
        touch(order, when, shop.settings.zone)
        shop.put_order(order)
        return order


def _refund_what_is_left(shop: Shop, order: dict[str, Any], when: datetime) -> None:
    """wc_order_fully_refunded: marking an order refunded records a refund of the rest,
    with the item quantities earlier refunds did not take back yet."""
    remaining = Decimal(order["total"]) - refunded_amount(order)
    if remaining <= 0:
        return
    taken_back: dict[int, int] = {}
    for record in shop.refunds.values():
        if record.order_id == order["id"]:
            for item in record.document()["line_items"]:
                for entry in item.get("meta_data", []):
                    if entry.get("key") == "_refunded_item_id":
                        refunded_item = int(entry["value"])
                        taken_back[refunded_item] = (
                            taken_back.get(refunded_item, 0) - item["quantity"]
                        )
    lines = [
        RefundLine(item["id"], item["quantity"] - taken_back.get(item["id"], 0))
        for item in order["line_items"]
        if item["quantity"] > taken_back.get(item["id"], 0)
    ]
    refund = build_refund(
        order,
        sequences=shop.sequences,
        refund_id=shop.sequences.posts.next(),
        when=when,
        timezone=shop.settings.zone,
        decimals=shop.settings.decimals,
        reason=(
            "Order status set to refunded. To return funds to the customer you will need to "
            "issue a refund through your payment gateway."
        ),
        lines=lines,
        amount=remaining,
        refund_shipping_and_fees=True,
        rates_by_id={rate.id: rate for rate in shop.tax_rates()},
    )
    record_refund(order, refund, when, shop.settings.zone)
    shop.put_refund(refund, order["id"])


def _asked_from_lines(entries: list[Any]) -> Decimal:
    """What refund lines add up to: each line's refund_total and its refund_tax amounts."""
    asked = ZERO
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        asked += _decimal(entry.get("refund_total") or "0", "line_items")
        for tax in entry.get("refund_tax") or []:
            asked += _decimal(tax.get("refund_total") or "0", "line_items")
    return asked


def create_refund(shop: Shop, order_id: int, body: dict[str, Any], when: datetime) -> dict:
    """POST /orders/{id}/refunds: amount-only, with line items, or everything that is left."""
    zone = shop.settings.zone
    with shop.lock:
        record = shop.orders.get(order_id)
        if record is None:
            raise WriteError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        order = record.document()
        items = {item["id"]: item for item in order["line_items"]}
        remaining = Decimal(order["total"]) - refunded_amount(order)
        entries = body.get("line_items") or []
        if "amount" not in body and _asked_from_lines(entries) > remaining:
            # The amount is the lines' refund totals and taxes, checked before the lines.
            raise RefundRefused(
                "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500
            )
        lines: list[RefundLine] = []
        for entry in entries:
            item_id = _integer(entry.get("id") or 0, "line_items")
            if item_id not in items:
                raise RefundRefused(
                    "woocommerce_rest_cannot_create_order_refund", "Invalid line item ID.", 500
                )
            refund_taxes = entry.get("refund_tax")
            lines.append(
                RefundLine(
                    item_id=item_id,
                    quantity=_integer(entry.get("quantity") or 0, "line_items"),
                    total=_decimal(entry["refund_total"], "line_items")
                    if "refund_total" in entry
                    else None,
                    taxes={
                        _integer(tax.get("id"), "line_items"): _decimal(
                            tax.get("refund_total", "0"), "line_items"
                        )
                        for tax in refund_taxes
                    }
                    if isinstance(refund_taxes, list)
                    else None,
                )
            )
        amount = _decimal(body["amount"], "amount") if "amount" in body else None
        if amount is None and not lines:
            raise RefundRefused(
                "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero."
            )
        if amount is not None and amount <= 0:
            raise RefundRefused(
                "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero."
            )
        api_refund = body.get("api_refund", True) not in (False, "false", "0", 0)
        if api_refund and order["payment_method"] in MANUAL_GATEWAYS:
            raise RefundRefused(
                "woocommerce_rest_cannot_create_order_refund",
                "The payment gateway for this order does not support automatic refunds.",
                500,
            )
        refund = build_refund(
            order,
            sequences=shop.sequences,
            refund_id=shop.sequences.posts.next(),
            when=when,
            timezone=zone,
            decimals=shop.settings.decimals,
            reason=str(body.get("reason", "")),
            lines=lines,
            amount=amount,
            refund_shipping_and_fees=False,
            refunded_by=_integer(body.get("refunded_by") or 1, "refunded_by"),
            refunded_payment=api_refund,
            rates_by_id={rate.id: rate for rate in shop.tax_rates()},
        )
        if Decimal(refund["amount"]) > remaining:
            raise RefundRefused(
                "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500
            )
        record_refund(order, refund, when, zone)
        shop.put_refund(refund, order_id)
        shop.put_order(order)
    return refund


def ensure_invoice(shop: Shop, order_id: int, when: datetime) -> dict[str, Any]:
    """The PDF plugin's download handler creates the invoice when the order has none yet."""
    with shop.lock:
        order = shop.orders[order_id].document()
        if invoice_number(order) is None:
            add_invoice(
                order,
                sequences=shop.sequences,
                number=shop.next_invoice_number(),
                when=when,
                timezone=shop.settings.zone,
            )
            shop.put_order(order)
    return order
