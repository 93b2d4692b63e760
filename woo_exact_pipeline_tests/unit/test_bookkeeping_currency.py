"""Foreign currency in the transform: the rate each multi-currency plugin records on the order,
read in Exact's convention (1 EUR = rate order currency), and Exact's rate for a day."""

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from woo_exact_pipeline.bookkeeping.currency import rate_on
from woo_exact_pipeline_tests.fixtures.bookkeeping import book, settings
from woo_exact_pipeline_tests.support.orders import coffee_order, goodwill_refund

IN_DOLLARS = settings(exact={"currencies": ["EUR", "USD"]})


def dollar_order(*meta: tuple[str, Any]) -> dict[str, Any]:
    """The coffee order (121.15 in all) paid in dollars, with these meta_data entries."""
    return coffee_order(
        currency="USD",
        meta_data=[{"id": n, "key": key, "value": value} for n, (key, value) in enumerate(meta)],
    )


@pytest.mark.parametrize(
    ("meta", "rate"),
    [
        # WooPayments: order currency per 1 unit of the store's default currency.
        (
            [
                ("_wcpay_multi_currency_order_exchange_rate", "1.0852"),
                ("_wcpay_multi_currency_order_default_currency", "EUR"),
            ],
            D("1.0852"),
        ),
        # WOOCS, as the demo shop records it: the same direction.
        ([("_woocs_order_rate", "1.08"), ("_woocs_order_base_currency", "EUR")], D("1.08")),
        # Aelia: the store's currency per 1 unit of the order's, the inverse.
        ([("_base_currency_exchange_rate", "0.8")], D("1.25")),
        # CURCY: every currency's rate per 1 unit of the main one.
        (
            [
                (
                    "wmc_order_info",
                    {
                        "EUR": {"rate": "1", "is_main": 1, "decimals": "2"},
                        "USD": {"rate": "1.09", "decimals": "2"},
                    },
                )
            ],
            D("1.09"),
        ),
        # WCML records nothing: Exact's own rate will apply.
        ([("wpml_language", "en")], None),
    ],
    ids=["woopayments", "woocs", "aelia", "curcy", "wcml"],
)
def test_each_plugins_recorded_rate_is_read_in_exacts_convention(
    meta: list[tuple[str, Any]], rate: D | None
) -> None:
    (sale,) = book([dollar_order(*meta)], config=IN_DOLLARS).events
    assert sale.currency == "USD" and sale.total_incl_vat == D("121.15")
    assert sale.exchange_rate == rate


def test_an_order_in_the_administrations_currency_has_no_rate() -> None:
    order = coffee_order(meta_data=[{"id": 1, "key": "_woocs_order_rate", "value": "1"}])
    (sale,) = book([order], config=IN_DOLLARS).events
    assert sale.exchange_rate is None


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        (
            [
                ("_wcpay_multi_currency_order_exchange_rate", "1.27"),
                ("_wcpay_multi_currency_order_default_currency", "GBP"),
            ],
            "WooPayments converted the order from GBP, not from the administration's EUR",
        ),
        ([("_woocs_order_rate", "0")], "the exchange rate '0' in the order's _woocs_order_rate"),
        ([("_base_currency_exchange_rate", "n/a")], "'n/a' in the order's"),
        (
            [("wmc_order_info", {"EUR": {"rate": "1", "is_main": 1}})],
            "CURCY's wmc_order_info on the order has no rate for USD and EUR",
        ),
    ],
    ids=["other-base", "zero", "unreadable", "curcy-without-the-currency"],
)
def test_a_rate_that_cannot_be_used_holds_the_order_back_with_the_reason(
    meta: list[tuple[str, Any]], reason: str
) -> None:
    result = book([dollar_order(*meta)], config=IN_DOLLARS)
    assert not result.events
    (held,) = result.quarantined
    assert reason in held.reason


def test_a_refund_takes_the_sales_rate_unless_the_plugin_recorded_its_own() -> None:
    order = dollar_order(("_wcpay_multi_currency_order_exchange_rate", "1.0852"))
    own = goodwill_refund(503, "5.00") | {
        "meta_data": [
            {"id": 9, "key": "_wcpay_multi_currency_order_exchange_rate", "value": "1.0900"}
        ]
    }
    sale, credit, second = book([order], {1001: [goodwill_refund(), own]}, config=IN_DOLLARS).events
    assert (sale.exchange_rate, credit.exchange_rate, second.exchange_rate) == (
        D("1.0852"),
        D("1.0852"),
        D("1.0900"),
    )


def test_the_rate_changes_the_content_hash_only_when_there_is_one() -> None:
    with_rate = book([dollar_order(("_woocs_order_rate", "1.08"))], config=IN_DOLLARS).events[0]
    without = book([dollar_order()], config=IN_DOLLARS).events[0]
    assert with_rate.content_hash != without.content_hash
    # An event in the administration's currency hashes as it did before rates were read.
    euro = book([coffee_order()]).events[0]
    assert euro.exchange_rate is None
    assert euro.content_hash == book([coffee_order()], config=IN_DOLLARS).events[0].content_hash


def test_exacts_rate_for_a_day_is_the_latest_that_started_on_or_before_it() -> None:
    rates = [(date(2026, 1, 1), D("1.0850")), (date(2026, 10, 1), D("1.0720"))]
    assert rate_on(rates, date(2026, 9, 30)) == D("1.0850")
    assert rate_on(rates, date(2026, 10, 1)) == D("1.0720")
    assert rate_on(rates, date(2025, 12, 31)) is None
