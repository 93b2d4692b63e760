"""WooCommerce's checkout arithmetic (WC_Cart_Totals / WC_Discounts / WC_Tax), in Decimal.

WooCommerce works in cents with 6-decimal precision, rounds each line's tax per rate to whole
cents (the default "round per line" setting) and keeps the unrounded per-rate taxes on the line.
With prices entered including tax, the ex-tax line total is the gross minus the *unrounded* tax,
so order totals can differ by a cent from the sum of the shelf prices, as in real shops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
# WooCommerce keeps unrounded taxes and line totals to 6 decimals (wc_get_rounding_precision).
RAW_PRECISION = Decimal("0.000001")


def round_half_up(value: Decimal, exponent: Decimal = CENT) -> Decimal:
    """PHP's round() and number_format() round half away from zero."""
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def round_tax(value: Decimal, half_down: bool) -> Decimal:
    """wc_round_tax_total: WooCommerce sets WC_TAX_ROUNDING_MODE to PHP_ROUND_HALF_DOWN when
    prices are entered including tax (0.525 -> 0.52), else half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_DOWN if half_down else ROUND_HALF_UP)


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


def rounded_tax_sum(
    taxes: dict[int, Decimal], half_down: bool = False, at_subtotal: bool = False
) -> Decimal:
    """round_line_tax: each rate's tax is rounded to cents before summing; a shop that rounds
    at subtotal rounds only the sum."""
    if at_subtotal:
        return round_tax(sum(taxes.values(), ZERO), half_down)
    return sum((round_tax(tax, half_down) for tax in taxes.values()), ZERO)


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
    half_down: bool = False  # the shop's tax rounding mode
    at_subtotal: bool = False  # woocommerce_tax_round_at_subtotal

    @property
    def subtotal_tax(self) -> Decimal:
        return rounded_tax_sum(self.subtotal_taxes, self.half_down, self.at_subtotal)

    @property
    def total_tax(self) -> Decimal:
        return rounded_tax_sum(self.taxes, self.half_down, self.at_subtotal)


@dataclass
class FeeResult:
    fee: FeeInput
    total: Decimal
    taxes: dict[int, Decimal]
    half_down: bool = False
    at_subtotal: bool = False

    @property
    def total_tax(self) -> Decimal:
        return rounded_tax_sum(self.taxes, self.half_down, self.at_subtotal)


@dataclass
class ShippingResult:
    shipping: ShippingInput
    total: Decimal
    taxes: dict[int, Decimal]
    half_down: bool = False
    at_subtotal: bool = False

    @property
    def total_tax(self) -> Decimal:
        return rounded_tax_sum(self.taxes, self.half_down, self.at_subtotal)


@dataclass
class CartTotals:
    lines: list[LineResult]
    fees: list[FeeResult]
    shipping: list[ShippingResult]
    coupon_discounts: dict[str, tuple[Decimal, Decimal]]  # code -> (ex-tax discount, its tax)
    # Per rate, items and fees: rounded per line, or unrounded when rounding at subtotal.
    rate_item_taxes: dict[int, Decimal] = field(default_factory=dict)
    rate_shipping_taxes: dict[int, Decimal] = field(default_factory=dict)
    half_down: bool = False
    at_subtotal: bool = False

    def _amount(self, value: Decimal) -> Decimal:
        """Rounding at subtotal keeps amounts unrounded until the order's totals."""
        return value if self.at_subtotal else round_half_up(value)

    def _taxes(self, values: Iterable[Decimal]) -> Decimal:
        summed = sum(values, ZERO)
        return round_tax(summed, self.half_down) if self.at_subtotal else summed

    @property
    def items_total(self) -> Decimal:
        return sum((self._amount(line.total) for line in self.lines), ZERO)

    @property
    def discount_total(self) -> Decimal:
        subtotal = sum((self._amount(line.subtotal) for line in self.lines), ZERO)
        return round_half_up(subtotal - self.items_total)

    @property
    def discount_tax(self) -> Decimal:
        """The order's discount tax is rounded once from the unrounded line taxes."""
        unrounded = sum(
            (
                sum(line.subtotal_taxes.values(), ZERO) - sum(line.taxes.values(), ZERO)
                for line in self.lines
            ),
            ZERO,
        )
        return round_tax(unrounded, self.half_down)

    @property
    def shipping_total(self) -> Decimal:
        return sum((self._amount(result.total) for result in self.shipping), ZERO)

    @property
    def shipping_tax(self) -> Decimal:
        return self._taxes(self.rate_shipping_taxes.values())

    @property
    def cart_tax(self) -> Decimal:
        return self._taxes(self.rate_item_taxes.values())

    @property
    def total_tax(self) -> Decimal:
        if self.at_subtotal:
            return self._taxes([*self.rate_item_taxes.values(), *self.rate_shipping_taxes.values()])
        return self.cart_tax + self.shipping_tax

    @property
    def fees_total(self) -> Decimal:
        return sum((self._amount(result.total) for result in self.fees), ZERO)

    @property
    def total(self) -> Decimal:
        taxes = self.total_tax
        if self.at_subtotal:  # rounded once, from the unrounded taxes
            taxes = sum([*self.rate_item_taxes.values(), *self.rate_shipping_taxes.values()], ZERO)
        return round_half_up(self.items_total + self.fees_total + self.shipping_total + taxes)


def _distribute_cents(
    shares: list[Decimal], prices: list[Decimal], quantities: list[int], remainder_cents: int
) -> list[Decimal]:
    """WC_Discounts::apply_coupon_remainder: the left-over cents go to the lines of the dearest
    units first, a cent per unit (a line of two mugs takes two), round after round."""
    result = list(shares)
    order = sorted(range(len(result)), key=lambda index: -prices[index] / max(quantities[index], 1))
    while remainder_cents > 0 and order:
        for index in order:
            if remainder_cents <= 0:
                break
            room = int((prices[index] - result[index]) / CENT)
            cents = min(remainder_cents, max(quantities[index], 1), room)
            result[index] += CENT * cents
            remainder_cents -= cents
        if all(prices[index] - result[index] < CENT for index in order):
            break
    return result


def _coupon_discounts(
    prices: list[Decimal], quantities: list[int], coupon: CouponInput
) -> list[Decimal]:
    """Per-line discount of one coupon on the (already discounted) line prices, as WC_Discounts."""
    if coupon.discount_type == "percent":
        shares = [
            (price * coupon.amount / 100).quantize(CENT, rounding=ROUND_FLOOR) for price in prices
        ]
        wanted = round_half_up(sum(prices, ZERO) * coupon.amount / 100)
    elif coupon.discount_type == "fixed_cart":
        # apply_coupon_fixed_cart: the same whole cents off every unit, whatever its price.
        wanted = min(coupon.amount, sum(prices, ZERO))
        units = sum(quantities)
        per_unit = (wanted / units).quantize(CENT, rounding=ROUND_FLOOR) if units else ZERO
        shares = [
            min(per_unit * quantity, price)
            for price, quantity in zip(prices, quantities, strict=True)
        ]
    else:
        raise ValueError(f"unsupported coupon type {coupon.discount_type!r}")
    remainder = int((wanted - sum(shares, ZERO)) / CENT)
    return _distribute_cents(shares, prices, quantities, remainder)


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
    at_subtotal: bool = False,
    minor_unit: Decimal = CENT,
) -> CartTotals:
    """Totals of a checkout, following WC_Cart_Totals (rounding per line unless
    `at_subtotal`). `minor_unit` 1 is a currency without cents (JPY): WooCommerce's "cents"
    are then whole yen, so a line's net comes out whole too (only untaxed lines use it here)."""
    half_down = prices_include_tax
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
        shares = _coupon_discounts(discounted, [line.quantity for line in lines], coupon)
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
        if minor_unit != CENT:
            subtotal, total = round_half_up(subtotal, minor_unit), round_half_up(total, minor_unit)
        results.append(LineResult(subtotal, subtotal_taxes, total, taxes, half_down, at_subtotal))

    # Each coupon's tax is its lines' taxes rounded one by one; the ex-tax discount is the
    # rest of what it took off, as WC_Cart_Totals stores coupon totals.
    coupon_discounts: dict[str, tuple[Decimal, Decimal]] = {}
    for code, shares in coupon_line_discounts.items():
        discount, discount_tax = ZERO, ZERO
        for share, price_includes_tax, rates in zip(shares, includes, line_rates, strict=True):
            tax_function = inclusive_taxes if price_includes_tax else exclusive_taxes
            share_tax = round_tax(sum(tax_function(share, rates).values(), ZERO), half_down)
            discount += share - share_tax if price_includes_tax else share
            discount_tax += share_tax
        coupon_discounts[code] = (round_half_up(discount), discount_tax)

    shipping_rates = _shipping_rates(lines, rates_for_class) if not vat_exempt else []
    shipping_results = [
        ShippingResult(
            method,
            method.cost,
            exclusive_taxes(method.cost, shipping_rates),
            half_down,
            at_subtotal,
        )
        for method in shipping
    ]

    fee_results = [
        FeeResult(
            fee,
            fee.amount,
            exclusive_taxes(fee.amount, rates_for_class.get(fee.tax_class, []))
            if fee.taxable and not vat_exempt and fee.amount >= 0
            else {},
            half_down,
            at_subtotal,
        )
        for fee in fees
    ]
    for result in fee_results:
        if result.fee.taxable and not vat_exempt and result.fee.amount < 0:
            result.taxes = _negative_fee_taxes(
                result.fee.amount, [*results, *shipping_results, *fee_results], line_rates
            )

    totals = CartTotals(
        results,
        fee_results,
        shipping_results,
        coupon_discounts,
        half_down=half_down,
        at_subtotal=at_subtotal,
    )

    def line_tax(tax: Decimal) -> Decimal:
        return tax if at_subtotal else round_tax(tax, half_down)

    for taxed in (*results, *fee_results):
        for rate_id, tax in taxed.taxes.items():
            totals.rate_item_taxes[rate_id] = totals.rate_item_taxes.get(rate_id, ZERO) + (
                line_tax(tax)
            )
    for result in shipping_results:
        for rate_id, tax in result.taxes.items():
            totals.rate_shipping_taxes[rate_id] = totals.rate_shipping_taxes.get(
                rate_id, ZERO
            ) + line_tax(tax)
    return totals


def _negative_fee_taxes(
    amount: Decimal,
    taxed: Sequence[LineResult | ShippingResult | FeeResult],
    line_rates: Sequence[Sequence[TaxRate]],
) -> dict[int, Decimal]:
    """A negative taxable fee (a discount) takes its tax from every rate in the order, in
    proportion to the net amounts taxed at each rate: items, shipping and positive fees."""
    percent = {rate.id: rate.rate for rates in line_rates for rate in rates}
    bases: dict[int, Decimal] = {}
    for result in taxed:
        if isinstance(result, FeeResult) and result.fee.amount < 0:
            continue
        for rate_id in result.taxes:
            bases[rate_id] = bases.get(rate_id, ZERO) + result.total
    whole = sum(bases.values(), ZERO)
    if not whole:
        return {}
    return {
        rate_id: round_half_up(amount * base / whole * percent[rate_id] / 100, RAW_PRECISION)
        for rate_id, base in bases.items()
        if rate_id in percent
    }


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
