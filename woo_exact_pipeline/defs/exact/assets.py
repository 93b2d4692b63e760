"""Exact Online: its master data, and the bookings of each day (the sync log)."""

from datetime import date
from typing import Any, Literal

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.defs.errors import failures_named_by_cause
from woo_exact_pipeline.defs.shops import AssetOptions, Shop
from woo_exact_pipeline.exact.booking import ExactLoader, InvoicePdf, InvoicePdfSource
from woo_exact_pipeline.exact.master_data import (
    current_master_data,
    fetch_master_data,
    save_master_data,
    settings_problems,
)
from woo_exact_pipeline.exact.sync_log import sync_log_summary
from woo_exact_pipeline.exact.web_links import document_url
from woo_exact_pipeline.markdown import markdown_list
from woo_exact_pipeline.store.journal import load_partition_events, partition_problems
from woo_exact_pipeline.store.ledger import BookingLedger
from woo_exact_pipeline.store.staging import load_partition
from woo_exact_pipeline.woocommerce.client import WooCommerceClient

SETTINGS_MATCH = "settings_match_exact"
NO_CHANGES_AFTER_BOOKING = "no_orders_changed_after_booking"
#: The every-event-booked check's entry listing each event not booked, with its reason.
NOT_BOOKED = "not booked"
ALL_BOOKED = "every_event_booked"


class LoadOptions(dg.Config):
    """The launchpad's options of a load run."""

    bulk: bool = Field(
        default=False,
        description=(
            "Book the day's sales entries and credit notes in XML uploads (one API call per "
            "upload) whatever their number; below exact.bulk_upload_from they go one by one"
        ),
    )


def bulk_load_run_config(shop: Shop) -> dict[str, Any]:
    """The run config of a load run that books in XML uploads (`woo-exact sync --bulk`)."""
    node = shop.asset_key("exact_bookings").to_python_identifier()
    return {"ops": {node: {"config": {"bulk": True}}}}


def exact_asset_options(
    shop: Shop, connections: tuple[Literal["woocommerce", "exact"], ...] = ("exact",)
) -> AssetOptions:
    """What every Exact asset of the shop has in common."""
    return {
        "key_prefix": shop.key_prefix,
        "group_name": shop.qualified("exact"),
        "kinds": {"python", "sql"},
        "pool": shop.exact_pool,
        "owners": ["team:bookkeeping"],
        "tags": {"system": "exact_online"},
        "required_resource_keys": shop.resource_keys(*connections),
    }


def exact_assets(shop: Shop) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="exact_reference_data",
        description=(
            "Exact's journals, VAT codes, GL accounts, items and debtors, read in bulk (1,000 a "
            "call) and cached in the sync database (table exact_reference), so a load spends its "
            "API calls on bookings. Its check compares sync.yaml with what Exact really has."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                SETTINGS_MATCH,
                asset=shop.asset_key("exact_reference_data"),
                description=(
                    "Every journal, GL account, VAT code, item and debtor in sync.yaml exists in "
                    "Exact and has the right type."
                ),
            )
        ],
        **exact_asset_options(shop),
    )
    def exact_reference_data(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return read_master_data(context, shop)

    @dg.asset(
        name="exact_bookings",
        partitions_def=shop.order_days,
        deps=[shop.asset_key("exact_journal_lines"), exact_reference_data],
        description=(
            "The day's sales and credit notes as booked in Exact Online, each exactly once: the "
            "booking ledger (table bookings) is written before every post and checked against "
            "Exact by YourRef after a lost answer. Every materialization is a sync-log entry: what "
            "was booked, what was already booked, what waits, what is held back and why."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                NO_CHANGES_AFTER_BOOKING,
                asset=shop.asset_key("exact_bookings"),
                description=(
                    "No order changed in WooCommerce after it was booked (never re-posted)."
                ),
            ),
            dg.AssetCheckSpec(
                ALL_BOOKED,
                asset=shop.asset_key("exact_bookings"),
                description="Every accounting event of the day is booked in Exact.",
            ),
        ],
        metadata={
            "dagster/table_name": "bookings",
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(
                        "event_key", "text", description="sale:ORDER_ID or credit:REFUND_ID"
                    ),
                    dg.TableColumn("kind", "text", description="sale or credit"),
                    dg.TableColumn("order_number", "text", description="the WooCommerce order"),
                    dg.TableColumn("reference", "text", description="YourRef in Exact"),
                    dg.TableColumn("partition_date", "date"),
                    dg.TableColumn("status", "text", description="pending, booked or failed"),
                    dg.TableColumn("exact_id", "text", description="Exact's GUID of the document"),
                    dg.TableColumn(
                        "exact_number",
                        "text",
                        description="entry, invoice or order number in Exact",
                    ),
                    dg.TableColumn("error", "text", description="why Exact refused it"),
                ]
            ),
        },
        **exact_asset_options(shop, connections=("woocommerce", "exact")),  # invoice PDFs
    )
    def exact_bookings(
        context: dg.AssetExecutionContext, config: LoadOptions
    ) -> dg.MaterializeResult:
        return book_day(context, shop, bulk=config.bulk)

    return [exact_reference_data, exact_bookings]


def read_master_data(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    settings = shop.settings
    engine = shop.sync_database(context).engine()
    with failures_named_by_cause(), shop.exact(context).client(settings.exact, engine) as client:
        data = fetch_master_data(client)
        # This runs nightly: renewing a refresh token close to its 30-day idle expiry here
        # spares the shop owner a login after a quiet month.
        renewed = client.tokens.refresh_before_idle_expiry()
        calls = client.calls_made
    save_master_data(engine, data)
    problems = settings_problems(settings, data)
    return dg.MaterializeResult(
        metadata={
            "journals": len(data.journals),
            "vat_codes": len(data.vat_codes),
            "gl_accounts": len(data.gl_accounts),
            "items": len(data.items),
            "debtors": len(data.debtors),
            "api_calls": calls,
            "refresh token renewed": renewed,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=SETTINGS_MATCH,
                passed=not problems,
                metadata={"problems": dg.MetadataValue.md(markdown_list(problems))},
            )
        ],
    )


def book_day(
    context: dg.AssetExecutionContext, shop: Shop, *, bulk: bool = False
) -> dg.MaterializeResult:
    settings = shop.settings
    engine = shop.sync_database(context).engine()
    day = date.fromisoformat(context.partition_key)
    with failures_named_by_cause(), engine.connect() as connection:
        events = load_partition_events(connection, shop.key, day)
        problems = partition_problems(connection, shop.key, day)
    ledger = BookingLedger(
        engine,
        run_id=context.run.run_id,
        is_run_alive=lambda run_id: _run_is_alive(context.instance, run_id),
    )
    with (
        failures_named_by_cause(),
        shop.exact(context).client(settings.exact, engine) as client,
        shop.woocommerce(context).client(notify=context.log.warning) as woocommerce,
    ):
        master = current_master_data(client, engine, settings.exact.reference_data_max_age_hours)
        loader = ExactLoader(
            client,
            engine,
            settings,
            ledger,
            master,
            shop=shop.key,
            invoice_pdfs=_invoice_pdfs(woocommerce, shop.key, engine, day, settings),
        )
        outcomes = loader.book_partition(day, events, bulk=bulk)
        calls, uploads, limits = client.calls_made, client.uploads_made, client.rate_limits()
    log = sync_log_summary(
        outcomes,
        problems,
        api_calls=calls,
        limits=limits,
        administration_currency=settings.exact.administration_currency,
        document_url=lambda exact_id: document_url(
            settings.exact.api_base_url,
            settings.exact.division,
            settings.exact.insertion_type,
            exact_id,
        ),
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": log.in_exact,
            **log.counts,
            "api_calls": log.api_calls,
            "xml_uploads": uploads,
            "daily_quota_left": log.daily_quota_left if log.daily_quota_left is not None else -1,
            "bookings": dg.MetadataValue.md(log.bookings_table),
            "problems": dg.MetadataValue.md(log.problems_table),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=NO_CHANGES_AFTER_BOOKING,
                passed=not log.changed_after_booking,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"changed": dg.MetadataValue.json(log.changed_after_booking)},
            ),
            dg.AssetCheckResult(
                check_name=ALL_BOOKED,
                passed=not log.not_booked,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={NOT_BOOKED: dg.MetadataValue.json(log.not_booked)},
            ),
        ],
    )


def _invoice_pdfs(
    shop: WooCommerceClient, shop_key: str, engine: Engine, day: date, settings: SyncConfig
) -> InvoicePdfSource | None:
    """With `invoice_number_with_pdf`, each sale gets the shop's invoice PDF attached."""
    if settings.woocommerce.document_number_source != "invoice_number_with_pdf":
        return None
    with engine.connect() as connection:
        order_keys = {
            o["id"]: o.get("order_key") for o in load_partition(connection, shop_key, day).orders
        }

    def invoice_pdf(event: AccountingEvent) -> InvoicePdf | None:
        # Events of this source exist only for orders that have their invoice number, so
        # opening the link never makes the plugin create an invoice.
        key = order_keys.get(event.order_id)
        if not key:
            return None
        return InvoicePdf(f"{event.reference}.pdf", shop.invoice_pdf(event.order_id, key))

    return invoice_pdf


def _run_is_alive(instance: dg.DagsterInstance, run_id: str) -> bool:
    run = instance.get_run_by_id(run_id)
    return run is not None and not run.is_finished
