"""The administration's financial years and periods, and which journals are closed in which.

Exact keeps a period date table (`financial/FinancialPeriods`: FinYear, FinPeriod, StartDate,
EndDate) and a status per journal and period (`read/financial/JournalStatusList`: 0 open,
1 closed). An entry must fall in a period of the table ("The period should exist in the period
date table", SalesEntries reference page) that its journal has open. The seeded administration
has calendar years of twelve monthly periods; which years, and which periods are closed, come
from the administration file (`financial_years`) or `ExactSandbox.close_period`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from woo_exact_pipeline.sandbox.exact.model import Record

#: Without `financial_years` in the administration file: years every demo and test date fits.
DEFAULT_YEARS = {"first": 2020, "last": 2035, "closed_periods": []}
OPEN, CLOSED = 0, 1
STATUS_DESCRIPTIONS = {OPEN: "Open", CLOSED: "Closed"}


def monthly_periods(first: int, last: int) -> Iterator[tuple[int, int, date, date]]:
    """(year, period, first day, last day) of calendar years of twelve monthly periods."""
    for year in range(first, last + 1):
        for month in range(1, 13):
            end = date(year + month // 12, month % 12 + 1, 1).toordinal() - 1
            yield year, month, date(year, month, 1), date.fromordinal(end)


class PeriodCalendar:
    """The period date table and the closed (journal, year, period) combinations."""

    def __init__(self, settings: Mapping[str, Any] | None, journals: Iterable[str]) -> None:
        facts = {**DEFAULT_YEARS, **(settings or {})}
        self.periods = list(monthly_periods(int(facts["first"]), int(facts["last"])))
        self._starts = [start for _, _, start, _ in self.periods]
        self._known = {(year, period) for year, period, _, _ in self.periods}
        self.journals = list(journals)
        self._closed: set[tuple[str, int, int]] = set()
        for closed in facts["closed_periods"]:
            # {"year": 2026, "period": 10} closes it for every journal; "journal" for one.
            self.close(int(closed["year"]), int(closed["period"]), closed.get("journal"))

    def period_of(self, day: date | datetime) -> tuple[int, int] | None:
        """The (year, period) a date falls in; None when no financial year holds it."""
        wanted = day.date() if isinstance(day, datetime) else day
        index = bisect.bisect_right(self._starts, wanted) - 1
        if index < 0:
            return None
        year, period, _, end = self.periods[index]
        return (year, period) if wanted <= end else None

    def exists(self, year: int, period: int) -> bool:
        return (year, period) in self._known

    def is_closed(self, journal: str, year: int, period: int) -> bool:
        return (journal, year, period) in self._closed

    def close(self, year: int, period: int, journal: str | None = None) -> None:
        if not self.exists(year, period):
            raise ValueError(f"period {period} of {year} is not in the period date table")
        for code in [journal] if journal else self.journals:
            self._closed.add((code, year, period))

    def reopen(self, year: int, period: int, journal: str | None = None) -> None:
        for code in [journal] if journal else self.journals:
            self._closed.discard((code, year, period))

    def records(self, division: int, seeded_id: Any, stamp: datetime) -> list[Record]:
        """The rows of financial/FinancialPeriods."""
        return [
            {
                "ID": seeded_id("period", f"{year}-{period:02d}"),
                "FinYear": year,
                "FinPeriod": period,
                "StartDate": datetime.combine(start, datetime.min.time()),
                "EndDate": datetime.combine(end, datetime.min.time()),
                "Created": stamp,
                "Modified": stamp,
            }
            for year, period, start, end in self.periods
        ]

    def journal_statuses(self, journals: Iterable[Record]) -> Iterator[Record]:
        """The rows of read/financial/JournalStatusList: every journal in every period."""
        for journal in journals:
            for year, period, _, _ in self.periods:
                status = CLOSED if self.is_closed(journal["Code"], year, period) else OPEN
                yield {
                    "Journal": journal["Code"],
                    "Year": year,
                    "Period": period,
                    "JournalDescription": journal.get("Description"),
                    "JournalType": journal["Type"],
                    "Status": status,
                    "StatusDescription": STATUS_DESCRIPTIONS[status],
                }
