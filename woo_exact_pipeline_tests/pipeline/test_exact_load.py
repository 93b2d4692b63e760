"""The load into Exact Online through the real Dagster assets: a day of the sandbox shop in,
the sandbox administration's bookings out, each event exactly once."""

import threading
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, select

from woo_exact_pipeline.defs.bookkeeping.assets import BALANCED
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact import booking
from woo_exact_pipeline.exact.booking import NEW_DEBTORS_IN_ONE_UPLOAD, ExactLoader
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.master_data import load_master_data
from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.ledger import BookingLedger
from woo_exact_pipeline.store.schema import bookings
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import app_secrets, store_sandbox_tokens
from woo_exact_pipeline_tests.support.exact_load import (
    DAY,
    day_events,
    load_day,
    sync_log,
    transform_day,
)
from woo_exact_pipeline_tests.support.pipeline import assets_of, definitions_of
from woo_exact_pipeline_tests.support.sandbox_pipeline import (
    STAGE,
    resources,
    settings_for,
)


def test_a_day_is_booked_as_sales_entries_once_and_a_rerun_books_nothing(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    assert events

    first = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    entries = exact.sales_entries()
    by_ref = Counter(entry["YourRef"] for entry in entries)
    assert all(by_ref[event.reference] == 1 for event in events)
    assert first["booked"] >= len(events)

    # Every entry carries WooCommerce's own amounts: net and VAT per line, to the cent.
    for event in events:
        [entry] = exact.sales_entries(event.reference)
        assert entry["Type"] == (20 if event.kind == "sale" else 21)
        assert Decimal(str(entry["AmountFC"])) == event.total_incl_vat
        assert Decimal(str(entry["VATAmountFC"])) == event.vat_total

    again = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    assert again["booked"] == 0
    assert again["already_booked"] == first["booked"]
    assert len(exact.sales_entries()) == len(entries)
    # Master data comes from the cache: the only calls retry what Exact refused last time.
    assert again["api_calls"] == again["failed"] == first["failed"]


def test_a_lost_answer_is_found_by_yourref_and_never_booked_twice(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    exact.faults.arm_commit_then_drop(count=2)
    first = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    assert first["outcome_unknown"] == 2
    with engine.connect() as connection:
        pending = (
            connection.execute(select(bookings.c.reference).where(bookings.c.status == "pending"))
            .scalars()
            .all()
        )
    assert len(pending) == 2
    assert all(len(exact.sales_entries(reference)) == 1 for reference in pending)

    second = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    assert second["recovered"] == 2
    assert second["booked"] == 0
    refs = Counter(entry["YourRef"] for entry in exact.sales_entries())
    assert max(refs.values()) == 1


def test_two_loads_of_the_same_day_at_once_book_each_event_once(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    reference = dg.materialize(
        [assets_of(settings)["exact_reference_data"]],
        resources=resources(woocommerce_sandbox, exact, database_url),
    )
    assert reference.success
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    exact.faults.latency_seconds, exact.faults.latency_rate = 0.02, 1.0  # let the runs overlap
    outcomes: dict[str, list] = {}

    def load(run_id: str) -> None:
        worker_engine = open_sync_database(database_url)
        with ExactClient.from_settings(
            settings.exact, worker_engine, secrets=app_secrets(exact)
        ) as client:
            loader = ExactLoader(
                client,
                worker_engine,
                settings,
                BookingLedger(worker_engine, run_id=run_id),
                load_master_data(worker_engine, exact.division),
                shop=Shop(settings).key,
            )
            outcomes[run_id] = loader.book_partition(date.fromisoformat(DAY), events)
        worker_engine.dispose()

    workers = [threading.Thread(target=load, args=(run_id,)) for run_id in ("run-a", "run-b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    refs = Counter(entry["YourRef"] for entry in exact.sales_entries())
    assert sorted(refs) == sorted(e.reference for e in events)
    assert set(refs.values()) == {1}
    booked = [o.reference for run in outcomes.values() for o in run if o.status == "booked"]
    assert sorted(booked) == sorted(e.reference for e in events)
    others = {o.status for run in outcomes.values() for o in run if o.status != "booked"}
    assert others <= {"already_booked", "in_progress_elsewhere"}


@SQLITE_ONLY  # about what is posted to Exact, not how the ledger stores it
def test_invoices_are_created_with_items_and_processed_with_email_only_after_go_live(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(
        exact,
        insertion_type="sales_invoice",
        invoice_status="processed",
        email_invoices=True,
        create_missing_items=True,
    )
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    log = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    invoices = exact.sales_invoices()
    assert invoices and log["booked"] == len(invoices)
    assert all(invoice["Status"] == 50 for invoice in invoices)  # processed
    # The test settings go live on 2026-06-01 and the day is later: Exact e-mails them.
    assert len(exact.outbox()) > 0


@SQLITE_ONLY  # about what is posted to Exact, not how the ledger stores it
def test_the_load_sensor_requests_one_load_per_new_day_and_skips_unbalanced_runs(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str
) -> None:
    settings = settings_for(exact)
    shop = Shop(settings)
    assets = assets_of(settings)
    definitions = definitions_of(settings, resources(woocommerce_sandbox, exact, database_url))
    exact_load_sensor = definitions.resolve_sensor_def("exact_load_sensor")
    with dg.instance_for_test() as instance:
        for day in ("2026-10-20", "2026-10-21"):
            dg.materialize(
                [assets[name] for name in STAGE],
                partition_key=day,
                instance=instance,
                resources=resources(woocommerce_sandbox, exact, database_url),
            )
        context = dg.build_sensor_context(instance=instance, definitions=definitions)
        first = exact_load_sensor.evaluate_tick(context)
        assert [r.partition_key for r in first.run_requests] == ["2026-10-20", "2026-10-21"]
        again = exact_load_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=definitions)
        )
        assert again.run_requests == [] and again.skip_message

        # A bug of ours: a day whose lines do not balance must never reach Exact.
        result = dg.materialize(
            [_journal_lines_that_fail_the_balance_check(shop)],
            partition_key="2026-10-22",
            instance=instance,
            raise_on_error=False,
        )
        journal_lines = shop.asset_key("exact_journal_lines")
        assert instance.get_materialized_partitions(journal_lines) >= {"2026-10-22"}
        assert [e.passed for e in result.get_asset_check_evaluations()] == [False]
        later = exact_load_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=definitions)
        )
        assert later.run_requests == []


def _journal_lines_that_fail_the_balance_check(shop: Shop) -> dg.AssetsDefinition:
    """Stands in for a transform with a bug: same asset, same check, the check fails."""
    journal_lines = shop.asset_key("exact_journal_lines")

    @dg.asset(
        key=journal_lines,
        partitions_def=shop.order_days,
        check_specs=[dg.AssetCheckSpec(BALANCED, asset=journal_lines, blocking=True)],
    )
    def buggy_transform() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            check_results=[dg.AssetCheckResult(check_name=BALANCED, passed=False)]
        )

    return buggy_transform


@SQLITE_ONLY  # about what is posted to Exact, not how the ledger stores it
def test_with_the_pdf_plugin_each_sale_carries_the_shops_invoice_pdf(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    base = settings_for(exact)
    settings = base.model_copy(
        update={
            "woocommerce": base.woocommerce.model_copy(
                update={"document_number_source": "invoice_number_with_pdf"}
            )
        }
    )
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    sales = [e for e in day_events(engine) if e.kind == "sale" and e.currency == "EUR"]
    assert sales
    log = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    assert log["booked"] >= len(sales)
    documents = {d["ID"]: d for d in exact.booked("documents/Documents")}
    attachments = {a["Document"]: a for a in exact.booked("documents/DocumentAttachments")}
    for sale in sales:
        [entry] = exact.sales_entries(sale.reference)
        document = documents[entry["Document"]]
        assert document["Subject"] == f"Invoice {sale.reference}"
        assert attachments[document["ID"]]["FileName"] == f"{sale.reference}.pdf"


@SQLITE_ONLY  # about what is posted to Exact, not how the ledger stores it
def test_sales_orders_carry_one_line_per_item(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact, insertion_type="sales_order", create_missing_items=True)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    log = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    orders = {o["YourRef"]: o for o in exact.booked("salesorder/SalesOrders")}
    assert log["booked"] == len(events) == len(orders)
    for event in events:
        order = orders[event.reference]
        assert Decimal(str(order["AmountFC"])) == event.total_incl_vat
        assert len(order["SalesOrderLines"]) == len(event.lines)


@SQLITE_ONLY  # about what is posted to Exact, not how the ledger stores it
def test_invoices_before_go_live_are_processed_but_never_emailed(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    base = settings_for(
        exact,
        insertion_type="sales_invoice",
        invoice_status="processed",
        email_invoices=True,
        create_missing_items=True,
    )
    settings = base.model_copy(
        update={
            "woocommerce": base.woocommerce.model_copy(update={"go_live_date": date(2027, 1, 1)})
        }
    )
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    assert sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))["booked"] > 0
    assert all(invoice["Status"] == 50 for invoice in exact.sales_invoices())
    assert exact.outbox() == []


def test_an_order_changed_after_booking_is_reported_and_never_posted_again(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    load_day(woocommerce_sandbox, exact, database_url, settings)
    booked_before = len(exact.sales_entries())
    # The bookkeeper remaps 21% to another revenue ledger after the day was booked: the
    # day's sales now differ from what Exact holds.
    remapped = settings.model_copy(
        update={
            "exact": settings.exact.model_copy(
                update={
                    "gl_mapping": settings.exact.gl_mapping.model_copy(
                        update={
                            "domestic": {**settings.exact.gl_mapping.domestic, Decimal(21): "8010"}
                        }
                    )
                }
            )
        }
    )
    transform_day(woocommerce_sandbox, exact, database_url, remapped)
    result = load_day(woocommerce_sandbox, exact, database_url, remapped)
    log = sync_log(result)
    assert log["changed_after_booking"] > 0
    assert log["booked"] == 0
    assert len(exact.sales_entries()) == booked_before
    [check] = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "no_orders_changed_after_booking"
    ]
    assert not check.passed


@SQLITE_ONLY  # about what is posted to Exact, not how the ledger stores it
def test_direct_sales_invoices_deliver_from_the_configured_warehouse(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact, insertion_type="direct_sales_invoice", create_missing_items=True)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    log = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    invoices = exact.sales_invoices()
    assert log["booked"] == len(events) == len(invoices)
    warehouse = exact.seeded_id("warehouse", "1")
    assert {invoice["Warehouse"] for invoice in invoices} == {warehouse}
    credits = {e.reference for e in events if e.kind == "credit"}
    assert {i["YourRef"] for i in invoices if i["Type"] == 8024} == credits


def test_a_refused_lookup_fails_only_its_event_and_the_run_goes_on(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    exact.faults.arm_commit_then_drop(count=1)
    assert (
        sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))["outcome_unknown"]
        == 1
    )
    # Exact now refuses one request in the next run: the look-up of the lost answer.
    exact.faults.server_error_statuses = (400,)
    exact.faults.server_error_rate = 1.0
    refused = load_day(woocommerce_sandbox, exact, database_url, settings)
    exact.faults.server_error_rate = 0.0
    assert refused.success
    assert sync_log(refused)["outcome_unknown"] == 1
    recovered = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))
    assert recovered["recovered"] == 1
    refs = Counter(entry["YourRef"] for entry in exact.sales_entries())
    assert set(refs.values()) == {1}


@SQLITE_ONLY  # about the calls made, not how the ledger stores them
def test_the_days_new_customers_are_created_in_one_upload_each_once(
    woocommerce_sandbox: WooSandbox,
    exact: ExactSandbox,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    new_customers = {e.debtor.email for e in events if e.debtor.code is None and e.debtor.email}
    assert len(new_customers) >= NEW_DEBTORS_IN_ONE_UPLOAD
    accounts_before = len(exact.booked("crm/Accounts"))

    together = sync_log(load_day(woocommerce_sandbox, exact, database_url, settings))

    assert together["booked"] == len(events)
    created = exact.booked("crm/Accounts")[accounts_before:]
    assert sorted(account["Email"] for account in created) == sorted(new_customers)
    debtor_of = {account["Email"]: account["ID"] for account in created}
    for event in events:
        if event.debtor.email in new_customers:
            [entry] = exact.sales_entries(event.reference)
            assert entry["Customer"] == debtor_of[event.debtor.email]

    # The same day into another administration, each customer created on its own.
    monkeypatch.setattr(booking, "NEW_DEBTORS_IN_ONE_UPLOAD", 10**6)
    with start_exact_sandbox(minute_limit=100_000) as other:
        url = f"sqlite:///{tmp_path / 'one-by-one.db'}"
        other_engine = open_sync_database(url)
        store_sandbox_tokens(other, other_engine)
        transform_day(woocommerce_sandbox, other, url, settings_for(other))
        one_by_one = sync_log(load_day(woocommerce_sandbox, other, url, settings_for(other)))
        other_engine.dispose()
    assert one_by_one["booked"] == len(events)
    # One upload and one read-back instead of a call per new customer.
    assert together["api_calls"] == one_by_one["api_calls"] - len(new_customers) + 2
