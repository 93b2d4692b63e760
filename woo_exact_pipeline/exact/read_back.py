"""Reading a day's bookings back from Exact, for the reconciliation.

The documents themselves are read (sales entries, sales invoices or sales orders: whatever the
loader books), not the general ledger: they carry the lines exactly as posted (GL account, VAT
code, amount excluding VAT, VAT), and they exist for every insertion type, draft invoices and
sales orders included, which never reach bulk/Financial/TransactionLines.

The documents are read by YourRef (`YourRef eq 'a' or YourRef eq 'b' ...` in the sales
journal) with their lines expanded inside them (`$expand=SalesEntryLines`), in chunks as long
as Exact's 6,000-character URL limit allows and no longer than a page of 60 documents: a day of
40 orders costs one call, a day of 100 two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.bookkeeping.model import EventKind
from woo_exact_pipeline.bookkeeping.money import ZERO
from woo_exact_pipeline.bookkeeping.reconciliation import ExactDocument, ExactLine
from woo_exact_pipeline.config import InsertionType
from woo_exact_pipeline.exact import reference
from woo_exact_pipeline.exact.client import ExactClient, Record
from woo_exact_pipeline.exact.master_data import MasterData
from woo_exact_pipeline.exact.odata import parse_decimal, string_literal
from woo_exact_pipeline.exact.reference import (
    BOOKING_ENDPOINTS,
    CREDIT_TYPES,
    LINES_PROPERTY,
    SALE_TYPES,
)

#: Exact refuses URLs longer than 6,000 characters after encoding; this leaves room for the
#: `$skiptoken` that Exact appends to a next-page link.
MAX_URL_LENGTH = 5_500
ENTRIES = BOOKING_ENDPOINTS["sales_entry"].path
#: Records a regular endpoint serves per call: more references per call would need a page more.
REGULAR_PAGE = 60
BULK_PAGE = 1_000
LINE_FIELDS = (
    "LineNumber",
    "GLAccount",
    "VATCode",
    "AmountFC",
    "VATAmountFC",
    "AmountDC",
    "VATAmountDC",
)
#: Exact's sales order lines have no GL account (the invoice takes the item's), name their
#: VAT amount `VATAmount` and show no VAT in the administration's currency.
ORDER_LINE_FIELDS = ("LineNumber", "ItemCode", "VATCode", "AmountFC", "VATAmount", "AmountDC")


def read_bookings(
    client: ExactClient,
    master: MasterData,
    insertion_type: InsertionType,
    journal: str,
    references: Iterable[str],
) -> list[ExactDocument]:
    """Every document of this insertion type (in `journal`, where it has one) whose YourRef is
    one of `references`, duplicates included, with its lines; GL accounts as codes."""
    target = BOOKING_ENDPOINTS[insertion_type]
    lines_property = LINES_PROPERTY[insertion_type]
    is_order = insertion_type == "sales_order"
    header_fields = [target.key, target.number, "YourRef", "Currency"]
    if not is_order:
        header_fields.append("Type")
    line_fields = ORDER_LINE_FIELDS if is_order else LINE_FIELDS
    fields = [*header_fields, *(f"{lines_property}/{name}" for name in line_fields)]
    in_journal = f"Journal eq {string_literal(journal.strip())} and " if target.has_journal else ""
    headers: list[Record] = []
    for chunk in _chunks(
        client,
        target.path,
        fields,
        sorted(set(references)),
        lambda refs: in_journal + "(" + _any_of("YourRef", map(string_literal, refs)) + ")",
        expand=lines_property,
    ):
        headers += client.get(target.path, select=fields, filter=chunk, expand=lines_property)

    kinds = _kinds(insertion_type)
    return [
        ExactDocument(
            exact_id=str(header[target.key]),
            number=None if header.get(target.number) is None else str(header[target.number]),
            your_ref=str(header["YourRef"]),
            kind=kinds.get(header.get("Type")) if kinds else None,
            currency=str(header.get("Currency") or "").strip(),
            lines=tuple(
                _line(line, master)
                for line in sorted(header[lines_property]["results"], key=lambda r: r["LineNumber"])
            ),
            gl_on_lines=not is_order,
        )
        for header in headers
    ]


def debtors_by_email(client: ExactClient, emails: Iterable[str]) -> list[reference.Debtor]:
    """The accounts with these e-mail addresses (new debtors read back after an upload), as
    many per call as a URL allows: from the bulk endpoint, whose page of 1,000 is never the
    limit (a day of 137 new customers costs two calls, not three)."""
    found: list[reference.Debtor] = []
    for chunk in _chunks(
        client,
        "bulk/CRM/Accounts",
        reference.DEBTOR_FIELDS,
        sorted(set(emails)),
        lambda values: _any_of("Email", map(string_literal, values)),
        page=BULK_PAGE,
    ):
        for records in client.bulk("CRM/Accounts", select=reference.DEBTOR_FIELDS, filter=chunk):
            found += [reference.debtor_from_record(record) for record in records]
    return found


def entries_by_number(
    client: ExactClient, journal: str, numbers: Iterable[int]
) -> dict[int, reference.ExistingBooking]:
    """The sales entries of the journal with these entry numbers (an XML upload's refusals
    read back: landed before, or the number is another entry's)."""
    fields = ["EntryID", "EntryNumber", "YourRef", "Journal", "Type", "Status"]
    in_journal = f"Journal eq {string_literal(journal.strip())} and "
    found: dict[int, reference.ExistingBooking] = {}
    for chunk in _chunks(
        client,
        ENTRIES,
        fields,
        [str(number) for number in sorted(set(numbers))],
        lambda values: in_journal + "(" + _any_of("EntryNumber", values) + ")",
    ):
        for record in client.get(ENTRIES, select=fields, filter=chunk):
            found[int(record["EntryNumber"])] = reference.existing_booking(record, "sales_entry")
    return found


def highest_entry_number(client: ExactClient, journal: str) -> int | None:
    """The journal's highest entry number in Exact (one call), None when it has none."""
    records = client.get(
        ENTRIES,
        select=["EntryNumber"],
        filter=f"Journal eq {string_literal(journal.strip())}",
        orderby="EntryNumber desc",
        top=1,
    )
    return int(records[0]["EntryNumber"]) if records else None


def _chunks(
    client: ExactClient,
    path: str,
    select: Sequence[str],
    values: Sequence[str],
    condition: Callable[[Sequence[str]], str],
    expand: str | None = None,
    page: int = REGULAR_PAGE,
) -> Iterator[str]:
    """`$filter`s covering `values`, each as many as one page and one URL hold."""
    start = 0
    while start < len(values):
        end = start + 1
        while (
            end < len(values)
            and end - start < page
            and len(
                client.division_url(
                    path,
                    select=select,
                    filter=condition(values[start : end + 1]),
                    expand=expand,
                )
            )
            <= MAX_URL_LENGTH
        ):
            end += 1
        yield condition(values[start:end])
        start = end


def _any_of(field: str, literals: Iterable[str]) -> str:
    return " or ".join(f"{field} eq {literal}" for literal in literals)


def _kinds(insertion_type: InsertionType) -> dict[Any, EventKind]:
    """Document type -> sale or credit; empty for sales orders, which have no such type."""
    if insertion_type == "sales_order":
        return {}
    return {SALE_TYPES[insertion_type]: "sale", CREDIT_TYPES[insertion_type]: "credit"}


def _line(record: Record, master: MasterData) -> ExactLine:
    vat_code = record.get("VATCode")
    item_code = record.get("ItemCode")
    return ExactLine(
        gl_account=master.gl_code_of(record.get("GLAccount")),
        vat_code=str(vat_code).strip() or None if vat_code is not None else None,
        amount_excl_vat=_money(record.get("AmountFC")),
        vat_amount=_money(record["VATAmount"] if "VATAmount" in record else record["VATAmountFC"]),
        item_code=None if item_code is None else str(item_code).strip() or None,
        amount_excl_vat_dc=parse_decimal(record.get("AmountDC")),
        vat_amount_dc=parse_decimal(record.get("VATAmountDC")),
    )


def _money(value: Any) -> Decimal:
    return parse_decimal(value) or ZERO
