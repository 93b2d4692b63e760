"""OData as Exact speaks it: envelopes, paging, mandatory options, padded codes, literals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import ExactSandbox, SandboxClock, start_exact_sandbox
from woo_exact_pipeline_tests.fixtures.exact_sandbox import EXACT_TEST_START


def _error(response: httpx.Response) -> str:
    message: str = response.json()["error"]["message"]["value"]
    return message


def _results(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["d"]["results"]
    return results


@pytest.fixture
def roomy_api() -> Iterator[tuple[ExactSandbox, httpx.Client]]:
    """A sandbox whose rate limits do not get in the way of creating many records."""
    sandbox = start_exact_sandbox(
        clock=SandboxClock(EXACT_TEST_START), minute_limit=100_000, daily_limit=100_000
    )
    token = sandbox.issue_tokens_for_tests()["access_token"]
    client = httpx.Client(
        base_url=f"{sandbox.api_url}/",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    try:
        yield sandbox, client
    finally:
        client.close()
        sandbox.stop()


def _book(sandbox: ExactSandbox, client: httpx.Client, your_ref: str, amount: str) -> None:
    answer = client.post(
        "salesentry/SalesEntries",
        json={
            "Journal": "70",
            "Customer": sandbox.seeded_id("account", "2"),
            "YourRef": your_ref,
            "EntryDate": "2026-03-01T00:00:00",
            "SalesEntryLines": [{"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": amount}],
        },
    )
    assert answer.status_code == 201, answer.text


def _follow(client: httpx.Client, first: httpx.Response) -> list[list[dict[str, Any]]]:
    pages = [_results(first)]
    next_url = first.json()["d"].get("__next")
    while next_url:
        answer = client.get(next_url)
        pages.append(_results(answer))
        next_url = answer.json()["d"].get("__next")
    return pages


def test_regular_endpoints_page_by_60_and_bulk_by_1000(
    roomy_api: tuple[ExactSandbox, httpx.Client],
) -> None:
    sandbox, client = roomy_api
    for number in range(334):
        _book(sandbox, client, f"WEB-{number}", "10.00")

    entries = client.get("salesentry/SalesEntries", params={"$select": "EntryID,YourRef"})
    pages = _follow(client, entries)
    assert [len(page) for page in pages] == [60, 60, 60, 60, 60, 34]
    assert len({e["EntryID"] for page in pages for e in page}) == 334
    assert "$skiptoken=guid'" in entries.json()["d"]["__next"]
    assert "$select=EntryID,YourRef" in entries.json()["d"]["__next"]

    # Each booking makes three ledger lines: receivable, revenue and VAT payable.
    lines = client.get("bulk/Financial/TransactionLines", params={"$select": "ID,AmountDC"})
    line_pages = _follow(client, lines)
    assert [len(page) for page in line_pages] == [1000, 2]
    assert sum(line["AmountDC"] for page in line_pages for line in page) == pytest.approx(0)


def test_top_inlinecount_and_orderby(roomy_api: tuple[ExactSandbox, httpx.Client]) -> None:
    sandbox, client = roomy_api
    for number, amount in enumerate(["5.00", "30.00", "20.00"]):
        _book(sandbox, client, f"WEB-{number}", amount)
    answer = client.get(
        "salesentry/SalesEntries",
        params={
            "$select": "YourRef,AmountFC",
            "$orderby": "AmountFC desc",
            "$top": "2",
            "$inlinecount": "allpages",
        },
    )
    body = answer.json()["d"]
    assert [e["YourRef"] for e in body["results"]] == ["WEB-1", "WEB-2"]
    assert body["__count"] == "3"
    assert "__next" not in body
    count = client.get("salesentry/SalesEntries/$count")
    assert count.text == "3"


def test_top_above_the_page_size_continues_with_the_rest(
    roomy_api: tuple[ExactSandbox, httpx.Client],
) -> None:
    sandbox, client = roomy_api
    for number in range(70):
        _book(sandbox, client, f"WEB-{number}", "1.00")
    first = client.get("salesentry/SalesEntries", params={"$top": "65", "$select": "YourRef"})
    assert [len(page) for page in _follow(client, first)] == [60, 5]


def test_list_envelope_with_metadata_and_deferred_lines(exact_api: httpx.Client) -> None:
    journal = _results(exact_api.get("financial/Journals", params={"$filter": "Code eq '70'"}))
    assert journal[0]["__metadata"]["type"] == "Exact.Web.Api.Models.Journal"
    assert journal[0]["__metadata"]["uri"].endswith(f"financial/Journals(guid'{journal[0]['ID']}')")
    assert journal[0]["Type"] == 20
    assert journal[0]["Description"] == "Verkoopboek"


def test_bulk_endpoints_require_select(exact_api: httpx.Client) -> None:
    for path in (
        "bulk/CRM/Accounts",
        "bulk/Logistics/Items",
        "bulk/Financial/GLAccounts",
        "bulk/Financial/TransactionLines",
    ):
        refused = exact_api.get(path)
        assert refused.status_code == 400
        assert _error(refused) == "Please add a $select or a $top=1 statement to the query string."
        # Accounts and items also need a $filter (below); ID is one of their allowed fields.
        filtered = {"$filter": "ID ne guid'00000000-0000-0000-0000-000000000000'"}
        assert exact_api.get(path, params={"$top": "1", **filtered}).status_code == 200
        assert exact_api.get(path, params={"$select": "ID", **filtered}).status_code == 200


def test_bulk_endpoints_with_a_sync_version_have_mandatory_filtering(
    exact_api: httpx.Client,
) -> None:
    for path, field in (("bulk/CRM/Accounts", "Blocked"), ("bulk/Logistics/Items", "Barcode")):
        refused = exact_api.get(path, params={"$select": "ID"})
        assert refused.status_code == 400
        assert _error(refused).startswith(
            "This endpoint has mandatory filtering applied. A GET request for this endpoint "
            f"must have a $filter parameter with one of the following fields in the url:{field},"
        )
    # GL accounts and transaction lines: no field list is known, so none is enforced.
    assert exact_api.get("bulk/Financial/GLAccounts", params={"$select": "ID"}).status_code == 200


def test_bulk_gl_accounts_cover_the_chart(exact_api: httpx.Client) -> None:
    accounts = _results(
        exact_api.get("bulk/Financial/GLAccounts", params={"$select": "Code,Type,VATCode"})
    )
    by_code = {a["Code"]: a for a in accounts}
    assert by_code["8000"] == {**by_code["8000"], "Type": 110, "VATCode": "2  "}
    assert by_code["1300"]["Type"] == 20
    assert {"8000", "8010", "8020", "8100", "8110", "8200", "8300", "8400", "8500", "8900"} <= set(
        by_code
    )


@pytest.mark.parametrize("path", ["crm/Accounts", "logistics/Items"])
def test_accounts_and_items_lists_need_a_filter(exact_api: httpx.Client, path: str) -> None:
    refused = exact_api.get(path)
    assert refused.status_code == 400
    assert _error(refused).startswith("This endpoint has mandatory filtering applied.")
    assert "Code" in _error(refused)
    # A filter on a field that is not on the list does not count.
    assert exact_api.get(path, params={"$filter": "Division eq 1"}).status_code == 400


def test_account_codes_are_left_padded_to_18(exact_api: httpx.Client) -> None:
    unpadded = exact_api.get("crm/Accounts", params={"$filter": "Code eq '2'"})
    assert _results(unpadded) == []
    padded = _results(exact_api.get("crm/Accounts", params={"$filter": f"Code eq '{'2':>18}'"}))
    trimmed = _results(exact_api.get("crm/Accounts", params={"$filter": "trim(Code) eq '2'"}))
    assert padded == trimmed
    assert padded[0]["Code"] == " " * 17 + "2"
    assert padded[0]["Name"] == "Webshop particulieren"
    assert padded[0]["Country"] == "NL "


def test_vat_codes_are_right_padded_to_3(exact_api: httpx.Client) -> None:
    assert _results(exact_api.get("vat/VATCodes", params={"$filter": "Code eq '2'"})) == []
    high = _results(exact_api.get("vat/VATCodes", params={"$filter": "trim(Code) eq '2'"}))
    assert high[0]["Code"] == "2  "
    assert high[0]["Percentage"] == 0.21


def test_oss_codes_exist_for_every_other_eu_country(exact_api: httpx.Client) -> None:
    first = exact_api.get(
        "vat/VATCodes",
        params={"$filter": "OssCountry ne null", "$select": "Code,OssCountry,Percentage"},
    )
    pages = _follow(exact_api, first)
    assert len(pages) == 2  # more than 60 codes: the second page comes through __next
    codes = [code for page in pages for code in page]
    countries = {c["OssCountry"].strip() for c in codes}
    assert len(countries) == 26 and "NL" not in countries
    standard = {c["OssCountry"].strip(): c["Percentage"] for c in codes if c["Code"][2] == "H"}
    assert standard["BE"] == 0.21 and standard["DE"] == 0.19 and standard["HU"] == 0.27


def test_filter_literals_guid_datetime_and_int64(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    account_id = exact_sandbox.seeded_id("account", "3")
    by_guid = _results(
        exact_api.get("crm/Accounts", params={"$filter": f"ID eq guid'{account_id}'"})
    )
    assert by_guid[0]["Name"].startswith("Vélo Service")
    created = exact_api.get(
        "crm/Accounts", params={"$filter": "Created le datetime'2026-03-02T10:00:00'"}
    )
    assert len(_results(created)) == 5
    later = exact_api.get(
        "crm/Accounts", params={"$filter": "Created gt datetime'2026-03-02T10:00:00'"}
    )
    assert _results(later) == []
    journals = exact_api.get("financial/Journals", params={"$filter": "Type eq 20L or Type eq 10"})
    assert sorted(j["Code"] for j in _results(journals)) == ["10", "70", "71"]


def test_substringof_and_boolean_logic(exact_api: httpx.Client) -> None:
    answer = exact_api.get(
        "crm/Accounts",
        params={"$filter": "substringof('Webshop', Name) and (IsSales eq true or Blocked eq true)"},
    )
    assert [a["Name"] for a in _results(answer)] == ["Webshop particulieren"]


def test_dates_come_out_as_cet_wall_clock_milliseconds(exact_api: httpx.Client) -> None:
    journal = _results(exact_api.get("financial/Journals", params={"$filter": "Code eq '70'"}))[0]
    # Seeded at 09:00 UTC = 10:00 in Amsterdam, written as if 10:00 were UTC.
    wall_clock = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert journal["Created"] == f"/Date({int(wall_clock.timestamp() * 1000)})/"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"$filter": "ID eq 'not-a-guid-literal'"}, "incompatible"),
        ({"$filter": "NoSuchField eq 1"}, "No property 'NoSuchField'"),
        ({"$filter": "Code eq"}, "expected"),
        ({"$select": "Code,Nope"}, "No property 'Nope'"),
        ({"$orderby": "Code sideways"}, "$orderby"),
        ({"$skip": "10"}, "$skip"),
        ({"$top": "many"}, "$top"),
    ],
)
def test_malformed_query_options_get_400(
    exact_api: httpx.Client, params: dict[str, str], fragment: str
) -> None:
    answer = exact_api.get("financial/Journals", params=params)
    assert answer.status_code == 400
    assert fragment in _error(answer)


def test_batch_is_not_supported(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    assert exact_api.post("$batch", content=b"--batch").status_code == 400
    root = httpx.post(
        f"{exact_sandbox.base_url}/api/v1/$batch", headers=exact_api.headers, content=b""
    )
    assert root.status_code == 400


def test_single_entity_by_key_and_404(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    item_id = exact_sandbox.seeded_id("item", "VERZENDKOSTEN")
    item = exact_api.get(f"logistics/Items(guid'{item_id}')").json()["d"]
    assert item["Code"] == "VERZENDKOSTEN"
    assert item["GLRevenueCode"] == "8300"
    assert item["SalesVatCode"] == "2  "
    missing = exact_api.get("logistics/Items(guid'00000000-0000-0000-0000-000000000000')")
    assert missing.status_code == 404


def test_divisions_and_item_groups(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    divisions = _results(exact_api.get("system/Divisions"))
    assert divisions[0]["Code"] == exact_sandbox.division
    assert divisions[0]["Currency"] == "EUR"
    groups = _results(exact_api.get("logistics/ItemGroups", params={"$select": "Code,IsDefault"}))
    assert {g["Code"] for g in groups} == {"WEB", "BOEK", "DIENST"}


def test_unknown_division_is_forbidden(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    other = httpx.get(
        f"{exact_sandbox.base_url}/api/v1/1/financial/Journals", headers=exact_api.headers
    )
    assert other.status_code == 403


def test_without_json_accept_exact_answers_in_atom_xml(exact_sandbox: ExactSandbox) -> None:
    _check_atom_answers(exact_sandbox)  # Exact's default representation, and the sandbox's


def _check_atom_answers(exact_sandbox: ExactSandbox) -> None:
    exact_tokens = exact_sandbox.issue_tokens_for_tests()
    bearer = {"Authorization": f"Bearer {exact_tokens['access_token']}"}
    for accept in (None, "*/*", "application/xml"):
        headers = bearer if accept is None else {**bearer, "Accept": accept}
        answer = httpx.get(
            f"{exact_sandbox.api_url}/financial/Journals",
            params={"$filter": "Code eq '70'", "$select": "Code,Type"},
            headers=headers,
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/atom+xml")
        assert '<d:Type m:type="Edm.Int32">20</d:Type>' in answer.text
        assert answer.headers["X-RateLimit-Minutely-Limit"] == "60"
    error = httpx.get(f"{exact_sandbox.api_url}/financial/Nope", headers=bearer)
    assert error.status_code == 404 and "<m:error" in error.text
    # $count is meant to be asked without an Accept header: plain text either way.
    count = httpx.get(f"{exact_sandbox.api_url}/financial/Journals/$count", headers=bearer)
    assert count.text == "6"


def test_json_without_accept_only_when_asked_to_be_lenient(exact_clock: SandboxClock) -> None:
    with start_exact_sandbox(clock=exact_clock, atom_unless_json_accepted=False) as lenient:
        bearer = {"Authorization": f"Bearer {lenient.issue_tokens_for_tests()['access_token']}"}
        answer = httpx.get(f"{lenient.api_url}/financial/Journals", headers=bearer)
        assert answer.json()["d"]["results"]


def test_line_endpoints_page_across_entries(roomy_api: tuple[ExactSandbox, httpx.Client]) -> None:
    sandbox, client = roomy_api
    revenue = sandbox.seeded_id("gl", "8000")
    for number in range(10):
        body = {
            "Journal": "70",
            "Customer": sandbox.seeded_id("account", "2"),
            "YourRef": f"WEB-{number}",
            "SalesEntryLines": [{"GLAccount": revenue, "AmountFC": n} for n in range(1, 8)],
        }
        assert client.post("salesentry/SalesEntries", json=body).status_code == 201
    first = client.get("salesentry/SalesEntryLines", params={"$select": "ID,EntryID,AmountFC"})
    pages = _follow(client, first)
    # Seven lines an entry: the first page ends inside the ninth entry, the second page
    # picks up that entry's remaining lines.
    assert [len(page) for page in pages] == [60, 10]
    lines = [line for page in pages for line in page]
    assert len({line["ID"] for line in lines}) == 70
    assert [line["AmountFC"] for line in lines] == list(range(1, 8)) * 10


def test_orderby_pages_continue_in_order(roomy_api: tuple[ExactSandbox, httpx.Client]) -> None:
    sandbox, client = roomy_api
    for number in range(70):
        _book(sandbox, client, f"WEB-{number}", f"{(number * 37) % 101}.00")
    first = client.get(
        "salesentry/SalesEntries",
        params={"$select": "YourRef,AmountFC", "$orderby": "AmountFC desc,YourRef"},
    )
    entries = [entry for page in _follow(client, first) for entry in page]
    assert len({entry["YourRef"] for entry in entries}) == 70
    keys = [(-entry["AmountFC"], entry["YourRef"]) for entry in entries]
    assert keys == sorted(keys)
