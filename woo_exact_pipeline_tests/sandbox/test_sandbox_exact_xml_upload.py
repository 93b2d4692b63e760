"""XMLUpload.aspx as Exact answers it: many sales entries in one call, each created or refused
on its own with its message, entry numbers kept and never given twice, the entries visible over
REST as if posted one by one, and the call counted once against the same limits."""

from __future__ import annotations

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.exact.xml_upload import ERROR, FATAL, SUCCESS, messages_of


def gl_transaction(entry: int, your_ref: str, total: str, *revenue: tuple[str, str, str]) -> str:
    """A sales entry in journal 70 for debtor 2: the debtor line with the total, then each
    (GL account, credit amount, VAT code) revenue line."""
    lines = "".join(
        f"""
      <GLTransactionLine type="20" line="{number}">
        <Date>2026-03-01</Date>
        <GLAccount code="{gl}"/>
        <Description>Omzet</Description>
        <Amount><Currency code="EUR"/><Value>{value}</Value><VAT code="{vat}"/></Amount>
      </GLTransactionLine>"""
        for number, (gl, value, vat) in enumerate(revenue, start=2)
    )
    return f"""
    <GLTransaction entry="{entry}">
      <TransactionType number="20"/>
      <Journal code="70"/>
      <Date>2026-03-01</Date>
      <Description>Webshop order {your_ref}</Description>
      <GLTransactionLine type="20" line="1">
        <Date>2026-03-01</Date>
        <GLAccount code="1300"/>
        <Account code="2"/>
        <Amount><Currency code="EUR"/><Value>{total}</Value></Amount>
        <References><YourRef>{your_ref}</YourRef></References>
      </GLTransactionLine>{lines}
    </GLTransaction>"""


def document(*transactions: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><eExact><GLTransactions>'
        + "".join(transactions)
        + "</GLTransactions></eExact>"
    ).encode()


def upload(
    sandbox: ExactSandbox, token: str, body: bytes, topic: str = "GLTransactions"
) -> httpx.Response:
    return httpx.post(
        f"{sandbox.base_url}/docs/XMLUpload.aspx",
        params={"Topic": topic, "_Division_": str(sandbox.division)},
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
        timeout=10,
    )


@pytest.fixture
def token(exact_tokens: dict[str, str]) -> str:
    return exact_tokens["access_token"]


def test_two_entries_in_one_call_land_as_sales_entries_with_their_numbers(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, token: str
) -> None:
    before = exact_api.get("salesentry/SalesEntries", params={"$select": "EntryID"})
    remaining = int(before.headers["X-RateLimit-Minutely-Remaining"])
    answer = upload(
        exact_sandbox,
        token,
        document(
            # 100.00 at 21 % (21.00) and 10.00 at 9 % (0.90): 131.90.
            gl_transaction(
                26700001, "WEB-1001", "131.90", ("8000", "-100.00", "2"), ("8010", "-10.00", "1")
            ),
            gl_transaction(26700002, "WEB-1002", "12.10", ("8000", "-10.00", "2")),
        ),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert [(m.type, m.key_alt, m.description) for m in messages_of(answer.content)] == [
        (SUCCESS, "26700001", "Created"),
        (SUCCESS, "26700002", "Created"),
    ]
    # One upload is one call of the minute, however many entries it holds.
    assert int(answer.headers["X-RateLimit-Minutely-Remaining"]) == remaining - 1

    [entry] = exact_sandbox.sales_entries("WEB-1001")
    assert (entry["EntryNumber"], entry["Journal"], entry["Type"]) == (26700001, "70", 20)
    assert entry["Customer"] == exact_sandbox.seeded_id("account", "2")
    assert (str(entry["AmountFC"]), str(entry["VATAmountFC"])) == ("131.90", "21.90")
    lines = exact_api.get(
        "salesentry/SalesEntryLines",
        params={
            "$filter": f"EntryID eq guid'{entry['EntryID']}'",
            "$select": "AmountFC,VATAmountFC,VATCode",
        },
    ).json()["d"]["results"]
    assert [(li["AmountFC"], li["VATAmountFC"], li["VATCode"].strip()) for li in lines] == [
        (100.0, 21.0, "2"),
        (10.0, 0.9, "1"),
    ]


def test_an_entry_number_the_journal_has_is_refused_while_the_rest_lands(
    exact_sandbox: ExactSandbox, token: str
) -> None:
    first = gl_transaction(26700001, "WEB-1001", "12.10", ("8000", "-10.00", "2"))
    assert upload(exact_sandbox, token, document(first)).status_code == 200
    again = upload(
        exact_sandbox,
        token,
        document(first, gl_transaction(26700002, "WEB-1002", "12.10", ("8000", "-10.00", "2"))),
    )
    assert [(m.type, m.key_alt, m.description) for m in messages_of(again.content)] == [
        (ERROR, "26700001", "Already exists - Entry number: 26700001, Journal: 70"),
        (SUCCESS, "26700002", "Created"),
    ]
    assert len(exact_sandbox.sales_entries("WEB-1001")) == 1
    assert len(exact_sandbox.sales_entries("WEB-1002")) == 1


def test_an_entry_out_of_balance_or_on_an_unknown_debtor_is_refused_with_exacts_words(
    exact_sandbox: ExactSandbox, token: str
) -> None:
    unbalanced = gl_transaction(26700003, "WEB-1003", "12.11", ("8000", "-10.00", "2"))
    unknown_debtor = gl_transaction(26700004, "WEB-1004", "12.10", ("8000", "-10.00", "2"))
    unknown_debtor = unknown_debtor.replace('<Account code="2"/>', '<Account code="999999"/>')
    answer = upload(exact_sandbox, token, document(unbalanced, unknown_debtor))
    assert [(m.type, m.description) for m in messages_of(answer.content)] == [
        (ERROR, "The entry is not in balance. Difference: EUR 0.01"),
        (ERROR, "Invalid reference: Account"),
    ]
    assert exact_sandbox.sales_entries() == []


def test_later_rest_entries_skip_the_numbers_an_upload_took(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, token: str
) -> None:
    # Exact's own numbering for journal 70 in 2026 starts at 26700001.
    upload(
        exact_sandbox,
        token,
        document(gl_transaction(26700001, "X-1", "12.10", ("8000", "-10.00", "2"))),
    )
    posted = exact_api.post(
        "salesentry/SalesEntries",
        json={
            "Journal": "70",
            "Customer": exact_sandbox.seeded_id("account", "2"),
            "EntryDate": "2026-03-01T00:00:00",
            "SalesEntryLines": [
                {"GLAccount": exact_sandbox.seeded_id("gl", "8000"), "AmountFC": "10.00"}
            ],
        },
        headers={"Prefer": "return=representation"},
    )
    assert posted.json()["d"]["EntryNumber"] == 26700002


def test_a_request_over_ten_megabytes_an_unknown_topic_or_no_token_is_refused_whole(
    exact_sandbox: ExactSandbox, token: str
) -> None:
    entry = gl_transaction(26700001, "WEB-1001", "12.10", ("8000", "-10.00", "2"))
    too_large = document(*[entry] * (10_000_000 // len(entry) + 1))
    assert upload(exact_sandbox, token, too_large).status_code == 413
    [fatal] = messages_of(upload(exact_sandbox, token, document(entry), topic="Invoices").content)
    assert (fatal.type, fatal.description) == (FATAL, "Topic [Invoices] is not supported")
    assert upload(exact_sandbox, "not-a-token", document(entry)).status_code == 401
    assert exact_sandbox.sales_entries() == []


def test_new_customers_in_one_accounts_upload_get_codes_and_show_over_rest(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, token: str
) -> None:
    accounts = b"""<?xml version="1.0" encoding="utf-8"?><eExact><Accounts>
      <Account status="C"><Name>Sanne Visser</Name><Email>sanne@example.nl</Email>
        <Address><AddressLine1>Dorpsstraat 1</AddressLine1><PostalCode>1234 AB</PostalCode>
          <City>Ergens</City><Country code="NL"/></Address></Account>
      <Account status="C"><Email>zonder-naam@example.nl</Email></Account>
      <Account status="C"><Name>Bakkerij Jansen BV</Name><Email>info@jansen.example</Email>
        <Address><Country code="BE"/></Address><VATNumber>BE0123456789</VATNumber></Account>
    </Accounts></eExact>"""
    answer = upload(exact_sandbox, token, accounts, topic="Accounts")
    found = list(messages_of(answer.content))
    assert [(m.type, m.node, m.description) for m in found] == [
        (SUCCESS, "Account", "Created"),
        (ERROR, "Account", "Mandatory: Name"),
        (SUCCESS, "Account", "Created"),
    ]
    read = exact_api.get(
        "crm/Accounts",
        params={
            "$filter": "Email eq 'sanne@example.nl' or Email eq 'info@jansen.example'",
            "$select": "Code,Name,Status,City,Country,VATNumber",
        },
    ).json()["d"]["results"]
    assert [(a["Code"].strip(), a["Name"], a["Status"]) for a in read] == [
        (found[0].key_alt, "Sanne Visser", "C"),
        (found[2].key_alt, "Bakkerij Jansen BV", "C"),
    ]
    assert (read[0]["City"], read[0]["Country"].strip()) == ("Ergens", "NL")
    assert read[1]["VATNumber"] == "BE0123456789"
