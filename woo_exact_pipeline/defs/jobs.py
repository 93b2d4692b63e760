"""Jobs: what runs together. Assets are named by key, so every folder can use every job."""

import dagster as dg

extract_and_transform_job = dg.define_asset_job(
    "extract_and_transform_job",
    selection=dg.AssetSelection.assets("woo_orders", "woo_customers", "exact_journal_lines"),
    description="Extract a day's orders and customers and turn them into journal lines.",
)

shop_catalogue_job = dg.define_asset_job(
    "shop_catalogue_job",
    selection=dg.AssetSelection.assets("woo_products", "woo_tax_rates"),
    description="Refresh the shop's products (incrementally) and tax rates.",
)

exact_load_job = dg.define_asset_job(
    "exact_load_job",
    # Reconciled right after booking, in the same run: one sync-log entry per load.
    selection=dg.AssetSelection.assets("exact_bookings", "exact_reconciliation"),
    description=(
        "Book one day's journal lines in Exact Online and reconcile the day "
        "(started by exact_load_sensor)."
    ),
)

exact_reconciliation_job = dg.define_asset_job(
    "exact_reconciliation_job",
    selection=dg.AssetSelection.assets("exact_reconciliation"),
    description="Compare days in Exact with WooCommerce again, e.g. after a correction by hand.",
)

exact_reference_job = dg.define_asset_job(
    "exact_reference_job",
    selection=dg.AssetSelection.assets("exact_reference_data"),
    description="Read Exact's master data again and check sync.yaml against it.",
)
