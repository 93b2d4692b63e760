"""The sandbox's checkout arithmetic reproduces WooCommerce's per-line tax rounding."""

from __future__ import annotations

from decimal import Decimal

from woo_exact_pipeline.sandbox.woocommerce.money import (
    CouponInput,
    FeeInput,
    LineInput,
    ShippingInput,
    TaxRate,
    calculate_cart,
    format_amount,
    format_raw,
    inclusive_taxes,
)

NL_21 = TaxRate(1, "NL", Decimal("21"), "BTW 21%", "")
NL_9 = TaxRate(2, "NL", Decimal("9"), "BTW 9%", "reduced-rate", shipping=False)
DE_19 = TaxRate(6, "DE", Decimal("19"), "MwSt. 19%", "")
NL_RATES = {"": [NL_21], "reduced-rate": [NL_9]}
DE_RATES = {"": [DE_19]}


def nl_cart(*lines: LineInput, **kwargs: object) -> object:
    return calculate_cart(
        lines,
        rates_for_class=NL_RATES,
        base_rates_for_class=NL_RATES,
        prices_include_tax=True,
        **kwargs,  # type: ignore[arg-type]
    )


def test_tax_included_in_a_price_is_kept_unrounded_on_the_line() -> None:
    cart = nl_cart(LineInput(Decimal("15.00"), 1, ""))
    line = cart.lines[0]
    assert format_raw(line.taxes[1]) == "2.603306"
    assert line.total_tax == Decimal("2.60")
    assert format_amount(line.total, 2) == "12.40"
    assert cart.total == Decimal("15.00")


def test_per_line_rounding_differs_by_a_cent_from_vat_over_the_order_net() -> None:
    # Each 15.00 line carries 2.603306 tax, rounded to 2.60 per line: 5.20 in all. VAT worked
    # out over the order's net (24.80 at 21% = 5.208) is 5.21: the cent bookkeepers meet.
    cart = nl_cart(LineInput(Decimal("15.00"), 1, ""), LineInput(Decimal("15.00"), 1, ""))
    assert cart.cart_tax == Decimal("5.20")
    assert cart.items_total == Decimal("24.80")
    assert round(cart.items_total * Decimal("0.21"), 2) == Decimal("5.21")
    assert cart.total == Decimal("30.00")


def test_a_percent_coupon_comes_off_the_gross_price_and_its_tax_is_split_out() -> None:
    cart = nl_cart(
        LineInput(Decimal("24.95"), 1, ""),
        LineInput(Decimal("18.95"), 1, "reduced-rate"),
        coupons=[CouponInput("welkom10", "percent", Decimal("10"))],
    )
    discount, discount_tax = cart.coupon_discounts["welkom10"]
    assert discount + discount_tax == Decimal("4.39")  # 10% of 43.90, to the cent
    assert cart.total == Decimal("39.51")


def test_a_fixed_cart_coupon_is_shared_over_the_lines_to_the_last_cent() -> None:
    cart = nl_cart(
        LineInput(Decimal("10.00"), 1, ""),
        LineInput(Decimal("10.00"), 1, ""),
        LineInput(Decimal("10.00"), 1, ""),
        coupons=[CouponInput("koffie5", "fixed_cart", Decimal("5"))],
    )
    discount, discount_tax = cart.coupon_discounts["koffie5"]
    assert discount + discount_tax == Decimal("5.00")
    assert cart.total == Decimal("25.00")


def test_shipping_and_fees_are_entered_without_tax_and_taxed_on_top() -> None:
    cart = nl_cart(
        LineInput(Decimal("9.95"), 1, ""),
        shipping=[ShippingInput("flat_rate", "PostNL", "1", Decimal("4.95"))],
        fees=[FeeInput("Klarna toeslag", Decimal("1.00"))],
    )
    assert cart.shipping[0].total_tax == Decimal("1.04")
    assert cart.fees[0].total_tax == Decimal("0.21")
    assert cart.total == Decimal("9.95") + Decimal("4.95") + Decimal("1.04") + Decimal("1.21")


def test_only_reduced_rate_items_ship_untaxed_when_that_rate_does_not_apply_to_shipping() -> None:
    cart = nl_cart(
        LineInput(Decimal("18.95"), 1, "reduced-rate"),
        shipping=[ShippingInput("flat_rate", "PostNL", "1", Decimal("4.95"))],
    )
    assert cart.shipping_tax == Decimal("0")


def test_oss_customers_pay_the_dutch_net_price_plus_their_own_countrys_vat() -> None:
    cart = calculate_cart(
        [LineInput(Decimal("24.20"), 1, "")],
        rates_for_class=DE_RATES,
        base_rates_for_class=NL_RATES,
        prices_include_tax=True,
    )
    assert cart.lines[0].taxes == {6: Decimal("3.800000")}
    assert cart.total == Decimal("23.80")  # 20.00 net + 19%


def test_reverse_charge_customers_pay_the_rounded_net_price_without_vat() -> None:
    cart = calculate_cart(
        [LineInput(Decimal("24.95"), 2, "")],
        rates_for_class=DE_RATES,
        base_rates_for_class=NL_RATES,
        prices_include_tax=True,
        vat_exempt=True,
        shipping=[ShippingInput("flat_rate", "Europa", "4", Decimal("9.95"))],
    )
    assert cart.total_tax == Decimal("0")
    assert cart.items_total == Decimal("41.24")
    assert cart.total == Decimal("51.19")


def test_inclusive_tax_is_the_share_of_the_gross_not_a_percentage_of_it() -> None:
    assert inclusive_taxes(Decimal("121"), [NL_21]) == {1: Decimal("21.000000")}


def test_shipping_is_taxed_at_the_standard_rate_when_a_standard_item_is_in_the_cart() -> None:
    nl_9_shipping = TaxRate(2, "NL", Decimal("9"), "BTW 9%", "reduced-rate")
    rates = {"": [NL_21], "reduced-rate": [nl_9_shipping]}
    shipping = [ShippingInput("flat_rate", "PostNL", "1", Decimal("10.00"))]

    def shipping_tax(*tax_classes: str) -> Decimal:
        return calculate_cart(
            [LineInput(Decimal("5.00"), 1, tax_class) for tax_class in tax_classes],
            rates_for_class=rates,
            base_rates_for_class=rates,
            prices_include_tax=True,
            shipping=shipping,
        ).shipping_tax

    assert shipping_tax("reduced-rate", "") == Decimal("2.10")
    assert shipping_tax("reduced-rate") == Decimal("0.90")
