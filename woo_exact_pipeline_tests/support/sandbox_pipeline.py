"""The suite's shop pointed at the sandboxes: its settings for an Exact sandbox administration
and the connections of its assets, for the tests that run the pipeline's assets directly."""

from datetime import date
from typing import Any

import dagster as dg
from sqlalchemy import Engine

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.config import SyncConfig, load_config
from woo_exact_pipeline.defs.exact.reconciliation import AGREE
from woo_exact_pipeline.defs.resources import ExactOnline, SyncDatabase, WooCommerceApi
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.journal import load_partition_events
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY
from woo_exact_pipeline_tests.support.pipeline import assets_of

#: The suite's shop (sync.test.yaml): settings_for changes its administration, never its address.
SHOP_KEY = Shop(load_config()).key
STAGE = ("woo_orders", "woo_customers", "exact_journal_lines")


def settings_for(exact: ExactSandbox, **changes: Any) -> SyncConfig:
    base = load_config()  # the suite's sync.test.yaml: the sandbox administration's codes
    return base.model_copy(
        update={
            "exact": base.exact.model_copy(
                update={"base_url": exact.base_url, "division": exact.division, **changes}
            )
        }
    )


def resources(woo: WooSandbox, exact: ExactSandbox, url: str) -> dict:
    """The connections of the assets of a shop without a name (their plain resource keys)."""
    return {
        "woocommerce": WooCommerceApi(
            shop_url=woo.url, consumer_key=woo.consumer_key, consumer_secret=woo.consumer_secret
        ),
        "exact": ExactOnline(
            client_id=exact.client_id,
            client_secret=exact.client_secret,
            token_encryption_key=SECRET_KEY,
        ),
        "sync_database": SyncDatabase(url=url),
    }


def check_of(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == AGREE]
    return evaluation


def metadata_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.asset_materializations_for_node("exact_reconciliation")
    return {key: value.value for key, value in event.metadata.items()}


def stage_and_load(
    day: str,
    woo: WooSandbox,
    exact: ExactSandbox,
    url: str,
    instance: dg.DagsterInstance,
    settings: SyncConfig | None = None,
) -> dg.ExecuteInProcessResult:
    """Extract and transform a day, then run what exact_load_job runs: the bookings and,
    right after them, the reconciliation of the same day."""
    assets = assets_of(settings or settings_for(exact))
    everything = resources(woo, exact, url)
    staged = dg.materialize(
        [assets[name] for name in STAGE],
        partition_key=day,
        resources=everything,
        instance=instance,
    )
    assert staged.success
    loaded = dg.materialize(
        [assets["exact_reference_data"], assets["exact_bookings"], assets["exact_reconciliation"]],
        partition_key=day,
        resources=everything,
        selection=[assets["exact_bookings"], assets["exact_reconciliation"]],
        instance=instance,
    )
    assert loaded.success
    return loaded


def day_events(engine: Engine, day: str) -> list[AccountingEvent]:
    with engine.connect() as connection:
        return load_partition_events(connection, SHOP_KEY, date.fromisoformat(day))
