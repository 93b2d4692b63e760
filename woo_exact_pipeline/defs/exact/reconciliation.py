"""Reconciliation: each day, what Exact holds against what WooCommerce says, per VAT code."""

from dataclasses import dataclass
from datetime import date

import dagster as dg

from woo_exact_pipeline.bookkeeping.reconciliation import (
    differences_table,
    reconcile,
    vat_code_table,
)
from woo_exact_pipeline.defs.errors import failures_named_by_cause
from woo_exact_pipeline.defs.exact.assets import exact_asset_options
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact.exchange_rates import BookingRates
from woo_exact_pipeline.exact.master_data import current_master_data
from woo_exact_pipeline.exact.read_back import read_bookings
from woo_exact_pipeline.store.journal import load_partition_events
from woo_exact_pipeline.store.ledger import BookingLedger, LedgerRow

AGREE = "woocommerce_and_exact_agree"


def reconciliation_assets(shop: Shop) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="exact_reconciliation",
        partitions_def=shop.order_days,
        deps=[shop.asset_key("exact_bookings")],
        description=(
            "The day's sales and refunds read back from Exact by their references and compared "
            "with WooCommerce per VAT code: excluding VAT, VAT, shipping, discounts, credit notes "
            "and documents, with every booking that is missing, booked twice or unknown, or "
            "different. Read its table before filing the VAT return. With insertion_type "
            "sales_order the orders are compared: they reach the ledger when Exact invoices them."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                AGREE,
                asset=shop.asset_key("exact_reconciliation"),
                description="Exact holds every sale and refund of the day once, to the cent.",
            )
        ],
        **exact_asset_options(shop),
    )
    def exact_reconciliation(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return reconcile_day(context, shop)

    return [exact_reconciliation]


def reconcile_day(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    settings = shop.settings
    engine = shop.sync_database(context).engine()
    day = date.fromisoformat(context.partition_key)
    with engine.connect() as connection:
        events = load_partition_events(connection, shop.key, day)
    ledger = BookingLedger(engine, run_id=context.run.run_id).rows(shop.key, day).values()
    with failures_named_by_cause(), shop.exact(context).client(settings.exact, engine) as client:
        master = current_master_data(client, engine, settings.exact.reference_data_max_age_hours)
        documents = read_bookings(
            client,
            master,
            settings.exact.insertion_type,
            settings.exact.sales_journal,
            # Booked references whose event is gone since are read too: they are extra now.
            {event.reference for event in events} | {row.reference for row in ledger},
        )
        rates = BookingRates(client, settings.exact).of_foreign(events)
        calls = client.calls_made
    result = reconcile(
        events,
        documents,
        rounding_vat_code=settings.exact.rounding_vat_code,
        ledger_notes={row.reference: _ledger_note(row) for row in ledger},
        rates=rates,
    )
    counts = {
        "events": result.events,
        "documents_in_exact": result.documents,
        "missing": len(result.missing),
        "extra": len(result.extra),
        "different": len(result.different),
    }
    return dg.MaterializeResult(
        metadata={
            **counts,
            "api_calls": calls,
            "per_vat_code": dg.MetadataValue.md(
                vat_code_table(result, settings.exact.administration_currency)
            ),
            "differences": dg.MetadataValue.md(differences_table(result.differences)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=AGREE,
                passed=result.agrees,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    **counts,
                    "differences": dg.MetadataValue.md(differences_table(result.differences)),
                },
            )
        ],
    )


def _ledger_note(row: LedgerRow) -> str:
    if row.status == "booked":
        return (
            f"booked as {row.exact_number or row.exact_id} according to the booking ledger, "
            "but not in Exact (deleted there?)"
        )
    return f"{row.status} in the booking ledger: {row.error or 'no answer from Exact yet'}"


@dataclass(frozen=True)
class ReconciliationSummary:
    days_agreeing: int
    days_differing: int
    days_not_reconciled: int
    #: Per differing day: "missing 1, extra 0, different 2".
    differences: dict[str, str]


def reconciliation_summary(
    instance: dg.DagsterInstance, shop: Shop, partition_keys: list[str]
) -> ReconciliationSummary:
    """The latest reconciliation of each of these days, as recorded in the Dagster instance."""
    latest: dict[str, dict[str, int]] = {}
    after: int | None = None
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=shop.asset_key("exact_reconciliation"),
                asset_partitions=partition_keys,
                after_storage_id=after,
            ),
            limit=1000,
            ascending=True,
        )
        for record in page.records:
            materialization = record.asset_materialization
            if record.partition_key is not None and materialization is not None:
                latest[record.partition_key] = {
                    name: int(str(materialization.metadata[name].value))
                    for name in ("missing", "extra", "different")
                }
        if not page.has_more or not page.records:
            break
        after = page.records[-1].storage_id
    differing = {
        day: ", ".join(f"{name} {n}" for name, n in counts.items())
        for day, counts in sorted(latest.items())
        if any(counts.values())
    }
    return ReconciliationSummary(
        days_agreeing=len(latest) - len(differing),
        days_differing=len(differing),
        days_not_reconciled=len(set(partition_keys) - set(latest)),
        differences=differing,
    )
