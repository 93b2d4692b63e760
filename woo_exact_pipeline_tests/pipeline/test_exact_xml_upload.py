"""A day of the sandbox shop booked through one XML upload: every event lands under the entry
number it was given, in one API call, with the VAT WooCommerce charged although Exact computes it
from the VAT code (lines a cent off go in parts), exactly as the REST path books it (the
reconciliation agrees line by line), and uploading the same entries again books nothing."""

from sqlalchemy import Engine

from woo_exact_pipeline.bookkeeping.reconciliation import reconcile
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.master_data import fetch_master_data
from woo_exact_pipeline.exact.read_back import read_bookings
from woo_exact_pipeline.exact.xml_upload import (
    GL_TRANSACTIONS,
    EntryToUpload,
    MessageType,
    document,
    entry_outcomes,
    lines_to_upload,
    messages,
)
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import app_secrets
from woo_exact_pipeline_tests.support.exact_load import day_events, transform_day
from woo_exact_pipeline_tests.support.sandbox_pipeline import settings_for

pytestmark = SQLITE_ONLY

FIRST_ENTRY = 26_709_001  # journal 70's numbers in 2026, clear of Exact's own from 26700001


def test_a_day_in_one_upload_books_as_rest_would_and_a_second_upload_books_nothing(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        master = fetch_master_data(client)
        percentages = {code: vat.percentage for code, vat in master.vat_codes.items()}
        lines = {event.reference: lines_to_upload(event, percentages, "EUR") for event in events}
        # WooCommerce takes the tax out of prices including it: 5 of the day's 21 events have a
        # line whose VAT is a cent off what Exact computes from the net; they go in parts.
        split = [e for e in events if len(lines[e.reference] or ()) > len(e.lines)]
        assert (len(split), len(events)) == (5, 21)
        entries = [
            # The suite's shop books each customer on a debtor of their own; here all on 2.
            EntryToUpload(event, FIRST_ENTRY + number, "2", lines[event.reference] or ())
            for number, event in enumerate(events)
        ]
        upload = document(entries, journal="70", receivables_gl="1300")
        calls = client.calls_made
        first = entry_outcomes(messages(client.upload_xml(GL_TRANSACTIONS, upload)))
        assert client.calls_made == calls + 1
        assert {n: m.type for n, m in first.items()} == {
            entry.entry_number: MessageType.SUCCESS for entry in entries
        }

        again = entry_outcomes(messages(client.upload_xml(GL_TRANSACTIONS, upload)))
        assert {m.description for m in again.values()} == {
            f"Already exists - Entry number: {entry.entry_number}, Journal: 70" for entry in entries
        }
        booked = read_bookings(
            client, master, "sales_entry", "70", {event.reference for event in events}
        )
    result = reconcile(events, booked)
    assert result.agrees, result.differences
    assert sorted(int(d.number or 0) for d in booked) == [e.entry_number for e in entries]
