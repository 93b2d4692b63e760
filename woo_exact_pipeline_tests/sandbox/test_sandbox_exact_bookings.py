"""Booking as Exact books: VAT from the VAT code, computed totals, numbering, validation."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import ExactSandbox

REPRESENTATION = {"Prefer": "return=representation"}


def _error(response: httpx.Response) -> str:
    message: str = response.json()["error"]["message"]["value"]
    return message


def _entry(sandbox: ExactSandbox, **overrides: Any) -> dict[str, Any]:
    return {
        "Journal": "70",
        "Customer": sandbox.seeded_id("account", "2"),
        "EntryDate": "2026-03-01T00:00:00",
        "YourRef": "WEB-1001",
        "Description": "Order WEB-1001",
        "SalesEntryLines": [
            {"GLAccount": sandbox.seeded_id("gl", "8000"), "AmountFC": "41.98", "VATCode": "2"},
            {"GLAccount": sandbox.seeded_id("gl", "8010"), "AmountFC": "12.35", "VATCode": "1  "},
            {"GLAccount": sandbox.seeded_id("gl", "8300"), "AmountFC": 4.95},
        ],
        **overrides,
    }


def _post(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    return client.post(path, json=body, headers=REPRESENTATION)


def _lines(client: httpx.Client, created: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The lines of a created document: deferred in the POST answer, read with a GET."""
    lines: list[dict[str, Any]] = client.get(created[name]["__deferred"]["uri"]).json()["d"][
        "results"
    ]
    return lines


def test_sales_entry_vat_totals_and_numbering(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    answer = _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox))
    assert answer.status_code == 201
    entry = answer.json()["d"]
    lines = _lines(exact_api, entry, "SalesEntryLines")
    # 41.98 x 21% = 8.8158 -> 8.82; 12.35 x 9% = 1.1115 -> 1.11; shipping takes the G/L's
    # default VAT code (2): 4.95 x 21% = 1.0395 -> 1.04.
    assert [line["VATAmountFC"] for line in lines] == [8.82, 1.11, 1.04]
    assert [line["VATCode"] for line in lines] == ["2  ", "1  ", "2  "]
    assert entry["VATAmountFC"] == 10.97
    assert entry["AmountFC"] == pytest.approx(41.98 + 12.35 + 4.95 + 10.97)
    assert entry["EntryNumber"] == 26700001
    assert entry["Status"] == 20 and entry["Type"] == 20
    assert entry["CustomerName"] == "Webshop particulieren"
    second = _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, YourRef="WEB-1002"))
    assert second.json()["d"]["EntryNumber"] == 26700002
    pos = _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, Journal="71"))
    assert pos.json()["d"]["EntryNumber"] == 26710001


def test_given_vat_amount_overrides_the_computed_one(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    lines = [
        {
            "GLAccount": exact_sandbox.seeded_id("gl", "8000"),
            "AmountFC": "100.00",
            "VATCode": "2",
            "VATAmountFC": "20.99",
        }
    ]
    entry = _post(
        exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, SalesEntryLines=lines)
    ).json()["d"]
    assert entry["VATAmountFC"] == 20.99
    assert entry["AmountFC"] == 120.99


def test_credit_note_keeps_the_sign_as_posted(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    lines = [{"GLAccount": exact_sandbox.seeded_id("gl", "8000"), "AmountFC": -10, "VATCode": "2"}]
    credit = _post(
        exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, Type=21, SalesEntryLines=lines)
    ).json()["d"]
    assert credit["Type"] == 21
    assert credit["AmountFC"] == -12.1
    assert _lines(exact_api, credit, "SalesEntryLines")[0]["Type"] == 21


def test_duplicate_your_ref_is_accepted_as_in_real_exact(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    for _ in range(2):
        assert _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox)).status_code == 201
    found = exact_api.get(
        "salesentry/SalesEntries",
        params={"$filter": "YourRef eq 'WEB-1001' and Journal eq '70'", "$select": "EntryNumber"},
    )
    assert len(found.json()["d"]["results"]) == 2
    assert len(exact_sandbox.sales_entries("WEB-1001")) == 2


def test_without_prefer_header_most_properties_come_back_null(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    answer = exact_api.post("salesentry/SalesEntries", json=_entry(exact_sandbox))
    assert answer.status_code == 201
    body = answer.json()["d"]
    assert body["EntryID"] and body["EntryNumber"] is None and body["AmountFC"] is None


def test_entry_reads_back_with_lines_deferred_or_expanded(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    entry_id = _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox)).json()["d"][
        "EntryID"
    ]
    plain = exact_api.get(f"salesentry/SalesEntries(guid'{entry_id}')").json()["d"]
    assert "__deferred" in plain["SalesEntryLines"]
    lines = exact_api.get(plain["SalesEntryLines"]["__deferred"]["uri"]).json()["d"]["results"]
    assert len(lines) == 3
    expanded = exact_api.get(
        f"salesentry/SalesEntries(guid'{entry_id}')",
        params={"$expand": "SalesEntryLines", "$select": "EntryID,SalesEntryLines/AmountFC"},
    ).json()["d"]
    assert [line["AmountFC"] for line in expanded["SalesEntryLines"]["results"]] == [
        41.98,
        12.35,
        4.95,
    ]
    by_entry = exact_api.get(
        "salesentry/SalesEntryLines", params={"$filter": f"EntryID eq guid'{entry_id}'"}
    )
    assert len(by_entry.json()["d"]["results"]) == 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Journal": None}, "Mandatory: Journal"),
        ({"Journal": "99"}, "Invalid reference: Journal"),
        ({"Journal": "60"}, "Invalid journal. The journal must be a sales journal."),
        ({"Customer": None}, "Mandatory: Customer"),
        ({"Customer": "00000000-0000-0000-0000-000000000009"}, "Invalid reference: Customer"),
        ({"Type": 30}, "Invalid: Type"),
        ({"Currency": "XXX"}, "Invalid reference: Currency"),
        ({"SalesEntryLines": []}, "Mandatory: SalesEntryLines"),
        ({"Document": "00000000-0000-0000-0000-000000000009"}, "Invalid reference: Document"),
        # Undocumented lengths: the sandbox holds clients to the conservative 30 and 60.
        ({"YourRef": "W" * 31}, "YourRef: maximum length is 30 characters"),
        ({"Description": "D" * 61}, "Description: maximum length is 60 characters"),
    ],
)
def test_sales_entry_header_validation(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, overrides: dict[str, Any], message: str
) -> None:
    body = {k: v for k, v in _entry(exact_sandbox, **overrides).items() if v is not None}
    answer = _post(exact_api, "salesentry/SalesEntries", body)
    assert answer.status_code == 500  # a business refusal (fidelity report 3.2)
    assert message in _error(answer).split("\r\n")
    assert exact_sandbox.sales_entries() == []


def test_supplier_is_not_a_customer(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    body = _entry(exact_sandbox, Customer=exact_sandbox.seeded_id("account", "4"))
    answer = _post(exact_api, "salesentry/SalesEntries", body)
    assert _error(answer) == "Invalid: Customer (Type)"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"AmountFC": 10}, "Mandatory: G/L account"),
        ({"GLAccount": "gl:8000"}, "Mandatory: Amount"),
        (
            {"GLAccount": "00000000-0000-0000-0000-000000000009", "AmountFC": 1},
            "Invalid reference: G/L account",
        ),
        ({"GLAccount": "gl:1300", "AmountFC": 10, "VATCode": "2"}, "Invalid: G/L account type"),
        ({"GLAccount": "gl:1500", "AmountFC": 10, "VATCode": "2"}, "Invalid: G/L account type"),
        ({"GLAccount": "gl:4500", "AmountFC": 10, "VATCode": "2"}, "Invalid: G/L account type"),
        ({"GLAccount": "gl:8000", "AmountFC": 10, "VATCode": "99"}, "Invalid reference: VAT code"),
        ({"GLAccount": "gl:8000", "AmountFC": 10, "VATCode": "I2"}, "Invalid: VAT code"),
        ({"GLAccount": "gl:8110", "AmountFC": 10}, "Mandatory: VAT code"),
        ({"GLAccount": "gl:8000", "AmountFC": 10, "Type": 21}, "Invalid: Type"),
        (
            {"GLAccount": "gl:8000", "AmountFC": 1, "Description": "L" * 61},
            "Description: maximum length is 60 characters",
        ),
    ],
)
def test_sales_entry_line_validation(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, line: dict[str, Any], message: str
) -> None:
    if str(line.get("GLAccount", "")).startswith("gl:"):
        line = {**line, "GLAccount": exact_sandbox.seeded_id("gl", line["GLAccount"][3:])}
    answer = _post(
        exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, SalesEntryLines=[line])
    )
    assert answer.status_code == 500  # a business refusal (fidelity report 3.2)
    assert message in _error(answer).split("\r\n")


def test_several_business_errors_are_joined_by_crlf(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    answer = _post(exact_api, "salesentry/SalesEntries", {"SalesEntryLines": []})
    assert (
        _error(answer) == "Mandatory: Journal\r\nMandatory: Customer\r\nMandatory: SalesEntryLines"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"SalesVatCode": "2"},
            "The property name 'SalesVatCode' specified for type "
            "'Exact.Web.Api.Models.SalesEntry' is not valid.",
        ),
        (
            {"SalesEntryLines": {"GLAccount": "x"}},
            "The request should be a valid top-level resource object.",
        ),
        ({"Customer": "not-a-guid"}, "for property 'Customer' to type 'Edm.Guid'"),
        ({"EntryDate": "yesterday"}, "for property 'EntryDate' to type 'Edm.DateTime'"),
        (
            {"SalesEntryLines": [{"AmountFC": "ten"}]},
            "for property 'AmountFC' to type 'Edm.Double'",
        ),
        (
            {"SalesEntryLines": [{"SalesVatCode": "2"}]},
            "'Exact.Web.Api.Models.SalesEntryLine' is not valid.",
        ),
    ],
)
def test_malformed_bodies_get_request_stream_errors(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    answer = _post(exact_api, "salesentry/SalesEntries", {**_entry(exact_sandbox), **body})
    assert answer.status_code == 400
    assert _error(answer).startswith("Error processing request stream.")
    assert message in _error(answer)


def test_body_that_is_not_an_object_is_refused(exact_api: httpx.Client) -> None:
    for raw in (b"[1, 2]", b"{not json"):
        answer = exact_api.post("salesentry/SalesEntries", content=raw)
        assert answer.status_code == 400
        assert "valid top-level resource object" in _error(answer)


def test_read_only_properties_are_ignored(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    body = _entry(exact_sandbox, EntryNumber=5, AmountFC=1, Status=50)
    entry = _post(exact_api, "salesentry/SalesEntries", body).json()["d"]
    assert entry["EntryNumber"] == 26700001 and entry["Status"] == 20


def test_transaction_lines_balance_per_entry(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    _post(exact_api, "salesentry/SalesEntries", _entry(exact_sandbox))
    lines = exact_api.get(
        "bulk/Financial/TransactionLines",
        params={
            "$select": "GLAccountCode,AmountDC,VATCode,YourRef,JournalCode,EntryNumber,AccountCode",
            "$filter": "YourRef eq 'WEB-1001'",
        },
    ).json()["d"]["results"]
    amounts = {(line["GLAccountCode"], line["VATCode"]): line["AmountDC"] for line in lines}
    assert amounts == {
        ("1300", None): 70.25,
        ("8000", "2  "): -41.98,
        ("8010", "1  "): -12.35,
        ("8300", "2  "): -4.95,
        ("1500", "2  "): -9.86,
        ("1510", "1  "): -1.11,
    }
    assert {line["EntryNumber"] for line in lines} == {26700001}
    assert lines[0]["AccountCode"] == " " * 17 + "2"


def _invoice(sandbox: ExactSandbox, **overrides: Any) -> dict[str, Any]:
    return {
        "Journal": "70",
        "OrderedBy": sandbox.seeded_id("account", "5"),
        "YourRef": "WEB-2001",
        "SalesInvoiceLines": [
            {"Item": sandbox.seeded_id("item", "FIETSBEL-01"), "Quantity": 2, "UnitPrice": "7.95"},
            {
                "Item": sandbox.seeded_id("item", "FIETSKAART-NL"),
                "Quantity": 1,
                "UnitPrice": 9.99,
                "Discount": 0.1,
            },
            {"Item": sandbox.seeded_id("item", "VERZENDKOSTEN"), "UnitPrice": "4.95"},
        ],
        **overrides,
    }


def test_sales_invoice_is_open_until_printed_then_processed_and_numbered(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    invoice = _post(exact_api, "salesinvoice/SalesInvoices", _invoice(exact_sandbox)).json()["d"]
    assert invoice["Status"] == 20 and invoice["Type"] == 8020
    assert invoice["InvoiceNumber"] is None
    lines = _lines(exact_api, invoice, "SalesInvoiceLines")
    # 2 x 7.95 = 15.90 (VAT 3.34); 9.99 less 10% = 8.99 (VAT 9%: 0.81); shipping 4.95 (1.04).
    assert [line["AmountFC"] for line in lines] == [15.9, 8.99, 4.95]
    assert [line["VATAmountFC"] for line in lines] == [3.34, 0.81, 1.04]
    # Invoice lines name their GL account by id and description; only entry lines have a code.
    gl_accounts = [exact_sandbox.seeded_id("gl", code) for code in ("8000", "8010", "8300")]
    assert [line["GLAccount"] for line in lines] == gl_accounts
    assert invoice["AmountFC"] == pytest.approx(29.84 + 5.19)
    no_ledger = exact_api.get("bulk/Financial/TransactionLines", params={"$select": "ID"})
    assert no_ledger.json()["d"]["results"] == []

    printed = _post(
        exact_api,
        "salesinvoice/PrintedSalesInvoices",
        {"InvoiceID": invoice["InvoiceID"], "SendEmailToCustomer": True},
    )
    assert printed.status_code == 201
    assert "penningmeester@kopgroep.example" in printed.json()["d"]["EmailCreationSuccess"]
    processed = exact_api.get(f"salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')")
    assert processed.json()["d"]["Status"] == 50
    assert processed.json()["d"]["InvoiceNumber"] == 26700001
    [mail] = exact_sandbox.outbox()
    assert mail.to == "penningmeester@kopgroep.example" and mail.invoice_number == 26700001
    ledger = exact_api.get(
        "bulk/Financial/TransactionLines",
        params={"$select": "GLAccountCode,AmountDC,ItemCode", "$filter": "YourRef eq 'WEB-2001'"},
    ).json()["d"]["results"]
    assert sum(line["AmountDC"] for line in ledger) == pytest.approx(0)
    assert {line["ItemCode"] for line in ledger} >= {"FIETSBEL-01", "VERZENDKOSTEN"}


def test_printing_without_email_sends_nothing(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    invoice_id = _post(exact_api, "salesinvoice/SalesInvoices", _invoice(exact_sandbox)).json()[
        "d"
    ]["InvoiceID"]
    printed = _post(exact_api, "salesinvoice/PrintedSalesInvoices", {"InvoiceID": invoice_id})
    assert printed.status_code == 201
    assert exact_sandbox.outbox() == []


def test_printing_an_unknown_invoice_fails(exact_api: httpx.Client) -> None:
    answer = _post(
        exact_api,
        "salesinvoice/PrintedSalesInvoices",
        {"InvoiceID": "00000000-0000-0000-0000-000000000001"},
    )
    assert answer.status_code == 500  # a business refusal (fidelity report 3.2)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"OrderedBy": None}, "Mandatory: Ordered by"),
        ({"Journal": None}, "Mandatory: Journal"),
        ({"Type": 8023}, "Mandatory: Warehouse"),
        ({"Type": 9999}, "Invalid: Type"),
        ({"SalesInvoiceLines": [{"Quantity": 1, "UnitPrice": 1}]}, "Mandatory: Item"),
        (
            {"SalesInvoiceLines": [{"Item": "item:OUD-ARTIKEL", "UnitPrice": 1}]},
            "Invalid reference: Item",
        ),
        ({"SalesInvoiceLines": [{"Item": "item:WEBSHOP"}]}, "Mandatory: Unit price"),
    ],
)
def test_sales_invoice_validation(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, overrides: dict[str, Any], message: str
) -> None:
    for line in overrides.get("SalesInvoiceLines", []):
        if str(line.get("Item", "")).startswith("item:"):
            line["Item"] = exact_sandbox.seeded_id("item", line["Item"][5:])
    body = {k: v for k, v in _invoice(exact_sandbox, **overrides).items() if v is not None}
    answer = _post(exact_api, "salesinvoice/SalesInvoices", body)
    assert answer.status_code == 500  # a business refusal (fidelity report 3.2)
    assert message in _error(answer).split("\r\n")


def test_direct_credit_note_with_warehouse(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    lines = [{"Item": exact_sandbox.seeded_id("item", "WEBSHOP"), "Quantity": -1, "UnitPrice": 10}]
    body = _invoice(
        exact_sandbox,
        Type=8024,
        Warehouse=exact_sandbox.seeded_id("warehouse", "1"),
        SalesInvoiceLines=lines,
    )
    credit = _post(exact_api, "salesinvoice/SalesInvoices", body).json()["d"]
    assert credit["Type"] == 8024 and credit["AmountFC"] == -12.1


def test_sales_order_with_lines(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    body = {
        "OrderedBy": exact_sandbox.seeded_id("account", "2"),
        "YourRef": "WEB-3001",
        "SalesOrderLines": [
            {"Item": exact_sandbox.seeded_id("item", "BAND-28-GRS"), "Quantity": 2, "UnitPrice": 30}
        ],
    }
    order = _post(exact_api, "salesorder/SalesOrders", body).json()["d"]
    assert order["OrderNumber"] == 1 and order["Status"] == 12
    assert order["AmountFC"] == 72.6
    missing_item = _post(
        exact_api, "salesorder/SalesOrders", {**body, "SalesOrderLines": [{"UnitPrice": 1}]}
    )
    assert _error(missing_item) == "Mandatory: Item"


def test_sales_order_lines_have_no_gl_account_and_their_vat_is_vat_amount(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    # Exact's SalesOrderLines (reference page SalesOrderSalesOrderLines): Item, Quantity,
    # UnitPrice, VATCode, VATAmount; no GLAccount, no VATAmountFC.
    line = {"Item": exact_sandbox.seeded_id("item", "BAND-28-GRS"), "Quantity": 2, "UnitPrice": 30}
    body = {"OrderedBy": exact_sandbox.seeded_id("account", "2"), "YourRef": "WEB-3002"}
    for name, value in (
        ("GLAccount", exact_sandbox.seeded_id("gl", "8000")),
        ("VATAmountFC", "12.60"),
    ):
        refused = _post(
            exact_api,
            "salesorder/SalesOrders",
            {**body, "SalesOrderLines": [{**line, name: value}]},
        )
        assert refused.status_code == 400
        assert _error(refused) == (
            "Error processing request stream. The property name "
            f"'{name}' specified for type 'Exact.Web.Api.Models.SalesOrderLine' is not valid."
        )
    given_vat = {**line, "VATAmount": "12.59"}  # 60.00 at 21% would be 12.60
    order = _post(
        exact_api, "salesorder/SalesOrders", {**body, "SalesOrderLines": [given_vat]}
    ).json()["d"]
    assert (order["AmountFCExclVat"], order["AmountFC"]) == (60, 72.59)
    [booked] = _lines(exact_api, order, "SalesOrderLines")
    assert (booked["AmountFC"], booked["VATAmount"], booked["ItemCode"]) == (
        60,
        12.59,
        "BAND-28-GRS",
    )
    assert "GLAccount" not in booked and "VATAmountFC" not in booked
    selecting = exact_api.get(
        "salesorder/SalesOrderLines", params={"$select": "GLAccount,VATAmountFC"}
    )
    assert selecting.status_code == 400
    assert _error(selecting) == (
        "No property 'GLAccount' exists in type 'Exact.Web.Api.Models.SalesOrderLine'."
    )


def test_new_account_gets_the_next_padded_code(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    body = {"Name": "J. de Vries", "Status": "C", "Country": "NL", "Email": "j@devries.example"}
    account = _post(exact_api, "crm/Accounts", body).json()["d"]
    assert account["Code"] == " " * 17 + "6"
    assert account["Country"] == "NL "
    assert account["IsSales"] is True
    explicit = _post(exact_api, "crm/Accounts", {"Name": "Webklant", "Code": "4000"}).json()["d"]
    assert explicit["Code"] == "4000".rjust(18)
    duplicate = _post(exact_api, "crm/Accounts", {"Name": "Again", "Code": "4000"})
    assert _error(duplicate) == "Duplicate: Code 4000"
    assert _error(_post(exact_api, "crm/Accounts", {"Email": "x@y.example"})) == "Mandatory: Name"
    long_name = _post(exact_api, "crm/Accounts", {"Name": "N" * 51})
    assert _error(long_name) == "Name: maximum length is 50 characters"


def test_new_item_defaults_to_the_default_group(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    item = _post(
        exact_api,
        "logistics/Items",
        {"Code": "SKU-1", "Description": "Zadeltas", "SalesVatCode": "2"},
    ).json()["d"]
    assert item["ItemGroupCode"] == "WEB" and item["SalesVatCode"] == "2  "
    again = _post(exact_api, "logistics/Items", {"Code": "SKU-1", "Description": "Other"})
    assert _error(again) == "Duplicate: Code SKU-1"
    too_long = _post(exact_api, "logistics/Items", {"Code": "X" * 31, "Description": "Long"})
    assert "maximum length is 30" in _error(too_long)


def test_document_with_attachment_linked_to_an_entry(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    document = _post(
        exact_api, "documents/Documents", {"Subject": "Factuur WEB-1001", "Type": 10}
    ).json()["d"]
    pdf = b"%PDF-1.4 sandbox"
    attachment = _post(
        exact_api,
        "documents/DocumentAttachments",
        {
            "Document": document["ID"],
            "FileName": "WEB-1001.pdf",
            "Attachment": base64.b64encode(pdf).decode(),
        },
    ).json()["d"]
    assert attachment["FileSize"] == len(pdf)
    assert attachment["Attachment"] is None
    download = exact_api.get(attachment["Url"] + "&Download=1")
    assert download.content == pdf
    entry = _post(
        exact_api, "salesentry/SalesEntries", _entry(exact_sandbox, Document=document["ID"])
    )
    assert entry.json()["d"]["Document"] == document["ID"]


def test_attachment_validation_and_size_limit(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    document_id = _post(exact_api, "documents/Documents", {"Subject": "S", "Type": 10}).json()["d"][
        "ID"
    ]
    not_base64 = _post(
        exact_api,
        "documents/DocumentAttachments",
        {"Document": document_id, "FileName": "a.pdf", "Attachment": "***"},
    )
    assert "'Edm.Binary'" in _error(not_base64)
    too_big = base64.b64encode(b"0" * (10 * 1024 * 1024 + 1)).decode()
    refused = _post(
        exact_api,
        "documents/DocumentAttachments",
        {"Document": document_id, "FileName": "big.pdf", "Attachment": too_big},
    )
    assert refused.status_code == 500 and "too large" in _error(refused)
    missing = _post(exact_api, "documents/DocumentAttachments", {"FileName": "a.pdf"})
    assert _error(missing) == "Mandatory: Document\r\nMandatory: Attachment"
    bad_type = _post(exact_api, "documents/Documents", {"Subject": "S", "Type": 3})
    assert _error(bad_type) == "Invalid reference: Type"


def test_get_only_endpoints_refuse_post(exact_api: httpx.Client) -> None:
    assert exact_api.post("financial/GLAccounts", json={"Code": "1"}).status_code == 405
    assert exact_api.post("bulk/CRM/Accounts", json={"Name": "x"}).status_code == 405
