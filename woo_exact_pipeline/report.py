"""The summary `make demo` and `woo-exact sync` print: what was booked, what waits, what is
quarantined or not booked and why, and the Exact API calls it took."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from woo_exact_pipeline.store.journal import all_problems
from woo_exact_pipeline.store.ledger import booking_counts, unbooked


@dataclass(frozen=True)
class SyncReport:
    partitions: int
    bookings: Counter[tuple[str, str]]  # (kind, ledger status) -> events
    problems: list[dict[str, Any]]  # waiting and quarantined orders with their reasons
    not_booked: list[dict[str, Any]]  # failed or unknown bookings with Exact's reasons
    api_calls: int
    exact_url: str

    @property
    def booked(self) -> int:
        return sum(n for (_, status), n in self.bookings.items() if status == "booked")

    def lines(self) -> list[str]:
        sales = self.bookings[("sale", "booked")]
        credits = self.bookings[("credit", "booked")]
        waiting = [p for p in self.problems if p["outcome"] == "waiting"]
        quarantined = [p for p in self.problems if p["outcome"] == "quarantined"]
        per_order = self.api_calls / self.booked if self.booked else 0.0
        lines = [
            f"Partitions (days):        {self.partitions}",
            f"Orders booked (sales):    {sales}",
            f"Credit notes booked:      {credits}",
            f"Waiting:                  {len(waiting)}",
            f"Quarantined:              {len(quarantined)}",
            f"Not booked, with reason:  {len(self.not_booked)}",
            f"Exact API calls:          {self.api_calls} ({per_order:.3f} per booked event)",
        ]
        for title, rows, reason in (
            ("Quarantined, with the reason a bookkeeper acts on:", quarantined, "reason"),
            ("Waiting:", waiting, "reason"),
            (
                "Not booked (held back before posting, or refused by Exact):",
                self.not_booked,
                "error",
            ),
        ):
            if rows:
                lines.append(title)
                counts = Counter(str(row[reason]) for row in rows)
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
) -> SyncReport:
    """The report from the sync database: over every day, or the days given (inclusive)."""
    with engine.connect() as connection:
        return SyncReport(
            partitions=partitions,
            bookings=booking_counts(connection, shop, days),
            problems=all_problems(connection, shop, days),
            not_booked=unbooked(connection, shop, days),
            api_calls=api_calls,
            exact_url=exact_url,
        )
