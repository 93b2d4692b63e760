"""Sales invoice numbers are "assigned at entry or at printing depending on setting" (Exact's
SalesInvoices page): the sandbox administration can be set either way, and the loader records
the number Exact gives, whenever it gives it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from woo_exact_pipeline.exact.booking import ExactLoader
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.master_data import MasterData, refresh_master_data
from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.exact.division import default_administration_file
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.ledger import BookingLedger
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_bodies import CREDIT, DAY, SALE
from woo_exact_pipeline_tests.support.exact_client import app_secrets, store_sandbox_tokens
from woo_exact_pipeline_tests.support.sandbox_pipeline import settings_for

pytestmark = SQLITE_ONLY


@pytest.fixture
def numbering_at_entry(tmp_path: Path) -> Iterator[ExactSandbox]:
    administration = json.loads(default_administration_file().read_text(encoding="utf-8"))
    administration["division"]["InvoiceNumbering"] = "at_entry"
    path = tmp_path / "administration.json"
    path.write_text(json.dumps(administration), encoding="utf-8")
    sandbox = start_exact_sandbox(administration_file=path, minute_limit=100_000)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def engine(database_url: str, numbering_at_entry: ExactSandbox) -> Iterator[Engine]:
    engine = open_sync_database(database_url)
    store_sandbox_tokens(numbering_at_entry, engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("invoice_status", ["draft", "processed"])
def test_numbered_at_entry_the_draft_has_its_number_and_printing_keeps_it(
    numbering_at_entry: ExactSandbox, engine: Engine, invoice_status: str
) -> None:
    exact = numbering_at_entry
    settings = settings_for(
        exact,
        insertion_type="sales_invoice",
        invoice_status=invoice_status,
        create_missing_items=True,
    )
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        master = refresh_master_data(client, engine, MasterData(division=exact.division))
        loader = ExactLoader(
            client, engine, settings, BookingLedger(engine, run_id="numbers"), master, shop="n"
        )
        outcomes = loader.book_partition(DAY, [SALE, CREDIT])
    # Numbered in the sales journal 70 of 2026, in booking order, before any printing.
    assert [(o.status, o.exact_number) for o in outcomes] == [
        ("booked", "26700001"),
        ("booked", "26700002"),
    ]
    invoices = {i["YourRef"]: i for i in exact.sales_invoices()}
    assert invoices["5001"]["InvoiceNumber"] == 26700001
    assert invoices["5001-R7"]["InvoiceNumber"] == 26700002
    expected_status = 50 if invoice_status == "processed" else 20
    assert {i["Status"] for i in invoices.values()} == {expected_status}
