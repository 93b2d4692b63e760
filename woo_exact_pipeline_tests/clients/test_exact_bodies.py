"""Everything the loader posts or selects exists on the Exact entity it touches, as Exact's
reference pages document it (reference_model.json): a sale with a new debtor, a new item and
the shop's invoice PDF, and its credit note, booked with each insertion type while every
request the client sends is recorded on the wire."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from woo_exact_pipeline.exact.booking import ExactLoader, InvoicePdf
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.master_data import MasterData, refresh_master_data
from woo_exact_pipeline.exact.read_back import read_bookings
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.exact.model import reference_model
from woo_exact_pipeline.store.ledger import BookingLedger
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_bodies import CREDIT, DAY, SALE
from woo_exact_pipeline_tests.support.exact_client import app_secrets
from woo_exact_pipeline_tests.support.sandbox_pipeline import settings_for

pytestmark = SQLITE_ONLY

ENTITIES = reference_model()["entities"]
#: What the table's page calls GET-only but production integrations post (reasons there).
POSTED_ANYWAY = reference_model()["sandbox_divergences"]["writable_although_get_only"]
#: A POST body's inline lines, and the entity they are.
LINES = {
    "SalesEntryLines": "salesentry/SalesEntryLines",
    "SalesInvoiceLines": "salesinvoice/SalesInvoiceLines",
    "SalesOrderLines": "salesorder/SalesOrderLines",
}


class Wire:
    """The requests the client sends, as the sandbox receives them."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.selects: list[tuple[str, list[str]]] = []

    def record(self, request: httpx.Request) -> None:
        url = urlsplit(str(request.url))
        marker = "/api/v1/"
        if marker not in url.path:
            return
        after = url.path.split(marker, 1)[1]
        path = after if after.startswith("current/") else after.split("/", 1)[1]
        if request.method == "POST":
            self.posts.append((path, json.loads(request.content)))
        for select in parse_qs(url.query).get("$select", []):
            self.selects.append((path, select.split(",")))


def entity_of(path: str) -> str:
    """The documented entity of a URL path: bulk endpoints serve their regular entity."""
    if path.startswith("bulk/"):
        service, name = path.removeprefix("bulk/").split("/")
        return next(e for e in ENTITIES if e.lower() == f"{service}/{name}".lower())
    return path.split("(")[0]


def documented(entity: str, name: str) -> bool:
    """A selected property of the entity, or `Lines/Property` of its expanded lines."""
    lines, _, inner = name.partition("/")
    if inner:
        return (
            lines in ENTITIES[entity]["properties"]
            and inner in ENTITIES[LINES[lines]]["properties"]
        )
    return name in ENTITIES[entity]["properties"]


def undocumented(endpoint: str, body: dict[str, Any]) -> list[str]:
    """Properties of a POST body Exact's page does not let a POST set."""
    properties = ENTITIES[endpoint]["properties"]
    problems = [
        f"{endpoint}.{name}"
        for name in body
        if name not in properties
        or ("post" not in properties[name].split() and name not in POSTED_ANYWAY.get(endpoint, {}))
    ]
    for name, lines_endpoint in LINES.items():
        for posted_line in body.get(name, []):
            problems += undocumented(lines_endpoint, posted_line)
    return problems


@pytest.mark.parametrize(
    "insertion_type", ["sales_entry", "sales_invoice", "direct_sales_invoice", "sales_order"]
)
def test_every_body_and_selection_the_loader_sends_exists_in_exacts_reference(
    exact: ExactSandbox, engine: Engine, insertion_type: str
) -> None:
    settings = settings_for(
        exact,
        insertion_type=insertion_type,
        create_missing_items=True,
        invoice_status="processed",
    )
    wire = Wire()
    http = httpx.Client(timeout=30, event_hooks={"request": [wire.record]})
    with ExactClient.from_settings(
        settings.exact, engine, secrets=app_secrets(exact), http_client=http
    ) as client:
        master = refresh_master_data(client, engine, MasterData(division=exact.division))
        loader = ExactLoader(
            client,
            engine,
            settings,
            BookingLedger(engine, run_id=f"walk-{insertion_type}"),
            master,
            shop="walk",
            invoice_pdfs=lambda e: InvoicePdf(f"{e.reference}.pdf", b"%PDF-1.4 invoice"),
        )
        outcomes = loader.book_partition(DAY, [SALE, CREDIT])
        documents = read_bookings(
            client, master, settings.exact.insertion_type, "70", ["5001", "5001-R7"]
        )

    assert [o.status for o in outcomes] == ["booked", "booked"], outcomes
    posted = {path for path, _ in wire.posts}
    assert "crm/Accounts" in posted
    assert ("logistics/Items" in posted) == (insertion_type != "sales_entry")  # entries: no items
    if insertion_type != "sales_order":
        assert {"documents/Documents", "documents/DocumentAttachments"} <= posted
    assert [p for path, body in wire.posts for p in undocumented(entity_of(path), body)] == []
    unknown = [
        f"{path}: {name}"
        for path, names in wire.selects
        for name in names
        if not documented(entity_of(path), name)
    ]
    assert unknown == []
    # The read-back finds both, line for line.
    assert sorted((d.your_ref, len(d.lines)) for d in documents) == [("5001", 2), ("5001-R7", 1)]
