"""Exact's master data as small typed records, read with as few calls as Exact allows.

GL accounts, items and debtors come from the bulk endpoints (1,000 records a call); journals
and VAT codes have none and are few. Codes are handed out trimmed: Exact's padding is a storage
detail, `odata.vat_code` puts it back where Exact needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.config import InsertionType
from woo_exact_pipeline.exact.client import ExactClient, Record
from woo_exact_pipeline.exact.odata import parse_date, parse_decimal, string_literal


@dataclass(frozen=True)
class Journal:
    id: str
    code: str
    description: str
    type: int  # 20 sales, 21 return invoice, 90 general, ...
    blocked: bool


@dataclass(frozen=True)
class VatCode:
    id: str
    code: str
    description: str
    percentage: Decimal  # a fraction: 0.21
    type: str  # B base only, E excluding, I including, N no VAT
    transaction_type: str  # S sales, P purchase, B both
    oss_country: str | None
    blocked: bool


@dataclass(frozen=True)
class GlAccount:
    id: str
    code: str
    description: str
    type: int  # 110 revenue, 20 accounts receivable, 24 VAT, ...
    blocked: bool


@dataclass(frozen=True)
class Item:
    id: str
    code: str
    description: str
    is_sales_item: bool
    gl_revenue_id: str | None
    sales_vat_code: str | None


@dataclass(frozen=True)
class Debtor:
    id: str
    code: str
    name: str
    email: str | None
    vat_number: str | None
    country: str | None
    status: str | None  # "C" customer
    is_sales: bool
    blocked: bool


@dataclass(frozen=True)
class Warehouse:
    id: str
    code: str
    description: str


@dataclass(frozen=True)
class ExistingBooking:
    """A document found in Exact by its YourRef (the idempotency lookup)."""

    id: str
    number: str | None
    your_ref: str
    journal: str | None
    type: int | None
    status: int | None


@dataclass(frozen=True)
class _BookingEndpoint:
    path: str
    key: str
    number: str
    has_journal: bool


BOOKING_ENDPOINTS: dict[InsertionType, _BookingEndpoint] = {
    "sales_entry": _BookingEndpoint("salesentry/SalesEntries", "EntryID", "EntryNumber", True),
    "sales_invoice": _BookingEndpoint(
        "salesinvoice/SalesInvoices", "InvoiceID", "InvoiceNumber", True
    ),
    "direct_sales_invoice": _BookingEndpoint(
        "salesinvoice/SalesInvoices", "InvoiceID", "InvoiceNumber", True
    ),
    "sales_order": _BookingEndpoint("salesorder/SalesOrders", "OrderID", "OrderNumber", False),
}

JOURNAL_FIELDS = ("ID", "Code", "Description", "Type", "IsBlocked")
VAT_CODE_FIELDS = (
    "ID",
    "Code",
    "Description",
    "Percentage",
    "Type",
    "VATTransactionType",
    "OssCountry",
    "IsBlocked",
)
GL_ACCOUNT_FIELDS = ("ID", "Code", "Description", "Type", "IsBlocked")
ITEM_FIELDS = ("ID", "Code", "Description", "IsSalesItem", "GLRevenue", "SalesVatCode")
DEBTOR_FIELDS = (
    "ID",
    "Code",
    "Name",
    "Email",
    "VATNumber",
    "Country",
    "Status",
    "IsSales",
    "Blocked",
)


SALE_TYPES = {"sales_entry": 20, "sales_invoice": 8020, "direct_sales_invoice": 8023}
CREDIT_TYPES = {"sales_entry": 21, "sales_invoice": 8021, "direct_sales_invoice": 8024}
LINES_PROPERTY = {
    "sales_entry": "SalesEntryLines",
    "sales_invoice": "SalesInvoiceLines",
    "direct_sales_invoice": "SalesInvoiceLines",
    "sales_order": "SalesOrderLines",
}


def journals(client: ExactClient) -> list[Journal]:
    return [_journal(record) for record in client.get("financial/Journals", select=JOURNAL_FIELDS)]


def vat_codes(client: ExactClient) -> list[VatCode]:
    return [_vat_code(record) for record in client.get("vat/VATCodes", select=VAT_CODE_FIELDS)]


def gl_accounts(client: ExactClient) -> list[GlAccount]:
    return [
        _gl_account(record)
        for page in client.bulk("Financial/GLAccounts", select=GL_ACCOUNT_FIELDS)
        for record in page
    ]


def items(client: ExactClient) -> list[Item]:
    return [
        _item(record)
        # Exact filters bulk endpoints with a sync version mandatorily: every item has a code.
        for page in client.bulk("Logistics/Items", select=ITEM_FIELDS, filter="Code ne ''")
        for record in page
    ]


def warehouses(client: ExactClient) -> list[Warehouse]:
    """Warehouses (direct sales invoices deliver from one)."""
    return [
        Warehouse(
            id=record["ID"],
            code=str(record["Code"]).strip(),
            description=record.get("Description") or "",
        )
        for record in client.get("inventory/Warehouses", select=("ID", "Code", "Description"))
    ]


def debtors(client: ExactClient) -> list[Debtor]:
    """Every account with customer status (those a sale can be booked on)."""
    return [
        debtor_from_record(record)
        for page in client.bulk("CRM/Accounts", select=DEBTOR_FIELDS, filter="Status eq 'C'")
        for record in page
    ]


def currencies(client: ExactClient) -> set[str]:
    """The codes of the currencies the administration has (general/Currencies)."""
    return {
        code
        for record in client.get("general/Currencies", select=("Code",))
        if (code := _trimmed(record.get("Code")))
    }


def exchange_rates(client: ExactClient, currency: str) -> list[tuple[date, Decimal]]:
    """Exact's rates for `currency` as (start date, rate): 1 unit of the administration's
    currency = rate units of `currency`, valid from the start date until the next one."""
    records = client.get(
        "financial/ExchangeRates",
        select=("SourceCurrency", "Rate", "StartDate"),
        filter=f"SourceCurrency eq {string_literal(currency)}",
    )
    return [
        (start.date(), rate)
        for record in records
        if (start := parse_date(record.get("StartDate"))) is not None
        and (rate := parse_decimal(record.get("Rate"))) is not None
    ]


def find_by_your_ref(
    client: ExactClient, entity: InsertionType, journal: str | None, your_ref: str
) -> list[ExistingBooking]:
    """Documents of this kind with this YourRef (in this journal where the kind has one).

    Exact does not refuse duplicate YourRefs, so this is how a booking whose POST answer was
    lost is found before it is posted again. More than one hit means it was booked twice.
    """
    target = BOOKING_ENDPOINTS[entity]
    conditions = [f"YourRef eq {string_literal(your_ref)}"]
    select = [target.key, target.number, "YourRef", "Type", "Status"]
    if target.has_journal:
        if journal is None:
            raise ValueError(f"a {entity} lives in a journal: name it to look {your_ref} up")
        conditions.append(f"Journal eq {string_literal(journal.strip())}")
        select.append("Journal")
    records = client.get(target.path, select=select, filter=" and ".join(conditions))
    return [existing_booking(record, entity) for record in records]


def existing_booking(record: Record, entity: InsertionType) -> ExistingBooking:
    """A document as read back (by YourRef, or a sales entry by entry number)."""
    target = BOOKING_ENDPOINTS[entity]
    return ExistingBooking(
        id=str(record[target.key]),
        number=None if record.get(target.number) is None else str(record[target.number]),
        your_ref=str(record.get("YourRef") or ""),
        journal=_trimmed(record.get("Journal")),
        type=record.get("Type"),
        status=record.get("Status"),
    )


# --- records ---------------------------------------------------------------------------------


def _trimmed(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _journal(record: Record) -> Journal:
    return Journal(
        id=record["ID"],
        code=str(record["Code"]).strip(),
        description=record.get("Description") or "",
        type=int(record["Type"]),
        blocked=bool(record.get("IsBlocked")),
    )


def _vat_code(record: Record) -> VatCode:
    return VatCode(
        id=record["ID"],
        code=str(record["Code"]).strip(),
        description=record.get("Description") or "",
        percentage=Decimal(str(record.get("Percentage") or 0)),
        type=_trimmed(record.get("Type")) or "",
        transaction_type=_trimmed(record.get("VATTransactionType")) or "",
        oss_country=_trimmed(record.get("OssCountry")),
        blocked=bool(record.get("IsBlocked")),
    )


def _gl_account(record: Record) -> GlAccount:
    return GlAccount(
        id=record["ID"],
        code=str(record["Code"]).strip(),
        description=record.get("Description") or "",
        type=int(record["Type"]),
        blocked=bool(record.get("IsBlocked")),
    )


def _item(record: Record) -> Item:
    return Item(
        id=record["ID"],
        code=str(record["Code"]).strip(),
        description=record.get("Description") or "",
        is_sales_item=bool(record.get("IsSalesItem")),
        gl_revenue_id=record.get("GLRevenue"),
        sales_vat_code=_trimmed(record.get("SalesVatCode")),
    )


def debtor_from_record(record: Record) -> Debtor:
    return Debtor(
        id=record["ID"],
        code=str(record["Code"]).strip(),
        name=record.get("Name") or "",
        email=_trimmed(record.get("Email")),
        vat_number=_trimmed(record.get("VATNumber")),
        country=_trimmed(record.get("Country")),
        status=_trimmed(record.get("Status")),
        is_sales=bool(record.get("IsSales")),
        blocked=bool(record.get("Blocked")),
    )
