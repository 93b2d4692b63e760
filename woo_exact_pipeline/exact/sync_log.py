"""The sync log of one load: what happened to each of the day's events, for a bookkeeper."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from woo_exact_pipeline.exact.outcomes import LOAD_STATUSES, BookingOutcome, BookingStatus
from woo_exact_pipeline.markdown import amount_text, markdown_table
from woo_exact_pipeline.store.journal import OrderProblem, ProblemOutcome
from woo_exact_pipeline.store.rate_limits import RateLimits


@dataclass(frozen=True)
class SyncLog:
    counts: dict[str, int]
    api_calls: int
    daily_quota_left: int | None
    bookings_table: str
    problems_table: str
    changed_after_booking: list[str]
    #: Events the load left out of Exact: {event, order, status, reason} (JSON metadata).
    not_booked: list[dict[str, str]]

    @property
    def in_exact(self) -> int:
        """How many of the day's events are in Exact: the rows of the bookings table."""
        return sum(self.counts[status] for status in LOAD_STATUSES if status.in_exact)


def sync_log_summary(
    outcomes: Sequence[BookingOutcome],
    problems: Iterable[OrderProblem],
    *,
    api_calls: int,
    limits: RateLimits | None,
    document_url: Callable[[str], str],
    administration_currency: str,
) -> SyncLog:
    """Counts, the order -> Exact number table (each number a link to the document's page in
    Exact, made by `document_url` from Exact's GUID; with the amount in the administration's
    currency and the rate on days with other currencies), and every problem with its
    reason."""
    statuses = Counter(outcome.status for outcome in outcomes)
    held = list(problems)
    counts = {status.value: statuses[status] for status in LOAD_STATUSES}
    for outcome in ProblemOutcome:
        counts[outcome.value] = sum(1 for p in held if p.outcome == outcome)
    daily = limits.daily if limits is not None else None
    return SyncLog(
        counts=counts,
        api_calls=api_calls,
        daily_quota_left=daily.remaining if daily is not None else None,
        bookings_table=_bookings_table(outcomes, document_url, administration_currency),
        problems_table=_problems_table(outcomes, held),
        changed_after_booking=[
            f"{o.kind} {o.reference} (Exact {o.exact_number}): {o.message}"
            for o in outcomes
            if o.status == BookingStatus.CHANGED_AFTER_BOOKING
        ],
        not_booked=[
            {
                "event": f"{o.kind} {o.reference}",
                "order": o.order_number,
                "status": o.status.value,
                "reason": o.message or "",
            }
            for o in outcomes
            if o.status.not_booked
        ],
    )


def not_booked_line(entry: Mapping[str, str]) -> str:
    """One entry of `SyncLog.not_booked` as a line: `sale 1042: failed: <Exact's words>`."""
    return f"{entry['event']}: {BookingStatus(entry['status']).words}: {entry['reason']}"


def _bookings_table(
    outcomes: Sequence[BookingOutcome],
    document_url: Callable[[str], str],
    administration_currency: str,
) -> str:
    shown = [o for o in outcomes if o.status.in_exact]
    foreign = any(o.currency not in (None, administration_currency) for o in shown)
    header = ["order", "event", "YourRef", "amount"]
    if foreign:
        header += [f"in {administration_currency}", "rate"]
    rows = []
    for o in shown:
        row = [o.order_number, o.kind, o.reference, _money(o.currency, o.amount)]
        if foreign:
            row += [_money(None, o.amount_dc), _rate(o.exchange_rate)]
        rows.append((*row, _exact_link(o, document_url), o.status.words))
    return markdown_table((*header, "Exact number", "status"), rows)


def _money(currency: str | None, amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return f"{currency} {amount_text(amount)}" if currency else amount_text(amount)


def _exact_link(outcome: BookingOutcome, document_url: Callable[[str], str]) -> str:
    if not outcome.exact_id:
        return outcome.exact_number or ""
    return f"[{outcome.exact_number or 'open'}]({document_url(outcome.exact_id)})"


def _problems_table(outcomes: Sequence[BookingOutcome], held: list[OrderProblem]) -> str:
    rows = [(o.order_number, o.status.words, o.message) for o in outcomes if o.status.not_booked]
    rows += [(p.order_number, p.outcome.value, p.reason) for p in held]
    return markdown_table(("order", "outcome", "reason"), rows)


def _rate(rate: Decimal | None) -> str:
    return "" if rate is None else str(rate.normalize())
