"""A deterministic Dutch demo shop: catalogue, customers and a history of orders and refunds.

Orders are placed and moved along in time order on one clock, so IDs, `date_modified` bumps,
invoice numbers and refunds interleave as they would in a real shop. Every case a bookkeeper
meets is forced into the first orders of the history, so even a small shop contains all of them.
"""

from __future__ import annotations

import heapq
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from woo_exact_pipeline.sandbox.woocommerce.catalogue import (
    CATALOGUE,
    COMPANIES,
    FIRST_NAMES,
    LAST_NAMES,
    LONG_COMPANY,
    PLACES,
    TAX_CLASSES,
    CustomerProfile,
    customer_document,
    product_document,
    tax_rate_documents,
    variation_document,
    variation_line_name,
)
from woo_exact_pipeline.sandbox.woocommerce.documents import (
    CouponLine,
    OrderLine,
    RefundLine,
    add_invoice,
    build_order,
    build_refund,
    record_refund,
    set_status,
    touch,
)
from woo_exact_pipeline.sandbox.woocommerce.money import (
    CENT,
    CouponInput,
    FeeInput,
    LineInput,
    ShippingInput,
    calculate_cart,
    round_half_up,
)
from woo_exact_pipeline.sandbox.woocommerce.shop import Shop, ShopSettings

OSS_COUNTRIES = ("BE", "DE", "FR", "AT", "IT", "ES", "SE", "IE")
EXPORT_COUNTRIES = ("US", "CH", "GB", "NO")
REVERSE_CHARGE_COUNTRIES = tuple(COMPANIES)
# Multi-currency plugin (WOOCS) rates the shop used for the few non-euro orders.
EXCHANGE_RATES = {
    "EUR": Decimal("1"),
    "USD": Decimal("1.08"),
    "GBP": Decimal("0.86"),
    "JPY": Decimal("162"),
}
# Currencies without minor units: prices and shipping are converted to whole yen.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY"})
COUPONS = {
    "percent": CouponInput("welkom10", "percent", Decimal("10")),
    "fixed_cart": CouponInput("koffie5", "fixed_cart", Decimal("5")),
}
# payment method id -> (title, how the order moves along)
PAYMENT_METHODS: dict[str, tuple[str, str]] = {
    "mollie_wc_gateway_ideal": ("iDEAL", "online"),
    "mollie_wc_gateway_creditcard": ("Creditcard", "online"),
    "mollie_wc_gateway_bancontact": ("Bancontact", "online"),
    "ppcp-gateway": ("PayPal", "online"),
    "mollie_wc_gateway_klarnapaylater": ("Klarna Achteraf Betalen", "online"),
    "bacs": ("Directe bankoverschrijving", "on-hold"),
    "mollie_wc_gateway_banktransfer": ("Bankoverschrijving", "pending"),
    "woocommerce_payments": ("Pinbetaling (POS)", "pos"),
    "pos_cash": ("Contant (POS)", "pos"),
}
KLARNA_FEE = FeeInput("Klarna toeslag", Decimal("1.00"))
# A discount given as a negative taxable fee: WooCommerce spreads its tax over the order's rates.
LOYALTY_DISCOUNT = FeeInput("Korting vaste klant", Decimal("-5.00"))
# Sold, then force-deleted from the catalogue: its order lines keep only what they stored.
DELETED_PRODUCT = ("Proefpakket koffiebonen", Decimal("7.50"), "reduced-rate")
WEEKDAY_FACTORS = (1.15, 1.0, 0.95, 0.95, 0.85, 0.8, 1.3)  # Monday .. Sunday
# Cumulative weights, so each draw does not re-add the weights.
HOUR_WEIGHTS = tuple(
    accumulate((1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 6, 6, 6, 7, 8, 10, 12, 12, 9, 4))
)
OSS_WEIGHTS = tuple(accumulate((6, 6, 2, 1, 1, 1, 0.5, 0.5)))
EXPORT_WEIGHTS = tuple(accumulate((4, 2, 3, 1)))
METHOD_WEIGHTS = tuple(accumulate((60, 10, 10, 6, 8, 4)))
LINE_COUNT_WEIGHTS = tuple(accumulate((45, 30, 15, 10)))
QUANTITY_WEIGHTS = tuple(accumulate((70, 20, 7, 3)))
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari",
)


@dataclass(frozen=True)
class Scenario:
    """Who buys what and how the order's life goes on."""

    kind: str  # domestic | oss | reverse_charge | export | pos
    country: str
    registered: bool
    payment_method: str
    # paid | failed | cancelled_unpaid | checkout_draft (left by a failed block checkout) |
    # draft_then_paid (the same order placed later) | trashed (completed, then to the trash)
    outcome: str
    refund: str = ""  # "" | full | partial | amount
    coupon: str = ""  # "" | percent | fixed_cart
    currency: str = "EUR"
    product: str = ""  # "" | no_sku | reduced | big | zero_rate | deleted
    profile: str = ""  # "" | emoji | long_company
    fee: str = ""  # "" | discount (a negative fee over a 21 % and a 9 % line)
    numbering: str = ""  # "" | custom (a sequential-order-number plugin's WC-2026-0042)
    viewed_later: bool = False  # opened in the admin days later: HPOS bumps date_modified


# Forced at the start of every history so a small shop still shows every case.
FORCED_EARLY: tuple[dict[str, Any], ...] = (
    *({"kind": "oss", "country": country} for country in OSS_COUNTRIES),
    {"kind": "oss", "country": "IE", "product": "reduced"},
    *({"kind": "reverse_charge", "country": country} for country in REVERSE_CHARGE_COUNTRIES),
    *({"kind": "export", "country": country} for country in EXPORT_COUNTRIES),
    {"kind": "export", "country": "US", "currency": "USD"},
    {"kind": "export", "country": "GB", "currency": "GBP"},
    {"kind": "pos", "payment_method": "pos_cash"},
    {"kind": "pos", "payment_method": "woocommerce_payments"},
    {"coupon": "percent"},
    {"coupon": "fixed_cart"},
    {"payment_method": "mollie_wc_gateway_klarnapaylater"},
    {"product": "big"},
    {"product": "no_sku"},
    {"product": "zero_rate"},
    {"profile": "emoji"},
    {"profile": "long_company", "registered": True},
    {"registered": False},
    {"registered": True},
    {"refund": "full"},
    {"refund": "partial"},
    {"refund": "amount"},
    {"refund": "full", "kind": "oss", "country": "DE"},
    {"outcome": "failed"},
    {"outcome": "cancelled_unpaid"},
    {"payment_method": "bacs", "outcome": "cancelled_unpaid"},
    {"fee": "discount"},
    {"fee": "discount", "kind": "oss", "country": "BE"},
    {"product": "deleted"},
    {"numbering": "custom"},
    {"numbering": "custom", "refund": "partial"},
    {"outcome": "checkout_draft"},
    {"outcome": "draft_then_paid"},
    {"outcome": "trashed"},
    {"viewed_later": True},
    {"kind": "export", "country": "JP", "currency": "JPY"},
    {"fee": "discount", "refund": "full"},  # the refund gives the discount back: +5.00
)
# Forced on the last orders so the open statuses exist at the shop's "now".
FORCED_LATE: tuple[dict[str, Any], ...] = (
    {"payment_method": "mollie_wc_gateway_banktransfer"},
    {"payment_method": "bacs"},
    {"payment_method": "mollie_wc_gateway_ideal", "outcome": "paid"},
)

Action = Callable[[dict[str, Any], datetime], None]


class DemoShopBuilder:
    """Places and progresses orders on a Shop; also drives the `--live` mode."""

    def __init__(self, *, seed: int, settings: ShopSettings | None = None) -> None:
        self.rng = random.Random(seed)
        self.shop = Shop(settings=settings or ShopSettings())
        self.zone = self.shop.settings.zone
        self.shop.taxes = tax_rate_documents()
        self.shop.tax_classes = [dict(tax_class) for tax_class in TAX_CLASSES]
        self.rates_by_id = {rate.id: rate for rate in self.shop.tax_rates()}
        self._rates_cache: dict[str, dict] = {}
        self.customers_by_group: dict[tuple[str, str], list[CustomerProfile]] = {}
        self.long_company_customer: CustomerProfile | None = None
        self.custom_numbers = 0  # the order number plugin's own counter

    # --- master data --------------------------------------------------------------------

    def add_catalogue(self, created: datetime) -> None:
        sequences = self.shop.sequences
        self.catalogue: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for category_id, spec in enumerate(CATALOGUE, start=15):
            product_id = sequences.posts.next()
            variation_ids = [sequences.posts.next() for _ in spec.variations]
            product = product_document(
                product_id=product_id,
                spec=spec,
                variation_ids=variation_ids,
                created=created,
                timezone=self.zone,
                category_id=category_id,
            )
            self.shop.products[product_id] = product
            variations = []
            for variation_id, (option, sku, price) in zip(
                variation_ids, spec.variations, strict=True
            ):
                variation = variation_document(
                    variation_id=variation_id,
                    parent=product,
                    attribute=spec.attribute,
                    option=option,
                    sku=sku,
                    price=price,
                )
                self.shop.put_variation(variation, product_id)
                variations.append(variation)
            self.catalogue.append((product, variations))
        self.popularity = list(accumulate(spec.popularity for spec in CATALOGUE))
        self.products_for = {
            "no_sku": [i for i, (p, v) in enumerate(self.catalogue) if not p["sku"] and not v],
            "reduced": [
                i for i, (p, _) in enumerate(self.catalogue) if p["tax_class"] == "reduced-rate"
            ],
            "standard": [i for i, (p, _) in enumerate(self.catalogue) if p["tax_class"] == ""],
            "zero_rate": [
                i for i, (p, _) in enumerate(self.catalogue) if p["tax_class"] == "zero-rate"
            ],
        }

    def _profile(self, kind: str, country: str, *, profile: str = "") -> CustomerProfile:
        rng = self.rng
        first = "Lotte 🌷" if profile == "emoji" else rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        place = rng.choice(PLACES[country])
        local_part = "".join(c for c in f"{first}.{last}".lower() if c.isascii() and c.isalnum())
        email = f"{local_part}{rng.randint(1, 999)}@example.{country.lower()}"
        result = CustomerProfile(
            first_name=first,
            last_name=last,
            email=email,
            place=place,
            phone=f"{place.phone_prefix} {rng.randint(1000000, 9999999)}",
            house_number=str(rng.randint(1, 250)),
        )
        if kind == "reverse_charge":
            result.company, result.vat_number = rng.choice(COMPANIES[country])
            result.extra_meta = [("billing_vat_number", result.vat_number)]
        elif profile == "long_company":
            result.company = LONG_COMPANY
        return result

    def add_customers(self, count: int, history_start: datetime) -> None:
        groups: list[tuple[str, str]] = [("domestic", "NL")] * 12
        groups += [("oss", country) for country in OSS_COUNTRIES]
        groups += [("reverse_charge", country) for country in REVERSE_CHARGE_COUNTRIES] * 2
        groups += [("export", country) for country in EXPORT_COUNTRIES]
        profiles: list[tuple[datetime, CustomerProfile]] = []
        for index in range(count):
            kind, country = groups[index % len(groups)]
            registered = history_start - timedelta(seconds=self.rng.randint(3600, 700 * 86400))
            profiles.append((registered, self._profile(kind, country)))
            self.customers_by_group.setdefault((kind, country), []).append(profiles[-1][1])
        long_company = self._profile("domestic", "NL", profile="long_company")
        profiles.append((history_start - timedelta(days=30), long_company))
        self.long_company_customer = long_company
        for registered, profile in sorted(profiles, key=lambda pair: pair[0]):
            profile.customer_id = len(self.shop.customers) + 2  # user 1 is the shop admin
            meta_ids = [self.shop.sequences.meta.next() for _ in profile.extra_meta]
            self.shop.customers[profile.customer_id] = customer_document(
                profile, registered=registered, timezone=self.zone, meta_ids=meta_ids
            )

    # --- scenarios ----------------------------------------------------------------------

    def random_scenario(self) -> Scenario:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            kind, country = "pos", "NL"
        elif roll < 0.73:
            kind, country = "domestic", "NL"
        elif roll < 0.91:
            kind = "oss"
            country = rng.choices(OSS_COUNTRIES, cum_weights=OSS_WEIGHTS)[0]
        elif roll < 0.94:
            kind, country = "reverse_charge", rng.choice(REVERSE_CHARGE_COUNTRIES)
        else:
            kind = "export"
            country = rng.choices(EXPORT_COUNTRIES, cum_weights=EXPORT_WEIGHTS)[0]
        currency = "EUR"
        if kind == "export" and country in ("US", "GB") and rng.random() < 0.5:
            currency = "USD" if country == "US" else "GBP"
        if kind == "pos":
            method = rng.choice(("woocommerce_payments", "pos_cash"))
        else:
            methods = [
                "mollie_wc_gateway_ideal" if country == "NL" else "mollie_wc_gateway_creditcard",
                "mollie_wc_gateway_bancontact" if country == "BE" else "ppcp-gateway",
                "mollie_wc_gateway_creditcard",
                "mollie_wc_gateway_klarnapaylater",
                "bacs",
                "mollie_wc_gateway_banktransfer",
            ]
            method = rng.choices(methods, cum_weights=METHOD_WEIGHTS)[0]
        outcome_roll = rng.random()
        outcome = (
            "failed"
            if outcome_roll < 0.03
            else "cancelled_unpaid"
            if outcome_roll < 0.08
            else "paid"
        )
        refund_roll = rng.random()
        refund = (
            "full"
            if refund_roll < 0.025
            else "partial"
            if refund_roll < 0.05
            else "amount"
            if refund_roll < 0.065
            else ""
        )
        coupon_roll = rng.random()
        coupon = "percent" if coupon_roll < 0.06 else "fixed_cart" if coupon_roll < 0.09 else ""
        registered = kind == "reverse_charge" or (kind != "pos" and rng.random() < 0.45)
        return Scenario(
            kind=kind,
            country=country,
            registered=registered,
            payment_method=method,
            outcome=outcome,
            refund=refund,
            coupon=coupon if currency == "EUR" else "",
            currency=currency,
        )

    def forced_scenario(self, overrides: dict[str, Any]) -> Scenario:
        scenario = replace(
            self.random_scenario(),
            kind="domestic",
            country="NL",
            outcome="paid",
            refund="",
            coupon="",
            currency="EUR",
            payment_method="mollie_wc_gateway_ideal",
        )
        if overrides.get("kind") == "reverse_charge":
            scenario = replace(scenario, registered=True)
        if overrides.get("kind") == "pos":
            scenario = replace(scenario, registered=False)
        return replace(scenario, **overrides)

    # --- placing an order ---------------------------------------------------------------

    def _rates(self, country: str) -> dict:
        if country not in self._rates_cache:
            self._rates_cache[country] = self.shop.rates_by_class(country)
        return self._rates_cache[country]

    def _pick_lines(self, scenario: Scenario) -> list[tuple[dict[str, Any], dict | None, int]]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), cum_weights=LINE_COUNT_WEIGHTS)[0]
        chosen: list[int] = []
        forced = self.products_for.get(scenario.product)
        if forced:
            chosen.append(rng.choice(forced))
        if scenario.fee == "discount":  # a line at each rate for the discount to spread over
            chosen += [rng.choice(self.products_for[kind]) for kind in ("reduced", "standard")]
        while len(chosen) < count:
            index = rng.choices(range(len(self.catalogue)), cum_weights=self.popularity)[0]
            if index not in chosen:
                chosen.append(index)
        picked = []
        for index in chosen:
            product, variations = self.catalogue[index]
            variation = rng.choice(variations) if variations else None
            quantity = rng.choices((1, 2, 3, 6), cum_weights=QUANTITY_WEIGHTS)[0]
            if scenario.product == "big":
                quantity += 4
            picked.append((product, variation, quantity))
        return picked

    def _shipping(
        self, scenario: Scenario, gross_items: Decimal, needs_shipping: bool
    ) -> list[ShippingInput]:
        if scenario.kind == "pos" or not needs_shipping:
            return []
        rate = EXCHANGE_RATES[scenario.currency]
        unit = Decimal(1) if scenario.currency in ZERO_DECIMAL_CURRENCIES else CENT
        if scenario.kind == "domestic":
            if gross_items >= 50:
                return [ShippingInput("free_shipping", "Gratis verzending", "3", Decimal("0"))]
            if self.rng.random() < 0.05:
                return [ShippingInput("local_pickup", "Afhalen in Amsterdam", "2", Decimal("0"))]
            return [ShippingInput("flat_rate", "Verzenden met PostNL", "1", Decimal("4.95"))]
        if scenario.kind in ("oss", "reverse_charge"):
            if gross_items >= 100:
                return [ShippingInput("free_shipping", "Gratis verzending", "6", Decimal("0"))]
            return [ShippingInput("flat_rate", "Verzenden naar Europa", "4", Decimal("9.95"))]
        cost = round_half_up(Decimal("19.95") * rate, unit)
        return [ShippingInput("flat_rate", "Internationale verzending", "5", cost)]

    def _random_code(self, length: int) -> str:
        return "".join(self.rng.choices(string.ascii_letters + string.digits, k=length))

    def _random_ip(self) -> str:
        octets = (self.rng.randint(31, 217), self.rng.randint(0, 255), self.rng.randint(0, 255))
        return ".".join(map(str, (*octets, self.rng.randint(1, 254))))

    def place_order(self, scenario: Scenario, when: datetime) -> dict[str, Any]:
        rng = self.rng
        customer: CustomerProfile | None = None
        if scenario.profile == "long_company":
            customer = self.long_company_customer
        elif scenario.registered:
            pool = self.customers_by_group.get((scenario.kind, scenario.country))
            customer = rng.choice(pool) if pool else None
        profile = customer or self._profile(
            scenario.kind, scenario.country, profile=scenario.profile
        )
        vat_exempt = scenario.kind == "reverse_charge"
        picked = self._pick_lines(scenario)
        exchange_rate = EXCHANGE_RATES[scenario.currency]
        unit = Decimal(1) if scenario.currency in ZERO_DECIMAL_CURRENCIES else CENT
        line_inputs = []
        order_lines = []
        for product, variation, quantity in picked:
            source = variation or product
            unit_price = round_half_up(Decimal(source["price"]) * exchange_rate, unit)
            line_inputs.append(LineInput(unit_price, quantity, product["tax_class"]))
            order_lines.append(
                OrderLine(
                    name=variation_line_name(product, variation) if variation else product["name"],
                    product_id=product["id"],
                    variation_id=variation["id"] if variation else 0,
                    quantity=quantity,
                    tax_class=product["tax_class"],
                    sku=source["sku"],
                    parent_name=product["name"] if variation else None,
                    attributes=(
                        [(variation["attributes"][0]["slug"], variation["attributes"][0]["option"])]
                        if variation
                        else []
                    ),
                )
            )
        if scenario.product == "deleted":
            name, price, tax_class = DELETED_PRODUCT
            line_inputs.append(LineInput(price, 2, tax_class))
            order_lines.append(
                OrderLine(name, 0, 0, 2, tax_class, sku=None, parent_name=None, deleted=True)
            )
        gross_items = sum((line.unit_price * line.quantity for line in line_inputs), Decimal(0))
        needs_shipping = any(product["shipping_required"] for product, _, _ in picked)
        coupons = [COUPONS[scenario.coupon]] if scenario.coupon else []
        fees = [KLARNA_FEE] if scenario.payment_method == "mollie_wc_gateway_klarnapaylater" else []
        if scenario.fee == "discount":
            fees.append(LOYALTY_DISCOUNT)
        cart = calculate_cart(
            line_inputs,
            rates_for_class=self._rates(scenario.country),
            base_rates_for_class=self._rates("NL"),
            prices_include_tax=self.shop.settings.prices_include_tax,
            vat_exempt=vat_exempt,
            coupons=coupons,
            fees=fees,
            shipping=self._shipping(scenario, gross_items, needs_shipping),
            at_subtotal=self.shop.settings.round_at_subtotal,
            minor_unit=unit,
        )
        method_title, _ = PAYMENT_METHODS[scenario.payment_method]
        meta: list[tuple[str, Any]] = [("is_vat_exempt", "yes" if vat_exempt else "no")]
        if vat_exempt:
            meta += [
                ("_billing_vat_number", profile.vat_number),
                ("_vat_number_is_validated", "true"),
                ("_vat_number_is_valid", "true"),
                ("_customer_ip_country", scenario.country),
            ]
        if scenario.currency != "EUR":
            meta += [
                ("_woocs_order_rate", str(exchange_rate)),
                ("_woocs_order_base_currency", "EUR"),
                ("_woocs_order_currency_changed_mannualy", "0"),
            ]
        if scenario.numbering == "custom":
            self.custom_numbers += 1
            number = f"WC-{when.astimezone(self.zone).year}-{self.custom_numbers:04d}"
            meta += [
                ("_order_number", str(self.custom_numbers)),
                ("_order_number_formatted", number),
            ]
        if scenario.kind == "pos":
            meta += (
                [("_cash_change_amount", f"{rng.randint(0, 20)}.{rng.choice(('00', '50'))}")]
                if scenario.payment_method == "pos_cash"
                else [("_wcpay_ipp_channel", "mobile_pos")]
            )
        else:
            meta += [
                ("_wc_order_attribution_source_type", rng.choice(("organic", "typein", "utm"))),
                ("_wc_order_attribution_device_type", rng.choice(("Mobile", "Desktop"))),
                ("_wc_order_attribution_session_pages", str(rng.randint(1, 12))),
            ]
        billing = profile.billing()
        shipping = (
            profile.shipping()
            if needs_shipping and scenario.kind != "pos"
            else {key: "" for key in profile.shipping()}
        )
        if scenario.kind == "pos" and customer is None:
            billing = {key: "" for key in billing}
        order_id = self.shop.sequences.posts.next()
        order = build_order(
            sequences=self.shop.sequences,
            order_id=order_id,
            created=when,
            timezone=self.zone,
            decimals=self.shop.settings.decimals,
            prices_include_tax=self.shop.settings.prices_include_tax,
            currency=scenario.currency,
            customer_id=customer.customer_id if customer else 0,
            billing=billing,
            shipping=shipping,
            payment_method=scenario.payment_method,
            payment_method_title=method_title,
            created_via="pos-rest-api" if scenario.kind == "pos" else "checkout",
            order_key="wc_order_" + self._random_code(13),
            lines=order_lines,
            coupons=[
                CouponLine(coupon.code, coupon.discount_type, coupon.amount) for coupon in coupons
            ],
            cart=cart,
            rates_by_id=self.rates_by_id,
            meta=meta,
            customer_ip_address="" if scenario.kind == "pos" else self._random_ip(),
            customer_user_agent="" if scenario.kind == "pos" else rng.choice(USER_AGENTS),
            cart_hash="" if scenario.kind == "pos" else self._random_code(32).lower(),
            pdf_invoices=self.shop.settings.pdf_invoices,
        )
        if scenario.numbering == "custom":
            order["number"] = number
        if scenario.outcome in ("checkout_draft", "draft_then_paid"):
            # The block checkout stores its draft before payment: no method title yet.
            order.update(status="checkout-draft", payment_method_title="", is_editable=False)
            order["created_via"] = "store-api"
        if scenario.kind != "pos":
            order["payment_url"] = (
                f"https://koffie.example/afrekenen/order-pay/{order_id}/"
                f"?pay_for_order=true&key={order['order_key']}"
            )
        return order

    # --- moving an order along ----------------------------------------------------------

    def follow_ups(
        self, scenario: Scenario, created: datetime, scale: float = 1.0
    ) -> list[tuple[datetime, Action]]:
        """When the order's later events happen. `scale` shrinks the delays for `--live`."""
        rng = self.rng

        def later(seconds: float) -> datetime:
            return created + timedelta(seconds=seconds * scale)

        if scenario.outcome == "checkout_draft":
            return []
        if scenario.outcome == "draft_then_paid":
            placed = later(rng.uniform(600, 7200))
            paid = replace(scenario, outcome="paid")
            return [(placed, self.place_draft), *self.follow_ups(paid, placed, scale)]
        steps: list[tuple[datetime, Action]] = []
        flow = PAYMENT_METHODS[scenario.payment_method][1]
        if flow == "pos":
            steps.append((later(5), self.complete_at_pos))
            paid_at = later(5)
        else:
            if flow == "on-hold":
                steps.append((later(rng.uniform(10, 60)), self.hold))
            if scenario.outcome == "failed":
                steps.append((later(rng.uniform(120, 900)), self.fail))
                return steps
            if scenario.outcome == "cancelled_unpaid":
                waiting = 3600 if flow == "online" else rng.uniform(7, 12) * 86400
                steps.append((later(waiting), self.cancel))
                return steps
            payment_delay = rng.uniform(30, 300) if flow == "online" else rng.uniform(1, 3) * 86400
            paid_at = later(payment_delay)
            steps.append((paid_at, self.pay))
            completed_at = paid_at + timedelta(seconds=rng.uniform(0.5, 3.5) * 86400 * scale)
            steps.append((completed_at, self.complete_with_invoice))
            paid_at = completed_at
        if scenario.refund:
            refund_at = paid_at + timedelta(seconds=rng.uniform(2, 12) * 86400 * scale)
            steps.append((refund_at, getattr(self, f"refund_{scenario.refund}")))
        for wanted, action in ((scenario.outcome == "trashed", self.trash),
                               (scenario.viewed_later, self.view)):  # fmt: skip
            if wanted:
                last = max(when for when, _ in steps)
                steps.append((last + timedelta(days=rng.uniform(1, 4) * scale), action))
        return steps

    def place_draft(self, order: dict[str, Any], when: datetime) -> None:
        """The shopper pays at last: the draft becomes the order, its id and creation kept."""
        order["payment_method_title"] = PAYMENT_METHODS[order["payment_method"]][0]
        set_status(order, "pending", when, self.zone)

    def trash(self, order: dict[str, Any], when: datetime) -> None:
        set_status(order, "trash", when, self.zone)

    def view(self, order: dict[str, Any], when: datetime) -> None:
        """Opening an order in the HPOS admin saves it: date_modified moves, nothing else."""
        touch(order, when, self.zone)

    def hold(self, order: dict[str, Any], when: datetime) -> None:
        set_status(order, "on-hold", when, self.zone)

    def fail(self, order: dict[str, Any], when: datetime) -> None:
        set_status(order, "failed", when, self.zone)

    def cancel(self, order: dict[str, Any], when: datetime) -> None:
        set_status(order, "cancelled", when, self.zone)

    def pay(self, order: dict[str, Any], when: datetime) -> None:
        transaction = "" if order["payment_method"] == "bacs" else "tr_" + self._random_code(10)
        set_status(order, "processing", when, self.zone, transaction_id=transaction)

    def complete_at_pos(self, order: dict[str, Any], when: datetime) -> None:
        set_status(order, "completed", when, self.zone)

    def complete_with_invoice(self, order: dict[str, Any], when: datetime) -> None:
        set_status(order, "completed", when, self.zone)
        # The invoice is attached to the "completed" e-mail: number and date are stored then.
        add_invoice(
            order,
            sequences=self.shop.sequences,
            number=self.shop.next_invoice_number(),
            when=when,
            timezone=self.zone,
        )

    def _refund(self, order: dict[str, Any], when: datetime, **kwargs: Any) -> None:
        refund = build_refund(
            order,
            sequences=self.shop.sequences,
            refund_id=self.shop.sequences.posts.next(),
            when=when,
            timezone=self.zone,
            decimals=self.shop.settings.decimals,
            refunded_payment=order["payment_method"].startswith("mollie"),
            rates_by_id=self.rates_by_id,
            **kwargs,
        )
        record_refund(order, refund, when, self.zone)
        self.shop.put_refund(refund, order["id"])

    def refund_full(self, order: dict[str, Any], when: datetime) -> None:
        self._refund(order, when, reason="Retour ontvangen", lines=None, amount=None)

    def refund_partial(self, order: dict[str, Any], when: datetime) -> None:
        item = order["line_items"][0]
        self._refund(
            order,
            when,
            reason="Beschadigd geleverd",
            lines=[RefundLine(item["id"], 1)],
            amount=None,
        )

    def refund_amount(self, order: dict[str, Any], when: datetime) -> None:
        amount = max(CENT, round_half_up(Decimal(order["total"]) * Decimal("0.1")))
        self._refund(order, when, reason="Tegemoetkoming late levering", lines=[], amount=amount)


def _local_midnight(day: date, builder: DemoShopBuilder) -> datetime:
    return datetime.combine(day, time(0), tzinfo=builder.zone).astimezone(UTC)


def generate_demo_shop(
    *,
    seed: int = 42,
    days: int = 90,
    orders_per_day: int = 40,
    end_date: date,
    now: datetime | None = None,
    settings: ShopSettings | None = None,
) -> tuple[Shop, DemoShopBuilder]:
    """A demo shop whose history covers `days` days up to `end_date` (Europe/Amsterdam).

    The shop's clock stands at `now` (default: the last second of `end_date`); events after it
    have not happened yet. The generator never reads the machine's clock: the same arguments
    give the same shop on any day it runs. `settings` gives another shop configuration, e.g.
    prices excluding tax (`prices_include_tax=False`) and tax rounded at subtotal.
    """
    builder = DemoShopBuilder(seed=seed, settings=settings)
    if now is None:
        now = _local_midnight(end_date + timedelta(days=1), builder) - timedelta(seconds=1)
    first_day = end_date - timedelta(days=days - 1)
    history_start = _local_midnight(first_day, builder)
    builder.add_catalogue(history_start - timedelta(days=400))
    builder.add_customers(max(30, days * orders_per_day // 8), history_start)

    rng = builder.rng
    creations: list[datetime] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start, end = _local_midnight(day, builder), _local_midnight(day + timedelta(1), builder)
        count = round(orders_per_day * WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.8, 1.2))
        for _ in range(max(1, count)):
            # Pick a local hour by weight; DST days simply have 23 or 25 hours to fill.
            hour = rng.choices(range(24), cum_weights=HOUR_WEIGHTS)[0]
            moment = start + timedelta(
                seconds=(hour + rng.random()) / 24 * (end - start).total_seconds()
            )
            if moment <= now:
                creations.append(moment.replace(microsecond=0))
    creations.sort()
    forced: dict[int, dict[str, Any]] = dict(enumerate(FORCED_EARLY))
    for position, overrides in enumerate(reversed(FORCED_LATE), start=1):
        forced[len(creations) - position] = overrides

    # One clock for everything: (moment, tie-breaker, order id or None for a creation, action).
    queue: list[tuple[datetime, int, int, Action | Scenario]] = []
    sequence = 0
    for index, moment in enumerate(creations):
        scenario = (
            builder.forced_scenario(forced[index]) if index in forced else builder.random_scenario()
        )
        queue.append((moment, sequence, 0, scenario))
        sequence += 1
    heapq.heapify(queue)
    open_orders: dict[int, dict[str, Any]] = {}
    remaining: dict[int, int] = {}
    while queue:
        moment, _, order_id, step = heapq.heappop(queue)
        if isinstance(step, Scenario):
            order = builder.place_order(step, moment)
            order_id = order["id"]
            open_orders[order_id] = order
            remaining[order_id] = 0
            for when, action in builder.follow_ups(step, moment):
                if when <= now:
                    heapq.heappush(queue, (when.replace(microsecond=0), sequence, order_id, action))
                    sequence += 1
                    remaining[order_id] += 1
        else:
            step(open_orders[order_id], moment)
            remaining[order_id] -= 1
        if remaining[order_id] == 0:
            builder.shop.put_order(open_orders.pop(order_id))
            del remaining[order_id]
    builder.shop.now = now
    return builder.shop, builder
