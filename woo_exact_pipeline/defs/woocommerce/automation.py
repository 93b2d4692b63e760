"""Keeping a shop's staged days current: a change sensor, a nightly sweep and the catalogue
refresh."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.bookkeeping.order import read_order
from woo_exact_pipeline.defs.errors import failures_named_by_cause
from woo_exact_pipeline.defs.shops import Shop


def woocommerce_automation(shop: Shop) -> dg.Definitions:
    automation = shop.settings.automation
    sweep = f"{automation.daily_sweep_time.minute} {automation.daily_sweep_time.hour} * * *"
    time_zone = shop.settings.woocommerce.time_zone

    @dg.schedule(
        name=shop.qualified("daily_sweep_schedule"),
        job_name=shop.qualified("extract_and_transform_job"),
        cron_schedule=sweep,
        execution_timezone=time_zone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Every night, process yesterday again: a safety net for changes the sensor missed."
        ),
    )
    def daily_sweep_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        today = shop_day(context.scheduled_execution_time, shop.time_zone)
        yesterday = today - timedelta(days=1)
        return dg.RunRequest(partition_key=yesterday.isoformat())

    shop_catalogue_schedule = dg.ScheduleDefinition(
        name=shop.qualified("shop_catalogue_schedule"),
        job_name=shop.qualified("shop_catalogue_job"),
        cron_schedule=sweep,
        execution_timezone=time_zone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every night, refresh products and tax rates.",
    )

    @dg.sensor(
        name=shop.qualified("woo_order_changes_sensor"),
        job_name=shop.qualified("extract_and_transform_job"),
        minimum_interval_seconds=automation.change_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys=shop.resource_keys("woocommerce"),
        description=(
            "Asks WooCommerce which orders changed since the last tick (status changes, "
            "refunds, new orders) and re-processes the days that own them. Its first tick "
            "starts from now: history is the backfill's job."
        ),
    )
    def woo_order_changes_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        return changed_days(context, shop)

    return dg.Definitions(
        schedules=[daily_sweep_schedule, shop_catalogue_schedule],
        sensors=[woo_order_changes_sensor],
    )


def changed_days(
    context: dg.SensorEvaluationContext, shop: Shop
) -> dg.SensorResult | dg.SkipReason:
    """One run request per day that owns an order changed since the cursor."""
    if not context.cursor:
        started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        context.update_cursor(started.isoformat())
        return dg.SkipReason(f"Watching for order changes from {started} GMT on.")
    cursor = datetime.fromisoformat(context.cursor)
    # Re-read a little before the cursor: the shop's clock and ours may disagree slightly.
    since = cursor - timedelta(seconds=shop.settings.automation.change_sensor_overlap_seconds)
    newest_change_by_day: dict[str, datetime] = {}
    newest = cursor
    with (
        failures_named_by_cause(),
        shop.woocommerce(context).client(notify=context.log.warning) as client,
    ):
        for orders in client.orders_modified_after(since):
            for order in map(read_order, orders):
                modified = order.last_change_gmt()
                day = shop.partition_key_of(order.created_gmt())
                newest = max(newest, modified)
                if shop.order_days.has_partition_key(day):
                    newest_change_by_day[day] = max(
                        newest_change_by_day.get(day, modified), modified
                    )
    # The run key names the day and its newest change, so a change seen twice (overlap)
    # never starts two runs, while a later change of the same day does start one.
    requests = [
        dg.RunRequest(partition_key=day, run_key=f"{day}@{changed.isoformat()}")
        for day, changed in sorted(newest_change_by_day.items())
    ]
    return dg.SensorResult(run_requests=requests, cursor=newest.isoformat())
