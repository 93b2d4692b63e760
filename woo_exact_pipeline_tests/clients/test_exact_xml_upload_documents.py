"""A sale as a GLTransaction of an XML upload, written out by hand; which events Exact books
alike when it computes the VAT itself; and Exact's answer read message by message."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_exact_pipeline.bookkeeping.model import AccountingEvent, Debtor, JournalLine
from woo_exact_pipeline.bookkeeping.money import to_cents
from woo_exact_pipeline.exact.errors import ExactResponseError
from woo_exact_pipeline.exact.xml_upload import (
    EntryToUpload,
    LineToUpload,
    MessageType,
    UploadMessage,
    accounts_document,
    document,
    entry_outcomes,
    lines_to_upload,
    messages,
    vat_exact_parts,
)
from woo_exact_pipeline_tests.support.exact_bodies import D, event, line

PERCENTAGES = {"1": D("0.09"), "2": D("0.21")}


def sale(*lines: JournalLine, currency: str = "EUR") -> AccountingEvent:
    return replace(event("sale", "1001", *lines), currency=currency)


def revenue(gl: str, vat_code: str, net: str, vat: str, item: str = "KOFFIE") -> JournalLine:
    return line("revenue", gl, vat_code, item, net, vat)


def test_a_line_whose_vat_exact_computes_alike_is_uploaded_whole() -> None:
    # 41.24 x 21% = 8.6604 -> 8.66, as WooCommerce charged.
    assert lines_to_upload(sale(revenue("8000", "2", "41.24", "8.66")), PERCENTAGES, "EUR") == (
        LineToUpload("8000", "2", "revenue KOFFIE", D("41.24")),
    )


def test_a_line_whose_vat_exact_computes_a_cent_off_is_uploaded_in_parts_that_add_up() -> None:
    # 69.00 including VAT is 57.02 + 11.98 in WooCommerce; Exact computes 57.02 x 21% = 11.97,
    # but 28.51 x 21% = 5.9871 -> 5.99 twice is 11.98.
    assert vat_exact_parts(D("57.02"), D("11.98"), D("0.21")) == [D("28.51"), D("28.51")]
    # A refund of it: the same parts, negative.
    assert vat_exact_parts(D("-57.02"), D("-11.98"), D("0.21")) == [D("-28.51"), D("-28.51")]
    # 3 x 4.99 including 9%: WooCommerce 13.74 + 1.23 (per item); Exact 13.74 x 9% = 1.24.
    assert vat_exact_parts(D("13.74"), D("1.23"), D("0.09")) == [D("6.83"), D("6.91")]


def test_what_no_split_mends_stays_for_the_rest_path() -> None:
    # A cent with a cent of VAT at 21%: no part of it has VAT of its own.
    assert vat_exact_parts(D("0.01"), D("0.01"), D("0.21")) is None
    assert lines_to_upload(sale(revenue("8000", "4", "10.00", "0.00")), PERCENTAGES, "EUR") is None
    usd = sale(revenue("8000", "2", "10.00", "2.10"), currency="USD")
    assert lines_to_upload(usd, PERCENTAGES, "EUR") is None


@given(
    cents=st.integers(min_value=100, max_value=10_000_000),
    percentage=st.sampled_from([D("0.21"), D("0.09"), D("0.06"), D("0.19")]),
    off=st.sampled_from([-1, 1]),
    sign=st.sampled_from([1, -1]),
)
def test_parts_keep_the_amount_and_make_exacts_vat_the_shops(
    cents: int, percentage: Decimal, off: int, sign: int
) -> None:
    amount = sign * cents * D("0.01")
    vat = to_cents(amount * percentage) + sign * off * D("0.01")
    parts = vat_exact_parts(amount, vat, percentage)
    assert parts is not None
    assert sum(parts) == amount
    assert sum(to_cents(part * percentage) for part in parts) == vat
    assert all(part * sign > 0 for part in parts)


def test_a_sale_becomes_a_debtor_line_with_the_total_and_credit_lines_with_their_vat_codes() -> (
    None
):
    order = sale(
        revenue("8000", "2", "41.24", "8.66"), revenue("8010", "1", "22.89", "2.06", "BOEK")
    )
    lines = lines_to_upload(order, PERCENTAGES, "EUR")
    assert lines is not None
    xml = document(
        [EntryToUpload(order, 26709001, "2", lines)], journal="70", receivables_gl="1300"
    )
    assert xml.decode() == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        "<eExact><GLTransactions>"
        '<GLTransaction entry="26709001">'
        '<TransactionType number="20" /><Journal code="70" />'
        "<Date>2026-10-20</Date><Description>Order 1001</Description>"
        '<GLTransactionLine type="20" linetype="0" line="1">'
        '<Date>2026-10-20</Date><GLAccount code="1300" /><Description>Order 1001</Description>'
        '<Account code="2" />'
        '<Amount><Currency code="EUR" /><Value>74.85</Value></Amount>'
        "<References><YourRef>1001</YourRef></References>"
        "</GLTransactionLine>"
        '<GLTransactionLine type="20" linetype="0" line="2">'
        '<Date>2026-10-20</Date><GLAccount code="8000" /><Description>revenue KOFFIE</Description>'
        '<Amount><Currency code="EUR" /><Value>-41.24</Value><VAT code="2" /></Amount>'
        "</GLTransactionLine>"
        '<GLTransactionLine type="20" linetype="0" line="3">'
        '<Date>2026-10-20</Date><GLAccount code="8010" /><Description>revenue BOEK</Description>'
        '<Amount><Currency code="EUR" /><Value>-22.89</Value><VAT code="1" /></Amount>'
        "</GLTransactionLine>"
        "</GLTransaction></GLTransactions></eExact>"
    )


ANSWER = b"""<?xml version="1.0" encoding="utf-8"?>
<eExact><Messages>
  <Message type="2">
    <Topic code="GLTransactions" node="GLTransaction"><Data keyAlt="26709001"/></Topic>
    <Date>2026-10-20T10:00:00</Date><Description>Created</Description>
  </Message>
  <Message type="0">
    <Topic code="GLTransactions" node="GLTransaction"><Data keyAlt="26709002"/></Topic>
    <Date>2026-10-20T10:00:00</Date>
    <Description>Already exists - Entry number: 26709002, Journal: 70</Description>
  </Message>
  <Message type="1">
    <Topic code="GLTransactions" node="Account"><Data key="2"/></Topic>
    <Description>Updated</Description>
  </Message>
</Messages></eExact>"""


def test_the_answer_is_read_as_one_outcome_per_entry_number() -> None:
    read = messages(ANSWER)
    assert read[2] == UploadMessage(MessageType.WARNING, "Account", None, "Updated")
    assert entry_outcomes(read) == {
        26709001: UploadMessage(MessageType.SUCCESS, "GLTransaction", "26709001", "Created"),
        26709002: UploadMessage(
            MessageType.ERROR,
            "GLTransaction",
            "26709002",
            "Already exists - Entry number: 26709002, Journal: 70",
        ),
    }


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (b"<html>Service unavailable</html", "is no XML"),
        (b'<eExact><Messages><Message type="7"/></Messages></eExact>', "unknown type '7'"),
    ],
)
def test_an_answer_that_is_no_upload_answer_is_a_typed_error(answer: bytes, says: str) -> None:
    with pytest.raises(ExactResponseError, match=says):
        messages(answer)


def test_new_customers_become_accounts_without_codes_in_the_schemas_order() -> None:
    shopper = Debtor(
        source="customer",
        code=None,
        email="sanne@example.nl",
        name="Sanne Visser",
        address_line_1="Dorpsstraat 1",
        postcode="1234 AB",
        city="Ergens",
        country="NL",
    )
    company = Debtor(
        source="customer",
        code=None,
        email="info@jansen.example",
        name="Piet Jansen",
        company="Bakkerij Jansen BV",
        country="BE",
        vat_number="BE0123456789",
    )
    assert accounts_document([shopper, company]).decode() == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        "<eExact><Accounts>"
        '<Account status="C"><Name>Sanne Visser</Name><Email>sanne@example.nl</Email>'
        "<Address><AddressLine1>Dorpsstraat 1</AddressLine1><PostalCode>1234 AB</PostalCode>"
        '<City>Ergens</City><Country code="NL" /></Address></Account>'
        '<Account status="C"><Name>Bakkerij Jansen BV</Name><Email>info@jansen.example</Email>'
        '<Address><Country code="BE" /></Address><VATNumber>BE0123456789</VATNumber></Account>'
        "</Accounts></eExact>"
    )
