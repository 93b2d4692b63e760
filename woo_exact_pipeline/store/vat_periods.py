"""The journal of a filing period: the events dated in it (sales on their day, credit notes on
theirs, whichever day's partition holds them), the orders they belong to, and the journal's
own sums per treatment, which the VAT reports are checked against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.bookkeeping.vat_reports import (
    OrderFacts,
    Period,
    figures,
    order_facts,
    report_lines,
)
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.store.journal import load_partition_events
from woo_exact_pipeline.store.schema import accounting_events, journal_lines, woo_orders


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


def journal_sums(
    connection: Connection, shop: str, first: date, last: date, currency: str
) -> dict[str, tuple[Decimal, Decimal]]:
    """Net and VAT of the journal lines of the events dated in the period, per treatment,
    read straight from the tables (not through the events the reports are built from)."""
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    # Summed here in Decimal: SQLite's SUM over the text-stored amounts would go via float.
    for treatment, net, vat in connection.execute(
        select(
            accounting_events.c.vat_treatment,
            journal_lines.c.amount_excl_vat,
            journal_lines.c.vat_amount,
        )
        .join(
            journal_lines,
            (journal_lines.c.shop == accounting_events.c.shop)
            & (journal_lines.c.event_key == accounting_events.c.event_key),
        )
        .where(
            accounting_events.c.shop == shop,
            accounting_events.c.event_date.between(first, last),
            accounting_events.c.currency == currency,
        )
    ):
        total_net, total_vat = sums.get(treatment, (Decimal(0), Decimal(0)))
        sums[treatment] = (total_net + net, total_vat + vat)
    return sums


@dataclass(frozen=True)
class PeriodFigures:
    events: list[AccountingEvent]
    facts: dict[int, OrderFacts]
    #: `vat_reports.figures`: report, key, rate, net_cents, vat_cents
    table: pd.DataFrame


def period_figures(connection: Connection, settings: SyncConfig, period: Period) -> PeriodFigures:
    """The period's events, what their orders say, and the three reports' figures."""
    shop = settings.shop_key
    events = load_period_events(connection, shop, period.first, period.last)
    raw = staged_orders(connection, shop, {event.order_id for event in events})
    facts = order_facts(raw, settings)
    return PeriodFigures(events, facts, figures(report_lines(events, facts, period)))
