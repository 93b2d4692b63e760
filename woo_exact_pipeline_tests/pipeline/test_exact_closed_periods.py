"""Orders dated in a period the bookkeeper closed in Exact: held back with what to do about it
(or, when sync.yaml says so, booked in the first open period), and named by `doctor`."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Engine

from woo_exact_pipeline.exact.periods import FinancialPeriod, decide
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.cli import Cli, cli_fixture  # noqa: F401
from woo_exact_pipeline_tests.support.exact_load import (
    day_events,
    load_day,
    sync_log,
    transform_day,
)
from woo_exact_pipeline_tests.support.sandbox_pipeline import settings_for

pytestmark = SQLITE_ONLY


def month(year: int, number: int, *closed_in: str) -> FinancialPeriod:
    end = date(year + number // 12, number % 12 + 1, 1).toordinal() - 1
    return FinancialPeriod(
        id=f"id-{year}-{number}",
        code=f"{year}-{number:02d}",
        year=year,
        period=number,
        start=date(year, number, 1).isoformat(),
        end=date.fromordinal(end).isoformat(),
        closed_in=closed_in,
    )


PERIODS = {p.code: p for p in (month(2026, 9), month(2026, 10, "70"), month(2026, 11))}
ORDER_DAY = date(2026, 10, 20)


def test_an_order_in_a_closed_period_is_held_back_with_what_the_bookkeeper_can_do() -> None:
    held = decide(PERIODS, "70", ORDER_DAY, "hold_back")
    assert held.problem == (
        "October 2026 is closed in Exact: reopen it, or book the order in the first open "
        "period (exact.closed_period: first_open_period)"
    )
    # Another journal has October open; September is open for journal 70.
    assert decide(PERIODS, "71", ORDER_DAY, "hold_back").problem is None
    assert decide(PERIODS, "70", date(2026, 9, 30), "hold_back").problem is None


def test_moved_to_the_first_open_period_when_sync_yaml_says_so() -> None:
    moved = decide(PERIODS, "70", ORDER_DAY, "first_open_period")
    assert moved.problem is None and moved.move_to == PERIODS["2026-11"]
    all_closed = {**PERIODS, "2026-11": month(2026, 11, "70")}
    assert decide(all_closed, "70", ORDER_DAY, "first_open_period").problem == (
        "October 2026 is closed in Exact and no period after it is open: open the next period "
        "in Exact, then book the order"
    )


def test_an_order_dated_in_no_financial_year_is_held_back() -> None:
    assert decide(PERIODS, "70", date(2027, 1, 4), "hold_back").problem == (
        "Exact has no financial year for 2027-01-04: create the year 2027 in Exact (with its "
        "periods), then book the order"
    )
    # Without the periods (an older cache) Exact is left to judge.
    assert decide({}, "70", date(2027, 1, 4), "hold_back").problem is None


def test_the_load_holds_a_closed_october_back_and_books_it_in_november_when_told(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    exact.close_period(2026, 10, journal="70")  # the suite's day is 20 October 2026
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    in_october = {e.reference for e in events if e.event_date.month == 10}
    # Refunds made in November (the day has some) are in an open period: they book.
    in_november = {e.reference for e in events if e.event_date.month == 11}
    assert in_october and in_november
    held = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    assert held["booked"] == len(in_november)
    closed = "October 2026 is closed in Exact: reopen it, or book the order in the first open"
    for reference in in_october:
        assert f"| {reference.split('-')[0]} | held back | {closed}" in held["problems"]
    assert {(e["YourRef"], e["ReportingPeriod"]) for e in exact.sales_entries()} == {
        (reference, 11) for reference in in_november
    }

    moving = settings_for(exact, closed_period="first_open_period")
    booked = sync_log(load_day(woocommerce_sandbox, exact, database_url, moving))
    assert booked["booked"] == len(in_october)
    moved = [e for e in exact.sales_entries() if e["YourRef"] in in_october]
    assert {(e["ReportingYear"], e["ReportingPeriod"]) for e in moved} == {(2026, 11)}
    assert {e["EntryDate"].date() for e in moved} == {ORDER_DAY}


def test_doctor_names_the_closed_period_that_holds_orders_back(cli: Cli) -> None:
    cli.exact.close_period(2026, 11, journal="70")
    synced = cli.run(
        "sync", "--config", str(cli.config), "--from", "2026-11-08", "--to", "2026-11-09"
    )
    assert "Traceback" not in synced.stderr, synced.stderr
    done = cli.run("doctor", "--config", str(cli.config))
    [failure] = re.findall(r"^  FAIL  (closed periods: .+)$", done.stdout, re.MULTILINE)
    assert re.fullmatch(
        r"closed periods: November 2026 is closed in Exact for journal 70 and holds back "
        r"\d+ order\(s\) or refund\(s\)",
        failure,
    )
    assert "fix: reopen the period in Exact, or set exact.closed_period: first_open_period" in (
        done.stdout
    )
