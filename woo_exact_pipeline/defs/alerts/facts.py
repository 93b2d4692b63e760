"""What the Dagster instance knows, in the shapes the alert rules take."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster._core.scheduler.instigation import TickStatus
from dagster_shared.error import SerializableErrorInfo

from woo_exact_pipeline.alerts.model import CAUSE, FailureCause
from woo_exact_pipeline.alerts.rules import CheckOutcome, DayProgress
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.store.day_summary import DaySummary

#: How many recent evaluations per check a tick looks at (days beyond keep their state).
CHECK_HISTORY = 200
TICK_HISTORY = 100
#: Finished runs a tick of the run-outcome sensor takes at most (the rest next tick).
RUN_OUTCOME_PAGE = 200
_FINISHED = (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_SUCCESS)
#: Dagster's error for run or resource configuration that does not fit (an unset EnvVar).
_DAGSTER_CONFIG_ERROR = "DagsterInvalidConfigError"


@dataclass(frozen=True)
class RunFailure:
    cause: FailureCause
    text: str  # what the failure said, for the alert's detail line


@dataclass(frozen=True)
class RunOutcome:
    """A run that finished: `failure` None when it succeeded."""

    storage_id: int
    run: dg.DagsterRun
    failure: RunFailure | None


def latest_run_outcome(instance: dg.DagsterInstance) -> int:
    """The storage id of the latest run outcome in the instance (0 when no run finished)."""
    latest = [
        instance.fetch_run_status_changes(event_type, limit=1).records for event_type in _FINISHED
    ]
    return max((records[0].storage_id for records in latest if records), default=0)


def run_outcomes_after(instance: dg.DagsterInstance, storage_id: int) -> list[RunOutcome]:
    """The runs that finished after `storage_id`, in the order they finished."""
    pages = [
        instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type, after_storage_id=storage_id),
            limit=RUN_OUTCOME_PAGE,
            ascending=True,
        ).records
        for event_type in _FINISHED
    ]
    # A full page may have more after it: stop where the shortest-reaching full page ends, so
    # a success is never handled before an earlier failure.
    full = [page[-1].storage_id for page in pages if len(page) == RUN_OUTCOME_PAGE]
    until = min(full, default=None)
    records = sorted(
        (r for page in pages for r in page if until is None or r.storage_id <= until),
        key=lambda record: record.storage_id,
    )
    outcomes = []
    for record in records:
        run = instance.get_run_by_id(record.run_id)
        if run is None:
            continue  # deleted meanwhile
        event = record.event_log_entry.dagster_event
        failed = event is not None and event.event_type == dg.DagsterEventType.RUN_FAILURE
        outcomes.append(
            RunOutcome(record.storage_id, run, _run_failure(instance, record) if failed else None)
        )
    return outcomes


def _run_failure(instance: dg.DagsterInstance, record: dg.EventLogRecord) -> RunFailure:
    """The cause a failed step carries in its metadata; else Dagster's own configuration error;
    else unexpected."""
    texts: list[str] = []
    errors = []
    for entry in instance.all_logs(record.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data if entry.dagster_event else None
        if data is None:
            continue
        user = data.user_failure_data
        if user is not None and CAUSE in user.metadata:
            cause = FailureCause(str(user.metadata[CAUSE].value))
            return RunFailure(cause, user.description or "")
        if data.error is not None:
            errors.append(data.error)
            texts.append(data.error.message)
    event = record.event_log_entry.dagster_event
    run_data = event.event_specific_data if event is not None else None
    run_error = getattr(run_data, "error", None)
    if run_error is not None:
        errors.append(run_error)
    texts.append(record.event_log_entry.message or "")
    chain = [error for first in errors for error in _error_chain(first)]
    configuration = any(error.cls_name == _DAGSTER_CONFIG_ERROR for error in chain)
    cause = FailureCause.INVALID_CONFIGURATION if configuration else FailureCause.UNEXPECTED
    return RunFailure(cause, next((text for text in texts if text), ""))


def _error_chain(error: SerializableErrorInfo) -> Iterator[SerializableErrorInfo]:
    current: SerializableErrorInfo | None = error
    while current is not None:
        yield current
        current = current.cause or current.context


def latest_outcomes(
    instance: dg.DagsterInstance,
    check: dg.AssetCheckKey,
    lines_of: Callable[[Mapping[str, dg.MetadataValue]], tuple[str, ...]],
) -> list[CheckOutcome]:
    """The latest evaluation of `check` per day, oldest first, explained by `lines_of`.

    The day is the evaluation's partition, else its run's, else its metadata's `day`.
    """
    records = [
        record
        for record in instance.event_log_storage.get_asset_check_execution_history(
            check, limit=CHECK_HISTORY
        )
        if isinstance(record.evaluation, dg.AssetCheckEvaluation)
    ]
    partitions = _run_partitions(instance, {record.run_id for record in records})
    latest: dict[str | None, CheckOutcome] = {}
    for record in sorted(records, key=lambda r: r.id):
        evaluation = record.evaluation
        assert isinstance(evaluation, dg.AssetCheckEvaluation)
        named_day = evaluation.metadata.get("day")
        day = (
            evaluation.partition
            or partitions.get(record.run_id)
            or (str(named_day.value) if named_day is not None else None)
        )
        latest[day] = CheckOutcome(
            check_name=check.name,
            day=day,
            passed=evaluation.passed,
            at=datetime.fromtimestamp(record.create_timestamp, UTC),
            lines=lines_of(evaluation.metadata),
        )
    return sorted(latest.values(), key=lambda outcome: outcome.at)


def listed(
    name: str, line_of: Callable[[Any], str] = str
) -> Callable[[Mapping[str, dg.MetadataValue]], tuple[str, ...]]:
    """The items of the JSON list metadata entry `name`, each made a line by `line_of`."""

    def lines_of(metadata: Mapping[str, dg.MetadataValue]) -> tuple[str, ...]:
        entry = metadata.get(name)
        items = entry.value if entry is not None else None
        return tuple(line_of(item) for item in items) if isinstance(items, list) else ()

    return lines_of


def _run_partitions(instance: dg.DagsterInstance, run_ids: set[str]) -> dict[str, str]:
    if not run_ids:
        return {}
    runs = instance.get_runs(filters=dg.RunsFilter(run_ids=list(run_ids)))
    return {
        run.run_id: run.tags["dagster/partition"] for run in runs if "dagster/partition" in run.tags
    }


def latest_materialization(
    instance: dg.DagsterInstance, asset: dg.AssetKey, day: str
) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[day]),
        limit=1,
        ascending=False,
    ).records
    return records[0] if records else None


def day_progress(instance: dg.DagsterInstance, shop: Shop, ledger: DaySummary) -> DayProgress:
    day = ledger.day.isoformat()
    extracted = latest_materialization(instance, shop.asset_key("woo_orders"), day)
    transformed = latest_materialization(instance, shop.asset_key("exact_journal_lines"), day)
    loaded = latest_materialization(instance, shop.asset_key("exact_bookings"), day)
    held_back = 0
    if loaded is not None and loaded.asset_materialization is not None:
        entry = loaded.asset_materialization.metadata.get("held_back")
        held_back = int(entry.value) if entry is not None else 0  # type: ignore[arg-type]
    return DayProgress(
        day=ledger.day,
        extracted_at=_moment(extracted),
        transformed_at=_moment(transformed),
        loaded_at=_moment(loaded),
        events=ledger.events,
        booked=ledger.booked,
        failed=ledger.failed,
        held_back=held_back,
    )


def _moment(record: dg.EventLogRecord | None) -> datetime | None:
    return datetime.fromtimestamp(record.timestamp, UTC) if record is not None else None


def api_calls_for_day(instance: dg.DagsterInstance, assets: Iterable[dg.AssetKey], day: str) -> int:
    """Exact API calls the materializations of `assets` for partition `day` recorded."""
    total = 0
    for asset in assets:
        cursor: str | None = None
        while True:
            page = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[day]),
                limit=1000,
                cursor=cursor,
            )
            for record in page.records:
                materialization = record.asset_materialization
                entry = materialization.metadata.get("api_calls") if materialization else None
                total += int(entry.value) if entry is not None else 0  # type: ignore[arg-type]
            if not page.has_more:
                break
            cursor = page.cursor
    return total


@dataclass(frozen=True)
class TickHistory:
    """The recent ticks of a sensor or schedule, as far as alerts care."""

    last_good: datetime | None  # latest successful or skipped tick
    oldest: datetime  # oldest tick looked at: silent at least since then
    latest_error: str | None  # the error of the latest tick, when it failed


def tick_history(
    instance: dg.DagsterInstance, name: str, location: str | None
) -> TickHistory | None:
    """None when the daemon never evaluated it in this instance."""
    states = [
        state
        for state in instance.all_instigator_state()
        if state.name == name
        and (location is None or state.repository_selector.location_name == location)
    ]
    ticks = sorted(
        (
            tick
            for state in states
            for tick in instance.get_ticks(
                state.instigator_origin_id, state.selector_id, limit=TICK_HISTORY
            )
        ),
        key=lambda tick: tick.timestamp,
    )
    if not ticks:
        return None
    good = [t.timestamp for t in ticks if t.status in (TickStatus.SUCCESS, TickStatus.SKIPPED)]
    latest = ticks[-1]
    error = latest.error.message.strip() if latest.error is not None else None
    return TickHistory(
        last_good=datetime.fromtimestamp(good[-1], UTC) if good else None,
        oldest=datetime.fromtimestamp(ticks[0].timestamp, UTC),
        latest_error=error if latest.status == TickStatus.FAILURE else None,
    )
