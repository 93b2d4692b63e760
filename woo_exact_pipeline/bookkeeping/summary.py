"""Pure summaries of a transform result, for asset metadata and checks (no Dagster here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from woo_exact_pipeline.bookkeeping.model import (
    AccountingEvent,
    Quarantined,
    TransformResult,
    VatTreatment,
    Waiting,
)
from woo_exact_pipeline.bookkeeping.money import ZERO, InvalidAmount, parse_amount
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.vat import EU_COUNTRIES, VatDecision, VatRules, normalise_rate
from woo_exact_pipeline.config import SyncConfig


@dataclass(frozen=True, slots=True)
class VatTotal:
    """Net and VAT booked per currency, treatment and VAT code (credits count negative)."""

    currency: str
    vat_treatment: str
    vat_code: str | None  # None: rounding lines without a rounding_vat_code setting
    amount_excl_vat: Decimal
    vat_amount: Decimal
    lines: int


def vat_totals(events: Iterable[AccountingEvent]) -> list[VatTotal]:
    sums: dict[tuple[str, str, str | None], list[Decimal]] = {}
    counts: Counter[tuple[str, str, str | None]] = Counter()
    for event in events:
        for line in event.lines:
            key = (event.currency, str(event.vat_treatment), line.vat_code)
            entry = sums.setdefault(key, [ZERO, ZERO])
            entry[0] += line.amount_excl_vat
            entry[1] += line.vat_amount
            counts[key] += 1
    return [
        VatTotal(currency, treatment, code, net, vat, counts[(currency, treatment, code)])
        for (currency, treatment, code), (net, vat) in sorted(
            sums.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
        )
    ]


def outcome_counts(result: TransformResult) -> dict[str, int]:
    kinds = Counter(event.kind for event in result.events)
    return {
        "sales": kinds["sale"],
        "credits": kinds["credit"],
        "journal_lines": sum(len(event.lines) for event in result.events),
        "waiting": len(result.waiting),
        "quarantined": len(result.quarantined),
    }


def reason_counts(outcomes: Iterable[Waiting | Quarantined]) -> dict[str, int]:
    """How often each reason occurs, most frequent first (ties alphabetically)."""
    counts = Counter(outcome.reason for outcome in outcomes)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def category_counts(quarantined: Iterable[Quarantined]) -> dict[str, int]:
    return dict(sorted(Counter(item.category for item in quarantined).items()))


def unmapped_tax_rates(quarantined: Iterable[Quarantined]) -> list[tuple[str, str]]:
    """(country, rate) pairs WooCommerce charged that the VAT or GL mapping lacks."""
    return sorted(
        {
            (item.details.get("country", ""), item.details.get("rate", ""))
            for item in quarantined
            if item.category == "unmapped_vat_rate"
        }
    )


def unmapped_shop_tax_rates(
    tax_rates: Iterable[Mapping[str, Any]], settings: SyncConfig
) -> list[str]:
    """What the settings lack for the shop's own tax rates (WooCommerce `GET /taxes`), found
    before any order is quarantined for it: one readable line per missing code."""
    rules = VatRules(settings)
    gaps: set[str] = set()
    for tax_rate in tax_rates:
        country = str(tax_rate.get("country") or "").upper()
        try:
            percent = normalise_rate(parse_amount(tax_rate.get("rate")))
        except InvalidAmount:
            gaps.add(f"tax rate {tax_rate.get('id')} has no readable percentage")
            continue
        if country == rules.woo.shop_country or (
            country in EU_COUNTRIES and rules.exact.eu_consumer_vat_regime == "shop_country_vat"
        ):
            treatment = VatTreatment.DOMESTIC
        elif country in EU_COUNTRIES:
            treatment = VatTreatment.OSS
        else:
            continue  # outside the EU the export code applies, whatever the shop charges
        decision = VatDecision(treatment, country, None, "")
        for lookup in (rules.vat_code, rules.revenue_gl):
            try:
                lookup(decision, percent)
            except BookingProblem as problem:
                gaps.add(problem.reason)
    return sorted(gaps)


def journal_line_rows(
    events: Iterable[AccountingEvent], limit: int | None = None
) -> list[dict[str, object]]:
    """One flat row per journal line with its event's header, for tables and previews
    (the first `limit` lines only, when given)."""
    rows: Iterator[dict[str, object]] = (
        {
            "reference": event.reference,
            "kind": event.kind,
            "order_id": event.order_id,
            "refund_id": event.refund_id,
            "event_date": event.event_date,
            "currency": event.currency,
            "debtor": event.debtor.code or event.debtor.email or event.debtor.name,
            "vat_treatment": str(event.vat_treatment),
            "line": number,
            "line_kind": line.kind,
            "gl_account": line.gl_account,
            "vat_code": line.vat_code,
            "vat_rate": line.vat_rate,
            "item_code": line.item_code,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount_excl_vat": line.amount_excl_vat,
            "vat_amount": line.vat_amount,
        }
        for event in events
        for number, line in enumerate(event.lines, start=1)
    )
    return list(islice(rows, limit))
