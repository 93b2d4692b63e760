"""Freshness: yesterday fully booked in Exact by a deadline in shop time (alerts.bookings_due_by).

An asset check on `exact_bookings`, run by a schedule every hour from the deadline to the end of
the day: a miss shows in the UI on the asset and opens an alert, which clears with the first
evaluation that passes. (Dagster's built-in time-partition freshness checks only ask whether
the newest partition was materialized; here the newest partition is today, and "materialized"
is not "booked": a load that was held back or lost its answers still materializes.)
"""

from datetime import date, timedelta

import dagster as dg
from pydantic import Field

from woo_exact_pipeline.alerts.rules import freshness_verdict
from woo_exact_pipeline.defs.alerts.facts import day_progress
from woo_exact_pipeline.defs.errors import failures_named_by_cause
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.store.day_summary import day_summary

BOOKED_BY_DEADLINE = "yesterday_booked_by_deadline"


class FreshnessConfig(dg.Config):
    day: str = Field(
        default="", description="Day to check (YYYY-MM-DD); empty: yesterday in shop time"
    )


def freshness_definitions(shop: Shop) -> dg.Definitions:
    @dg.asset_check(
        asset=shop.asset_key("exact_bookings"),
        name=BOOKED_BY_DEADLINE,
        required_resource_keys=shop.resource_keys(),
        description=(
            "Yesterday (shop time) is fully booked in Exact by alerts.bookings_due_by: its "
            "orders were read after the day ended, the load followed the last transform, and "
            "every event has Exact's answer. Refused, held-back and quarantined orders are "
            "order alerts."
        ),
    )
    def yesterday_booked_by_deadline(
        context: dg.AssetCheckExecutionContext, config: FreshnessConfig
    ) -> dg.AssetCheckResult:
        return check_booked_by_deadline(context, config, shop)

    bookings_freshness_job = dg.define_asset_job(
        shop.qualified("bookings_freshness_job"),
        selection=dg.AssetSelection.checks(yesterday_booked_by_deadline),
        description="Check that yesterday is fully booked in Exact (alerts.bookings_due_by).",
        tags=shop.tags,
    )
    due = shop.settings.alerts.bookings_due_by
    bookings_freshness_schedule = dg.ScheduleDefinition(
        name=shop.qualified("bookings_freshness_schedule"),
        job=bookings_freshness_job,
        cron_schedule=f"{due.minute} {due.hour}-23 * * *",
        execution_timezone=shop.settings.woocommerce.time_zone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "From alerts.bookings_due_by to midnight, every hour: is yesterday fully booked? A "
            "miss alerts once; the first evaluation that passes clears it."
        ),
    )
    return dg.Definitions(
        asset_checks=[yesterday_booked_by_deadline],
        jobs=[bookings_freshness_job],
        schedules=[bookings_freshness_schedule],
    )


def check_booked_by_deadline(
    context: dg.AssetCheckExecutionContext, config: FreshnessConfig, shop: Shop
) -> dg.AssetCheckResult:
    day = (
        date.fromisoformat(config.day)
        if config.day
        else shop.clock().astimezone(shop.time_zone).date() - timedelta(days=1)
    )
    with failures_named_by_cause(), shop.sync_database(context).engine().connect() as connection:
        ledger = day_summary(connection, shop.key, day)
    reasons = freshness_verdict(
        day_progress(context.instance, shop, ledger), shop.settings.woocommerce.time_zone
    )
    return dg.AssetCheckResult(
        passed=not reasons,
        metadata={
            "day": day.isoformat(),
            "events": ledger.events,
            "booked": ledger.booked,
            "refused": ledger.failed,
            "quarantined": ledger.quarantined,
            "reasons": dg.MetadataValue.json(reasons),
        },
    )
