"""The bookkeeping transform: a day's staged orders become Exact-ready journal lines."""

from datetime import date

import dagster as dg

from woo_exact_pipeline.bookkeeping import TransformResult
from woo_exact_pipeline.bookkeeping.checks import imbalances_against_woocommerce
from woo_exact_pipeline.bookkeeping.events import transform_day
from woo_exact_pipeline.bookkeeping.summary import (
    category_counts,
    journal_line_rows,
    outcome_counts,
    reason_counts,
    unmapped_tax_rates,
    vat_totals,
)
from woo_exact_pipeline.defs.shops import DAYS_PER_RUN, Shop
from woo_exact_pipeline.exact.master_data import load_master_data
from woo_exact_pipeline.markdown import markdown_list, markdown_table
from woo_exact_pipeline.store.journal import replace_partition_journal
from woo_exact_pipeline.store.ledger import booked_content
from woo_exact_pipeline.store.staging import load_partition

BALANCED = "events_balance_to_the_cent"
QUARANTINE = "no_quarantined_orders"
TAX_RATES_MAPPED = "every_tax_rate_is_mapped"
PREVIEW_LINES = 20

JOURNAL_LINE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("reference", "text", description="YourRef in Exact"),
        dg.TableColumn("kind", "text", description="sale or credit"),
        dg.TableColumn(
            "line_kind", "text", description="revenue, shipping, fee, discount, rounding"
        ),
        dg.TableColumn("gl_account", "text"),
        dg.TableColumn("vat_code", "text"),
        dg.TableColumn("item_code", "text", description="invoice and order types only"),
        dg.TableColumn("amount_excl_vat", "decimal"),
        dg.TableColumn("vat_amount", "decimal"),
    ]
)


def bookkeeping_assets(shop: Shop) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="exact_journal_lines",
        key_prefix=shop.key_prefix,
        partitions_def=shop.order_days,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN),
        # The staged orders, and the item ledgers the reference data stored (when
        # exact.use_item_gl_accounts is on). Customers are read by the loader, not here.
        deps=[shop.asset_key("woo_orders"), shop.asset_key("exact_reference_data")],
        group_name=shop.qualified("bookkeeping"),
        required_resource_keys=shop.resource_keys(),
        kinds={"python", "sql"},
        owners=["team:bookkeeping"],
        tags={"system": "sync_database"},
        description=(
            "What the day's orders mean for the books: a sale for every order that reached a "
            "booking status and a credit note for each of its refunds, with ledger account, VAT "
            "code and amounts to the cent (tables accounting_events, journal_lines). Orders that "
            "cannot be booked yet wait or are quarantined with a reason (table order_problems)."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                BALANCED,
                asset=shop.asset_key("exact_journal_lines"),
                blocking=True,
                description=(
                    "Every event's lines add up to WooCommerce's order total or refund amount to "
                    "the cent. A failure is a bug of ours and stops the load into Exact."
                ),
            ),
            dg.AssetCheckSpec(
                QUARANTINE,
                asset=shop.asset_key("exact_journal_lines"),
                description="Lists the orders held back from Exact and why (a warning).",
            ),
            dg.AssetCheckSpec(
                TAX_RATES_MAPPED,
                asset=shop.asset_key("exact_journal_lines"),
                description="Every tax rate WooCommerce charged has a VAT code and ledger mapped.",
            ),
        ],
    )
    def exact_journal_lines(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return transform_orders(context, shop)

    return [exact_journal_lines]


def transform_orders(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    engine = shop.sync_database(context).engine()
    # Exact's knowledge as the exact_reference_data asset last stored it (no call to Exact).
    reference = load_master_data(engine, shop.settings.exact.division).for_bookkeeping()
    results, imbalances = [], []
    for partition_key in context.partition_keys:
        day = date.fromisoformat(partition_key)
        with engine.connect() as connection:
            staged = load_partition(connection, shop.key, day)
            booked = booked_content(connection, shop.key, day)
        result = transform_day(
            staged.orders, staged.refunds_by_order, shop.settings, reference, booked
        )
        imbalances += imbalances_against_woocommerce(
            result.events, staged.orders, staged.refunds_by_order
        )
        with engine.begin() as connection:
            replace_partition_journal(connection, shop.key, day, result)
        results.append(result)
    combined = TransformResult.combine(results)
    unmapped = unmapped_tax_rates(combined.quarantined)
    return dg.MaterializeResult(
        metadata={
            **outcome_counts(combined),
            "dagster/row_count": sum(len(event.lines) for event in combined.events),
            "dagster/column_schema": JOURNAL_LINE_SCHEMA,
            "totals per VAT code": dg.MetadataValue.md(_vat_table(combined)),
            "waiting reasons": dg.MetadataValue.json(reason_counts(combined.waiting)),
            "quarantine reasons": dg.MetadataValue.json(reason_counts(combined.quarantined)),
            "preview": dg.MetadataValue.md(_line_preview(combined)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=BALANCED,
                passed=not imbalances,
                metadata={
                    "events checked": len(combined.events),
                    "unbalanced": dg.MetadataValue.md(
                        markdown_list(
                            f"{i.reference}: WooCommerce {i.woocommerce_total}, "
                            f"event {i.event_total}, lines {i.lines_total}"
                            for i in imbalances
                        )
                    ),
                },
            ),
            dg.AssetCheckResult(
                check_name=QUARANTINE,
                passed=not combined.quarantined,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "quarantined": len(combined.quarantined),
                    "by category": dg.MetadataValue.json(category_counts(combined.quarantined)),
                    "orders": dg.MetadataValue.md(
                        markdown_list(
                            f"order {q.order_number}: {q.reason}" for q in combined.quarantined
                        )
                    ),
                },
            ),
            dg.AssetCheckResult(
                check_name=TAX_RATES_MAPPED,
                passed=not unmapped,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "unmapped (country, rate %)": dg.MetadataValue.json(
                        [list(pair) for pair in unmapped]
                    )
                },
            ),
        ],
    )


def _vat_table(result: TransformResult) -> str:
    rows = [
        (
            t.currency,
            t.vat_treatment,
            t.vat_code or "(rounding)",
            f"{t.amount_excl_vat:.2f}",
            f"{t.vat_amount:.2f}",
            t.lines,
        )
        for t in vat_totals(result.events)
    ]
    header = ("currency", "treatment", "VAT code", "excl. VAT", "VAT", "lines")
    return markdown_table(header, rows)


def _line_preview(result: TransformResult) -> str:
    rows = [
        (
            row["reference"],
            row["line_kind"],
            row["gl_account"],
            row["vat_code"],
            f"{row['amount_excl_vat']:.2f}",
            f"{row['vat_amount']:.2f}",
        )
        for row in journal_line_rows(result.events)[:PREVIEW_LINES]
    ]
    header = ("reference", "line", "GL", "VAT code", "excl. VAT", "VAT")
    return markdown_table(header, rows)
