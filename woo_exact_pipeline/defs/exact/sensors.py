"""Loading into Exact follows the journal lines: one load run per newly transformed day."""

import dagster as dg

from woo_exact_pipeline.defs.bookkeeping.assets import BALANCED
from woo_exact_pipeline.defs.shops import Shop

PAGE = 100


def exact_automation(shop: Shop) -> dg.Definitions:
    sweep = shop.settings.automation.daily_sweep_time

    @dg.sensor(
        name=shop.qualified("exact_load_sensor"),
        job_name=shop.qualified("exact_load_job"),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Reads new materializations of exact_journal_lines after its cursor (the event "
            "log's storage id) and requests one exact_load_job run per day, with a run key. "
            "Days whose balance check failed are not loaded: that check guards Exact against "
            "our own bugs."
        ),
    )
    def exact_load_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        return days_to_load(context, shop)

    exact_reference_schedule = dg.ScheduleDefinition(
        name=shop.qualified("exact_reference_schedule"),
        job_name=shop.qualified("exact_reference_job"),
        cron_schedule=f"{sweep.minute} {sweep.hour} * * *",
        execution_timezone=shop.settings.woocommerce.time_zone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every night, read Exact's master data again and check sync.yaml against it.",
    )
    return dg.Definitions(sensors=[exact_load_sensor], schedules=[exact_reference_schedule])


def days_to_load(
    context: dg.SensorEvaluationContext, shop: Shop
) -> dg.SensorResult | dg.SkipReason:
    """One run request per day with journal lines newer than the cursor that balance."""
    journal_lines = shop.asset_key("exact_journal_lines")
    after = int(context.cursor) if context.cursor else None
    page = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=journal_lines, after_storage_id=after),
        limit=PAGE,
        ascending=True,
    )
    if not page.records:
        return dg.SkipReason("No new journal lines since the last tick.")
    unbalanced_runs = _runs_with_failed_balance_check(context.instance, journal_lines)
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


def _runs_with_failed_balance_check(
    instance: dg.DagsterInstance, journal_lines: dg.AssetKey
) -> set[str]:
    check = dg.AssetCheckKey(journal_lines, BALANCED)
    history = instance.event_log_storage.get_asset_check_execution_history(check, limit=PAGE * 4)
    return {record.run_id for record in history if record.status.value == "FAILED"}
