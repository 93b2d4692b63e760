"""Financial years and periods as Exact keeps them: a period date table that entries must fall
in, and periods a bookkeeper closes per journal, after which the journal takes no entry there."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.exact.division import default_administration_file
from woo_exact_pipeline.sandbox.exact.odata import exact_date

REPRESENTATION = {"Prefer": "return=representation"}
CLOSED_MESSAGE = "Period 10 of financial year 2026 is closed for journal 70."


def _entry(sandbox: ExactSandbox, **overrides: Any) -> dict[str, Any]:
    return {
        "Journal": "70",
        "Customer": sandbox.seeded_id("account", "2"),
        "EntryDate": "2026-10-20T00:00:00",
        "YourRef": "WEB-1001",
        "SalesEntryLines": [{"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": "10.00"}],
        **overrides,
    }


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return api.post(path, json=body, headers=REPRESENTATION)


def _message(response: httpx.Response) -> str:
    value: str = response.json()["error"]["message"]["value"]
    return value


def test_the_period_date_table_holds_monthly_periods_of_2020_to_2035(
    exact_api: httpx.Client,
) -> None:
    periods: list[dict[str, Any]] = []
    url: str | None = "financial/FinancialPeriods"
    while url:
        page = exact_api.get(url).json()["d"]
        periods += page["results"]
        url = page.get("__next")
    assert len(periods) == 16 * 12
    october = next(p for p in periods if (p["FinYear"], p["FinPeriod"]) == (2026, 10))
    assert october["StartDate"] == exact_date(date(2026, 10, 1))
    assert october["EndDate"] == exact_date(date(2026, 10, 31))


def test_an_entry_dated_in_no_financial_year_is_refused(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    refused = _post(
        exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, EntryDate="2019-12-31")
    )
    assert refused.status_code == 500
    assert _message(refused) == "The financial year cannot be changed."
    in_no_year = _entry(exact_sandbox, ReportingYear=2040, ReportingPeriod=1)
    assert _message(_post(exact_api, "salesentry/SalesEntries", in_no_year)) == (
        "The financial year cannot be changed."
    )


def test_reporting_year_and_period_follow_the_period_calendar(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    entry = _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox)).json()["d"]
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2026, 10)
    assert entry["EntryNumber"] == 26700001
    new_year = _entry(exact_sandbox, EntryDate="2026-12-31T00:00:00")
    december = _post(exact_api, "salesentry/SalesEntries", new_year).json()["d"]
    assert (december["ReportingYear"], december["ReportingPeriod"]) == (2026, 12)


def test_a_closed_period_takes_no_entry_until_it_is_reopened(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    exact_sandbox.close_period(2026, 10, journal="70")
    statuses = exact_api.get(
        "read/financial/JournalStatusList",
        params={"$filter": "Journal eq '70' and Status eq 1", "$select": "Year,Period,Status"},
    ).json()["d"]["results"]
    assert [(s["Year"], s["Period"]) for s in statuses] == [(2026, 10)]

    refused = _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox))
    assert refused.status_code == 500
    assert _message(refused) == CLOSED_MESSAGE
    # The point of sale's journal is still open in October; so is November in journal 70.
    point_of_sale = _entry(exact_sandbox, Journal="71")
    assert _post(exact_api, "salesentry/SalesEntries", point_of_sale).status_code == 201
    moved = _entry(exact_sandbox, ReportingYear=2026, ReportingPeriod=11)
    booked = _post(exact_api, "salesentry/SalesEntries", moved).json()["d"]
    assert (booked["EntryDate"], booked["ReportingPeriod"]) == (
        exact_date(date(2026, 10, 20)),
        11,
    )

    exact_sandbox.reopen_period(2026, 10)
    assert _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox)).status_code == 201


def test_an_invoice_is_refused_when_printed_into_a_closed_period(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    invoice = _post(
        exact_api,
        "salesinvoice/SalesInvoices",
        {
            "Journal": "70",
            "OrderedBy": exact_sandbox.seeded_id("account", "2"),
            "SalesInvoiceLines": [
                {"Item": exact_sandbox.seeded_id("item", "FIETSBEL-01"), "UnitPrice": 5}
            ],
        },
    ).json()["d"]
    exact_sandbox.close_period(2026, 10)
    printing = {"InvoiceID": invoice["InvoiceID"], "InvoiceDate": "2026-10-20T00:00:00"}
    refused = _post(exact_api, "salesinvoice/PrintedSalesInvoices", printing)
    assert _message(refused) == CLOSED_MESSAGE
    printed = _post(
        exact_api,
        "salesinvoice/PrintedSalesInvoices",
        {**printing, "ReportingYear": 2026, "ReportingPeriod": 11},
    )
    assert printed.status_code == 201
    processed = exact_api.get(
        f"salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')",
        params={"$select": "Status,InvoiceNumber"},
    ).json()["d"]
    assert (processed["Status"], processed["InvoiceNumber"]) == (50, 26700001)


def test_closed_periods_can_come_from_the_administration_file(tmp_path: Path) -> None:
    administration = json.loads(default_administration_file().read_text(encoding="utf-8"))
    administration["financial_years"]["closed_periods"] = [{"year": 2026, "period": 10}]
    path = tmp_path / "administration.json"
    path.write_text(json.dumps(administration), encoding="utf-8")
    with start_exact_sandbox(administration_file=path) as sandbox:
        tokens = sandbox.issue_tokens_for_tests()
        with httpx.Client(
            base_url=f"{sandbox.api_url}/",
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "Accept": "application/json",
            },
        ) as api:
            refused = _post(api, "salesentry/SalesEntries", _entry(sandbox))
            assert _message(refused) == CLOSED_MESSAGE


def test_a_date_left_out_is_the_administrations_midnight(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    body = _entry(exact_sandbox)
    del body["EntryDate"]
    entry = _post(exact_api, "salesentry/SalesEntries", body).json()["d"]
    # The fixture's clock: 2 March 2026, 10:00 in Amsterdam; no hours, seconds or milliseconds.
    assert entry["EntryDate"] == exact_date(date(2026, 3, 2))
