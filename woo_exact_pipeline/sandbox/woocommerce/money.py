"""WooCommerce's checkout arithmetic (WC_Cart_Totals / WC_Discounts / WC_Tax), in Decimal.

WooCommerce works in cents with 6-decimal precision, rounds each line's tax per rate to whole
cents (the default "round per line" setting) and keeps the unrounded per-rate taxes on the line.
With prices entered including tax, the ex-tax line total is the gross minus the *unrounded* tax,
so order totals can differ by a cent from the sum of the shelf prices, as in real shops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
# WooCommerce keeps unrounded taxes and line totals to 6 decimals (wc_get_rounding_precision).
RAW_PRECISION = Decimal("0.000001")


def round_half_up(value: Decimal, exponent: Decimal = CENT) -> Decimal:
    """PHP's round() and number_format() round half away from zero."""
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal, decimals: int) -> str:
    """wc_format_decimal($value, $dp): a fixed-decimal string, as every money field is shown."""
    return str(round_half_up(value, Decimal(1).scaleb(-decimals)))


def format_raw(value: Decimal) -> str:
    """An unrounded stored amount (taxes[] entries): no padding, trailing zeros trimmed."""
    text = format(value.quantize(RAW_PRECISION, rounding=ROUND_HALF_UP).normalize(), "f")
    return "0" if text in ("-0", "0") else text


@dataclass(frozen=True)
class TaxRate:
    id: int
    country: str
    rate: Decimal  # percent, e.g. Decimal("21")
    name: str
    tax_class: str  # "" is the standard class
    shipping: bool = True
    compound: bool = False
    priority: int = 1


def exclusive_taxes(price: Decimal, rates: Sequence[TaxRate]) -> dict[int, Decimal]:
    """WC_Tax::calc_exclusive_tax for non-compound rates."""
    return {rate.id: round_half_up(price * rate.rate / 100, RAW_PRECISION) for rate in rates}


def inclusive_taxes(price: Decimal, rates: Sequence[TaxRate]) -> dict[int, Decimal]:
    """WC_Tax::calc_inclusive_tax for non-compound rates: the tax share hidden in a gross price."""
    total_rate = 1 + sum((rate.rate for rate in rates), ZERO) / 100
    base = price / total_rate
    return {rate.id: round_half_up(base * rate.rate / 100, RAW_PRECISION) for rate in rates}


def rounded_tax_sum(taxes: dict[int, Decimal]) -> Decimal:
    """round_line_tax: each rate's tax is rounded to cents before summing."""
    return sum((round_half_up(tax) for tax in taxes.values()), ZERO)


@dataclass
class LineInput:
    unit_price: Decimal  # catalogue price, including tax when the shop enters prices so
    quantity: int
    tax_class: str
    taxable: bool = True


@dataclass
class CouponInput:
    code: str
    discount_type: str  # "percent" or "fixed_cart"
    amount: Decimal


@dataclass
class FeeInput:
    name: str
    amount: Decimal  # fees are always entered excluding tax
    taxable: bool = True
    tax_class: str = ""


@dataclass
class ShippingInput:
    method_id: str
    method_title: str
    instance_id: str
    cost: Decimal  # shipping costs are always entered excluding tax


@dataclass
class LineResult:
    subtotal: Decimal
    subtotal_taxes: dict[int, Decimal]
    total: Decimal
    taxes: dict[int, Decimal]

    @property
    def subtotal_tax(self) -> Decimal:
        return rounded_tax_sum(self.subtotal_taxes)

    @property
    def total_tax(self) -> Decimal:
        return rounded_tax_sum(self.taxes)


@dataclass
class FeeResult:
    fee: FeeInput
    total: Decimal
    taxes: dict[int, Decimal]

    @property
    def total_tax(self) -> Decimal:
        return rounded_tax_sum(self.taxes)


@dataclass
class ShippingResult:
    shipping: ShippingInput
    total: Decimal
    taxes: dict[int, Decimal]

    @property
    def total_tax(self) -> Decimal:
        return rounded_tax_sum(self.taxes)


@dataclass
class CartTotals:
    lines: list[LineResult]
    fees: list[FeeResult]
    shipping: list[ShippingResult]
    coupon_discounts: dict[str, tuple[Decimal, Decimal]]  # code -> (ex-tax discount, its tax)
    rate_item_taxes: dict[int, Decimal] = field(default_factory=dict)  # items + fees, rounded
    rate_shipping_taxes: dict[int, Decimal] = field(default_factory=dict)

    @property
    def items_total(self) -> Decimal:
        return sum((round_half_up(line.total) for line in self.lines), ZERO)

    @property
    def discount_total(self) -> Decimal:
        return sum((round_half_up(line.subtotal) for line in self.lines), ZERO) - self.items_total

    @property
    def discount_tax(self) -> Decimal:
        return sum((line.subtotal_tax - line.total_tax for line in self.lines), ZERO)

    @property
    def shipping_total(self) -> Decimal:
        return sum((round_half_up(result.total) for result in self.shipping), ZERO)

    @property
    def shipping_tax(self) -> Decimal:
        return sum(self.rate_shipping_taxes.values(), ZERO)

    @property
    def cart_tax(self) -> Decimal:
        return sum(self.rate_item_taxes.values(), ZERO)

    @property
    def total_tax(self) -> Decimal:
        return self.cart_tax + self.shipping_tax

    @property
    def fees_total(self) -> Decimal:
        return sum((round_half_up(result.total) for result in self.fees), ZERO)

    @property
    def total(self) -> Decimal:
        return round_half_up(
            self.items_total + self.fees_total + self.shipping_total + self.total_tax
        )


def _distribute_cents(shares: list[Decimal], remainder_cents: int) -> list[Decimal]:
    """WC_Discounts::apply_coupon_remainder: hand out left-over cents one line at a time."""
    result = list(shares)
    index = 0
    while remainder_cents > 0 and result:
        result[index % len(result)] += CENT
        remainder_cents -= 1
        index += 1
    return result


def _coupon_discounts(prices: list[Decimal], coupon: CouponInput) -> list[Decimal]:
    """Per-line discount of one coupon on the (already discounted) line prices, as WC_Discounts."""
    if coupon.discount_type == "percent":
        shares = [
            (price * coupon.amount / 100).quantize(CENT, rounding=ROUND_FLOOR) for price in prices
        ]
        wanted = round_half_up(sum(prices, ZERO) * coupon.amount / 100)
    elif coupon.discount_type == "fixed_cart":
        cart = sum(prices, ZERO)
        wanted = min(coupon.amount, cart)
        shares = [
            (price * wanted / cart).quantize(CENT, rounding=ROUND_FLOOR) if cart else ZERO
            for price in prices
        ]
    else:
        raise ValueError(f"unsupported coupon type {coupon.discount_type!r}")
    remainder = int((wanted - sum(shares, ZERO)) / CENT)
    return _distribute_cents(shares, remainder)


def calculate_cart(
    lines: Sequence[LineInput],
    *,
    rates_for_class: dict[str, list[TaxRate]],
    base_rates_for_class: dict[str, list[TaxRate]],
    prices_include_tax: bool,
    vat_exempt: bool = False,
    coupons: Sequence[CouponInput] = (),
    fees: Sequence[FeeInput] = (),
    shipping: Sequence[ShippingInput] = (),
) -> CartTotals:
    """Totals of a checkout, following WC_Cart_Totals with default settings."""
    prices: list[Decimal] = []
    includes: list[bool] = []
    line_rates: list[list[TaxRate]] = []
    for line in lines:
        price = line.unit_price * line.quantity
        rates = rates_for_class.get(line.tax_class, []) if line.taxable and not vat_exempt else []
        base_rates = base_rates_for_class.get(line.tax_class, [])
        price_includes_tax = prices_include_tax
        if prices_include_tax and line.taxable:
            if vat_exempt:
                # remove_taxes_from_price: VAT-exempt customers pay the rounded net price.
                price = round_half_up(
                    price - sum(inclusive_taxes(price, base_rates).values(), ZERO)
                )
                price_includes_tax = False
            elif [rate.id for rate in rates] != [rate.id for rate in base_rates]:
                # adjust_non_base_location_price: keep the net, add the destination's tax.
                net = price - sum(inclusive_taxes(price, base_rates).values(), ZERO)
                price = net + sum(exclusive_taxes(net, rates).values(), ZERO)
        prices.append(price)
        includes.append(price_includes_tax)
        line_rates.append(rates)

    discounted = list(prices)
    coupon_line_discounts: dict[str, list[Decimal]] = {}
    for coupon in coupons:
        shares = _coupon_discounts(discounted, coupon)
        coupon_line_discounts[coupon.code] = shares
        discounted = [price - share for price, share in zip(discounted, shares, strict=True)]

    results: list[LineResult] = []
    for price, after, price_includes_tax, rates in zip(
        prices, discounted, includes, line_rates, strict=True
    ):
        tax_function = inclusive_taxes if price_includes_tax else exclusive_taxes
        subtotal_taxes = tax_function(price, rates)
        taxes = tax_function(after, rates)
        subtotal, total = price, after
        if price_includes_tax:
            subtotal -= sum(subtotal_taxes.values(), ZERO)
            total -= sum(taxes.values(), ZERO)
        results.append(LineResult(subtotal, subtotal_taxes, total, taxes))

    # Each coupon's ex-tax share and its tax, split per line like WC_Cart_Totals does.
    coupon_discounts: dict[str, tuple[Decimal, Decimal]] = {}
    for code, shares in coupon_line_discounts.items():
        discount, discount_tax = ZERO, ZERO
        for share, price_includes_tax, rates in zip(shares, includes, line_rates, strict=True):
            tax_function = inclusive_taxes if price_includes_tax else exclusive_taxes
            share_tax = sum(tax_function(share, rates).values(), ZERO)
            discount += share - share_tax if price_includes_tax else share
            discount_tax += share_tax
        coupon_discounts[code] = (round_half_up(discount), round_half_up(discount_tax))

    fee_results = [
        FeeResult(
            fee,
            fee.amount,
            exclusive_taxes(fee.amount, rates_for_class.get(fee.tax_class, []))
            if fee.taxable and not vat_exempt
            else {},
        )
        for fee in fees
    ]

    shipping_rates = _shipping_rates(lines, rates_for_class) if not vat_exempt else []
    shipping_results = [
        ShippingResult(method, method.cost, exclusive_taxes(method.cost, shipping_rates))
        for method in shipping
    ]

    totals = CartTotals(results, fee_results, shipping_results, coupon_discounts)
    for taxed in (*results, *fee_results):
        for rate_id, tax in taxed.taxes.items():
            totals.rate_item_taxes[rate_id] = totals.rate_item_taxes.get(rate_id, ZERO) + (
                round_half_up(tax)
            )
    for result in shipping_results:
        for rate_id, tax in result.taxes.items():
            totals.rate_shipping_taxes[rate_id] = totals.rate_shipping_taxes.get(
                rate_id, ZERO
            ) + round_half_up(tax)
    return totals


def _shipping_rates(
    lines: Sequence[LineInput], rates_for_class: dict[str, list[TaxRate]]
) -> list[TaxRate]:
    """Shipping tax class "based on cart items" (WC_Tax::get_shipping_tax_rates): the standard
    class when a standard item is in the cart, else the first class in the shop's order."""
    cart_classes = {line.tax_class for line in lines if line.taxable}
    for tax_class in ("", *rates_for_class):
        if tax_class in cart_classes:
            return [rate for rate in rates_for_class.get(tax_class, []) if rate.shipping]
    return []
