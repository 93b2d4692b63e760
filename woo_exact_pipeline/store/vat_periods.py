"""The journal of a filing period: the events dated in it (sales on their day, credit notes on
theirs, whichever day's partition holds them), the orders they belong to, the rates the
foreign-currency ones were booked at, and the journal's own sums per treatment in euros,
which the VAT reports are checked against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from woo_exact_pipeline.bookkeeping.currency import in_administration_currency
from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.bookkeeping.vat_reports import (
    REPORT_CURRENCY,
    OrderFacts,
    Period,
    figures,
    in_euros,
    order_facts,
    report_lines,
)
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.store.journal import load_partition_events
from woo_exact_pipeline.store.schema import accounting_events, bookings, journal_lines, woo_orders


def load_period_events(
    connection: Connection, shop: str, first: date, last: date
) -> list[AccountingEvent]:
    """Every event dated from `first` to `last` (inclusive), oldest first.

    A credit note is stored under the day of the order it refunds, so the partitions are
    those of the events dated in the period, not the period's own days.
    """
    days = connection.execute(
        select(accounting_events.c.partition_date)
        .where(
            accounting_events.c.shop == shop,
            accounting_events.c.event_date.between(first, last),
        )
        .distinct()
        .order_by(accounting_events.c.partition_date)
    ).scalars()
    events = [
        event
        for day in list(days)
        for event in load_partition_events(connection, shop, day)
        if first <= event.event_date <= last
    ]
    return sorted(events, key=lambda event: (event.event_date, event.reference))


def staged_orders(
    connection: Connection, shop: str, order_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """The orders as extracted from WooCommerce, by id."""
    wanted = sorted(set(order_ids))
    found: dict[int, dict[str, Any]] = {}
    # Chunked: an IN list of a whole quarter's orders is longer than SQLite likes.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for order_id, raw in connection.execute(
            select(woo_orders.c.id, woo_orders.c.raw).where(
                woo_orders.c.shop == shop, woo_orders.c.id.in_(chunk)
            )
        ):
            found[order_id] = raw
    return found


def booked_rates(connection: Connection, shop: str, first: date, last: date) -> dict[str, Decimal]:
    """reference -> the rate each foreign-currency event dated in the period was booked at."""
    return {
        reference: rate
        for reference, rate in connection.execute(
            select(bookings.c.reference, bookings.c.exchange_rate)
            .join(accounting_events, _same_event)
            .where(
                accounting_events.c.shop == shop,
                accounting_events.c.event_date.between(first, last),
                bookings.c.status == "booked",
                bookings.c.exchange_rate.is_not(None),
            )
        )
    }


def journal_sums(
    connection: Connection, shop: str, first: date, last: date
) -> dict[str, tuple[Decimal, Decimal]]:
    """Net and VAT in euros of the journal lines of the events dated in the period, per
    treatment, read straight from the tables (not through the events the reports are built
    from): a foreign-currency line at its booking's rate, left out while it has none."""
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    # Summed here in Decimal: SQLite's SUM over the text-stored amounts would go via float.
    for treatment, currency, rate, net, vat in connection.execute(
        select(
            accounting_events.c.vat_treatment,
            accounting_events.c.currency,
            bookings.c.exchange_rate,
            journal_lines.c.amount_excl_vat,
            journal_lines.c.vat_amount,
        )
        .join(
            journal_lines,
            (journal_lines.c.shop == accounting_events.c.shop)
            & (journal_lines.c.event_key == accounting_events.c.event_key),
        )
        .outerjoin(bookings, _same_event)
        .where(
            accounting_events.c.shop == shop,
            accounting_events.c.event_date.between(first, last),
        )
    ):
        if currency != REPORT_CURRENCY:
            if rate is None:
                continue
            net = in_administration_currency(net, rate)
            vat = in_administration_currency(vat, rate)
        total_net, total_vat = sums.get(treatment, (Decimal(0), Decimal(0)))
        sums[treatment] = (total_net + net, total_vat + vat)
    return sums


_same_event = (bookings.c.shop == accounting_events.c.shop) & (
    bookings.c.event_key == accounting_events.c.event_key
)


@dataclass(frozen=True)
class PeriodFigures:
    events: list[AccountingEvent]
    #: reference -> the rate a foreign-currency event was booked at
    rates: dict[str, Decimal]
    facts: dict[int, OrderFacts]
    #: `vat_reports.figures`: report, key, rate, net_cents, vat_cents
    table: pd.DataFrame
    #: Foreign-currency events without a booked rate, left out, per currency.
    left_out: dict[str, int]


def period_figures(connection: Connection, settings: SyncConfig, period: Period) -> PeriodFigures:
    """The period's events, what their orders say, and the three reports' figures."""
    shop = settings.shop_key
    events = load_period_events(connection, shop, period.first, period.last)
    rates = booked_rates(connection, shop, period.first, period.last)
    raw = staged_orders(connection, shop, {event.order_id for event in events})
    facts = order_facts(raw, settings)
    reported, left_out = in_euros(events, rates)
    table = figures(report_lines(reported, facts, period))
    return PeriodFigures(events, rates, facts, table, left_out)
