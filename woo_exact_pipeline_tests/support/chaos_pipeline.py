"""The whole pipeline in a process of its own, for the chaos tests to kill, starve and rerun.

    python -m woo_exact_pipeline_tests.support.chaos_pipeline [--attempts N] [--resume]

It runs what `make demo` runs, through the real Dagster definitions of the demo's one shop and
the instance in $DAGSTER_HOME (settings and secrets from the environment that
`demo.prepare_environment` writes): the catalogue and reference jobs, extract-and-transform over
the whole history (to the shop's export_orders_until: its last day, never the machine's
today), then one exact_load_job per day as the load sensor requests them. Each run that fails
is started again up to `--attempts` times, as Dagster's run retries would; with more than one
attempt, days whose events are not all booked yet (a lost answer, Exact down for a moment) are
loaded again too.
`--resume` is what an operator does after a crash: once a backfill has been extracted (a
successful extract-and-transform run), only the days with events not yet finished in the ledger
are loaded again; before that, everything runs from the start.

Prints `{"pid": ...}` once the imports are done, then one JSON line with the outcome; exits 1
when a run still failed after its last attempt (its error is in the JSON line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import dagster as dg
from sqlalchemy import select

from woo_exact_pipeline.config import load_config
from woo_exact_pipeline.defs.runs import fail_runs_of_dead_processes
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.in_process import InProcessPipeline, failure_reason
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import accounting_events, bookings


class RunFailed(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1)
    parser.add_argument("--resume", action="store_true")
    arguments = parser.parse_args()
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    print(json.dumps({"pid": os.getpid()}), flush=True)
    outcome: dict[str, Any] = {"runs": 0, "failed_runs": 0}
    try:
        load_everything(arguments.attempts, outcome, resume=arguments.resume)
    except RunFailed as failure:
        print(json.dumps(outcome | {"error": str(failure)}), flush=True)
        return 1
    print(json.dumps(outcome), flush=True)
    return 0


def load_everything(attempts: int, outcome: dict[str, Any], *, resume: bool) -> None:
    instance = dg.DagsterInstance.get()
    # The demo's sync.yaml ($WOO_EXACT_CONFIG) describes one shop.
    pipeline = InProcessPipeline.of(load_config(), instance)
    shop = pipeline.shop
    outcome["dead_runs_failed"] = len(fail_runs_of_dead_processes(instance))
    cursor = pipeline.journal_lines_cursor()

    def succeeded(run: Callable[[], dg.ExecuteInProcessResult], what: str) -> None:
        for _ in range(attempts):
            outcome["runs"] += 1
            result = run()
            if result.success:
                return
            outcome["failed_runs"] += 1
        raise RunFailed(f"{what}: {failure_reason(result)}")

    def load(day: str) -> None:
        succeeded(partial(pipeline.execute, "exact_load_job", partition_key=day), f"load {day}")

    extracted = instance.get_runs(
        dg.RunsFilter(
            job_name=shop.qualified("extract_and_transform_job"),
            statuses=[dg.DagsterRunStatus.SUCCESS],
        ),
        limit=1,
    )
    if resume and extracted:
        for day in _days_not_finished(shop):
            load(day)
        return
    for job in ("shop_catalogue_job", "exact_reference_job"):
        succeeded(partial(pipeline.execute, job), job)
    for chunk in pipeline.ranges(shop.order_days.get_partition_keys()):
        succeeded(partial(pipeline.extract_and_transform, chunk), f"extract {chunk[0]}..")
    for request in pipeline.load_requests(cursor):
        succeeded(partial(pipeline.load, request), f"load {request.partition_key}")
    # The events whose answer was lost or that Exact could not take just now wait for the
    # day's next load; here that load comes at once.
    for _ in range(attempts - 1):
        unfinished = _days_not_fully_booked(shop)
        if not unfinished:
            break
        for day in unfinished:
            load(day)


def _days_not_finished(shop: Shop) -> list[str]:
    """Days with an event the ledger has no outcome for: never claimed, or still pending."""
    engine = open_sync_database()
    try:
        with engine.connect() as connection:
            days = connection.execute(
                select(accounting_events.c.partition_date)
                .distinct()
                .select_from(accounting_events)
                .outerjoin(
                    bookings,
                    (bookings.c.shop == accounting_events.c.shop)
                    & (bookings.c.event_key == accounting_events.c.event_key),
                )
                .where(
                    accounting_events.c.shop == shop.key,
                    (bookings.c.status.is_(None)) | (bookings.c.status == "pending"),
                )
            ).scalars()
            return sorted(day.isoformat() for day in days)
    finally:
        engine.dispose()


def _days_not_fully_booked(shop: Shop) -> list[str]:
    """Days with an event whose outcome is unknown or that Exact refused (not held back)."""
    engine = open_sync_database()
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(bookings.c.partition_date, bookings.c.status, bookings.c.error).where(
                    bookings.c.shop == shop.key, bookings.c.status != "booked"
                )
            ).all()
    finally:
        engine.dispose()
    return sorted(
        {
            row.partition_date.isoformat()
            for row in rows
            if row.status == "pending" or (row.error or "").startswith("Exact Online answered")
        }
    )


if __name__ == "__main__":
    sys.exit(main())
