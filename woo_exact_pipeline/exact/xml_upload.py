"""Sales entries and credit notes as one XML upload (`XMLUpload.aspx?Topic=GLTransactions`),
and Exact's answer to it, a message per entry.

An event becomes one `<GLTransaction>` under the entry number the booking ledger gave it
beforehand: the number is the idempotency handle (Exact refuses a number its journal has,
"Already exists"), so a lost answer is recovered by reading Exact back by number, never by
uploading twice. The lines are the event's own: a debtor line with the total including VAT,
then each journal line as a credit (a negative value) with its VAT code.

The XML `Amount` has no VAT amount: Exact computes each line's VAT from its code, percentage
times amount rounded to the cent. WooCommerce takes VAT out of prices including it, so about a
line in five has a VAT a cent off that. Such a line is uploaded in two (or a few) parts of the
same GL account, VAT code and description whose VATs, as Exact computes them, add up to
WooCommerce's: 57.02 with 11.98 VAT at 21 % (Exact: 11.97) goes as 28.51 + 28.51 (5.99 + 5.99).
The VAT return, the ledger and the reconciliation (which joins the parts again) see the same
figures as from the REST path. An event in another currency than the administration's, or
with a line no split mends, stays for the REST path (`lines_to_upload` says None). Element
names and order follow Exact's eExact-XML.xsd (../shared/reference/exact_xml_api.md).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from woo_exact_pipeline.bookkeeping.model import AccountingEvent, Debtor
from woo_exact_pipeline.bookkeeping.money import CENT, to_cents
from woo_exact_pipeline.exact.errors import ExactResponseError

#: The topics uploaded: sales entries and credit notes, and new debtors.
GL_TRANSACTIONS, ACCOUNTS = "GLTransactions", "Accounts"
SALES_ENTRY, SALES_CREDIT_NOTE = 20, 21
#: Exact's limit on one request; the documents stay below it with room for the envelope.
MAX_DOCUMENT_BYTES = 9_500_000


class MessageType(IntEnum):
    """`<Message type="...">`: 0 error, 1 warning, 2 success, 3 fatal (eExact-XML.xsd)."""

    ERROR = 0
    WARNING = 1
    SUCCESS = 2
    FATAL = 3


@dataclass(frozen=True, slots=True)
class UploadMessage:
    type: MessageType
    node: str
    #: For a GLTransaction the entry number; None when the message names no record.
    key: str | None
    description: str


@dataclass(frozen=True, slots=True)
class LineToUpload:
    """A revenue line as uploaded: one of the event's lines, or a part of one."""

    gl_account: str
    vat_code: str
    description: str
    amount: Decimal  # excluding VAT, as the event has it (negative on a credit note's refund)


@dataclass(frozen=True, slots=True)
class EntryToUpload:
    """An event with what the XML needs beyond it: its entry number, the debtor's code and
    its lines as Exact is to compute their VAT (`lines_to_upload`)."""

    event: AccountingEvent
    entry_number: int
    debtor_code: str
    lines: tuple[LineToUpload, ...]


#: A line is split in at most this many parts; one that needs more goes the REST way.
MAX_PARTS = 4


def lines_to_upload(
    event: AccountingEvent, vat_percentages: Mapping[str, Decimal], own_currency: str
) -> tuple[LineToUpload, ...] | None:
    """The event's lines such that Exact, computing each one's VAT from its code (a fraction:
    0.21), books the event to the cent as the REST path posts it; None when it cannot."""
    if event.currency != own_currency or not event.lines:
        return None
    uploaded: list[LineToUpload] = []
    for line in event.lines:
        if line.vat_code is None or line.vat_code not in vat_percentages:
            return None
        parts = vat_exact_parts(
            line.amount_excl_vat, line.vat_amount, vat_percentages[line.vat_code]
        )
        if parts is None:
            return None
        uploaded += [
            LineToUpload(line.gl_account, line.vat_code, line.description, part) for part in parts
        ]
    return tuple(uploaded)


def vat_exact_parts(amount: Decimal, vat: Decimal, percentage: Decimal) -> list[Decimal] | None:
    """`amount` in as few parts (same sign, none zero) as make the VATs Exact computes per part
    add up to `vat`: `[amount]` when Exact computes `vat` from it whole; None when no split in
    up to MAX_PARTS does. The parts are as equal as the search allows: all but the last alike."""
    if to_cents(amount * percentage) == vat:
        return [amount]
    sign = -1 if amount < 0 else 1
    cents = int(abs(amount) / CENT)
    target = abs(vat)

    def vat_of(part_cents: int) -> Decimal:
        return to_cents(part_cents * CENT * percentage)

    for count in range(2, MAX_PARTS + 1):
        for part in range(cents // count, max(cents // count - 500, 0), -1):
            rest = cents - (count - 1) * part
            if (count - 1) * vat_of(part) + vat_of(rest) == target:
                return [sign * part * CENT] * (count - 1) + [sign * rest * CENT]
    return None


def document(entries: Sequence[EntryToUpload], journal: str, receivables_gl: str) -> bytes:
    """One `<eExact>` document with a `<GLTransaction>` per entry, in the given order."""
    root = ElementTree.Element("eExact")
    transactions = ElementTree.SubElement(root, "GLTransactions")
    for entry in entries:
        transactions.append(_transaction(entry, journal, receivables_gl))
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _transaction(entry: EntryToUpload, journal: str, receivables_gl: str) -> ElementTree.Element:
    event = entry.event
    kind = str(SALES_ENTRY if event.kind == "sale" else SALES_CREDIT_NOTE)
    day = event.event_date.isoformat()
    transaction = ElementTree.Element("GLTransaction", entry=str(entry.entry_number))
    ElementTree.SubElement(transaction, "TransactionType", number=kind)
    ElementTree.SubElement(transaction, "Journal", code=journal)
    ElementTree.SubElement(transaction, "Date").text = day
    ElementTree.SubElement(transaction, "Description").text = event.description
    debtor = _line(transaction, kind, 1, day, receivables_gl, event.description)
    ElementTree.SubElement(debtor, "Account", code=entry.debtor_code)
    _amount(debtor, event.currency, event.total_incl_vat, None)
    references = ElementTree.SubElement(debtor, "References")
    ElementTree.SubElement(references, "YourRef").text = event.reference
    for number, line in enumerate(entry.lines, start=2):
        booked = _line(transaction, kind, number, day, line.gl_account, line.description)
        _amount(booked, event.currency, -line.amount, line.vat_code)
    return transaction


def _line(
    transaction: ElementTree.Element, kind: str, number: int, day: str, gl: str, text: str
) -> ElementTree.Element:
    line = ElementTree.SubElement(
        transaction, "GLTransactionLine", type=kind, linetype="0", line=str(number)
    )
    ElementTree.SubElement(line, "Date").text = day
    ElementTree.SubElement(line, "GLAccount", code=gl)
    ElementTree.SubElement(line, "Description").text = text[:255]
    return line


def _amount(line: ElementTree.Element, currency: str, value: Decimal, vat_code: str | None) -> None:
    amount = ElementTree.SubElement(line, "Amount")
    ElementTree.SubElement(amount, "Currency", code=currency)
    ElementTree.SubElement(amount, "Value").text = format(value, "f")
    if vat_code is not None:
        ElementTree.SubElement(amount, "VAT", code=vat_code)


def accounts_document(debtors: Sequence[Debtor]) -> bytes:
    """New customers as one `<Accounts>` upload, without codes: Exact numbers them as it
    numbers accounts posted over REST. Element order as eExact-XML.xsd's typeAccount."""
    root = ElementTree.Element("eExact")
    accounts = ElementTree.SubElement(root, "Accounts")
    for debtor in debtors:
        account = ElementTree.SubElement(accounts, "Account", status="C")
        ElementTree.SubElement(account, "Name").text = debtor_name(debtor)
        if debtor.email:
            ElementTree.SubElement(account, "Email").text = debtor.email
        address = ElementTree.SubElement(account, "Address")
        for name, value in (
            ("AddressLine1", debtor.address_line_1),
            ("AddressLine2", debtor.address_line_2),
            ("PostalCode", debtor.postcode),
            ("City", debtor.city),
        ):
            if value:
                ElementTree.SubElement(address, name).text = value
        if debtor.country:
            ElementTree.SubElement(address, "Country", code=debtor.country)
        if debtor.vat_number:
            ElementTree.SubElement(account, "VATNumber").text = debtor.vat_number
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def debtor_name(debtor: Debtor) -> str:
    """The account's name in Exact: the company, else the person, else the e-mail address."""
    return debtor.company or debtor.name or debtor.email or ""


def messages(answer: bytes) -> list[UploadMessage]:
    """Exact's answer to an upload, a message per record (and per master record it touched)."""
    try:
        root = ElementTree.fromstring(answer)
    except ElementTree.ParseError as error:
        raise ExactResponseError(f"Exact's answer to an XML upload is no XML: {error}") from None
    found = []
    for message in root.iterfind("./Messages/Message"):
        topic = message.find("Topic")
        data = None if topic is None else topic.find("Data")
        try:
            kind = MessageType(int(message.get("type", "")))
        except ValueError:
            raise ExactResponseError(
                f"Exact's upload answer has a message of unknown type {message.get('type')!r}"
            ) from None
        found.append(
            UploadMessage(
                type=kind,
                node="" if topic is None else topic.get("node", ""),
                key=None if data is None else data.get("keyAlt"),
                description=(message.findtext("Description") or "").strip(),
            )
        )
    return found


def entry_outcomes(answer: Sequence[UploadMessage]) -> dict[int, UploadMessage]:
    """Entry number -> Exact's message on it; messages on other records are left out."""
    return {
        int(message.key): message
        for message in answer
        if message.node == "GLTransaction" and message.key and message.key.isdigit()
    }
