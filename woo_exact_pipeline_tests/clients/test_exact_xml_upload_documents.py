"""A sale as a GLTransaction of an XML upload, written out by hand; which events Exact books
alike when it computes the VAT itself; and Exact's answer read message by message."""

from dataclasses import replace

import pytest

from woo_exact_pipeline.bookkeeping.model import AccountingEvent, Debtor, JournalLine
from woo_exact_pipeline.exact.errors import ExactResponseError
from woo_exact_pipeline.exact.xml_upload import (
    EntryToUpload,
    MessageType,
    UploadMessage,
    accounts_document,
    books_alike,
    document,
    entry_outcomes,
    messages,
)
from woo_exact_pipeline_tests.support.exact_bodies import D, event, line

PERCENTAGES = {"1": D("0.09"), "2": D("0.21")}


def sale(*lines: JournalLine, currency: str = "EUR") -> AccountingEvent:
    return replace(event("sale", "1001", *lines), currency=currency)


def revenue(gl: str, vat_code: str, net: str, vat: str, item: str = "KOFFIE") -> JournalLine:
    return line("revenue", gl, vat_code, item, net, vat)


def test_exact_books_alike_only_what_it_computes_to_the_same_cent() -> None:
    # 41.24 x 21% = 8.6604 -> 8.66, as WooCommerce charged.
    assert books_alike(sale(revenue("8000", "2", "41.24", "8.66")), PERCENTAGES, "EUR")
    # 69.00 including VAT is 57.02 + 11.98 in WooCommerce; Exact computes 57.02 x 21% = 11.97.
    assert not books_alike(sale(revenue("8000", "2", "57.02", "11.98")), PERCENTAGES, "EUR")
    assert not books_alike(sale(revenue("8000", "4", "10.00", "0.00")), PERCENTAGES, "EUR")
    assert not books_alike(
        sale(revenue("8000", "2", "10.00", "2.10"), currency="USD"), PERCENTAGES, "EUR"
    )


def test_a_sale_becomes_a_debtor_line_with_the_total_and_credit_lines_with_their_vat_codes() -> (
    None
):
    order = sale(
        revenue("8000", "2", "41.24", "8.66"), revenue("8010", "1", "22.89", "2.06", "BOEK")
    )
    xml = document([EntryToUpload(order, 26709001, "2")], journal="70", receivables_gl="1300")
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
