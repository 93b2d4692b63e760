"""The summary `make demo` and `woo-exact sync` print: what was booked, what waits, what is
quarantined or not booked and why, and the Exact API calls it took."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from woo_exact_pipeline.exact.outcomes import BookingOutcome, BookingStatus
from woo_exact_pipeline.store.day_summary import day_summaries
from woo_exact_pipeline.store.journal import OrderProblem, ProblemOutcome, all_problems
from woo_exact_pipeline.store.ledger import unbooked

if TYPE_CHECKING:
    from woo_exact_pipeline.defs.exact.reconciliation import ReconciliationSummary


@dataclass(frozen=True)
class SyncReport:
    partitions: int
    sales_booked: int
    credits_booked: int
    problems: list[OrderProblem]  # waiting and quarantined orders with their reasons
    not_booked: list[dict[str, Any]]  # failed or unknown bookings with Exact's reasons
    api_calls: int
    exact_url: str
    reconciliation: ReconciliationSummary | None = None

    @property
    def booked(self) -> int:
        return self.sales_booked + self.credits_booked

    def lines(self) -> list[str]:
        waiting = [p.reason for p in self.problems if p.outcome == ProblemOutcome.WAITING]
        quarantined = [p.reason for p in self.problems if p.outcome == ProblemOutcome.QUARANTINED]
        per_order = self.api_calls / self.booked if self.booked else 0.0
        lines = [
            f"Partitions (days):        {self.partitions}",
            f"Orders booked (sales):    {self.sales_booked}",
            f"Credit notes booked:      {self.credits_booked}",
            f"Waiting:                  {len(waiting)}",
            f"Quarantined:              {len(quarantined)}",
            f"Not booked, with reason:  {len(self.not_booked)}",
            f"Exact API calls:          {self.api_calls} ({per_order:.3f} per booked event)",
        ]
        if self.reconciliation is not None:
            agree = self.reconciliation
            lines.append(
                f"Reconciliation:           {agree.days_agreeing} days agree with WooCommerce, "
                f"{agree.days_differing} differ, {agree.days_not_reconciled} not reconciled"
            )
            lines += [
                f"  {day}: {difference}" for day, difference in list(agree.differences.items())[:5]
            ]
        for title, reasons in (
            ("Quarantined, with the reason a bookkeeper acts on:", quarantined),
            ("Waiting:", waiting),
            (
                "Not booked (held back before posting, or refused by Exact):",
                [row["error"] for row in self.not_booked],
            ),
        ):
            if reasons:
                lines.append(title)
                counts = Counter(str(reason) for reason in reasons)
                lines += [f"  {n} x {text}" for text, n in counts.most_common(8)]
        return lines


#: How many events a dry run lists by name per status before it only counts the rest.
LISTED_PER_STATUS = 50


@dataclass(frozen=True)
class DryRunReport:
    """What loading a range would do, from the loader's dry run (nothing was posted)."""

    partitions: int
    outcomes: list[tuple[str, BookingOutcome]]  # (day, outcome)
    problems: list[OrderProblem]  # waiting and quarantined orders with their reasons

    def with_status(self, status: BookingStatus) -> list[tuple[str, BookingOutcome]]:
        return [(day, outcome) for day, outcome in self.outcomes if outcome.status == status]

    def lines(self) -> list[str]:
        would_book = self.with_status(BookingStatus.WOULD_BOOK)
        changed = self.with_status(BookingStatus.CHANGED_AFTER_BOOKING)
        kinds = Counter(outcome.kind for _, outcome in would_book)
        waiting = [p.reason for p in self.problems if p.outcome == ProblemOutcome.WAITING]
        quarantined = [p.reason for p in self.problems if p.outcome == ProblemOutcome.QUARANTINED]
        lines = [
            "Dry run: nothing was posted to Exact.",
            f"Partitions (days):        {self.partitions}",
            f"Would book:               {len(would_book)} "
            f"({kinds['sale']} sales, {kinds['credit']} credit notes)",
            f"Already booked:           {len(self.with_status(BookingStatus.ALREADY_BOOKED))}",
            f"Changed after booking:    {len(changed)}",
            f"Held back:                {len(self.with_status(BookingStatus.HELD_BACK))}",
            f"Waiting:                  {len(waiting)}",
            f"Quarantined:              {len(quarantined)}",
        ]
        if would_book:
            lines.append("Would book:")
            lines += [
                f"  {day}  {outcome.kind:<6} order {outcome.order_number}, YourRef "
                f"{outcome.reference}" + (f" ({outcome.message})" if outcome.message else "")
                for day, outcome in would_book[:LISTED_PER_STATUS]
            ]
            if len(would_book) > LISTED_PER_STATUS:
                lines.append(f"  ... and {len(would_book) - LISTED_PER_STATUS} more")
        for title, reasons in (
            (
                "Held back (Exact would refuse them), with the reason:",
                [o.message for _, o in self.with_status(BookingStatus.HELD_BACK)],
            ),
            (
                "Changed in WooCommerce after booking (not re-posted):",
                [f"{o.reference} (Exact {o.exact_number})" for _, o in changed],
            ),
            ("Quarantined, with the reason:", quarantined),
            ("Waiting:", waiting),
        ):
            if reasons:
                lines.append(title)
                counts = Counter(str(reason) for reason in reasons)
                lines += [f"  {n} x {text}" for text, n in counts.most_common(8)]
        return lines


def read_report(
    engine: Engine,
    shop: str,
    *,
    partitions: int,
    api_calls: int,
    exact_url: str,
    days: tuple[date, date] | None = None,
    reconciliation: ReconciliationSummary | None = None,
) -> SyncReport:
    """The report from the sync database: over every day, or the days given (inclusive)."""
    with engine.connect() as connection:
        summaries = day_summaries(connection, shop, days)
        return SyncReport(
            partitions=partitions,
            sales_booked=sum(summary.sales_booked for summary in summaries),
            credits_booked=sum(summary.credits_booked for summary in summaries),
            problems=all_problems(connection, shop, days),
            not_booked=unbooked(connection, shop, days),
            api_calls=api_calls,
            exact_url=exact_url,
            reconciliation=reconciliation,
        )
