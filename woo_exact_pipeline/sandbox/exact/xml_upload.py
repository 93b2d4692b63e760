"""`docs/XMLUpload.aspx` for the topics a bulk load uses: GLTransactions, sales entries and
credit notes in the sales journal, and Accounts, new customers, many in one call.

What it holds to (../shared/reference/exact_xml_api.md, from the eExact-XML.xsd schema and
integrators' reports): the body is an `<eExact>` document; each `<GLTransaction>` lands or is
refused on its own, answered by one `<Message>` (type 2 "Created" with the entry number in
`keyAlt`, type 0 with Exact's words); an `entry` number the journal already has is refused
"Already exists - Entry number: N, Journal: J" while the rest of the upload lands; a request
over 10 MB is refused whole. An entry lands as if posted to SalesEntries: the same checks, the
same records, visible over REST.

The sandbox's stricter readings where no source decides (UNVERIFIED against a real Exact):
- the debtor line is the one with an `<Account>` (a customer), its GL account a receivables
  account, its value the total including VAT; the other lines are revenue lines, credit
  negative, and Exact computes their VAT from the VAT code (percentage times the amount,
  rounded to the cent): the schema's `Amount` has no VAT amount (only the undocumented
  `ForeignAmount/VATAmount` has), an integrator saw totals move by a cent on import
  (picqer/exact-php-client #662), and Exact's import error "BTW verschil (boeking niet in
  evenwicht)" is reported (Humanwave's help pages);
- an entry whose debtor line differs from its revenue and VAT is refused as not in balance;
- amounts in the administration's currency only (no rate in `Amount`);
- a topic other than these two, or a document that is no XML, is a fatal error (type 3).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from woo_exact_pipeline.sandbox.exact.division import Division, money
from woo_exact_pipeline.sandbox.exact.errors import ExactError
from woo_exact_pipeline.sandbox.exact.model import pad

#: "A single HTTP POST request to the Exact Online API has a size limit of 10.0 MB" (API limits).
MAX_UPLOAD_BYTES = 10_000_000
ERROR, WARNING, SUCCESS, FATAL = 0, 1, 2, 3
SALES_ENTRY, SALES_CREDIT_NOTE = 20, 21


@dataclass(frozen=True)
class Message:
    type: int
    topic: str
    node: str
    key_alt: str | None
    description: str


def upload(division: Division, topic: str, body: bytes, now: datetime) -> bytes:
    """The answer to one upload: its `<eExact><Messages>` document."""
    if topic not in ("GLTransactions", "Accounts"):
        return answer([Message(FATAL, topic, "", None, f"Topic [{topic}] is not supported")], now)
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        return answer([Message(FATAL, topic, "", None, f"The document is no XML: {error}")], now)
    if topic == "Accounts":
        return answer(
            [_create_account(division, a) for a in root.findall("./Accounts/Account")], now
        )
    transactions = root.findall("./GLTransactions/GLTransaction")
    return answer([_book(division, transaction) for transaction in transactions], now)


def _create_account(division: Division, account: ElementTree.Element) -> Message:
    """An `<Account>` as crm/Accounts takes it (eExact-XML.xsd typeAccount: Name, Email, an
    `<Address>` with AddressLine1, PostalCode, City and `<Country code>`, VATNumber); the
    code, when given, in `keyAlt` as the answer names the record (UNVERIFIED: integrators
    read it so)."""
    body = {
        "Code": account.get("code"),
        "Status": account.get("status"),
        "Name": _text(account, "Name"),
        "Email": _text(account, "Email"),
        "AddressLine1": _text(account, "Address/AddressLine1"),
        "AddressLine2": _text(account, "Address/AddressLine2"),
        "Postcode": _text(account, "Address/PostalCode"),
        "City": _text(account, "Address/City"),
        "Country": _attribute(account, "Address/Country", "code"),
        "VATNumber": _text(account, "VATNumber"),
    }
    try:
        created = division.create_account({k: v for k, v in body.items() if v is not None})
    except ExactError as error:
        return Message(ERROR, "Accounts", "Account", account.get("code"), error.message)
    return Message(SUCCESS, "Accounts", "Account", str(created["Code"]).strip(), "Created")


def answer(messages: list[Message], now: datetime) -> bytes:
    root = ElementTree.Element("eExact")
    listed = ElementTree.SubElement(root, "Messages")
    for message in messages:
        element = ElementTree.SubElement(listed, "Message", type=str(message.type))
        topic = ElementTree.SubElement(
            element, "Topic", code=message.topic, node=message.node or message.topic
        )
        data = ElementTree.SubElement(topic, "Data")
        if message.key_alt is not None:
            data.set("keyAlt", message.key_alt)
        ElementTree.SubElement(element, "Date").text = now.strftime("%Y-%m-%dT%H:%M:%S")
        ElementTree.SubElement(element, "Description").text = message.description
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _book(division: Division, transaction: ElementTree.Element) -> Message:
    entry = transaction.get("entry")
    try:
        number = None if entry is None else int(entry)
        body = _sales_entry(division, transaction)
        booked = division.create_sales_entry(body, entry_number=number)
    except _Refused as refused:
        return Message(ERROR, "GLTransactions", "GLTransaction", entry, str(refused))
    except ExactError as error:
        return Message(ERROR, "GLTransactions", "GLTransaction", entry, error.message)
    except ValueError:
        return Message(ERROR, "GLTransactions", "GLTransaction", entry, "Invalid: Entry number")
    return Message(
        SUCCESS, "GLTransactions", "GLTransaction", str(booked["EntryNumber"]), "Created"
    )


class _Refused(Exception):
    pass


def _sales_entry(division: Division, transaction: ElementTree.Element) -> dict[str, object]:
    """The GLTransaction as the SalesEntries body it stands for."""
    kind = int(_attribute(transaction, "TransactionType", "number") or SALES_ENTRY)
    journal = _attribute(transaction, "Journal", "code")
    if journal is None:
        raise _Refused("Mandatory: Journal")
    day = _text(transaction, "Date")
    debtor, revenue = _split_lines(division, transaction)
    lines = [_revenue_line(division, line) for line in revenue]
    _check_balance(division, debtor, lines)
    return {
        "Journal": journal,
        "Type": kind,
        "EntryDate": f"{day}T00:00:00" if day else None,
        "Description": _text(transaction, "Description"),
        "Customer": _customer_id(division, debtor),
        "YourRef": _text(debtor, "References/YourRef"),
        "Currency": _attribute(debtor, "Amount/Currency", "code"),
        "SalesEntryLines": lines,
    }


def _split_lines(
    division: Division, transaction: ElementTree.Element
) -> tuple[ElementTree.Element, list[ElementTree.Element]]:
    lines = transaction.findall("GLTransactionLine")
    if not lines:
        raise _Refused("Mandatory: GLTransactionLine")
    debtors = [line for line in lines if line.find("Account") is not None]
    if len(debtors) != 1:
        raise _Refused("Mandatory: Account")
    # Not read further (Exact books the receivable on the customer), but it must exist.
    code = _attribute(debtors[0], "GLAccount", "code")
    if not code or not division.stores["financial/GLAccounts"].find("Code", code):
        raise _Refused("Invalid reference: G/L account")
    return debtors[0], [line for line in lines if line is not debtors[0]]


def _customer_id(division: Division, debtor: ElementTree.Element) -> str:
    code = _attribute(debtor, "Account", "code") or ""
    accounts = division.stores["crm/Accounts"].find("Code", pad(code, 18))
    if not accounts:
        raise _Refused("Invalid reference: Account")
    return str(accounts[0]["ID"])


def _revenue_line(division: Division, line: ElementTree.Element) -> dict[str, object]:
    code = _attribute(line, "GLAccount", "code")
    accounts = division.stores["financial/GLAccounts"].find("Code", code) if code else []
    if not accounts:
        raise _Refused("Invalid reference: G/L account")
    return {
        "GLAccount": str(accounts[0]["ID"]),
        "Description": _text(line, "Description"),
        # Revenue is a credit: a negative value is a positive amount on the sales entry.
        "AmountFC": str(-_value(line)),
        "VATCode": _attribute(line, "Amount/VAT", "code"),
    }


def _check_balance(
    division: Division, debtor: ElementTree.Element, lines: list[dict[str, object]]
) -> None:
    """The debtor line carries the total: the revenue lines plus the VAT Exact computes."""
    total = Decimal(0)
    for line in lines:
        amount = Decimal(str(line["AmountFC"]))
        code = line["VATCode"]
        vat = division.vat_code(str(code)) if code else None
        if code and vat is None:
            return  # the entry is refused for its VAT code
        total += amount + (money(amount * vat["Percentage"]) if vat else Decimal(0))
    difference = _value(debtor) - total
    if difference:
        raise _Refused(f"The entry is not in balance. Difference: EUR {difference:.2f}")


def _value(line: ElementTree.Element) -> Decimal:
    amount = line.find("Amount")
    if amount is None:
        raise _Refused("Mandatory: Amount")
    try:
        if (value := amount.findtext("Value")) is not None:
            return Decimal(value)
        return Decimal(amount.findtext("Debit") or 0) - Decimal(amount.findtext("Credit") or 0)
    except InvalidOperation:
        raise _Refused("Invalid: Amount") from None


def _attribute(element: ElementTree.Element, path: str, name: str) -> str | None:
    found = element.find(path)
    return None if found is None else found.get(name)


def _text(element: ElementTree.Element, path: str) -> str | None:
    text = element.findtext(path)
    return None if text is None else text.strip() or None


def messages_of(document: bytes) -> Iterator[Message]:
    """The messages of an answer, for the sandbox's own tests."""
    for element in ElementTree.fromstring(document).iterfind("./Messages/Message"):
        topic = element.find("Topic")
        data = None if topic is None else topic.find("Data")
        yield Message(
            int(element.get("type", ERROR)),
            "" if topic is None else topic.get("code", ""),
            "" if topic is None else topic.get("node", ""),
            None if data is None else data.get("keyAlt"),
            element.findtext("Description") or "",
        )
