"""`woo-exact sync`: a range of days through the real Dagster definitions, in this process.

Extraction and transform run as `extract_and_transform_job` (DAYS_PER_RUN days a run, the
assets' backfill policy); loading follows the load sensor, so a day whose journal lines do not
balance is not loaded here either. The runs are recorded in the Dagster instance of
$DAGSTER_HOME when it is set, else in an ephemeral one.

A dry run posts nothing: it extracts and transforms in an ephemeral instance (so a running
daemon's load sensor never sees its journal lines) and asks the loader, in its dry-run mode,
what it would do with each event.

Like demo.py and cli.py it sits on top of everything; it drives the definitions of the shop it
is given (in_process.py), whatever $WOO_EXACT_CONFIG says. Secrets come from the environment.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from woo_exact_pipeline.config import SyncConfig, credentials_for
from woo_exact_pipeline.exact.outcomes import LOAD_STATUSES, BookingOutcome, BookingStatus
from woo_exact_pipeline.exact.sync_log import not_booked_line
from woo_exact_pipeline.report import DryRunReport, SyncReport, read_report

if TYPE_CHECKING:
    from woo_exact_pipeline.in_process import InProcessPipeline

#: The runs log warnings and errors only: the progress bars and the summary tell the rest,
#: and every event stays in the Dagster instance.
QUIET_RUNS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

#: Shows progress of one stage: called with a label and the number of steps, it gives a
#: context manager around a function that advances by a number of steps.
Stage = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


class SyncSetupError(Exception):
    """The range or the settings cannot be synced as asked."""


@dataclass(frozen=True)
class SyncResult:
    report: SyncReport
    #: What this sync's loads did, per sync-log status (booked, already_booked, failed, ...).
    outcomes: Counter[str]
    #: Events Exact refused or did not answer for, in this sync, with the reason (from the
    #: sync log; whether the sync failed is decided by the counts in `outcomes`).
    failed: list[str]
    #: Days not loaded (their journal lines do not balance) or whose run failed, with why.
    not_loaded: list[str]

    @property
    def succeeded(self) -> bool:
        failed = sum(self.outcomes[status] for status in LOAD_STATUSES if status.fails_the_sync)
        return not failed and not self.not_loaded


def sync_range(
    settings: SyncConfig, first: date, last: date, stage: Stage, *, bulk: bool = False
) -> SyncResult:
    """Extract, transform and load the days `first`..`last` (inclusive); `bulk` books every
    day in XML uploads."""
    from woo_exact_pipeline.defs.exact.reconciliation import reconciliation_summary
    from woo_exact_pipeline.defs.runs import fail_runs_of_dead_processes
    from woo_exact_pipeline.in_process import failure_reason
    from woo_exact_pipeline.store.database import open_sync_database

    instance = _recorded_instance() if os.environ.get("DAGSTER_HOME") else _ephemeral()
    pipeline, days = _pipeline_for(settings, first, last, instance)
    # A sync killed mid-run left its runs STARTED, holding their pool slots: release them.
    fail_runs_of_dead_processes(instance)
    # Loading follows the load sensor from the newest journal lines before this sync on.
    cursor = pipeline.journal_lines_cursor()
    not_loaded = _prepare_and_transform(pipeline, days, stage)

    requests = [r for r in pipeline.load_requests(cursor) if r.partition_key in set(days)]
    loaded_days = {request.partition_key for request in requests}
    not_loaded += [
        f"{day}: not loaded, its journal lines do not balance (see the check on "
        "exact_journal_lines in the Dagster UI)"
        for day in days
        if day not in loaded_days and not any(line.startswith(day) for line in not_loaded)
    ]
    api_calls, failed, outcomes = 0, [], Counter[str]()
    with stage("Load into Exact", len(requests)) as advance:
        for request in requests:
            result = pipeline.load(request, bulk=bulk)
            advance(1)
            if not result.success:
                reason = failure_reason(result)
                not_loaded.append(f"{request.partition_key}: the load run failed: {reason}")
            api_calls += sum(
                int(event.metadata["api_calls"].value)
                for asset in ("exact_bookings", "exact_reconciliation")
                for event in pipeline.materializations(result, asset)
            )
            for event in pipeline.materializations(result, "exact_bookings"):
                outcomes.update(
                    {status.value: int(event.metadata[status].value) for status in LOAD_STATUSES}
                )
            failed += [f"{request.partition_key}: {line}" for line in _failed_events(result)]

    engine = open_sync_database()
    try:
        report = read_report(
            engine,
            pipeline.shop.key,
            partitions=len(days),
            api_calls=api_calls,
            exact_url=settings.exact.api_base_url,
            days=(first, last),
            reconciliation=reconciliation_summary(instance, pipeline.shop, days),
        )
    finally:
        engine.dispose()
    return SyncResult(report=report, outcomes=outcomes, failed=failed, not_loaded=not_loaded)


def dry_run_range(settings: SyncConfig, first: date, last: date, stage: Stage) -> DryRunReport:
    """Extract and transform `first`..`last`, then say what loading them would do."""
    pipeline, days = _pipeline_for(settings, first, last, _ephemeral())
    shop = pipeline.shop

    from woo_exact_pipeline.exact.booking import ExactLoader
    from woo_exact_pipeline.exact.client import ExactClient
    from woo_exact_pipeline.exact.master_data import current_master_data
    from woo_exact_pipeline.store.database import open_sync_database
    from woo_exact_pipeline.store.journal import all_problems, load_partition_events
    from woo_exact_pipeline.store.ledger import BookingLedger

    not_transformed = _prepare_and_transform(pipeline, days, stage)
    if not_transformed:
        raise SyncSetupError("\n".join(not_transformed))
    engine = open_sync_database()
    outcomes: list[tuple[str, BookingOutcome]] = []
    try:
        with ExactClient.from_settings(
            settings.exact, engine, secrets=credentials_for(settings).exact
        ) as client:
            master = current_master_data(
                client, engine, settings.exact.reference_data_max_age_hours
            )
            loader = ExactLoader(
                client,
                engine,
                settings,
                BookingLedger(engine, run_id="dry-run"),
                master,
                shop=shop.key,
                dry_run=True,
            )
            with stage("Check against Exact", len(days)) as advance:
                for day in days:
                    partition = date.fromisoformat(day)
                    with engine.connect() as connection:
                        events = load_partition_events(connection, shop.key, partition)
                    outcomes += [(day, o) for o in loader.book_partition(partition, events)]
                    advance(1)
        with engine.connect() as connection:
            problems = all_problems(connection, shop.key, (first, last))
    finally:
        engine.dispose()
    return DryRunReport(partitions=len(days), outcomes=outcomes, problems=problems)


# --- the parts --------------------------------------------------------------------------------


def _pipeline_for(
    settings: SyncConfig, first: date, last: date, instance: Any
) -> tuple[InProcessPipeline, list[str]]:
    """The shop's pipeline in this process and the range's partition keys, checked."""
    import dagster as dg

    # Backfill policies are "beta" in Dagster 1.13; the command's reader need not hear it.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)

    from woo_exact_pipeline.in_process import InProcessPipeline

    if first > last:
        raise SyncSetupError(f"--from {first} is after --to {last}")
    pipeline = InProcessPipeline.of(settings, instance, run_config=QUIET_RUNS)
    keys = pipeline.shop.order_days.get_partition_keys()
    days = [key for key in keys if first.isoformat() <= key <= last.isoformat()]
    if not days:
        raise SyncSetupError(
            f"no day between {first} and {last} is a partition: days run from "
            f"{keys[0]} (woocommerce.export_orders_from) to {keys[-1]} (today, or "
            "woocommerce.export_orders_until)"
        )
    return pipeline, days


def _recorded_instance() -> Any:
    import dagster as dg

    try:
        return dg.DagsterInstance.get()
    except dg.DagsterInvariantViolationError as error:
        raise SyncSetupError(f"{error}; create it, or unset DAGSTER_HOME") from None


def _ephemeral() -> Any:
    import dagster as dg

    return dg.DagsterInstance.ephemeral()


def _prepare_and_transform(pipeline: InProcessPipeline, days: list[str], stage: Stage) -> list[str]:
    """Catalogue and master data first (the transform uses both), then the days in runs of
    DAYS_PER_RUN; returns the days whose run failed, with the reason."""
    from woo_exact_pipeline.in_process import failure_reason

    with stage("Read the shop's catalogue and Exact's master data", 2) as advance:
        for job_name in ("shop_catalogue_job", "exact_reference_job"):
            result = pipeline.execute(job_name)
            if not result.success:
                qualified = pipeline.shop.qualified(job_name)
                raise SyncSetupError(f"{qualified} failed: {failure_reason(result)}")
            advance(1)
    failures = []
    with stage("Extract and transform", len(days)) as advance:
        for chunk in pipeline.ranges(days):
            result = pipeline.extract_and_transform(chunk)
            if not result.success:
                reason = failure_reason(result)
                failures += [f"{day}: extract and transform failed: {reason}" for day in chunk]
            advance(len(chunk))
    return failures


def _failed_events(result: Any) -> list[str]:
    """From the load's every-event-booked check, the events Exact refused or did not answer
    for."""
    from woo_exact_pipeline.defs.exact.assets import ALL_BOOKED, NOT_BOOKED

    return [
        not_booked_line(entry)
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == ALL_BOOKED
        for entry in evaluation.metadata[NOT_BOOKED].value
        if BookingStatus(entry["status"]).fails_the_sync
    ]
