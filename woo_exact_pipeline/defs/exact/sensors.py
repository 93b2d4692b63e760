"""Loading into Exact follows the journal lines: one load run per newly transformed day."""

import dagster as dg

from woo_exact_pipeline.defs.bookkeeping.assets import BALANCED, exact_journal_lines
from woo_exact_pipeline.defs.jobs import exact_load_job, exact_reference_job
from woo_exact_pipeline.defs.settings import SETTINGS

PAGE = 100


@dg.sensor(
    job=exact_load_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads new materializations of exact_journal_lines after its cursor (the event log's "
        "storage id) and requests one exact_load_job run per day, with a run key. Days whose "
        "balance check failed are not loaded: that check guards Exact against our own bugs."
    ),
)
def exact_load_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    after = int(context.cursor) if context.cursor else None
    page = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=exact_journal_lines.key, after_storage_id=after),
        limit=PAGE,
        ascending=True,
    )
    if not page.records:
        return dg.SkipReason("No new journal lines since the last tick.")
    unbalanced_runs = _runs_with_failed_balance_check(context.instance)
    newest_by_day: dict[str, int] = {}
    for record in page.records:
        if record.partition_key is None:
            continue
        if record.run_id in unbalanced_runs:
            context.log.warning(
                f"Not loading {record.partition_key}: its journal lines do not balance "
                f"(run {record.run_id}); see the check {BALANCED}."
            )
            continue
        newest_by_day[record.partition_key] = record.storage_id
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=day, run_key=f"{day}:{storage_id}")
            for day, storage_id in sorted(newest_by_day.items())
        ],
        cursor=str(page.records[-1].storage_id),
    )


def _runs_with_failed_balance_check(instance: dg.DagsterInstance) -> set[str]:
    check = dg.AssetCheckKey(exact_journal_lines.key, BALANCED)
    history = instance.event_log_storage.get_asset_check_execution_history(check, limit=PAGE * 4)
    return {record.run_id for record in history if record.status.value == "FAILED"}


exact_reference_schedule = dg.ScheduleDefinition(
    job=exact_reference_job,
    cron_schedule=(
        f"{SETTINGS.automation.daily_sweep_time.minute} "
        f"{SETTINGS.automation.daily_sweep_time.hour} * * *"
    ),
    execution_timezone=SETTINGS.woocommerce.time_zone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night, read Exact's master data again and check sync.yaml against it.",
)
