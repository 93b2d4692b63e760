"""Reading and posting against the Exact exact_sandbox: paging, bulk reads, padded codes, error
envelopes, and a POST whose answer is lost after Exact committed it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from woo_exact_pipeline.exact import reference
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import (
    ExactApiError,
    ExactOutcomeUnknown,
    ExactUnavailableError,
)
from woo_exact_pipeline.exact.oauth import consent_url
from woo_exact_pipeline.exact.odata import parse_date, vat_code
from woo_exact_pipeline.sandbox.exact import DropMode, ExactSandbox
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import (
    app_secrets,
    connected_client,
    exact_settings,
    store_sandbox_tokens,
)

pytestmark = SQLITE_ONLY


@pytest.fixture
def client(exact_sandbox: ExactSandbox, sync_engine: Engine) -> Iterator[ExactClient]:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    with connected_client(exact_sandbox, sync_engine) as connected:
        yield connected


def sales_entry(client: ExactClient, your_ref: str) -> dict[str, Any]:
    debtor = next(debtor for debtor in reference.debtors(client) if debtor.code == "2")
    revenue = next(gl for gl in reference.gl_accounts(client) if gl.code == "8000")
    return {
        "Journal": "70",
        "Customer": debtor.id,
        "EntryDate": date(2026, 11, 24),
        "YourRef": your_ref,
        "Description": f"Order {your_ref}",
        "Type": 20,
        "SalesEntryLines": [
            {
                "GLAccount": revenue.id,
                "AmountFC": Decimal("41.32"),
                "VATCode": vat_code("2"),
                "Description": "Omzet webshop",
            }
        ],
    }


def test_list_requests_follow_next_until_the_last_page(client: ExactClient) -> None:
    # 83 VAT codes on a regular endpoint: a page of 60 and one of 23.
    pages = list(client.pages("vat/VATCodes", select=["ID", "Code"]))
    assert [len(page) for page in pages] == [60, 23]
    assert client.calls_made == 2
    codes = [record["Code"] for page in pages for record in page]
    assert len(set(codes)) == 83
    assert len(reference.vat_codes(client)) == 83


def test_select_is_never_left_out(client: ExactClient) -> None:
    with pytest.raises(ValueError, match=r"\$select"):
        client.get("financial/Journals", select=[])
    with pytest.raises(ValueError, match=r"\$select"):
        client.get("financial/Journals", select="Code")  # a string is not a field list
    assert client.calls_made == 0


def test_reference_data_is_read_in_bulk_as_typed_records(client: ExactClient) -> None:
    accounts = reference.gl_accounts(client)
    items = reference.items(client)
    debtors = reference.debtors(client)
    journals = reference.journals(client)
    assert client.calls_made == 4, "one call each: bulk pages hold 1,000"
    revenue = next(gl for gl in accounts if gl.code == "8000")
    assert revenue.type == 110 and not revenue.blocked
    assert {item.code for item in items} >= {"WEBSHOP", "VERZENDKOSTEN", "FIETSBEL-01"}
    # Customers only (account 4 has status A), codes trimmed of Exact's 18-character padding.
    assert sorted(debtor.code for debtor in debtors) == ["1", "2", "3", "5"]
    sales = next(journal for journal in journals if journal.code == "70")
    assert sales.type == 20 and sales.description == "Verkoopboek"


def test_padded_codes_are_sent_padded_and_read_trimmed(client: ExactClient) -> None:
    assert vat_code("2") == "2  "
    raw = client.get("crm/Accounts", select=["Code"], filter="Status eq 'C'")
    assert " " * 17 + "2" in [record["Code"] for record in raw], "Exact's own padding"
    [debtor] = [debtor for debtor in reference.debtors(client) if debtor.code == "2"]
    assert debtor.status == "C"

    vat_codes = {vat.code: vat for vat in reference.vat_codes(client)}
    assert vat_codes["2"].percentage == Decimal("0.21")
    assert vat_codes["ATH"].oss_country == "AT"  # stored as "ATH", read without padding


def test_a_post_returns_the_created_record_and_is_found_by_your_ref(client: ExactClient) -> None:
    created = client.post("salesentry/SalesEntries", sales_entry(client, "WEB-1001"))
    assert created["YourRef"] == "WEB-1001"
    assert created["AmountFC"] == pytest.approx(50.0)  # 41.32 + 21 % VAT, computed by Exact
    assert parse_date(created["EntryDate"]) is not None
    assert parse_date(created["EntryDate"]).date() == date(2026, 11, 24)  # type: ignore[union-attr]

    found = reference.find_by_your_ref(client, "sales_entry", "70", "WEB-1001")
    assert [(hit.id, hit.number, hit.journal) for hit in found] == [
        (created["EntryID"], str(created["EntryNumber"]), "70")
    ]
    assert reference.find_by_your_ref(client, "sales_entry", "71", "WEB-1001") == []
    assert reference.find_by_your_ref(client, "sales_entry", "70", "WEB-1002") == []


def test_a_post_answered_by_a_dropped_connection_is_outcome_unknown(
    client: ExactClient, exact_sandbox: ExactSandbox
) -> None:
    body = sales_entry(client, "WEB-2001")
    calls_before = client.calls_made
    exact_sandbox.faults.arm_commit_then_drop(1, DropMode.RESET)
    with pytest.raises(ExactOutcomeUnknown) as raised:
        client.post("salesentry/SalesEntries", body)
    assert "look the document up" in str(raised.value)
    assert client.calls_made == calls_before, "no answer came, and no second POST was sent"
    # Exact did book it, exactly once: the lookup finds it, so it must not be posted again.
    assert len(exact_sandbox.sales_entries("WEB-2001")) == 1
    assert len(reference.find_by_your_ref(client, "sales_entry", "70", "WEB-2001")) == 1


def test_a_post_that_hangs_is_outcome_unknown_after_the_timeout(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    with connected_client(
        exact_sandbox, sync_engine, http_client=httpx.Client(timeout=1.0)
    ) as impatient:
        body = sales_entry(impatient, "WEB-3001")
        exact_sandbox.faults.arm_commit_then_drop(1, DropMode.HANG)
        with pytest.raises(ExactOutcomeUnknown, match="no answer in time"):
            impatient.post("salesentry/SalesEntries", body)
    assert len(exact_sandbox.sales_entries("WEB-3001")) == 1


def test_exacts_error_envelope_becomes_a_readable_error_with_our_context(
    client: ExactClient, exact_sandbox: ExactSandbox
) -> None:
    body = sales_entry(client, "WEB-4001")
    body["Journal"] = "10"  # the cash journal
    body["SalesEntryLines"][0]["GLAccount"] = exact_sandbox.seeded_id("gl", "1300")
    with pytest.raises(ExactApiError) as raised:
        client.post("salesentry/SalesEntries", body)
    error = raised.value.with_context(order="WEB-4001", field="Journal")
    # A business refusal is a 500 with Exact's envelope: refused, so certainly not booked.
    assert error.status == 500
    assert error.messages == [
        "Invalid journal. The journal must be a sales journal.",
        "Invalid: G/L account type",
    ]
    assert str(error) == (
        "Exact Online answered 500 to POST salesentry/SalesEntries: Invalid journal. The journal "
        "must be a sales journal.; Invalid: G/L account type (order WEB-4001, field Journal)"
    )
    assert exact_sandbox.sales_entries("WEB-4001") == []


@pytest.mark.parametrize("country", ["nl", "be", "de", "fr", "co.uk", "es", "com"])
def test_each_country_site_has_its_own_address(
    exact_sandbox: ExactSandbox, sync_engine: Engine, country: str
) -> None:
    settings = exact_settings(exact_sandbox).model_copy(
        update={"base_url": None, "country": country}
    )
    with ExactClient.from_settings(
        settings, sync_engine, secrets=app_secrets(exact_sandbox)
    ) as client:
        assert client.division_url("financial/Journals", select=["Code"]) == (
            f"https://start.exactonline.{country}/api/v1/{exact_sandbox.division}"
            "/financial/Journals?$select=Code"
        )
    assert consent_url(settings.api_base_url, "app", "http://localhost/cb", "s").startswith(
        f"https://start.exactonline.{country}/api/oauth2/auth?client_id=app&"
    )


def test_filters_are_encoded_as_odata_expects(client: ExactClient) -> None:
    url = client.division_url(
        "salesentry/SalesEntries",
        select=["EntryID", "YourRef"],
        filter="YourRef eq 'O''Brien & Zn' and Journal eq '70'",
    )
    assert url.endswith(
        "/salesentry/SalesEntries?$select=EntryID,YourRef"
        "&$filter=YourRef%20eq%20'O''Brien%20%26%20Zn'%20and%20Journal%20eq%20'70'"
    )
    created = client.post("salesentry/SalesEntries", sales_entry(client, "O'Brien & Zn"))
    found = reference.find_by_your_ref(client, "sales_entry", "70", "O'Brien & Zn")
    assert [hit.id for hit in found] == [created["EntryID"]]


def test_a_post_refused_by_an_unavailable_exact_is_not_retried(
    client: ExactClient, exact_sandbox: ExactSandbox
) -> None:
    body = sales_entry(client, "WEB-5001")
    calls_before = client.calls_made
    exact_sandbox.faults.server_error_rate = 1.0
    with pytest.raises(ExactUnavailableError, match="was not processed"):
        client.post("salesentry/SalesEntries", body)
    assert client.calls_made == calls_before + 1
    assert exact_sandbox.sales_entries("WEB-5001") == []


def test_a_get_that_hangs_is_retried_after_the_timeout(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    requests: list[httpx.Request] = []

    def hang_only_the_first(request: httpx.Request) -> None:
        requests.append(request)
        exact_sandbox.faults.hang_rate = 1.0 if len(requests) == 1 else 0.0

    http = httpx.Client(timeout=1.0, event_hooks={"request": [hang_only_the_first]})
    with connected_client(exact_sandbox, sync_engine, http_client=http) as impatient:
        assert impatient.get("financial/Journals", select=["Code"])
        assert impatient.calls_made == 1
    assert len(requests) == 2
