"""The sandbox's entity model held to Exact's reference pages (reference_model.json): every
property it has exists in Exact with the same Edm type, it lets a POST set only what Exact
lets a POST set, and a POST is answered as Exact answers it: an unknown property refused,
a read-only one ignored, a missing mandatory one refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import ExactSandbox, model
from woo_exact_pipeline.sandbox.exact.model import EntityType, reference_model

TABLE = reference_model()
DIVERGENCES = TABLE["sandbox_divergences"]
MODELLED = {
    endpoint: getattr(model, entity["sandbox_type"])
    for endpoint, entity in TABLE["entities"].items()
    if entity["sandbox_type"] is not None
}
REPRESENTATION = {"Prefer": "return=representation"}


def documented(endpoint: str) -> dict[str, set[str]]:
    return {
        name: set(text.split()) for name, text in TABLE["entities"][endpoint]["properties"].items()
    }


def edm_type(field: model.Field) -> str:
    return "Lines" if field.kind == "lines" else field.kind


def test_every_entity_names_its_reference_page_and_the_pipelines_entities_are_all_there() -> None:
    for entity in TABLE["entities"].values():
        assert entity["reference_page"].startswith(
            "https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name="
        )
        assert entity["transcribed_from"]
    assert {
        "salesentry/SalesEntries",
        "salesentry/SalesEntryLines",
        "salesinvoice/SalesInvoices",
        "salesinvoice/SalesInvoiceLines",
        "salesorder/SalesOrders",
        "salesorder/SalesOrderLines",
        "crm/Accounts",
        "logistics/Items",
        "financial/GLAccounts",
        "vat/VATCodes",
        "financial/Journals",
        "documents/Documents",
        "documents/DocumentAttachments",
        "general/Currencies",
        "financial/ExchangeRates",
        "financial/FinancialPeriods",
        "current/Me",
        "inventory/Warehouses",
    } <= set(TABLE["entities"])


@pytest.mark.parametrize("endpoint", sorted(MODELLED))
def test_every_sandbox_property_is_exacts_with_exacts_edm_type(endpoint: str) -> None:
    entity_type: EntityType = MODELLED[endpoint]
    exact = documented(endpoint)
    allowed = DIVERGENCES["other_edm_type"].get(endpoint, {})
    assert entity_type.reference == endpoint
    assert [f.name for f in entity_type.fields if f.name not in exact] == []
    wrong = [
        (f.name, edm_type(f))
        for f in entity_type.fields
        if edm_type(f) not in exact[f.name] and f.name not in allowed
    ]
    assert wrong == []
    assert entity_type.key in {name for name, flags in exact.items() if "key" in flags}


@pytest.mark.parametrize("endpoint", sorted(MODELLED))
def test_a_post_sets_in_the_sandbox_only_what_it_sets_in_exact(endpoint: str) -> None:
    entity_type: EntityType = MODELLED[endpoint]
    exact = documented(endpoint)
    writable = {f.name for f in entity_type.fields if f.writable}
    get_only = {name for name in writable if "post" not in exact[name]}
    assert get_only == set(DIVERGENCES["writable_although_get_only"].get(endpoint, {}))


# --- POSTs answered as Exact answers them --------------------------------------------------


def _entry(sandbox: ExactSandbox) -> dict[str, Any]:
    return {
        "Journal": "70",
        "Customer": sandbox.seeded_id("account", "2"),
        "EntryDate": "2026-03-01T00:00:00",
        "SalesEntryLines": [{"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": "10.00"}],
    }


def _invoice(sandbox: ExactSandbox) -> dict[str, Any]:
    return {
        "Journal": "70",
        "OrderedBy": sandbox.seeded_id("account", "2"),
        "SalesInvoiceLines": [{"Item": sandbox.seeded_id("item", "FIETSBEL-01"), "UnitPrice": 5}],
    }


def _order(sandbox: ExactSandbox) -> dict[str, Any]:
    return {
        "OrderedBy": sandbox.seeded_id("account", "2"),
        "SalesOrderLines": [{"Item": sandbox.seeded_id("item", "FIETSBEL-01"), "UnitPrice": 5}],
    }


def _attachment(api: httpx.Client) -> dict[str, Any]:
    document = api.post(
        "documents/Documents", json={"Subject": "Invoice", "Type": 10}, headers=REPRESENTATION
    ).json()["d"]
    return {"Document": document["ID"], "FileName": "a.pdf", "Attachment": "JVBERi0="}


#: A valid body per creatable endpoint, and where its lines are.
BODIES: dict[str, tuple[Callable[[ExactSandbox, httpx.Client], dict[str, Any]], str | None]] = {
    "salesentry/SalesEntries": (lambda s, api: _entry(s), "SalesEntryLines"),
    "salesinvoice/SalesInvoices": (lambda s, api: _invoice(s), "SalesInvoiceLines"),
    "salesorder/SalesOrders": (lambda s, api: _order(s), "SalesOrderLines"),
    "crm/Accounts": (lambda s, api: {"Name": "Webklant"}, None),
    "logistics/Items": (lambda s, api: {"Code": "NIEUW-1", "Description": "Nieuw"}, None),
    "documents/Documents": (lambda s, api: {"Subject": "Invoice", "Type": 10}, None),
    "documents/DocumentAttachments": (lambda s, api: _attachment(api), None),
}
LINE_ENDPOINTS = {
    "SalesEntryLines": "salesentry/SalesEntryLines",
    "SalesInvoiceLines": "salesinvoice/SalesInvoiceLines",
    "SalesOrderLines": "salesorder/SalesOrderLines",
}
#: A line posted inside its document gets the document's key: not the client's to give.
PARENT_LINKS = {"EntryID", "InvoiceID", "OrderID"}


def _message(response: httpx.Response) -> str:
    value: str = response.json()["error"]["message"]["value"]
    return value


def _post(api: httpx.Client, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    return api.post(endpoint, json=body, headers=REPRESENTATION)


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_a_property_the_entity_does_not_have_is_refused_with_exacts_words(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, endpoint: str
) -> None:
    build, lines = BODIES[endpoint]
    body = build(exact_sandbox, exact_api)
    # picqer #461's mistake (an item's property on a line); items really have it.
    wrong = "VATCode" if endpoint == "logistics/Items" else "SalesVatCode"
    assert wrong not in documented(endpoint)
    refused = _post(exact_api, endpoint, {**body, wrong: "2"})
    assert refused.status_code == 400
    assert _message(refused) == (
        f"Error processing request stream. The property name '{wrong}' specified for type "
        f"'{MODELLED[endpoint].model_type}' is not valid."
    )
    if lines is not None:
        line_type = MODELLED[LINE_ENDPOINTS[lines]].model_type
        refused_line = _post(
            exact_api, endpoint, {**body, lines: [{**body[lines][0], "SalesVatCode": "2"}]}
        )
        assert _message(refused_line) == (
            "Error processing request stream. The property name 'SalesVatCode' specified "
            f"for type '{line_type}' is not valid."
        )
    assert _post(exact_api, endpoint, body).status_code == 201


#: Read-only in Exact, as a client that read them posts them back: one the sandbox models
#: (with a value it would not keep), one it does not.
POSTED_BACK = {
    "salesentry/SalesEntries": ({"Status": 50}, "StatusDescription"),
    "salesinvoice/SalesInvoices": ({"Status": 50}, "StatusDescription"),
    "salesorder/SalesOrders": ({"Status": 21}, "StatusDescription"),
    "crm/Accounts": ({"Type": "D"}, "CountryName"),
    "logistics/Items": ({"GLRevenueCode": "9999"}, "Stock"),
    "documents/Documents": ({"Division": 7}, "TypeDescription"),
    "documents/DocumentAttachments": ({"FileSize": 1}, None),
}


@pytest.mark.parametrize("endpoint", sorted(POSTED_BACK))
def test_read_only_properties_are_not_taken_from_a_post(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, endpoint: str
) -> None:
    modelled, unmodelled = POSTED_BACK[endpoint]
    exact = documented(endpoint)
    for name in [*modelled, *([unmodelled] if unmodelled else [])]:
        assert "post" not in exact[name]
    body = {**BODIES[endpoint][0](exact_sandbox, exact_api), **modelled}
    if unmodelled is not None:
        assert unmodelled not in MODELLED[endpoint].by_name
        body[unmodelled] = "7"
    created = _post(exact_api, endpoint, body)
    assert created.status_code == 201, created.text
    answer = created.json()["d"]
    assert all(answer[name] != value for name, value in modelled.items())


def test_a_property_exact_has_but_the_sandbox_does_not_model_is_named_not_dropped(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    body = {**_entry(exact_sandbox), "ExternalLinkReference": "WEB-1001"}
    refused = _post(exact_api, "salesentry/SalesEntries", body)
    assert refused.status_code == 400
    assert _message(refused) == (
        "The Exact sandbox does not model the property 'ExternalLinkReference' of type "
        "'Exact.Web.Api.Models.SalesEntry'. Exact accepts it (reference_model.json)."
    )


def _required(endpoint: str) -> list[str]:
    derived = DIVERGENCES["required_but_derived"].get(endpoint, {})
    return sorted(
        name
        for name, flags in documented(endpoint).items()
        if {"required", "post"} <= flags
        and "key" not in flags
        and name not in PARENT_LINKS
        and name not in derived
    )


REQUIRED = [
    (endpoint, None, name) for endpoint in sorted(BODIES) for name in _required(endpoint)
] + [
    (endpoint, lines, name)
    for endpoint, (_, lines) in sorted(BODIES.items())
    if lines is not None
    for name in _required(LINE_ENDPOINTS[lines])
]


@pytest.mark.parametrize(("endpoint", "lines", "name"), REQUIRED)
def test_a_missing_mandatory_property_is_refused(
    exact_sandbox: ExactSandbox,
    exact_api: httpx.Client,
    endpoint: str,
    lines: str | None,
    name: str,
) -> None:
    body = BODIES[endpoint][0](exact_sandbox, exact_api)
    if lines is None:
        del body[name]
    else:
        body[lines] = [{k: v for k, v in body[lines][0].items() if k != name}]
    refused = _post(exact_api, endpoint, body)
    assert refused.status_code == 500  # a business refusal: Exact answers 500
    assert _message(refused).startswith("Mandatory: ")
