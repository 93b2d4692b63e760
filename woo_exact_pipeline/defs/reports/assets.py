"""The bookkeeper's quarter in Dagster: `vat_return`, `oss_declaration` and `icp_listing`, one
partition per filing period (reports.period: quarter or month), in a group of their own.

Each is built from the journal lines of the sales and credit notes dated in the period, writes
a CSV and a workbook for the accountant, and carries two checks: its totals equal the period's
journal lines to the cent (summed from the tables, apart from the report's pandas), and its
figures equal what Exact holds under the period's references (read back as the daily
reconciliation reads, with Exact's own amounts put in place of ours).
"""

from dataclasses import dataclass

import dagster as dg
import pandas as pd

from woo_exact_pipeline.bookkeeping.reconciliation import differences_table, reconcile
from woo_exact_pipeline.bookkeeping.vat_reports import (
    REPORT_CURRENCY,
    Period,
    ReportName,
    as_held_in_exact,
    cents_text,
    differing_figures,
    events_of,
    expected_totals,
    figures,
    next_period_start,
    period_start,
    period_starting,
    report_lines,
    report_totals,
)
from woo_exact_pipeline.defs.errors import failures_named_by_cause
from woo_exact_pipeline.defs.reports.files import file_stem, report_folder, write_report_files
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact.master_data import current_master_data
from woo_exact_pipeline.exact.read_back import read_bookings
from woo_exact_pipeline.markdown import markdown_table
from woo_exact_pipeline.store.vat_periods import PeriodFigures, journal_sums, period_figures

EQUALS_JOURNAL = "totals_equal_the_journal"
EQUALS_EXACT = "figures_equal_exact"
PREVIEW_ROWS = 30

_CRON = {"quarter": "0 0 1 1,4,7,10 *", "month": "0 0 1 * *"}


@dataclass(frozen=True)
class _Report:
    name: str  # the asset's
    report: ReportName
    description: str


REPORTS = (
    _Report(
        "vat_return",
        "nl_return",
        "The Dutch VAT return's sales rubrieken for the period: 1a, 1b, 1c and 1e (net and VAT "
        "per rate), 3a exports and 3b intra-community supplies (net); OSS sales are not in it. "
        "A preparation to check, not a filing.",
    ),
    _Report(
        "oss_declaration",
        "oss",
        "The OSS declaration (Unieregeling) for the period: per member state of consumption and "
        "rate, net and VAT, credit notes netted in the period they are dated in. A preparation "
        "to check, not a filing.",
    ),
    _Report(
        "icp_listing",
        "icp",
        "The ICP listing (opgaaf intracommunautaire prestaties) for the period: per customer VAT "
        "number with its country code, the net of the intra-community supplies, credits "
        "netted. A preparation to check, not a filing.",
    ),
)


def filing_periods(shop: Shop) -> dg.TimeWindowPartitionsDefinition:
    """The shop's quarters (or months) from its export start, the running one included (to
    look at before it closes); none after the one holding export_orders_until, when set."""
    woocommerce, kind = shop.settings.woocommerce, shop.settings.reports.period
    until = woocommerce.export_orders_until
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=_CRON[kind],
        fmt="%Y-%m-%d",
        start=period_start(woocommerce.export_orders_from, kind).isoformat(),
        end=next_period_start(until, kind).isoformat() if until else None,
        timezone=woocommerce.time_zone,
        end_offset=1,
    )


def report_assets(shop: Shop) -> list[dg.AssetsDefinition]:
    return [_report_asset(shop, spec) for spec in REPORTS]


def _report_asset(shop: Shop, spec: _Report) -> dg.AssetsDefinition:
    key = shop.asset_key(spec.name)

    @dg.asset(
        name=spec.name,
        key_prefix=shop.key_prefix,
        partitions_def=filing_periods(shop),
        deps=[shop.asset_key("exact_journal_lines"), shop.asset_key("exact_bookings")],
        group_name=shop.qualified("vat_reports"),
        required_resource_keys=shop.resource_keys("exact"),
        pool=shop.exact_pool,
        kinds={"python", "pandas"},
        owners=["team:bookkeeping"],
        tags={"system": "sync_database"},
        description=spec.description,
        check_specs=[
            dg.AssetCheckSpec(
                EQUALS_JOURNAL,
                asset=key,
                description="Its totals equal the period's journal lines to the cent.",
            ),
            dg.AssetCheckSpec(
                EQUALS_EXACT,
                asset=key,
                description="Its figures equal what Exact holds for the period's bookings.",
            ),
        ],
    )
    def report_asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return build_report(context, shop, spec.report, spec.name)

    return report_asset


def partition_period(shop: Shop, partition_key: str) -> Period:
    start = filing_periods(shop).time_window_for_partition_key(partition_key).start
    return period_starting(start.date(), shop.settings.reports.period)


def build_report(
    context: dg.AssetExecutionContext, shop: Shop, report: ReportName, name: str
) -> dg.MaterializeResult:
    settings = shop.settings
    period = partition_period(shop, context.partition_key)
    engine = shop.sync_database(context).engine()
    with engine.connect() as connection:
        found = period_figures(connection, settings, period)
        sums = journal_sums(connection, shop.key, period.first, period.last)
    table = found.table
    ours = table[table["report"] == report].reset_index(drop=True)

    folder = report_folder(settings, str(engine.url))
    files = write_report_files(folder, file_stem(settings, period.label, name), table, [report])
    net, vat = report_totals(table, report)
    journal_net, journal_vat = expected_totals(sums, report)
    exact_check = _compare_with_exact(context, shop, report, found, period, ours)
    return dg.MaterializeResult(
        metadata={
            "period": period.label,
            "first_day": period.first.isoformat(),
            "last_day": period.last.isoformat(),
            "net": cents_text(net),
            "vat": cents_text(vat),
            "dagster/row_count": len(ours),
            "preview": _preview(ours),
            "csv": dg.MetadataValue.path(str(files["csv"])),
            "xlsx": dg.MetadataValue.path(str(files["xlsx"])),
            "left_out_not_booked_yet": dg.MetadataValue.json(found.left_out),
            "note": "A preparation to check, not a filing.",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=EQUALS_JOURNAL,
                passed=(net, vat) == (journal_net, journal_vat),
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "report_net": cents_text(net),
                    "report_vat": cents_text(vat),
                    "journal_net": cents_text(journal_net),
                    "journal_vat": cents_text(journal_vat),
                },
            ),
            exact_check,
        ],
    )


def _compare_with_exact(
    context: dg.AssetExecutionContext,
    shop: Shop,
    report: ReportName,
    found: PeriodFigures,
    period: Period,
    ours: pd.DataFrame,
) -> dg.AssetCheckResult:
    settings = shop.settings
    engine = shop.sync_database(context).engine()
    booked = [
        event
        for event in events_of(found.events, report)
        if event.currency == REPORT_CURRENCY or event.reference in found.rates
    ]
    with failures_named_by_cause(), shop.exact(context).client(settings.exact, engine) as client:
        master = current_master_data(client, engine, settings.exact.reference_data_max_age_hours)
        documents = read_bookings(
            client,
            master,
            settings.exact.insertion_type,
            settings.exact.sales_journal,
            {event.reference for event in booked},
        )
        calls = client.calls_made
    held_in_exact = as_held_in_exact(booked, documents, found.rates)
    held = figures(report_lines(held_in_exact, found.facts, period))
    theirs = held[held["report"] == report].reset_index(drop=True)
    differing = differing_figures(ours, theirs)
    bookings = reconcile(
        booked,
        documents,
        rounding_vat_code=settings.exact.rounding_vat_code,
        rates=found.rates,
    )
    return dg.AssetCheckResult(
        check_name=EQUALS_EXACT,
        passed=differing.empty and bookings.agrees,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "events": len(booked),
            "documents_in_exact": len(documents),
            "api_calls": calls,
            "differing_figures": dg.MetadataValue.md(_differing_table(differing)),
            "differing_bookings": dg.MetadataValue.md(differences_table(bookings.differences)),
        },
    )


def _preview(table: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {"key": key, "rate": rate, "net": cents_text(net), "vat": cents_text(vat)}
            )
            for _, key, rate, net, vat in table.head(PREVIEW_ROWS).itertuples(index=False)
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("key", "text", description="rubriek, member state or VAT number"),
                dg.TableColumn("rate", "text", description="percent; empty for the ICP listing"),
                dg.TableColumn("net", "text", description="excluding VAT, credits netted"),
                dg.TableColumn("vat", "text"),
            ]
        ),
    )


def _differing_table(differing: pd.DataFrame) -> str:
    if differing.empty:
        return "none"
    rows = [
        (
            row.key,
            row.rate,
            cents_text(row.net_cents),
            cents_text(row.net_cents_exact),
            cents_text(row.vat_cents),
            cents_text(row.vat_cents_exact),
        )
        for row in differing.itertuples(index=False)
    ]
    header = ("key", "rate", "net", "net in Exact", "VAT", "VAT in Exact")
    return markdown_table(header, rows, right=range(2, 6))
