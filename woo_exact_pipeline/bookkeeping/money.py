"""Exact money arithmetic: WooCommerce amounts to `Decimal`, cents rounding, lossless splits.

WooCommerce sends amounts as strings ("12.10"), sometimes raw ("0.9") and sometimes as JSON
numbers (`price`, `rate_percent`). Every one becomes a `Decimal` read from its text, never
through binary floating point arithmetic, so "0.1" stays 0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal(0)
MAX_AMOUNT_DIGITS = 13  # whole-number digits; doubles keep cents exact up to about 10**13


class InvalidAmount(ValueError):
    """A value that is not a finite amount of money."""


def parse_amount(value: object) -> Decimal:
    """Read a WooCommerce amount (string, int or JSON float) exactly.

    Floats are read through `repr`, which is the shortest text that round-trips, so the JSON
    number 3.3 becomes Decimal("3.3") and not 3.29999999999999982236431605997495353221893310546875.
    """
    if type(value) is int:  # quantities: exact without a detour through text
        amount = Decimal(value)
    else:
        if type(value) is str:
            text = value
        elif isinstance(value, bool):
            # bool is an int subclass; True as "1.00" would silently book a euro.
            raise InvalidAmount(f"{value!r} is not an amount")
        elif isinstance(value, int | float):
            text = repr(value)
        elif isinstance(value, Decimal | str):
            text = str(value)
        else:
            raise InvalidAmount(f"{value!r} is not an amount")
        try:
            amount = Decimal(text)  # ignores surrounding whitespace, as PHP's floatval
        except InvalidOperation:
            raise InvalidAmount(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise InvalidAmount(f"{value!r} is not a finite amount")
    if amount and amount.adjusted() >= MAX_AMOUNT_DIGITS:
        # Far beyond any order, and beyond what Exact's doubles hold to the cent.
        raise InvalidAmount(f"{value!r} is out of range")
    # "-0.00" (a rounded tiny negative) is the same money as "0.00"; one spelling keeps
    # content hashes stable.
    return amount.copy_abs() if amount.is_zero() else amount


def to_cents(amount: Decimal) -> Decimal:
    """Round to whole cents, halves away from zero (as PHP's number_format in WooCommerce)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def split_proportionally(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split a cents `amount` over non-negative `weights` so the parts add up to it exactly.

    Rule (largest remainder, also called Hamilton's method): every part first gets its exact
    proportional share rounded toward zero to whole cents; the cents still missing are handed
    out one each to the parts with the largest cut-off remainder, ties going to the earlier
    part. A negative amount is split as its absolute value and every part negated, so a refund
    is the mirror image of the same split of a sale. Zero weights always get zero.
    """
    if not weights:
        raise ValueError("cannot split an amount over no weights")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    total_weight = sum(weights, ZERO)
    if total_weight == 0:
        raise ValueError("cannot split an amount over weights that are all zero")
    if to_cents(amount) != amount:
        raise ValueError(f"{amount} is not a whole number of cents")
    cents = int(abs(amount) / CENT)
    exact_shares = [Decimal(cents) * weight / total_weight for weight in weights]
    floors = [int(share.to_integral_value(rounding=ROUND_DOWN)) for share in exact_shares]
    missing = cents - sum(floors)
    by_remainder = sorted(
        range(len(weights)), key=lambda index: (-(exact_shares[index] - floors[index]), index)
    )
    for index in by_remainder[:missing]:
        floors[index] += 1
    # Negating the integer (not the Decimal) keeps a zero part "0.00" rather than "-0.00".
    return [Decimal(-part if amount < 0 else part) * CENT for part in floors]
