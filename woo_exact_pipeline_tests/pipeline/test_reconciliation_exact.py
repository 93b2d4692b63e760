"""The reconciliation end to end: a day of the sandbox shop booked by the loader, read back
from the Exact sandbox over HTTP and compared; then Exact is tampered with over its API."""

from datetime import date
from decimal import Decimal

import dagster as dg
import httpx
import pytest
from sqlalchemy import Engine

from woo_exact_pipeline.bookkeeping.model import AccountingEvent, Debtor, JournalLine, VatTreatment
from woo_exact_pipeline.bookkeeping.reconciliation import ExactDocument, ExactLine, reconcile
from woo_exact_pipeline.definitions import defs
from woo_exact_pipeline.defs.exact.reconciliation import reconciliation_summary
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact import read_back
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.master_data import load_master_data
from woo_exact_pipeline.exact.read_back import read_bookings
from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.staging import load_partition
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import (
    app_secrets,
    book_by_hand,
    store_sandbox_tokens,
)
from woo_exact_pipeline_tests.support.pipeline import assets_of
from woo_exact_pipeline_tests.support.sandbox_pipeline import (
    SHOP_KEY,
    STAGE,
    check_of,
    day_events,
    metadata_of,
    resources,
    settings_for,
    stage_and_load,
)
from woo_exact_pipeline_tests.support.settings import suite_shop

pytestmark = SQLITE_ONLY

DAY = "2026-10-16"  # euros only, with refunds: all of it can be booked
MIXED_DAY = "2026-10-20"  # also an order in dollars, which the administration does not book


def test_a_booked_day_agrees_and_a_duplicate_posted_in_exact_fails_the_check(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    loaded = stage_and_load(DAY, woocommerce_sandbox, exact, database_url, instance)
    events = day_events(engine, DAY)
    assert {event.kind for event in events} == {"sale", "credit"}
    agreed = metadata_of(loaded)
    assert check_of(loaded).passed, agreed["differences"]
    assert (agreed["missing"], agreed["extra"], agreed["different"]) == (0, 0, 0)
    assert agreed["documents_in_exact"] == agreed["events"] == len(events)
    assert "| EUR | 2 |" in agreed["per_vat_code"]
    # The read-back: one call per 60 documents, their lines expanded in them (this day's
    # 39 lines would have cost a call more read apart); no master data calls.
    assert len(events) <= 60
    assert agreed["api_calls"] == 1

    # Someone books the first sale a second time in Exact, by hand or by another connector.
    first_sale = next(event for event in events if event.kind == "sale")
    duplicate = book_by_hand(
        exact, engine, settings_for(exact), first_sale.reference, date.fromisoformat(DAY)
    )

    again = dg.materialize(
        [assets_of(settings_for(exact))["exact_reconciliation"]],
        partition_key=DAY,
        resources=resources(woocommerce_sandbox, exact, database_url),
        instance=instance,
    )
    found = metadata_of(again)
    evaluation = check_of(again)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert (found["missing"], found["extra"], found["different"]) == (0, 1, 0)
    [listed] = [
        row
        for row in found["differences"].splitlines()
        if row.startswith(f"| {first_sale.reference} ")
    ]
    assert f"| {duplicate['EntryNumber']} |" in listed
    assert "| 10.00 | 2.10 |" in listed
    assert "+10.00" in found["per_vat_code"] and "+2.10" in found["per_vat_code"]

    # What the demo prints: the latest reconciliation of each day.
    summary = reconciliation_summary(instance, Shop(settings_for(exact)), [DAY, "2026-10-21"])
    assert (summary.days_agreeing, summary.days_differing, summary.days_not_reconciled) == (
        0,
        1,
        1,
    )
    assert summary.differences == {DAY: "missing 0, extra 1, different 0"}


@pytest.mark.parametrize(
    ("insertion_type", "invoice_status"),
    [
        ("sales_invoice", "draft"),
        ("sales_invoice", "processed"),
        ("direct_sales_invoice", "processed"),
        ("sales_order", "draft"),
    ],
)
def test_invoices_and_orders_are_read_back_and_agree(
    woocommerce_sandbox: WooSandbox,
    exact: ExactSandbox,
    database_url: str,
    engine: Engine,
    insertion_type: str,
    invoice_status: str,
) -> None:
    settings = settings_for(
        exact,
        insertion_type=insertion_type,
        invoice_status=invoice_status,
        create_missing_items=True,
    )
    loaded = stage_and_load(
        DAY, woocommerce_sandbox, exact, database_url, dg.DagsterInstance.ephemeral(), settings
    )
    found = metadata_of(loaded)
    assert check_of(loaded).passed, found["differences"]
    assert found["documents_in_exact"] == found["events"] == len(day_events(engine, DAY))


def test_an_order_the_loader_held_back_is_missing_with_its_reason(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    loaded = stage_and_load(
        MIXED_DAY, woocommerce_sandbox, exact, database_url, dg.DagsterInstance.ephemeral()
    )
    in_dollars = [e.reference for e in day_events(engine, MIXED_DAY) if e.currency == "USD"]
    assert in_dollars
    found = metadata_of(loaded)
    assert not check_of(loaded).passed
    assert (found["missing"], found["extra"], found["different"]) == (len(in_dollars), 0, 0)
    for reference in in_dollars:
        [listed] = [
            row for row in found["differences"].splitlines() if row.startswith(f"| {reference} ")
        ]
        assert "which the administration does not book in" in listed
    # The dollars show on WooCommerce's side of the table only.
    assert "| USD |" in found["per_vat_code"]


def test_many_references_are_read_in_chunks_that_lose_none(
    woocommerce_sandbox: WooSandbox,
    exact: ExactSandbox,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage_and_load(DAY, woocommerce_sandbox, exact, database_url, dg.DagsterInstance.ephemeral())
    settings = settings_for(exact)
    booked = {event.reference for event in day_events(engine, DAY)}
    # References nobody booked, sorted around the real ones: five pages of references.
    unbooked = {f"{prefix}-{n:026d}" for prefix in ("0000", "9999") for n in range(150)}
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        master = load_master_data(engine, exact.division)
        once = read_bookings(client, master, "sales_entry", "70", booked)
        calls_for_the_day = client.calls_made
        documents = read_bookings(client, master, "sales_entry", "70", booked | unbooked)
        calls_with_unbooked = client.calls_made - calls_for_the_day
    assert sorted(d.your_ref for d in documents) == sorted(d.your_ref for d in once)
    assert {d.your_ref for d in documents} == booked
    # 321 references, at most 60 a call: 6 header calls, the lines as before.
    assert calls_with_unbooked == calls_for_the_day - 1 + 6

    # Where the URL limit rather than the page ends a chunk, nothing is lost either.
    monkeypatch.setattr(read_back, "MAX_URL_LENGTH", 1_500)
    urls: list[str] = []
    recording = httpx.Client(
        event_hooks={"request": [lambda request: urls.append(str(request.url))]}
    )
    with ExactClient.from_settings(
        settings.exact, engine, secrets=app_secrets(exact), http_client=recording
    ) as client:
        shorter = read_bookings(client, master, "sales_entry", "70", booked | unbooked)
    header_calls = [url for url in urls if "/salesentry/SalesEntries?" in url]
    assert len(header_calls) > 6
    assert all(len(url) <= 1_500 for url in header_calls)
    assert sorted(d.your_ref for d in shorter) == sorted(d.your_ref for d in once)


def test_bookings_exact_no_longer_holds_are_missing_with_their_entry_number(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    stage_and_load(DAY, woocommerce_sandbox, exact, database_url, instance)
    # The same administration without the day's entries, as if they were deleted in Exact
    # (the sandbox deletes nothing): a second sandbox, signed in to from the same database.
    with start_exact_sandbox(minute_limit=100_000) as emptied:
        store_sandbox_tokens(emptied, engine)
        again = dg.materialize(
            [assets_of(settings_for(emptied))["exact_reconciliation"]],
            partition_key=DAY,
            resources=resources(woocommerce_sandbox, emptied, database_url),
            instance=instance,
        )
    found = metadata_of(again)
    events = day_events(engine, DAY)
    assert (found["missing"], found["extra"], found["different"]) == (len(events), 0, 0)
    assert found["differences"].count("according to the booking ledger, but not in Exact") == len(
        events
    )


def test_each_load_is_reconciled_in_the_same_run() -> None:
    shop = suite_shop()
    job = defs().resolve_job_def("exact_load_job")
    assert shop.asset_key("exact_reconciliation") in job.asset_layer.executable_asset_keys
    assert shop.asset_key("exact_bookings") in job.asset_layer.executable_asset_keys


def test_sales_order_lines_are_compared_by_item_as_they_carry_no_gl_account() -> None:
    sold = JournalLine(
        kind="revenue",
        gl_account="8000",
        vat_code="2",
        vat_rate=Decimal(21),
        item_code="BAND-28-GRS",
        description="Horlogeband 28 mm",
        quantity=Decimal(2),
        unit_price=Decimal("30.00"),
        amount_excl_vat=Decimal("60.00"),
        vat_amount=Decimal("12.60"),
    )
    [sale] = _one_sale(sold)

    def order(item_code: str) -> ExactDocument:
        line = ExactLine(None, "2", Decimal("60.00"), Decimal("12.60"), item_code=item_code)
        return ExactDocument("id-1", "1", sale.reference, None, "EUR", (line,), gl_on_lines=False)

    assert reconcile([sale], [order("BAND-28-GRS")]).agrees
    [different] = reconcile([sale], [order("WEBSHOP")]).different
    assert different.reason == "line 1: item BAND-28-GRS in WooCommerce, WEBSHOP in Exact"


def _one_sale(line: JournalLine) -> list[AccountingEvent]:
    return [
        AccountingEvent(
            kind="sale",
            reference="1001",
            order_id=1001,
            order_number="1001",
            refund_id=None,
            event_date=date(2026, 10, 20),
            currency="EUR",
            description="Order 1001",
            debtor=Debtor(source="default", code="2"),
            vat_treatment=VatTreatment.DOMESTIC,
            vat_explanation="",
            flags=(),
            lines=(line,),
            total_incl_vat=line.amount_incl_vat,
        )
    ]


def _an_item_on_its_own_revenue_account(exact: ExactSandbox, engine: Engine) -> str:
    """Creates, over Exact's API, the item of a standard-rate product the day's paid orders
    sell, with revenue account 8400 (the mapping books 21% on 8000, and nothing on 8400);
    returns its code."""
    with engine.connect() as connection:
        staged = load_partition(connection, SHOP_KEY, date.fromisoformat(DAY))
    sku = next(
        item["sku"]
        for order in staged.orders
        if order["status"] in ("processing", "completed") and order["currency"] == "EUR"
        for item in order["line_items"]
        if item["sku"] and item["tax_class"] == "" and order["billing"]["country"] == "NL"
    )
    with ExactClient.from_settings(
        settings_for(exact).exact, engine, secrets=app_secrets(exact)
    ) as client:
        client.post(
            "logistics/Items",
            {
                "Code": sku,
                "Description": "Koffie met een eigen omzetrekening",
                "IsSalesItem": True,
                "GLRevenue": exact.seeded_id("gl", "8400"),
            },
        )
    return sku


def _revenue_accounts(events: list[AccountingEvent]) -> set[str]:
    return {
        line.gl_account
        for event in events
        for line in event.lines
        if event.kind == "sale" and line.kind == "revenue"
    }


@pytest.mark.parametrize("use_item_gl_accounts", [True, False], ids=["item-account", "mapping"])
def test_an_items_own_revenue_account_is_booked_when_asked_and_the_reconciliation_agrees(
    woocommerce_sandbox: WooSandbox,
    exact: ExactSandbox,
    database_url: str,
    engine: Engine,
    use_item_gl_accounts: bool,
) -> None:
    # Which product the day sells at 21%: read from a first transform without Exact's items.
    instance = dg.DagsterInstance.ephemeral()
    settings = settings_for(exact, use_item_gl_accounts=use_item_gl_accounts)
    assets = assets_of(settings)
    everything = resources(woocommerce_sandbox, exact, database_url)
    dg.materialize([assets[name] for name in STAGE], partition_key=DAY, resources=everything)
    _an_item_on_its_own_revenue_account(exact, engine)
    # The reference data reads the new item; the transform then books on its account or not.
    assert dg.materialize([assets["exact_reference_data"]], resources=everything).success
    loaded = stage_and_load(DAY, woocommerce_sandbox, exact, database_url, instance, settings)

    accounts = _revenue_accounts(day_events(engine, DAY))
    assert ("8400" in accounts) is use_item_gl_accounts and "8000" in accounts
    found = metadata_of(loaded)
    assert check_of(loaded).passed, found["differences"]
    assert (found["missing"], found["extra"], found["different"]) == (0, 0, 0)


def test_switching_item_accounts_on_after_booking_reports_nothing_as_changed(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    stage_and_load(DAY, woocommerce_sandbox, exact, database_url, instance)  # setting off
    booked = day_events(engine, DAY)
    _an_item_on_its_own_revenue_account(exact, engine)

    switched_on = settings_for(exact, use_item_gl_accounts=True)
    everything = resources(woocommerce_sandbox, exact, database_url)
    assert dg.materialize(
        [assets_of(switched_on)["exact_reference_data"]], resources=everything
    ).success
    again = stage_and_load(DAY, woocommerce_sandbox, exact, database_url, instance, switched_on)

    # What Exact holds stays the journal's truth: the booked lines keep the mapped account.
    assert day_events(engine, DAY) == booked and "8400" not in _revenue_accounts(booked)
    [bookings] = again.asset_materializations_for_node("exact_bookings")
    assert bookings.metadata["changed_after_booking"].value == 0
    assert bookings.metadata["already_booked"].value == len(booked)
    assert check_of(again).passed, metadata_of(again)["differences"]
