"""Alert sensors: each gathers facts from Dagster and the sync database and hands them to the
alert book (woo_exact_pipeline.alerts), which sends one message when a problem starts and one
when it clears, to the channels in sync.yaml."""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import dagster as dg

from woo_exact_pipeline.alerts.book import AlertBook, Delivery, OpenProblems
from woo_exact_pipeline.alerts.channels import AlertDeliveryError
from woo_exact_pipeline.alerts.digest import digest_notice
from woo_exact_pipeline.alerts.model import Problem
from woo_exact_pipeline.alerts.rules import (
    CheckOutcome,
    apply_check_outcomes,
    exact_login_problem,
    freshness_problem,
    missed_tick_problem,
    quarantined_order_problems,
    reconciliation_problem,
    run_failure_key,
    run_failure_problem,
    unbooked_day_problem,
)
from woo_exact_pipeline.alerts.sources import refresh_expires_at
from woo_exact_pipeline.defs.alerts.facts import (
    RunOutcome,
    api_calls_for_day,
    latest_outcomes,
    latest_run_outcome,
    listed,
    run_outcomes_after,
    tick_history,
)
from woo_exact_pipeline.defs.alerts.freshness import BOOKED_BY_DEADLINE
from woo_exact_pipeline.defs.exact.assets import ALL_BOOKED, NOT_BOOKED
from woo_exact_pipeline.defs.exact.reconciliation import AGREE
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact.sync_log import not_booked_line
from woo_exact_pipeline.store.day_summary import day_summary
from woo_exact_pipeline.store.journal import all_problems

INTERVAL_SECONDS = 60
#: The partitioned assets that spend Exact API calls on a day.
DAY_ASSETS = ("exact_bookings", "exact_reconciliation")


def alert_sensors(shop: Shop) -> dg.Definitions:
    """The shop's alert sensors; its runs are watched by the location's `run_outcome_sensor`."""

    @dg.sensor(
        name=shop.qualified("alert_conditions_sensor"),
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys=shop.resource_keys("exact") | {"alert_channels"},
        description=(
            "From the sync database and the instance: the Exact login close to (or past) its "
            "30-day idle expiry, orders quarantined longer than alerts.order_problem_hours, and "
            "the change sensor, the load sensor or the nightly sweep not having ticked."
        ),
    )
    def alert_conditions_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return alert_on_conditions(context, shop)

    @dg.sensor(
        name=shop.qualified("alert_check_results_sensor"),
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys=shop.resource_keys() | {"alert_channels"},
        description=(
            "From asset-check results: a day whose events stay unbooked (every_event_booked) "
            "longer than alerts.order_problem_hours, a day whose reconciliation shows a "
            "difference (woocommerce_and_exact_agree), and yesterday not booked by the deadline "
            "(yesterday_booked_by_deadline). A passing evaluation clears the alert."
        ),
    )
    def alert_check_results_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return alert_on_check_results(context, shop)

    @dg.sensor(
        name=shop.qualified("daily_digest_sensor"),
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys=shop.resource_keys() | {"alert_channels"},
        description=(
            "With alerts.daily_digest on: once a day from alerts.daily_digest_time, one message "
            "with yesterday's figures (booked, credits, waiting, quarantined, reconciliation, "
            "the Exact API calls its loads and reconciliations spent)."
        ),
    )
    def daily_digest_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return send_daily_digest(context, shop)

    return dg.Definitions(
        sensors=[
            alert_conditions_sensor,
            alert_check_results_sensor,
            daily_digest_sensor,
        ]
    )


def _book(source: str, shop: Shop, context: dg.SensorEvaluationContext) -> AlertBook:
    channels = shop.alert_channels(context).channels(shop.settings)
    return AlertBook(shop.sync_database(context).engine(), source, channels, shop=shop.key)


def _check(shop: Shop, asset: str, check: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(shop.asset_key(asset), check)


def _outcome(delivery: Delivery) -> str:
    """Fail the tick when a channel failed (it is retried next tick); else say what was sent."""
    if delivery.failures:
        raise AlertDeliveryError("; ".join(delivery.failures))
    sent = [f"{channel}: {notice.title}" for channel, notice in delivery.sent]
    return "; ".join(sent) or "nothing new to tell"


def run_outcome_sensor(shops: Sequence[Shop]) -> dg.SensorDefinition:
    """One sensor for the code location: each run that finishes opens (failed) or clears
    (succeeded) the run-failure alert of every shop it worked for (`Shop.owns`), in the order
    the runs finished."""

    @dg.sensor(
        name="alert_on_run_outcomes",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys={"sync_database", "alert_channels"},
        description=(
            "A failed run opens an alert for its shop per job, named by its cause (Exact login "
            "lost, daily quota spent, Exact, the shop or the sync database unreachable, "
            "invalid configuration); a later successful run of the job clears it."
        ),
    )
    def alert_on_run_outcomes(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        instance = context.instance
        if context.cursor is None:
            context.update_cursor(str(latest_run_outcome(instance)))
            return dg.SkipReason("watching the runs that finish from now on")
        outcomes = run_outcomes_after(instance, int(context.cursor))
        ours = [outcome for outcome in outcomes if _of_this_location(outcome.run, context)]
        told = [tell_run_outcomes(ours, shop, _book("runs", shop, context)) for shop in shops]
        if outcomes:
            context.update_cursor(str(outcomes[-1].storage_id))
        return dg.SkipReason("; ".join(filter(None, told)) or "no run of the location finished")

    return alert_on_run_outcomes


def _of_this_location(run: dg.DagsterRun, context: dg.SensorEvaluationContext) -> bool:
    # As Dagster's run-status sensors: a run launched in-process has no origin and counts.
    origin, job_origin = context.code_location_origin, run.remote_job_origin
    if origin is None or job_origin is None:
        return True
    return job_origin.location_name == origin.location_name


def tell_run_outcomes(outcomes: Sequence[RunOutcome], shop: Shop, book: AlertBook) -> str | None:
    """Apply the shop's own `outcomes` in the order the runs finished, in one update of its
    alert book: a job that failed and then succeeded is told nothing, and a tick replayed
    after a lost cursor tells nothing twice. What was done, or None when no run was the
    shop's."""
    own = [outcome for outcome in outcomes if shop.owns(outcome.run)]
    if not own:
        return None
    now = shop.clock()

    def change(open_problems: OpenProblems) -> OpenProblems:
        updated = dict(open_problems)
        for outcome in own:
            run, failure = outcome.run, outcome.failure
            key = run_failure_key(run.job_name)
            if failure is None:
                updated.pop(key, None)
            else:
                updated[key] = run_failure_problem(
                    run.job_name, run.run_id, failure.cause, failure.text, now
                )
        return updated

    delivery = book.update(now, change)
    runs = ", ".join(
        f"{o.run.job_name} " + (f"failed ({o.failure.cause})" if o.failure else "succeeded")
        for o in own
    )
    return f"{shop.settings.label}: {runs}: {_outcome(delivery)}"


def alert_on_conditions(context: dg.SensorEvaluationContext, shop: Shop) -> dg.SkipReason:
    settings = shop.settings
    now = shop.clock()
    alerts = settings.alerts
    with shop.sync_database(context).engine().connect() as connection:
        expires = refresh_expires_at(
            connection, shop.exact(context).client_id, settings.exact.division
        )
        problems = all_problems(connection, shop.key)
    problems = [
        exact_login_problem(expires, now, alerts.exact_login_warning_days),
        *quarantined_order_problems(problems, alerts.order_problem_hours),
        *_silent_automation(context, shop, now),
    ]
    current = {problem.key: problem for problem in problems if problem is not None}
    delivery = _book("conditions", shop, context).update(now, lambda _: current)
    return dg.SkipReason(_outcome(delivery))


def _silent_automation(
    context: dg.SensorEvaluationContext, shop: Shop, now: datetime
) -> list[Problem | None]:
    settings = shop.settings
    grace = timedelta(minutes=settings.alerts.missed_tick_minutes)
    # The automation whose silence is alerted, and how long each may be silent.
    allowed = {
        "woo_order_changes_sensor": max(
            grace, timedelta(seconds=3 * settings.automation.change_sensor_interval_seconds)
        ),
        "exact_load_sensor": grace,
        "daily_sweep_schedule": timedelta(days=1) + grace,
    }
    origin = context.code_location_origin
    location = origin.location_name if origin is not None else None
    problems: list[Problem | None] = []
    for name in allowed:
        ticks = tick_history(context.instance, shop.qualified(name), location)
        if ticks is not None:
            problems.append(
                missed_tick_problem(
                    name, ticks.last_good, ticks.oldest, now, allowed[name], ticks.latest_error
                )
            )
    return problems


def alert_on_check_results(context: dg.SensorEvaluationContext, shop: Shop) -> dg.SkipReason:
    alerts = shop.settings.alerts
    instance = context.instance
    sources: list[tuple[list[CheckOutcome], Callable[[CheckOutcome, OpenProblems], Problem]]] = [
        (
            latest_outcomes(
                instance,
                _check(shop, "exact_bookings", ALL_BOOKED),
                listed(NOT_BOOKED, not_booked_line),
            ),
            lambda outcome, open_problems: unbooked_day_problem(
                outcome, open_problems, alerts.order_problem_hours
            ),
        ),
        (
            latest_outcomes(instance, _check(shop, "exact_reconciliation", AGREE), _differences),
            reconciliation_problem,
        ),
        (
            latest_outcomes(
                instance,
                _check(shop, "exact_bookings", BOOKED_BY_DEADLINE),
                listed("reasons"),
            ),
            lambda outcome, open_problems: freshness_problem(
                outcome, open_problems, alerts.bookings_due_by
            ),
        ),
    ]

    def change(open_problems: OpenProblems) -> OpenProblems:
        for outcomes, problem_of in sources:
            open_problems = apply_check_outcomes(open_problems, outcomes, problem_of)
        return open_problems

    delivery = _book("checks", shop, context).update(shop.clock(), change)
    return dg.SkipReason(_outcome(delivery))


def _differences(metadata: Mapping[str, dg.MetadataValue]) -> tuple[str, ...]:
    counts = [
        f"{name} {metadata[name].value}"
        for name in ("missing", "extra", "different")
        if name in metadata
    ]
    return (", ".join(counts) or "see the check's differences",)


def send_daily_digest(context: dg.SensorEvaluationContext, shop: Shop) -> dg.SkipReason:
    alerts = shop.settings.alerts
    if not alerts.daily_digest:
        return dg.SkipReason("alerts.daily_digest is off")
    now = shop.clock()
    local = now.astimezone(shop.time_zone)
    if local.time() < alerts.daily_digest_time:
        return dg.SkipReason(f"the digest goes out at {alerts.daily_digest_time:%H:%M}")
    yesterday = local.date() - timedelta(days=1)
    with shop.sync_database(context).engine().connect() as connection:
        ledger = day_summary(connection, shop.key, yesterday)
    outcomes = [
        outcome
        for outcome in latest_outcomes(
            context.instance, _check(shop, "exact_reconciliation", AGREE), _differences
        )
        if outcome.day == yesterday.isoformat()
    ]
    reconciliation = (
        "not reconciled"
        if not outcomes
        else "agrees"
        if outcomes[-1].passed
        else f"differs ({outcomes[-1].lines[0]})"
    )
    calls = api_calls_for_day(
        context.instance, [shop.asset_key(asset) for asset in DAY_ASSETS], yesterday.isoformat()
    )
    notice = digest_notice(ledger, reconciliation, calls)
    delivery = _book("digest", shop, context).send_digest(yesterday, notice, now)
    return dg.SkipReason(_outcome(delivery))
