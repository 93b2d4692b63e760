"""Money parsing, cents rounding, the largest-remainder split, and text cut for Exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from woo_exact_pipeline.bookkeeping.money import (
    InvalidAmount,
    parse_amount,
    split_proportionally,
    to_cents,
)
from woo_exact_pipeline.bookkeeping.text import clean_text, cut_text

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.10", D("12.10")),
        (" 0.9 ", D("0.9")),
        ("-10.00", D("-10.00")),
        ("1500", D("1500")),
        (3, D("3")),
        (3.3, D("3.3")),  # the JSON float `price`, read as its shortest text
        (0.1, D("0.1")),
        (13.746666666666666, D("13.746666666666666")),
        (D("4.95"), D("4.95")),
    ],
)
def test_amounts_are_read_exactly(value: object, expected: Decimal) -> None:
    amount = parse_amount(value)
    assert amount == expected and str(amount) == str(expected)


@pytest.mark.parametrize(
    "value", [None, "", "abc", "1,50", True, False, [], {}, "NaN", "Infinity", float("inf"), "1e13"]
)
def test_non_amounts_are_refused(value: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(value)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.005", "0.01"), ("-0.005", "-0.01"), ("2.675", "2.68"), ("1.2345", "1.23"), ("7", "7.00")],
)
def test_cents_round_half_away_from_zero(amount: str, expected: str) -> None:
    assert str(to_cents(D(amount))) == expected


def test_split_hands_leftover_cents_to_the_largest_remainders() -> None:
    # 1.00 in thirds: 33.33.. cents each, floors 33+33+33, one cent to the first tie.
    assert split_proportionally(D("1.00"), [D(1), D(1), D(1)]) == [D("0.34"), D("0.33"), D("0.33")]
    # 10.00 over 89.25 / 24.95 / 6.95 (the coffee order): remainders .69 / .94 / .37.
    assert split_proportionally(D("10.00"), [D("89.25"), D("24.95"), D("6.95")]) == [
        D("7.37"),
        D("2.06"),
        D("0.57"),
    ]
    assert split_proportionally(D("-1.00"), [D(1), D(0), D(2)]) == [
        D("-0.33"),
        D("0.00"),
        D("-0.67"),
    ]
    assert str(split_proportionally(D("-0.01"), [D(1), D(1)])[1]) == "0.00"  # never "-0.00"


@pytest.mark.parametrize(
    ("amount", "weights", "message"),
    [
        ("1.00", [], "no weights"),
        ("1.00", [D(0), D(0)], "all zero"),
        ("1.00", [D(1), D(-1)], "not be negative"),
        ("1.005", [D(1)], "whole number of cents"),
    ],
)
def test_split_refuses_what_it_cannot_split(
    amount: str, weights: list[Decimal], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        split_proportionally(D(amount), weights)


def test_clean_text_decodes_entities_and_flattens_whitespace() -> None:
    assert clean_text("Ship Your Idea &ndash; Color: Black,\n\tSize: M  Test") == (
        "Ship Your Idea – Color: Black, Size: M Test"
    )
    assert clean_text(None) == "" and clean_text(42) == "42"
    assert clean_text("a\u200bb\x00c") == "a b c"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Koffie", 60, "Koffie"),
        ("Koffiebonen", 6, "Koffie"),
        ("Cafe\u0301 noir", 4, "Caf"),  # e + combining acute is one character
        ("ab👍🏽cd", 3, "ab"),  # a thumb with its skin tone stays whole
        ("ab👨‍👩‍👧z", 5, "ab"),  # the family is five code points
        ("ab👨‍👩‍👧z", 7, "ab👨‍👩‍👧"),
        ("🇳🇱🇧🇪", 3, "🇳🇱"),  # a flag is two regional indicators
        ("❤️❤️", 3, "❤️"),  # heart + emoji presentation selector
        ("שלום עולם", 4, "שלום"),  # right-to-left text is cut by characters as well
        ("Kop en schotel", 4, "Kop"),  # no trailing space
    ],
)
def test_cut_text_never_breaks_a_character(text: str, limit: int, expected: str) -> None:
    cut = cut_text(text, limit)
    assert cut == expected and len(cut) <= limit
