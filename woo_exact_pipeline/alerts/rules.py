"""When something is a problem: facts in, `Problem`s out. No Dagster, no database, no clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from woo_exact_pipeline.alerts.model import FailureCause, Problem
from woo_exact_pipeline.store.journal import OrderProblem, ProblemOutcome

LOGIN_FIX = "run `woo-exact exact login` (then the next run books what waited)"

#: What each cause of a failed run is, and what to do about it.
FAILURE_EXPLANATIONS: dict[FailureCause, tuple[str, str]] = {
    FailureCause.EXACT_LOGIN_LOST: ("the Exact Online login is lost", LOGIN_FIX),
    FailureCause.EXACT_QUOTA_SPENT: (
        "the daily Exact Online API quota is spent",
        "nothing: the loads continue after the quota resets; if this repeats, book fewer "
        "days at once or ask Exact for a higher limit",
    ),
    FailureCause.EXACT_UNREACHABLE: (
        "Exact Online cannot be reached",
        "check status.exactonline.com; the next load retries by itself",
    ),
    FailureCause.WOOCOMMERCE_UNREACHABLE: (
        "the shop cannot be reached",
        "check that the shop is up and reachable from the Dagster machine",
    ),
    FailureCause.SYNC_DATABASE_UNAVAILABLE: (
        "the sync database cannot be used",
        "check that the sync database is up and reachable; nothing is lost, the next run "
        "continues where this one stopped",
    ),
    FailureCause.INVALID_CONFIGURATION: (
        "the configuration is invalid",
        "fix the setting named in the error (`woo-exact doctor` checks them all), "
        "then re-execute the run",
    ),
    FailureCause.UNEXPECTED: (
        "the run failed unexpectedly",
        "read the run's log in the Dagster UI",
    ),
}


def run_failure_problem(
    job_name: str, run_id: str, cause: FailureCause, error_text: str, at: datetime
) -> Problem:
    """A failed run of `job_name`; it stays open until a later run of that job succeeds."""
    what, fix = FAILURE_EXPLANATIONS[cause]
    return Problem(
        key=run_failure_key(job_name),
        kind="run_failed",
        stage=cause.value,
        summary=f"{job_name} failed: {what}",
        since=at,
        details=(f"run {run_id}", _first_line(error_text)),
        fix=fix,
    )


def run_failure_key(job_name: str) -> str:
    return f"run_failed:{job_name}"


def _first_line(text: str, limit: int = 500) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else f"{line[: limit - 3]}..."


def exact_login_problem(
    refresh_expires_at: datetime | None, now: datetime, warning_days: int
) -> Problem | None:
    """The login dies after 30 idle days: warn `warning_days` before, and once it is gone."""
    if refresh_expires_at is None:
        return Problem(
            key="exact_login",
            kind="exact_login",
            stage="missing",
            summary="there is no Exact Online login in the sync database",
            since=now,
            fix=LOGIN_FIX,
        )
    if refresh_expires_at <= now:
        return Problem(
            key="exact_login",
            kind="exact_login",
            stage="expired",
            summary=f"the Exact Online login expired on {refresh_expires_at:%Y-%m-%d %H:%M} UTC",
            since=refresh_expires_at,
            fix=LOGIN_FIX,
        )
    warn_from = refresh_expires_at - timedelta(days=warning_days)
    if now >= warn_from:
        return Problem(
            key="exact_login",
            kind="exact_login",
            stage="expiring",
            summary=(
                f"the Exact Online login expires on {refresh_expires_at:%Y-%m-%d %H:%M} UTC "
                "unless it is used before"
            ),
            since=warn_from,
            details=("the nightly exact_reference_job renews it when it runs successfully",),
            fix=f"make sure exact_reference_job runs, or {LOGIN_FIX}",
        )
    return None


def quarantined_order_problems(
    problems: Iterable[OrderProblem], after_hours: float
) -> list[Problem]:
    """Each quarantined order, announced once it has been left alone for `after_hours`."""
    return [
        Problem(
            key=f"quarantined:{order.problem_key}",
            kind="order_stuck",
            stage="quarantined",
            summary=(
                f"order {order.order_number} ({order.partition_date}) is quarantined: "
                f"{order.reason}"
            ),
            since=order.first_seen_at,
            fix="fix the cause named in the reason; the next run of its day books it",
            after_seconds=after_hours * 3600,
        )
        for order in problems
        if order.outcome == ProblemOutcome.QUARANTINED
    ]


@dataclass(frozen=True)
class CheckOutcome:
    """The latest evaluation of an asset check for one day (or for none: `day` None)."""

    check_name: str
    day: str | None
    passed: bool
    at: datetime
    lines: tuple[str, ...] = ()


def unbooked_day_problem(
    outcome: CheckOutcome, open_problems: dict[str, Problem], after_hours: float
) -> Problem:
    """A day whose events are not all booked (held back, refused): per order with the reason.

    It counts from the first failing evaluation, so a day re-loaded every hour still gets
    announced once it has been failing for `after_hours`.
    """
    key = f"unbooked:{outcome.day}"
    earlier = open_problems.get(key)
    return Problem(
        key=key,
        kind="order_stuck",
        stage="unbooked",
        summary=f"{outcome.day}: {len(outcome.lines)} event(s) not booked in Exact",
        since=earlier.since if earlier else outcome.at,
        details=outcome.lines,
        fix="fix what each reason names; the next load of the day books them",
        after_seconds=after_hours * 3600,
    )


def reconciliation_problem(outcome: CheckOutcome, open_problems: dict[str, Problem]) -> Problem:
    return Problem(
        key=f"reconciliation:{outcome.day}",
        kind="reconciliation",
        stage="differs",
        summary=f"{outcome.day}: Exact does not agree with WooCommerce",
        since=outcome.at,
        details=outcome.lines,
        fix="open exact_reconciliation of the day in the Dagster UI for the differences",
    )


def freshness_problem(
    outcome: CheckOutcome, open_problems: dict[str, Problem], due_by: time
) -> Problem:
    return Problem(
        key="freshness",
        kind="freshness",
        stage=outcome.day or "",
        summary=f"{outcome.day} was not fully booked by {due_by:%H:%M} shop time",
        since=outcome.at,
        details=outcome.lines,
        fix="look at the day's latest exact_bookings and exact_load_job runs",
    )


def apply_check_outcomes(
    open_problems: dict[str, Problem],
    outcomes: Iterable[CheckOutcome],
    problem_of: Callable[[CheckOutcome, dict[str, Problem]], Problem],
) -> dict[str, Problem]:
    """Open a problem for each failing outcome, clear it on a passing one; others stay.

    Outcomes come oldest first, so the latest evaluation of a day decides.
    """
    updated = dict(open_problems)
    for outcome in outcomes:
        problem = problem_of(outcome, updated)
        if outcome.passed:
            updated.pop(problem.key, None)
        else:
            updated[problem.key] = problem
    return updated


@dataclass(frozen=True)
class DayProgress:
    """What Dagster and the ledger know about one day, for the freshness check."""

    day: date
    extracted_at: datetime | None  # latest woo_orders materialization of the day
    transformed_at: datetime | None  # latest exact_journal_lines materialization
    loaded_at: datetime | None  # latest exact_bookings materialization
    events: int  # accounting events of the day
    booked: int
    failed: int  # refused by Exact (an order problem)
    held_back: int  # not posted, with the reason, by the latest load (an order problem)


def freshness_verdict(progress: DayProgress, time_zone: str) -> list[str]:
    """Why the day is not fully booked yet; empty when it is.

    Fully booked: the day was read from the shop after it ended, the load followed the last
    transform, and every event has Exact's answer. Orders Exact refused or the loader held
    back, and quarantined orders, are order problems (alerted after `order_problem_hours`
    with their reasons), not lateness.
    """
    zone = ZoneInfo(time_zone)
    day_end = datetime.combine(progress.day + timedelta(days=1), time(), zone)
    reasons = []
    if progress.extracted_at is None or progress.extracted_at < day_end:
        reasons.append("the day's orders were not read from the shop after the day ended")
    if progress.transformed_at is None:
        reasons.append("the day's orders were not turned into journal lines")
    elif progress.loaded_at is None or progress.loaded_at < progress.transformed_at:
        reasons.append("the day's latest journal lines were not loaded into Exact")
    unanswered = progress.events - progress.booked - progress.failed - progress.held_back
    if unanswered > 0:
        reasons.append(f"{unanswered} event(s) have no booking in Exact yet")
    return reasons


def missed_tick_problem(
    name: str,
    last_tick: datetime | None,
    watching_since: datetime,
    now: datetime,
    allowed: timedelta,
    latest_error: str | None = None,
) -> Problem | None:
    """A sensor or schedule whose last successful tick is older than `allowed`."""
    since = last_tick or watching_since
    if now - since <= allowed:
        return None
    last = f"last ticked {last_tick:%Y-%m-%d %H:%M} UTC" if last_tick else "has not ticked"
    return Problem(
        key=f"missed_tick:{name}",
        kind="missed_tick",
        stage="silent",
        summary=f"{name} {last}",
        since=since,
        details=(f"its latest tick failed: {_first_line(latest_error)}",) if latest_error else (),
        fix=(
            f"open Automation in the Dagster UI: is {name} running and is the dagster-daemon "
            "up? Its latest ticks show the error"
        ),
    )
