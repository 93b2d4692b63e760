"""A day through the transform and the loader against the Exact sandbox, and its sync log."""

from datetime import date
from typing import Any

import dagster as dg
from sqlalchemy import Engine

from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.journal import load_partition_events
from woo_exact_pipeline_tests.support.pipeline import assets_of
from woo_exact_pipeline_tests.support.sandbox_pipeline import (
    SHOP_KEY,
    STAGE,
    resources,
)

DAY = "2026-10-20"


def transform_day(woo: WooSandbox, exact: ExactSandbox, url: str, settings: SyncConfig) -> None:
    """Extract and transform the day with the assets of a shop with these settings."""
    assets = assets_of(settings)
    result = dg.materialize(
        [assets[name] for name in STAGE],
        partition_key=DAY,
        resources=resources(woo, exact, url),
    )
    assert result.success


def load_day(
    woo: WooSandbox, exact: ExactSandbox, url: str, settings: SyncConfig
) -> dg.ExecuteInProcessResult:
    assets = assets_of(settings)
    return dg.materialize(
        [assets["exact_reference_data"], assets["exact_bookings"]],
        partition_key=DAY,
        resources=resources(woo, exact, url),
        selection=[assets["exact_bookings"]],
    )


def sync_log(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    event = result.asset_materializations_for_node("exact_bookings")[0]
    return {key: value.value for key, value in event.metadata.items()}


def day_events(engine: Engine) -> list:
    with engine.connect() as connection:
        return load_partition_events(connection, SHOP_KEY, date.fromisoformat(DAY))
