"""Jobs: what runs together, per shop. Sensors and schedules name them (`shop.qualified`)."""

import dagster as dg

# What define_asset_job returns; Dagster does not export its type.
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition as AssetJob,
)

from woo_exact_pipeline.defs.alerts.freshness import BOOKED_BY_DEADLINE
from woo_exact_pipeline.defs.shops import Shop


def shop_jobs(shop: Shop) -> list[AssetJob]:
    # Whether yesterday was booked in time is the freshness schedule's question, asked after
    # the deadline; a load at 01:00 must not ask it (bookings_freshness_job).
    freshness = dg.AssetSelection.checks(
        dg.AssetCheckKey(shop.asset_key("exact_bookings"), BOOKED_BY_DEADLINE)
    )

    def job(name: str, assets: tuple[str, ...], description: str) -> AssetJob:
        return dg.define_asset_job(
            shop.qualified(name),
            selection=dg.AssetSelection.assets(*(shop.asset_key(asset) for asset in assets))
            - freshness,
            description=description,
            tags=shop.tags,
        )

    return [
        job(
            "extract_and_transform_job",
            ("woo_orders", "woo_customers", "exact_journal_lines"),
            "Extract a day's orders and customers and turn them into journal lines.",
        ),
        job(
            "shop_catalogue_job",
            ("woo_products", "woo_tax_rates"),
            "Refresh the shop's products (incrementally) and tax rates.",
        ),
        # Reconciled right after booking, in the same run: one sync-log entry per load.
        job(
            "exact_load_job",
            ("exact_bookings", "exact_reconciliation"),
            "Book one day's journal lines in Exact Online and reconcile the day "
            "(started by exact_load_sensor).",
        ),
        job(
            "exact_reconciliation_job",
            ("exact_reconciliation",),
            "Compare days in Exact with WooCommerce again, e.g. after a correction by hand.",
        ),
        job(
            "exact_reference_job",
            ("exact_reference_data",),
            "Read Exact's master data again and check sync.yaml against it.",
        ),
    ]
