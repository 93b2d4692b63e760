"""The code location: the whole pipeline once for every shop of sync.yaml, and the sync
database they share. `sync`, `demo`, the chaos tests and the benchmarks build theirs from the
shops they hold with `location_definitions`."""

from collections.abc import Sequence

import dagster as dg

from woo_exact_pipeline.config import load_shops
from woo_exact_pipeline.defs.alerts.freshness import freshness_definitions
from woo_exact_pipeline.defs.alerts.sensors import alert_sensors, run_outcome_sensor
from woo_exact_pipeline.defs.bookkeeping.assets import bookkeeping_assets
from woo_exact_pipeline.defs.exact.assets import exact_assets
from woo_exact_pipeline.defs.exact.reconciliation import reconciliation_assets
from woo_exact_pipeline.defs.exact.sensors import exact_automation
from woo_exact_pipeline.defs.jobs import shop_jobs
from woo_exact_pipeline.defs.reports.assets import report_assets
from woo_exact_pipeline.defs.resources import AlertChannels, SyncDatabase
from woo_exact_pipeline.defs.runs import dead_runs_sensor
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.defs.woocommerce.assets import woocommerce_assets
from woo_exact_pipeline.defs.woocommerce.automation import woocommerce_automation


def shop_assets(shop: Shop) -> list[dg.AssetsDefinition]:
    """The shop's assets, from its orders in WooCommerce to its bookings in Exact and the
    period's VAT reports."""
    return [
        *woocommerce_assets(shop),
        *bookkeeping_assets(shop),
        *exact_assets(shop),
        *reconciliation_assets(shop),
        *report_assets(shop),
    ]


def shop_definitions(shop: Shop) -> dg.Definitions:
    """Everything of the shop but its resources (`Shop.resources`)."""
    return dg.Definitions.merge(
        dg.Definitions(assets=shop_assets(shop), jobs=shop_jobs(shop)),
        woocommerce_automation(shop),
        exact_automation(shop),
        freshness_definitions(shop),
        alert_sensors(shop),
    )


def location_definitions(
    shops: Sequence[Shop], sync_database: SyncDatabase, alert_channels: AlertChannels
) -> dg.Definitions:
    """Every shop's definitions and resources, and what they share: the sync database, the
    alert channels, the alerts on finished runs and the release of runs whose process died."""
    resources: dict[str, object] = {
        "sync_database": sync_database,
        "alert_channels": alert_channels,
    }
    for shop in shops:
        resources |= shop.resources()
    return dg.Definitions.merge(
        *(shop_definitions(shop) for shop in shops),
        dg.Definitions(sensors=[run_outcome_sensor(shops), dead_runs_sensor], resources=resources),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The shops of sync.yaml ($WOO_EXACT_CONFIG), read when Dagster loads the code location,
    never when a module is imported."""
    shops = [Shop(settings) for settings in load_shops()]
    return location_definitions(shops, SyncDatabase(), AlertChannels.from_environment())
