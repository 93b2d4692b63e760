"""Exact's financial periods and which of them the sales journal has closed.

Exact refuses an entry dated in no financial year, or in a period its journal has closed, and
every such refusal spends one of the ten errors an hour per endpoint. So the loader asks these
before posting: an order dated in a closed period is held back with what the bookkeeper can do
about it, or (`exact.closed_period: first_open_period`) booked in the first open period after
it, keeping its own date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from woo_exact_pipeline.config import ClosedPeriodPolicy
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.odata import parse_date

CLOSED = 1  # JournalStatusList.Status: 0 open, 1 closed
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass(frozen=True)
class FinancialPeriod:
    id: str
    code: str  # "2026-10": financial year and period, the cache's key
    year: int
    period: int
    start: str  # ISO dates, as the cache stores them
    end: str
    closed_in: tuple[str, ...]  # the journals that have closed it

    @property
    def name(self) -> str:
        """How a bookkeeper names it: "October 2026" for a calendar month, else "period 10 of
        2026"."""
        start, end = date.fromisoformat(self.start), date.fromisoformat(self.end)
        if start.day == 1 and start.month == end.month and start.year == end.year:
            return f"{MONTHS[start.month - 1]} {start.year}"
        return f"period {self.period} of {self.year}"

    def holds(self, day: date) -> bool:
        return self.start <= day.isoformat() <= self.end


def financial_periods(client: ExactClient) -> list[FinancialPeriod]:
    """The period date table, with the journals that have each period closed."""
    closed: dict[tuple[int, int], list[str]] = {}
    for status in client.get(
        "read/financial/JournalStatusList",
        select=("Journal", "Year", "Period"),
        filter=f"Status eq {CLOSED}",
    ):
        key = (int(status["Year"]), int(status["Period"]))
        closed.setdefault(key, []).append(str(status["Journal"]).strip())
    periods = []
    for record in client.get(
        "financial/FinancialPeriods", select=("ID", "FinYear", "FinPeriod", "StartDate", "EndDate")
    ):
        year, period = int(record["FinYear"]), int(record["FinPeriod"])
        start, end = parse_date(record["StartDate"]), parse_date(record["EndDate"])
        assert start is not None and end is not None
        periods.append(
            FinancialPeriod(
                id=str(record["ID"]),
                code=f"{year}-{period:02d}",
                year=year,
                period=period,
                start=start.date().isoformat(),
                end=end.date().isoformat(),
                closed_in=tuple(sorted(closed.get((year, period), []))),
            )
        )
    return sorted(periods, key=lambda p: p.start)


@dataclass(frozen=True)
class PeriodDecision:
    """Where an event's entry goes: its own period (`move_to` None) or a later open one;
    `problem` says why it cannot be posted at all."""

    move_to: FinancialPeriod | None = None
    problem: str | None = None


def decide(
    periods: Mapping[str, FinancialPeriod],
    journal: str,
    day: date,
    policy: ClosedPeriodPolicy,
) -> PeriodDecision:
    """The period of an entry of `journal` dated `day`; no periods known: Exact decides."""
    if not periods:
        return PeriodDecision()
    ordered = sorted(periods.values(), key=lambda p: p.start)
    own = next((p for p in ordered if p.holds(day)), None)
    if own is None:
        return PeriodDecision(
            problem=f"Exact has no financial year for {day.isoformat()}: create the year "
            f"{day.year} in Exact (with its periods), then book the order"
        )
    if journal not in own.closed_in:
        return PeriodDecision()
    if policy == "hold_back":
        return PeriodDecision(
            problem=f"{own.name} is closed in Exact: reopen it, or book the order in the first "
            "open period (exact.closed_period: first_open_period)"
        )
    later = next((p for p in ordered if p.start > own.start and journal not in p.closed_in), None)
    if later is None:
        return PeriodDecision(
            problem=f"{own.name} is closed in Exact and no period after it is open: open the "
            "next period in Exact, then book the order"
        )
    return PeriodDecision(move_to=later)


def closed_periods(periods: Iterable[FinancialPeriod], journal: str) -> list[FinancialPeriod]:
    return [period for period in periods if journal in period.closed_in]
