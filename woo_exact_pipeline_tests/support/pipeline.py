"""The pipeline's Dagster objects built for the settings a test needs.

The code location builds them once per shop of sync.yaml; a test that changes a setting builds
its own shop from those settings, exactly as the code location would.
"""

from collections.abc import Callable
from datetime import datetime

import dagster as dg

from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.definitions import shop_assets, shop_definitions
from woo_exact_pipeline.defs.resources import AlertChannels
from woo_exact_pipeline.defs.shops import Shop


def assets_of(settings: SyncConfig) -> dict[str, dg.AssetsDefinition]:
    """The shop's assets by their name (without the shop's prefix)."""
    return {asset.key.path[-1]: asset for asset in shop_assets(Shop(settings))}


def definitions_of(
    settings: SyncConfig,
    resources: dict[str, object],
    *,
    clock: Callable[[], datetime] | None = None,
) -> dg.Definitions:
    """Everything of one shop (jobs, sensors, schedules, checks) with these resources; its
    sensors and checks read `clock` (default: the wall clock). The alert channels are the
    environment's, as the code location's, unless `resources` holds them."""
    shop = Shop(settings, clock=clock) if clock else Shop(settings)
    return dg.Definitions.merge(
        shop_definitions(shop),
        dg.Definitions(resources={"alert_channels": AlertChannels.from_environment(), **resources}),
    )
