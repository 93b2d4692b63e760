"""Foreign currency: the rate a multi-currency plugin recorded on an order, and Exact's rate
for a day.

Every rate here is in Exact's convention: 1 unit of the administration's currency = `rate`
units of the order's currency ("The exchange rate is stored as 1 TARGET CURRENCY = x SOURCE
CURRENCY", financial/ExchangeRates). An amount in the administration's currency is the
order's amount divided by the rate, which Exact derives (`AmountDC`) line by line.

What each plugin writes when an order is placed (each read from its source):

* **WooPayments** `_wcpay_multi_currency_order_exchange_rate`: order currency per 1 unit of
  `_wcpay_multi_currency_order_default_currency`, the store's currency then (Exact's
  convention already). Written for checkout orders only; copied onto refunds.
* **Aelia Currency Switcher** `_base_currency_exchange_rate`: the store's currency per 1 unit
  of the order's (the inverse).
* **CURCY** `wmc_order_info`: every configured currency with its `rate` per 1 unit of the main
  one (`is_main`); the order's rate over the main one's.
* **WOOCS** (WooCommerce Currency Switcher) `_woocs_order_rate`: order currency per 1 unit
  of `_woocs_order_base_currency`, as the demo shop records it (Exact's convention).
* **WPML/WCML** records no rate on the order: Exact's rate for the day is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from woo_exact_pipeline.bookkeeping.money import to_cents
from woo_exact_pipeline.bookkeeping.problems import BookingProblem

WOOPAYMENTS_RATE = "_wcpay_multi_currency_order_exchange_rate"
WOOPAYMENTS_BASE = "_wcpay_multi_currency_order_default_currency"
AELIA_RATE = "_base_currency_exchange_rate"
CURCY_INFO = "wmc_order_info"
WOOCS_RATE = "_woocs_order_rate"
WOOCS_BASE = "_woocs_order_base_currency"
#: The meta_data keys the rate is read from.
RATE_META_KEYS = frozenset(
    {WOOPAYMENTS_RATE, WOOPAYMENTS_BASE, AELIA_RATE, CURCY_INFO, WOOCS_RATE, WOOCS_BASE}
)


@dataclass(frozen=True, slots=True)
class RecordedRate:
    """The rate the shop converted the order at, and the plugin that recorded it."""

    rate: Decimal
    plugin: str


def recorded_rate(
    meta: Mapping[str, object], currency: str, administration_currency: str
) -> RecordedRate | None:
    """The shop's rate for an order (or refund) in `currency`; None when it is in the
    administration's currency or no plugin recorded one. A rate that cannot be read, or one
    against another currency than the administration's, holds the order back."""
    if currency == administration_currency:
        return None
    for plugin, rate_key, base_key in (
        ("WooPayments", WOOPAYMENTS_RATE, WOOPAYMENTS_BASE),
        ("WOOCS", WOOCS_RATE, WOOCS_BASE),
    ):
        if rate_key in meta:
            base = meta.get(base_key)
            if base is not None and str(base).strip().upper() != administration_currency:
                raise _other_base(plugin, str(base), administration_currency)
            return RecordedRate(_positive(meta[rate_key], rate_key), plugin)
    if AELIA_RATE in meta:
        inverse = _positive(meta[AELIA_RATE], AELIA_RATE)
        return RecordedRate(Decimal(1) / inverse, "Aelia Currency Switcher")
    if isinstance(info := meta.get(CURCY_INFO), Mapping):
        return _curcy_rate(info, currency, administration_currency)
    return None


def _curcy_rate(
    info: Mapping[object, object], currency: str, administration_currency: str
) -> RecordedRate:
    main = next(
        (code for code, entry in info.items() if isinstance(entry, Mapping) and _is_main(entry)),
        None,
    )
    if main is not None and str(main).upper() != administration_currency:
        raise _other_base("CURCY", str(main), administration_currency)
    entries = {str(code).upper(): entry for code, entry in info.items()}
    own, base = entries.get(currency), entries.get(administration_currency)
    if not isinstance(own, Mapping) or not isinstance(base, Mapping):
        raise BookingProblem(
            "invalid_data",
            f"CURCY's {CURCY_INFO} on the order has no rate for {currency} and "
            f"{administration_currency}; book the order by hand or add the rate in Exact "
            "and remove the plugin's record",
        )
    rate = _positive(own.get("rate"), f"{CURCY_INFO}.{currency}.rate")
    return RecordedRate(rate / _positive(base.get("rate"), f"{CURCY_INFO}.main.rate"), "CURCY")


def _is_main(entry: Mapping[object, object]) -> bool:
    return str(entry.get("is_main", "")).strip() in ("1", "true", "True")


def _positive(value: object, key: str) -> Decimal:
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        rate = Decimal(0)
    if not rate.is_finite() or rate <= 0:
        raise BookingProblem(
            "invalid_data",
            f"the exchange rate {value!r} in the order's {key} is not a positive number",
            key=key,
        )
    return rate


def _other_base(plugin: str, base: str, administration_currency: str) -> BookingProblem:
    return BookingProblem(
        "invalid_data",
        f"{plugin} converted the order from {base}, not from the administration's "
        f"{administration_currency}; its rate cannot be used, so the order needs a manual "
        "booking",
        plugin=plugin,
    )


def in_administration_currency(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount of the order's currency in the administration's, as Exact derives it for a
    line (AmountDC): divided by the rate, rounded half-up to the cent."""
    return to_cents(amount / rate)


def rate_on(rates: Iterable[tuple[date, Decimal]], day: date) -> Decimal | None:
    """Exact's rate for `day`: of (start date, rate) pairs, the latest starting on or before
    it ("The rate is valid until a next rate is defined")."""
    valid = [(start, rate) for start, rate in rates if start <= day]
    return max(valid)[1] if valid else None
