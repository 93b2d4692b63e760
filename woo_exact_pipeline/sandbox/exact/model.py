"""Entity types: the properties each endpoint exposes, their Edm types and which are writable.

Records are plain dicts holding only stored facts. Names and codes of referenced master data
(CustomerName, GLAccountCode, ...) are computed when read, so 100,000 bookings do not carry
copies of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Protocol

from woo_exact_pipeline.sandbox.exact.odata import Kind, exact_date

Record = dict[str, Any]


class Lookups(Protocol):
    """What computed fields may ask of a division (implemented by `Division`)."""

    code: int

    def master(self, entity_set: str, key: object) -> Record | None: ...


Compute = Callable[[Record, Lookups], Any]


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = Kind.STRING
    writable: bool = False
    compute: Compute | None = None
    # Fixed-width codes as Exact stores them: positive pads left (right-aligned), negative right.
    width: int = 0
    max_length: int = 0


@dataclass(frozen=True)
class EntityType:
    name: str
    key: str
    fields: tuple[Field, ...]
    lines_property: str | None = None
    line_type: EntityType | None = None
    #: Its entity in reference_model.json (Exact's reference pages), for properties the
    #: sandbox does not model.
    reference: str | None = None
    by_name: Mapping[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def model_type(self) -> str:
        return f"Exact.Web.Api.Models.{self.name}"

    @property
    def filterable(self) -> dict[str, str]:
        return {f.name: f.kind for f in self.fields if f.kind != "lines"}

    def value(self, record: Record, name: str, lookups: Lookups) -> Any:
        definition = self.by_name[name]
        if definition.compute is not None:
            return definition.compute(record, lookups)
        return record.get(name)

    def needs_view(self, names: frozenset[str]) -> bool:
        return any(self.by_name[name].compute is not None for name in names)

    def documented(self, name: str) -> frozenset[str] | None:
        """How Exact's reference page describes a property (its Edm type and `post`,
        `required`, `key`), None when the entity has no such property or no page."""
        if self.reference is None:
            return None
        entry = reference_model()["entities"][self.reference]["properties"].get(name)
        return None if entry is None else frozenset(entry.split())


@cache
def reference_model() -> dict[str, Any]:
    """Exact's entity model as transcribed from its reference pages (reference_model.json)."""
    text = resources.files(__package__).joinpath("reference_model.json").read_text("utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


class RecordView:
    """A record seen with its computed fields, for `$filter` and `$orderby`."""

    __slots__ = ("_entity_type", "_lookups", "_record")

    def __init__(self, entity_type: EntityType, record: Record, lookups: Lookups) -> None:
        self._entity_type = entity_type
        self._record = record
        self._lookups = lookups

    def get(self, name: str) -> Any:
        return self._entity_type.value(self._record, name, self._lookups)


def pad(value: str, width: int) -> str:
    return value.rjust(width) if width > 0 else value.ljust(-width)


def to_wire(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == Kind.DATETIME and isinstance(value, date | datetime):
        return exact_date(value)
    if kind == Kind.DOUBLE:
        return float(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def key_literal(entity_type: EntityType, key: object) -> str:
    if entity_type.by_name[entity_type.key].kind == Kind.GUID:
        return f"guid'{key}'"
    return f"{key}L" if isinstance(key, int) else f"'{key}'"


# ---------------------------------------------------------------------------------------------
# Computed fields


def _division(record: Record, lookups: Lookups) -> int:
    return lookups.code


def _master_field(entity_set: str, reference: str, name: str) -> Compute:
    def compute(record: Record, lookups: Lookups) -> Any:
        key = record.get(reference)
        if key is None:
            return None
        master = lookups.master(entity_set, key)
        return None if master is None else master.get(name)

    return compute


def _same_as(name: str) -> Compute:
    return lambda record, lookups: record.get(name)


def _gl_code(reference: str) -> Compute:
    return _master_field("financial/GLAccounts", reference, "Code")


def _stamp_fields() -> tuple[Field, ...]:
    return (
        Field("Division", Kind.INT, compute=_division),
        Field("Created", Kind.DATETIME),
        Field("Modified", Kind.DATETIME),
    )


# ---------------------------------------------------------------------------------------------
# Types. Field lengths are those of the reference notes; YourRef and descriptions are not
# documented, so the conservative 30 and 60 the notes recommend apply (the stricter choice).

ME = EntityType(
    "System.Me",
    "UserID",
    (
        Field("UserID", Kind.GUID),
        Field("UserName"),
        Field("FullName"),
        Field("Email"),
        Field("LanguageCode"),
        Field("Legislation", Kind.INT64),
        Field("CurrentDivision", Kind.INT),
        Field("AccountingDivision", Kind.INT),
        Field("DivisionCustomer", Kind.GUID),
        Field("ServerTime", Kind.DATETIME),
        Field("ServerUtcOffset", Kind.DOUBLE),
    ),
    reference="current/Me",
)

SYSTEM_DIVISION = EntityType(
    "SystemDivision",
    "Code",
    (
        Field("Code", Kind.INT),
        Field("Description"),
        Field("HID", Kind.INT64),
        Field("Country", width=-3),
        Field("Currency"),
        Field("VATNumber"),
        Field("ChamberOfCommerceNumber"),
        Field("Legislation"),
        Field("Status", Kind.INT),
        Field("Current", Kind.BOOL),
        Field("Main", Kind.BOOL),
        Field("Created", Kind.DATETIME),
        Field("Modified", Kind.DATETIME),
    ),
)

JOURNAL = EntityType(
    "Journal",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code"),
        Field("Description"),
        Field("Type", Kind.INT),
        Field("Currency"),
        Field("AllowVAT", Kind.BOOL),
        Field("AllowVariableCurrency", Kind.BOOL),
        Field("IsBlocked", Kind.BOOL),
        Field("GLAccount", Kind.GUID),
        Field("GLAccountCode", compute=_gl_code("GLAccount")),
        *_stamp_fields(),
    ),
    reference="financial/Journals",
)

GL_ACCOUNT = EntityType(
    "GLAccount",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code"),
        Field("Description"),
        Field("Type", Kind.INT),
        Field("TypeDescription"),
        Field("BalanceSide"),
        Field("BalanceType"),
        Field("VATCode", width=-3),
        Field("IsBlocked", Kind.BOOL),
        *_stamp_fields(),
    ),
    reference="financial/GLAccounts",
)

VAT_CODE = EntityType(
    "VATCode",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code", width=-3),
        Field("Description"),
        Field("Percentage", Kind.DOUBLE),
        Field("Type"),
        Field("VATTransactionType"),
        Field("EUSalesListing"),
        Field("Charged", Kind.BOOL),
        Field("GLToPay", Kind.GUID),
        Field("GLToPayCode", compute=_gl_code("GLToPay")),
        Field("IsBlocked", Kind.BOOL),
        Field("OssCountry", width=-3),
        Field("LegalText"),
        *_stamp_fields(),
    ),
    reference="vat/VATCodes",
)

ACCOUNT = EntityType(
    "Account",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code", writable=True, width=18),
        Field("Name", writable=True, max_length=50),
        Field("SearchCode", writable=True),
        Field("Email", writable=True, max_length=100),
        Field("Phone", writable=True),
        Field("Status", writable=True),
        Field("IsSales", Kind.BOOL),
        Field("IsSupplier", Kind.BOOL, writable=True),
        Field("Blocked", Kind.BOOL, writable=True),
        Field("VATNumber", writable=True, max_length=35),
        Field("VATLiability", writable=True),
        Field("ChamberOfCommerce", writable=True),
        Field("AddressLine1", writable=True, max_length=80),
        Field("AddressLine2", writable=True, max_length=80),
        Field("Postcode", writable=True, max_length=20),
        Field("City", writable=True, max_length=30),
        Field("Country", writable=True, width=-3),
        Field("Language", writable=True),
        Field("SalesVATCode", writable=True, width=-3),
        Field("SalesCurrency", writable=True),
        Field("InvoicingMethod", Kind.INT, writable=True),
        Field("Type"),
        *_stamp_fields(),
    ),
    reference="crm/Accounts",
)

ITEM_GROUP = EntityType(
    "ItemGroup",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code"),
        Field("Description"),
        Field("GLRevenue", Kind.GUID),
        Field("GLRevenueCode", compute=_gl_code("GLRevenue")),
        Field("IsDefault", Kind.INT),
        *_stamp_fields(),
    ),
)

WAREHOUSE = EntityType(
    "Warehouse",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code"),
        Field("Description"),
        *_stamp_fields(),
    ),
    reference="inventory/Warehouses",
)

ITEM = EntityType(
    "Item",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Code", writable=True, max_length=30),
        Field("Description", writable=True, max_length=60),
        Field("ExtraDescription", writable=True, max_length=255),
        Field("IsSalesItem", Kind.BOOL, writable=True),
        Field("IsStockItem", Kind.BOOL, writable=True),
        Field("IsWebshopItem", Kind.BYTE, writable=True),
        Field("ItemGroup", Kind.GUID, writable=True),
        Field("ItemGroupCode", compute=_master_field("logistics/ItemGroups", "ItemGroup", "Code")),
        Field("GLRevenue", Kind.GUID, writable=True),
        Field("GLRevenueCode", compute=_gl_code("GLRevenue")),
        Field("SalesVatCode", writable=True, width=-3),
        Field("Unit", writable=True),
        Field("Barcode", writable=True, max_length=20),
        Field("StartDate", Kind.DATETIME, writable=True),
        Field("EndDate", Kind.DATETIME, writable=True),
        *_stamp_fields(),
    ),
    reference="logistics/Items",
)


def _vat_field(name: str) -> Compute:
    return _master_field("vat/VATCodes", "VATCode", name)


SALES_ENTRY_LINE = EntityType(
    "SalesEntryLine",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("EntryID", Kind.GUID),
        Field("LineNumber", Kind.INT),
        Field("GLAccount", Kind.GUID, writable=True),
        Field("GLAccountCode", compute=_gl_code("GLAccount")),
        Field(
            "GLAccountDescription",
            compute=_master_field("financial/GLAccounts", "GLAccount", "Description"),
        ),
        Field("Description", writable=True, max_length=60),
        Field("AmountFC", Kind.DOUBLE, writable=True),
        Field("AmountDC", Kind.DOUBLE),
        Field("VATCode", writable=True, width=-3),
        Field("VATCodeDescription", compute=_vat_field("Description")),
        Field("VATPercentage", Kind.DOUBLE, compute=_vat_field("Percentage")),
        Field("VATAmountFC", Kind.DOUBLE, writable=True),
        Field("VATAmountDC", Kind.DOUBLE),
        Field("VATBaseAmountFC", Kind.DOUBLE, compute=_same_as("AmountFC")),
        Field("Quantity", Kind.DOUBLE, writable=True),
        Field("CostCenter", writable=True),
        Field("CostUnit", writable=True),
        Field("Notes", writable=True),
        Field("Type", Kind.INT, writable=True),
        Field("Division", Kind.INT, compute=_division),
    ),
    reference="salesentry/SalesEntryLines",
)

SALES_ENTRY = EntityType(
    "SalesEntry",
    "EntryID",
    (
        Field("EntryID", Kind.GUID),
        Field("EntryNumber", Kind.INT),
        Field("InvoiceNumber", Kind.INT),
        Field("Journal", writable=True),
        Field(
            "JournalDescription",
            compute=_master_field("financial/Journals", "Journal", "Description"),
        ),
        Field("Customer", Kind.GUID, writable=True),
        Field("CustomerName", compute=_master_field("crm/Accounts", "Customer", "Name")),
        Field("EntryDate", Kind.DATETIME, writable=True),
        Field("DueDate", Kind.DATETIME, writable=True),
        Field("ReportingYear", Kind.INT16, writable=True),
        Field("ReportingPeriod", Kind.INT16, writable=True),
        Field("YourRef", writable=True, max_length=30),
        Field("Description", writable=True, max_length=60),
        Field("Currency", writable=True),
        # 1 unit of the division's currency = Rate units of Currency (as financial/ExchangeRates).
        Field("Rate", Kind.DOUBLE, writable=True),
        Field("Type", Kind.INT, writable=True),
        Field("Status", Kind.INT16),
        Field("AmountFC", Kind.DOUBLE),
        Field("AmountDC", Kind.DOUBLE),
        Field("VATAmountFC", Kind.DOUBLE),
        Field("VATAmountDC", Kind.DOUBLE),
        Field("PaymentCondition", writable=True),
        Field("PaymentReference", writable=True),
        Field("Document", Kind.GUID, writable=True),
        Field("SalesEntryLines", "lines", writable=True),
        *_stamp_fields(),
    ),
    lines_property="SalesEntryLines",
    line_type=SALES_ENTRY_LINE,
    reference="salesentry/SalesEntries",
)


def _item_field(name: str) -> Compute:
    return _master_field("logistics/Items", "Item", name)


def _item_line_fields(vat_amount: str) -> tuple[Field, ...]:
    """Properties sales invoice and sales order lines share; their VAT amount is named
    `VATAmountFC` on invoice lines and `VATAmount` on order lines (Exact's reference)."""
    return (
        Field("LineNumber", Kind.INT),
        Field("Item", Kind.GUID, writable=True),
        Field("ItemCode", compute=_item_field("Code")),
        Field("ItemDescription", compute=_item_field("Description")),
        Field("Description", writable=True, max_length=60),
        Field("Quantity", Kind.DOUBLE, writable=True),
        Field("UnitPrice", Kind.DOUBLE, writable=True),
        Field("NetPrice", Kind.DOUBLE),
        Field("Discount", Kind.DOUBLE, writable=True),
        Field("AmountFC", Kind.DOUBLE),
        Field("AmountDC", Kind.DOUBLE),
        Field("VATCode", writable=True, width=-3),
        Field("VATPercentage", Kind.DOUBLE, compute=_vat_field("Percentage")),
        Field(vat_amount, Kind.DOUBLE, writable=True),
        Field("UnitCode", writable=True),
        Field("DeliveryDate", Kind.DATETIME, writable=True),
        Field("CostCenter", writable=True),
        Field("CostUnit", writable=True),
        Field("Division", Kind.INT, compute=_division),
    )


SALES_INVOICE_LINE = EntityType(
    "SalesInvoiceLine",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("InvoiceID", Kind.GUID),
        *_item_line_fields("VATAmountFC"),
        Field("VATAmountDC", Kind.DOUBLE),
        Field("GLAccount", Kind.GUID, writable=True),
        Field(
            "GLAccountDescription",
            compute=_master_field("financial/GLAccounts", "GLAccount", "Description"),
        ),
    ),
    reference="salesinvoice/SalesInvoiceLines",
)


def _customer_name(reference: str) -> Compute:
    return _master_field("crm/Accounts", reference, "Name")


SALES_INVOICE = EntityType(
    "SalesInvoice",
    "InvoiceID",
    (
        Field("InvoiceID", Kind.GUID),
        Field("InvoiceNumber", Kind.INT),
        Field("Journal", writable=True),
        Field("Type", Kind.INT, writable=True),
        Field("Status", Kind.INT16),
        Field("OrderedBy", Kind.GUID, writable=True),
        Field("OrderedByName", compute=_customer_name("OrderedBy")),
        Field("InvoiceTo", Kind.GUID, writable=True),
        Field("InvoiceToName", compute=_customer_name("InvoiceTo")),
        Field("DeliverTo", Kind.GUID, writable=True),
        Field("YourRef", writable=True, max_length=30),
        Field("Description", writable=True, max_length=60),
        Field("Remarks", writable=True),
        Field("Currency", writable=True),
        Field("OrderDate", Kind.DATETIME, writable=True),
        Field("InvoiceDate", Kind.DATETIME),
        Field("DueDate", Kind.DATETIME, writable=True),
        Field("AmountFC", Kind.DOUBLE),
        Field("AmountDC", Kind.DOUBLE),
        Field("AmountFCExclVat", Kind.DOUBLE),
        Field("VATAmountFC", Kind.DOUBLE),
        Field("VATAmountDC", Kind.DOUBLE),
        Field("PaymentCondition", writable=True),
        Field("PaymentReference", writable=True),
        Field("Warehouse", Kind.GUID, writable=True),
        Field("Document", Kind.GUID, writable=True),
        Field("SalesInvoiceLines", "lines", writable=True),
        *_stamp_fields(),
    ),
    lines_property="SalesInvoiceLines",
    line_type=SALES_INVOICE_LINE,
    reference="salesinvoice/SalesInvoices",
)

SALES_ORDER_LINE = EntityType(
    "SalesOrderLine",
    "ID",
    # No GL account: the invoice made from the order takes the item's revenue account.
    (Field("ID", Kind.GUID), Field("OrderID", Kind.GUID), *_item_line_fields("VATAmount")),
    reference="salesorder/SalesOrderLines",
)

SALES_ORDER = EntityType(
    "SalesOrder",
    "OrderID",
    (
        Field("OrderID", Kind.GUID),
        Field("OrderNumber", Kind.INT),
        Field("OrderedBy", Kind.GUID, writable=True),
        Field("OrderedByName", compute=_customer_name("OrderedBy")),
        Field("InvoiceTo", Kind.GUID, writable=True),
        Field("DeliverTo", Kind.GUID, writable=True),
        Field("OrderDate", Kind.DATETIME, writable=True),
        Field("DeliveryDate", Kind.DATETIME, writable=True),
        Field("YourRef", writable=True, max_length=30),
        Field("Description", writable=True, max_length=60),
        Field("Remarks", writable=True),
        Field("Currency", writable=True),
        Field("Status", Kind.INT16),
        Field("ApprovalStatus", Kind.INT16),
        Field("AmountFC", Kind.DOUBLE),
        Field("AmountDC", Kind.DOUBLE),
        Field("AmountFCExclVat", Kind.DOUBLE),
        Field("PaymentCondition", writable=True),
        Field("SalesOrderLines", "lines", writable=True),
        *_stamp_fields(),
    ),
    lines_property="SalesOrderLines",
    line_type=SALES_ORDER_LINE,
    reference="salesorder/SalesOrders",
)

CURRENCY = EntityType(
    "Currency",
    "Code",
    (
        Field("Code"),
        Field("Description"),
        Field("AmountPrecision", Kind.DOUBLE),
        Field("PricePrecision", Kind.DOUBLE),
        Field("Created", Kind.DATETIME),
        Field("Modified", Kind.DATETIME),
    ),
    reference="general/Currencies",
)

# "The exchange rate is stored as 1 TARGET CURRENCY = x SOURCE CURRENCY"; "The date as of which
# the rate is valid. The rate is valid until a next rate is defined" (picqer ExchangeRate.php,
# from Exact's FinancialExchangeRates page).
EXCHANGE_RATE = EntityType(
    "ExchangeRate",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("SourceCurrency"),
        Field("TargetCurrency"),
        Field("Rate", Kind.DOUBLE),
        Field("StartDate", Kind.DATETIME),
        *_stamp_fields(),
    ),
    reference="financial/ExchangeRates",
)

FINANCIAL_PERIOD = EntityType(
    "FinancialPeriod",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("FinYear", Kind.INT16),
        Field("FinPeriod", Kind.INT16),
        Field("StartDate", Kind.DATETIME),
        Field("EndDate", Kind.DATETIME),
        *_stamp_fields(),
    ),
    reference="financial/FinancialPeriods",
)

# Whether a journal takes entries in a period: 0 open, 1 closed (one row per journal and period).
JOURNAL_STATUS = EntityType(
    "JournalStatusList",
    "Journal",
    (
        Field("Journal"),
        Field("Year", Kind.INT),
        Field("Period", Kind.INT),
        Field("JournalDescription"),
        Field("JournalType", Kind.INT),
        Field("Status", Kind.INT),
        Field("StatusDescription"),
    ),
    reference="read/financial/JournalStatusList",
)

PRINTED_SALES_INVOICE = EntityType(
    "PrintedSalesInvoice",
    "InvoiceID",
    (
        Field("InvoiceID", Kind.GUID, writable=True),
        Field("SendEmailToCustomer", Kind.BOOL, writable=True),
        Field("SenderEmailAddress", writable=True),
        Field("EmailLayout", Kind.GUID, writable=True),
        Field("DocumentLayout", Kind.GUID, writable=True),
        Field("ExtraText", writable=True),
        Field("InvoiceDate", Kind.DATETIME, writable=True),
        Field("ReportingYear", Kind.INT, writable=True),
        Field("ReportingPeriod", Kind.INT, writable=True),
        Field("SendOutputBasedOnAccount", Kind.BOOL, writable=True),
        Field("Document", Kind.GUID),
        Field("DocumentCreationSuccess"),
        Field("DocumentCreationError"),
        Field("EmailCreationSuccess"),
        Field("EmailCreationError"),
        Field("Division", Kind.INT, compute=_division),
    ),
    reference="salesinvoice/PrintedSalesInvoices",
)

DOCUMENT = EntityType(
    "Document",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Subject", writable=True),
        Field("Type", Kind.INT, writable=True),
        Field("Body", writable=True),
        Field("Account", Kind.GUID, writable=True),
        Field("DocumentDate", Kind.DATETIME, writable=True),
        Field("Currency", writable=True),
        Field("AmountFC", Kind.DOUBLE, writable=True),
        Field("FinancialTransactionEntryID", Kind.GUID, writable=True),
        Field("SalesInvoiceNumber", Kind.INT),
        Field("HID", Kind.INT),
        *_stamp_fields(),
    ),
    reference="documents/Documents",
)

DOCUMENT_ATTACHMENT = EntityType(
    "DocumentAttachment",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("Document", Kind.GUID, writable=True),
        Field("FileName", writable=True, max_length=255),
        # Write-only: the base64 content goes in, reads point at `Url` as Exact does.
        Field("Attachment", Kind.BINARY, writable=True, compute=lambda record, lookups: None),
        Field("FileSize", Kind.DOUBLE),
        Field("Url"),
    ),
    reference="documents/DocumentAttachments",
)

TRANSACTION_LINE = EntityType(
    "TransactionLine",
    "ID",
    (
        Field("ID", Kind.GUID),
        Field("EntryID", Kind.GUID),
        Field("EntryNumber", Kind.INT),
        Field("InvoiceNumber", Kind.INT),
        Field("LineNumber", Kind.INT),
        Field("LineType", Kind.INT),
        Field("Type", Kind.INT),
        Field("Status", Kind.INT),
        Field("JournalCode"),
        Field("JournalDescription"),
        Field("Date", Kind.DATETIME),
        Field("FinancialYear", Kind.INT),
        Field("FinancialPeriod", Kind.INT),
        Field("Account", Kind.GUID),
        Field("AccountCode", width=18),
        Field("AccountName"),
        Field("GLAccount", Kind.GUID),
        Field("GLAccountCode"),
        Field("GLAccountDescription"),
        Field("Description"),
        Field("YourRef"),
        Field("Currency"),
        Field("AmountFC", Kind.DOUBLE),
        Field("AmountDC", Kind.DOUBLE),
        Field("AmountVATBaseFC", Kind.DOUBLE),
        Field("AmountVATFC", Kind.DOUBLE),
        Field("VATCode", width=-3),
        Field("VATCodeDescription"),
        Field("VATPercentage", Kind.DOUBLE),
        Field("Item", Kind.GUID),
        Field("ItemCode"),
        Field("Quantity", Kind.DOUBLE),
        Field("Document", Kind.GUID),
        Field("Division", Kind.INT),
        Field("Created", Kind.DATETIME),
        Field("Modified", Kind.DATETIME),
    ),
)
