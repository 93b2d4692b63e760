"""The rate each booking is converted at in Exact: one rule for the loader, which sends it, and
the reconciliation, which checks what Exact derived from it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from woo_exact_pipeline.bookkeeping.currency import rate_on
from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.config import ExactSettings
from woo_exact_pipeline.exact import reference
from woo_exact_pipeline.exact.client import ExactClient


class MissingExchangeRate(Exception):
    """Neither the shop nor Exact has a rate for the event's currency and date."""


class BookingRates:
    """Exact's rates, read once per foreign currency and only when an event needs them."""

    def __init__(self, client: ExactClient, exact: ExactSettings) -> None:
        self._client = client
        self._exact = exact
        self._exact_rates: dict[str, list[tuple[date, Decimal]]] = {}

    def rate_of(self, event: AccountingEvent) -> Decimal | None:
        """None in the administration's own currency; the shop's recorded rate on a sales
        entry (the one document that takes a rate); else Exact's for the event's date, which
        is also what Exact converts invoices and orders at."""
        if event.currency == self._exact.administration_currency:
            return None
        if event.exchange_rate is not None and self._exact.insertion_type == "sales_entry":
            return event.exchange_rate
        if event.currency not in self._exact_rates:
            self._exact_rates[event.currency] = reference.exchange_rates(
                self._client, event.currency
            )
        rate = rate_on(self._exact_rates[event.currency], event.event_date)
        if rate is None:
            raise MissingExchangeRate(
                f"no {event.currency} rate for {event.event_date} in Exact: add one under "
                "Financial > Exchange rates"
            )
        return rate

    def of_foreign(self, events: Iterable[AccountingEvent]) -> dict[str, Decimal | None]:
        """reference -> rate of every event in a foreign currency; None where there is none
        (the loader holds those back)."""
        rates: dict[str, Decimal | None] = {}
        for event in events:
            if event.currency == self._exact.administration_currency:
                continue
            try:
                rates[event.reference] = self.rate_of(event)
            except MissingExchangeRate:
                rates[event.reference] = None
        return rates
