"""One Exact administration (division): master data, bookings and Exact's business rules.

VAT is computed from the VAT code, line by line, with Decimal and half-up rounding to the
cent, unless the client gives `VATAmountFC`; header totals are always computed. This is
deliberately independent of the pipeline's own bookkeeping code.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from woo_exact_pipeline.sandbox.exact import model
from woo_exact_pipeline.sandbox.exact.clock import SandboxClock
from woo_exact_pipeline.sandbox.exact.errors import ODataError, ValidationFailed, stream_error
from woo_exact_pipeline.sandbox.exact.ids import (
    TRANSACTION_LINE_BASE,
    child_id,
    new_booking_id,
    parent_and_number,
    seeded_id,
)
from woo_exact_pipeline.sandbox.exact.model import EntityType, Record, pad
from woo_exact_pipeline.sandbox.exact.odata import (
    Kind,
    local_wall_clock,
    parse_datetime_in,
    parse_decimal,
    parse_guid,
)
from woo_exact_pipeline.sandbox.exact.periods import PeriodCalendar
from woo_exact_pipeline.sandbox.exact.stores import EntityStore, LineStore

CENT = Decimal("0.01")
SALES_JOURNAL_TYPE = 20
REVENUE_GL_TYPE = 110
SALES_ENTRY_TYPES = {20: "Sales entry", 21: "Sales credit note"}
SALES_INVOICE_TYPES = {8020: 20, 8021: 21, 8023: 20, 8024: 21}  # invoice type -> entry type
DIRECT_INVOICE_TYPES = {8023, 8024}
DOCUMENT_TYPES = {10: "Sales invoice", 20: "Purchase invoice", 55: "Miscellaneous"}
ACCOUNT_STATUSES = {"A", "S", "P", "C"}
STATUS_OPEN = 20
STATUS_PROCESSED = 50
SALES_ORDER_OPEN = 12
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024  # Exact: 10 MB of binary, not of base64 text
#: Exact's answer (HTTP 500, picqer #515) to an entry whose date or period is not in the period
#: date table; the maintainer lists closed and mismatched periods as causes too.
NO_SUCH_PERIOD = "The financial year cannot be changed."


# Transaction-line fields copied from the posting's header: TransactionLine name -> header name.
_POSTING_HEADER_FIELDS = {
    "EntryID": "EntryID",
    "YourRef": "YourRef",
    "JournalCode": "Journal",
    "InvoiceNumber": "InvoiceNumber",
}


def default_administration_file() -> Path:
    return Path(str(resources.files(__package__).joinpath("administration_nl.json")))


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_body(entity_type: EntityType, raw: Any) -> Record:
    """A POST body as Exact's OData reader sees it: shape, property names and types."""
    if not isinstance(raw, dict):
        raise stream_error("The request should be a valid top-level resource object.")
    parsed: Record = {}
    for name, value in raw.items():
        if name == "__metadata":
            continue
        definition = entity_type.by_name.get(name)
        documented = entity_type.documented(name)
        if definition is None and documented is None:
            raise stream_error(
                f"The property name '{name}' specified for type "
                f"'{entity_type.model_type}' is not valid."
            )
        if definition is None:
            if "post" not in documented:
                continue  # Exact ignores read-only properties, as the sandbox's own
            # A real property Exact would store: refusing it beats dropping it unseen.
            raise ODataError(
                f"The Exact sandbox does not model the property '{name}' of type "
                f"'{entity_type.model_type}'. Exact accepts it (reference_model.json)."
            )
        if not definition.writable:
            continue  # read-only properties are ignored, so a GET result can be posted back
        if definition.kind == "lines":
            parsed[name] = _parse_lines(entity_type, value)
        elif value is not None:
            parsed[name] = _convert(definition, value)
    return parsed


def length_errors(entity_type: EntityType, record: Record) -> list[str]:
    """Values longer than Exact stores, for the header and its lines."""
    errors = [
        f"{field.name}: maximum length is {field.max_length} characters"
        for field in entity_type.fields
        if field.max_length and len(record.get(field.name) or "") > field.max_length
    ]
    if entity_type.lines_property and entity_type.line_type is not None:
        for line in record.get(entity_type.lines_property, []):
            errors.extend(length_errors(entity_type.line_type, line))
    return errors


def _parse_lines(entity_type: EntityType, value: Any) -> list[Record]:
    assert entity_type.line_type is not None
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        value = value["results"]
    if not isinstance(value, list):
        raise stream_error("The request should be a valid top-level resource object.")
    return [parse_body(entity_type.line_type, line) for line in value]


def _convert(definition: model.Field, value: Any) -> Any:
    try:
        if definition.kind == Kind.GUID:
            return parse_guid(_require(value, str))
        if definition.kind == Kind.DOUBLE:
            return parse_decimal(value)
        if definition.kind in (Kind.BYTE, Kind.INT16, Kind.INT, Kind.INT64):
            if isinstance(value, bool):
                raise ValueError(value)
            return int(_require(value, int | str))
        if definition.kind == Kind.BOOL:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            return _require(value, bool)
        if definition.kind == Kind.DATETIME:
            return parse_datetime_in(_require(value, str))
        text = _require(value, str)
        return pad(text.strip(), definition.width) if definition.width else text
    except (ValueError, TypeError, InvalidOperation) as error:
        raise stream_error(
            "Error encountered in converting the value from request payload for property "
            f"'{definition.name}' to type '{definition.kind}', which is the property's "
            "expected type. See inner error for more details."
        ) from error


def _require(value: Any, expected: Any) -> Any:
    if not isinstance(value, expected):
        raise TypeError(value)
    return value


@dataclass(frozen=True)
class OutgoingEmail:
    """An e-mail Exact would have sent when a sales invoice was printed with e-mail."""

    to: str
    sender: str
    subject: str
    invoice_id: str
    invoice_number: int
    sent_at: datetime


class Division:
    """Master data and bookings of one administration, guarded by one lock."""

    def __init__(
        self,
        administration: Mapping[str, Any],
        clock: SandboxClock,
        *,
        attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> None:
        facts = administration["division"]
        self.code: int = int(facts["Code"])
        self.facts: dict[str, Any] = dict(facts)
        self.base_url = ""
        self.clock = clock
        self.attachment_limit = attachment_limit
        self.lock = threading.RLock()
        self.outbox: list[OutgoingEmail] = []
        self.stores: dict[str, EntityStore] = {
            "financial/Journals": EntityStore(model.JOURNAL, indexed=["Code"]),
            "financial/GLAccounts": EntityStore(model.GL_ACCOUNT, indexed=["Code"]),
            "vat/VATCodes": EntityStore(model.VAT_CODE, indexed=["Code"]),
            "crm/Accounts": EntityStore(model.ACCOUNT, indexed=["Code", "Email"]),
            "logistics/ItemGroups": EntityStore(model.ITEM_GROUP, indexed=["Code"]),
            "inventory/Warehouses": EntityStore(model.WAREHOUSE, indexed=["Code"]),
            "logistics/Items": EntityStore(model.ITEM, indexed=["Code"]),
            "salesentry/SalesEntries": EntityStore(
                model.SALES_ENTRY, indexed=["YourRef", "EntryNumber"]
            ),
            "salesinvoice/SalesInvoices": EntityStore(
                model.SALES_INVOICE, indexed=["YourRef", "InvoiceNumber"]
            ),
            "salesorder/SalesOrders": EntityStore(model.SALES_ORDER, indexed=["YourRef"]),
            "documents/Documents": EntityStore(model.DOCUMENT),
            "financial/FinancialPeriods": EntityStore(model.FINANCIAL_PERIOD),
            "general/Currencies": EntityStore(model.CURRENCY),
            "financial/ExchangeRates": EntityStore(model.EXCHANGE_RATE, indexed=["SourceCurrency"]),
            "documents/DocumentAttachments": EntityStore(
                model.DOCUMENT_ATTACHMENT, indexed=["Document"]
            ),
        }
        self.line_stores = {
            "salesentry/SalesEntryLines": LineStore(
                self.stores["salesentry/SalesEntries"], "EntryID"
            ),
            "salesinvoice/SalesInvoiceLines": LineStore(
                self.stores["salesinvoice/SalesInvoices"], "InvoiceID"
            ),
            "salesorder/SalesOrderLines": LineStore(
                self.stores["salesorder/SalesOrders"], "OrderID"
            ),
        }
        self.attachment_content: dict[str, bytes] = {}
        # Journal-posting headers (sales entries, processed invoices) in booking order:
        # the source of bulk/Financial/TransactionLines.
        self.postings: list[Record] = []
        self._posting_positions: dict[str, int] = {}
        self._entry_counters: dict[tuple[str, int], int] = {}
        self._order_counter = 0
        self._document_counter = 0
        # The administration's setting: invoice numbers at printing (default) or at entry.
        self.numbers_invoices_at_entry = facts.get("InvoiceNumbering", "at_printing") == "at_entry"
        self.calendar = PeriodCalendar(
            administration.get("financial_years"),
            (journal["Code"] for journal in administration["journals"]),
        )
        self._seed(administration)

    # -- master data -------------------------------------------------------------------------

    def _id(self, kind: str, code: str) -> str:
        return seeded_id(f"{self.code}:{kind}", code)

    def _seed(self, administration: Mapping[str, Any]) -> None:
        created = self.now()
        stamp = {"Created": created, "Modified": created}
        gl_ids = {g["Code"]: self._id("gl", g["Code"]) for g in administration["gl_accounts"]}

        def gl(code: str | None) -> str | None:
            return None if code is None else gl_ids[code]

        for account in administration["gl_accounts"]:
            vat = account.get("VATCode")
            self.stores["financial/GLAccounts"].add(
                {
                    **account,
                    "ID": gl_ids[account["Code"]],
                    "VATCode": pad(vat, -3) if vat else None,
                    "IsBlocked": account.get("IsBlocked", False),
                    **stamp,
                }
            )
        for journal in administration["journals"]:
            self.stores["financial/Journals"].add(
                {
                    **journal,
                    "ID": self._id("journal", journal["Code"]),
                    "GLAccount": gl(journal.get("GLAccount")),
                    "Currency": self.facts.get("Currency", "EUR"),
                    "AllowVAT": journal["Type"] == SALES_JOURNAL_TYPE,
                    "AllowVariableCurrency": False,
                    "IsBlocked": False,
                    **stamp,
                }
            )
        for vat in administration["vat_codes"]:
            self.stores["vat/VATCodes"].add(
                {
                    **vat,
                    "ID": self._id("vat", vat["Code"]),
                    "Code": pad(vat["Code"], -3),
                    "Percentage": Decimal(vat["Percentage"]),
                    "GLToPay": gl(vat.get("GLToPay")),
                    "OssCountry": pad(vat["OssCountry"], -3) if vat.get("OssCountry") else None,
                    "IsBlocked": False,
                    **stamp,
                }
            )
        for warehouse in administration.get("warehouses", []):
            self.stores["inventory/Warehouses"].add(
                {**warehouse, "ID": self._id("warehouse", warehouse["Code"]), **stamp}
            )
        for group in administration["item_groups"]:
            self.stores["logistics/ItemGroups"].add(
                {
                    **group,
                    "ID": self._id("itemgroup", group["Code"]),
                    "GLRevenue": gl(group.get("GLRevenue")),
                    **stamp,
                }
            )
        for item in administration["items"]:
            self.stores["logistics/Items"].add(
                {
                    **item,
                    "ID": self._id("item", item["Code"]),
                    "ItemGroup": self._id("itemgroup", item["ItemGroup"]),
                    "GLRevenue": gl(item.get("GLRevenue")),
                    "SalesVatCode": pad(item["SalesVatCode"], -3),
                    "IsSalesItem": item.get("IsSalesItem", True),
                    "IsStockItem": item.get("IsStockItem", False),
                    "IsWebshopItem": 1,
                    **stamp,
                }
            )
        for account in administration["accounts"]:
            self.stores["crm/Accounts"].add(
                {
                    **account,
                    "ID": self._id("account", account["Code"]),
                    "Code": pad(account["Code"], 18),
                    "Country": pad(account["Country"], -3) if account.get("Country") else None,
                    "Blocked": account.get("Blocked", False),
                    "IsSupplier": account.get("IsSupplier", False),
                    "Type": "A",
                    **stamp,
                }
            )
        for period in self.calendar.records(self.code, self._id, created):
            self.stores["financial/FinancialPeriods"].add(period)
        own = self.currency
        for currency in [{"Code": own, "Description": own}, *administration.get("currencies", [])]:
            self.stores["general/Currencies"].add(
                {"AmountPrecision": CENT, "PricePrecision": CENT, **currency, **stamp}
            )
        for rate in administration.get("exchange_rates", []):
            start = datetime.fromisoformat(rate["StartDate"])
            self.stores["financial/ExchangeRates"].add(
                {
                    "ID": self._id("rate", f"{rate['SourceCurrency']}:{rate['StartDate']}"),
                    "SourceCurrency": rate["SourceCurrency"],
                    "TargetCurrency": own,
                    "Rate": Decimal(rate["Rate"]),
                    "StartDate": start,
                    **stamp,
                }
            )

    @property
    def currency(self) -> str:
        """The division's own (default) currency."""
        return str(self.facts.get("Currency", "EUR"))

    def exchange_rate(self, currency: str, day: datetime) -> Decimal | None:
        """Exact's rate for `currency` on `day`: the latest one starting on or before it."""
        if currency == self.currency:
            return Decimal(1)
        valid = [
            rate
            for rate in self.stores["financial/ExchangeRates"].find("SourceCurrency", currency)
            if rate["StartDate"].date() <= day.date()
        ]
        return max(valid, key=lambda rate: rate["StartDate"])["Rate"] if valid else None

    def now(self) -> datetime:
        return local_wall_clock(self.clock.now())

    def today(self) -> datetime:
        """Midnight of the administration's day: what date-only fields default to."""
        return self.now().replace(hour=0, minute=0, second=0, microsecond=0)

    def master(self, entity_set: str, key: object) -> Record | None:
        """Look-up for computed fields: journals and VAT codes are referenced by code."""
        store = self.stores[entity_set]
        if entity_set in ("financial/Journals", "vat/VATCodes"):
            found = store.find("Code", key)
            return found[0] if found else None
        return store.get(key)

    def journal(self, code: str) -> Record | None:
        return self.master("financial/Journals", code)

    def vat_code(self, code: str) -> Record | None:
        return self.master("vat/VATCodes", pad(code.strip(), -3))

    def default_item_group(self) -> Record | None:
        groups = self.stores["logistics/ItemGroups"].records
        return next((g for g in groups if g.get("IsDefault")), groups[0] if groups else None)

    # -- shared validation -------------------------------------------------------------------

    def _check_customer(self, record: Record, name: str, label: str, errors: list[str]) -> None:
        reference = record.get(name)
        if reference is None:
            errors.append(f"Mandatory: {label}")
            return
        account = self.stores["crm/Accounts"].get(reference)
        if account is None:
            errors.append(f"Invalid reference: {label}")
            return
        # Keep the master record's own string: one GUID object shared by 100,000 bookings.
        record[name] = account["ID"]
        if account.get("Status") != "C" and not account.get("IsSales"):
            # Exact: "Ongeldig: Factuur voor (Type)" when the account is not a customer.
            errors.append(f"Invalid: {label} (Type)")
        elif account.get("Blocked"):
            errors.append(f"Blocked: {label}")

    def _check_sales_journal(self, record: Record, errors: list[str]) -> Record | None:
        code = record.get("Journal")
        if code is None:
            errors.append("Mandatory: Journal")
            return None
        journal = self.journal(code)
        if journal is None:
            errors.append("Invalid reference: Journal")
            return None
        record["Journal"] = journal["Code"]
        if journal["Type"] != SALES_JOURNAL_TYPE:
            errors.append("Invalid journal. The journal must be a sales journal.")
            return None
        return journal

    def _check_revenue_account(self, reference: str, errors: list[str]) -> Record | None:
        account = self.stores["financial/GLAccounts"].get(reference)
        if account is None:
            errors.append("Invalid reference: G/L account")
            return None
        # Only revenue accounts on sales lines: picqer #121 shows debtors and VAT accounts
        # refused; whether general P&L accounts pass is unknown, so the stricter rule applies.
        if account["Type"] != REVENUE_GL_TYPE:
            errors.append("Invalid: G/L account type")
            return None
        if account.get("IsBlocked"):
            errors.append("Blocked: G/L account")
        return account

    def _resolve_vat(self, code: str | None, errors: list[str]) -> Record | None:
        if code is None:
            errors.append("Mandatory: VAT code")
            return None
        vat = self.vat_code(code)
        if vat is None:
            errors.append("Invalid reference: VAT code")
            return None
        if vat["VATTransactionType"] == "P" or vat.get("IsBlocked"):
            errors.append("Invalid: VAT code")
            return None
        return vat

    def _check_common_header(self, record: Record, errors: list[str]) -> None:
        currency = record.setdefault("Currency", self.currency)
        if self.stores["general/Currencies"].get(currency) is None:
            errors.append("Invalid reference: Currency")
        document = record.get("Document")
        if document is not None and self.stores["documents/Documents"].get(document) is None:
            errors.append("Invalid reference: Document")

    def _rate(self, record: Record, day: datetime, errors: list[str]) -> Decimal:
        """The record's rate (1 division currency = rate foreign): a sales entry's posted Rate,
        else Exact's own for the day; refused when there is none. The wording is the
        sandbox's: Exact's message for a missing rate is unverified."""
        currency = record["Currency"]
        posted = record.get("Rate")
        if posted is not None and currency != self.currency:
            if posted <= 0:
                errors.append("Invalid: Rate")
            return Decimal(posted) if posted > 0 else Decimal(1)
        rate = self.exchange_rate(currency, day)
        if rate is None:
            if self.stores["general/Currencies"].get(currency) is not None:
                errors.append(f"No exchange rate for {currency} on {day:%Y-%m-%d}.")
            return Decimal(1)
        record["Rate"] = rate
        return rate

    @staticmethod
    def _in_division_currency(lines: list[Record], rate: Decimal, vat_amount: str) -> None:
        """Each line's amounts converted and rounded half-up to the cent, line by line; the
        header's are the sums of the lines' ("for the header lines ... SUM(AmountDC) of all
        lines", SalesEntries page), so an entry balances in both currencies."""
        for line in lines:
            line["AmountDC"] = money(line["AmountFC"] / rate)
            if vat_amount in line:
                line["VATAmountDC"] = money(line[vat_amount] / rate)

    def _line_vat(self, line: Record, vat: Record | None, name: str = "VATAmountFC") -> None:
        if name in line:
            line[name] = money(line[name])
        elif vat is not None:
            line[name] = money(line["AmountFC"] * vat["Percentage"])

    def _stamp(self, record: Record) -> None:
        now = self.now()
        record["Created"] = now
        record["Modified"] = now

    def _next_entry_number(self, journal: str, year: int) -> int:
        # Exact's default numbering: two-digit year, journal code, then a running number.
        key = (journal, year)
        first = int(f"{year % 100:02d}{journal}0001") if journal.isdigit() else 1
        number = self._entry_counters.get(key, first - 1) + 1
        while self._entry_number_in_use(journal, number):  # given by an XML upload
            number += 1
        self._entry_counters[key] = number
        return number

    def _entry_number_in_use(self, journal: str, number: int) -> bool:
        return any(
            entry["Journal"] == journal
            for entry in self.stores["salesentry/SalesEntries"].find("EntryNumber", number)
        )

    def _check_period(self, record: Record, journal: str, day: datetime, errors: list[str]) -> None:
        """The reporting year and period: given ones must exist, missing ones follow the
        date; either way the period must be open for the journal."""
        found = self.calendar.period_of(day)
        if found is None:
            errors.append(NO_SUCH_PERIOD)
            return
        year = record.setdefault("ReportingYear", found[0])
        period = record.setdefault("ReportingPeriod", found[1])
        if not self.calendar.exists(year, period):
            errors.append(NO_SUCH_PERIOD)
        elif self.calendar.is_closed(journal, year, period):
            # The wording is the sandbox's: Exact's message for a closed period is unverified.
            errors.append(
                f"Period {period} of financial year {year} is closed for journal {journal}."
            )

    def journal_statuses(self) -> Iterator[Record]:
        return self.calendar.journal_statuses(self.stores["financial/Journals"].records)

    def _register_posting(self, header: Record) -> None:
        self._posting_positions[header["EntryID"]] = len(self.postings)
        self.postings.append(header)

    # -- sales entries -----------------------------------------------------------------------

    def create_sales_entry(self, raw: Any, *, entry_number: int | None = None) -> Record:
        """A sales entry as SalesEntries takes it; `entry_number` is the number an XML upload
        gives the entry (REST cannot), refused when the journal has it already."""
        entry = parse_body(model.SALES_ENTRY, raw)
        errors = length_errors(model.SALES_ENTRY, entry)
        journal = self._check_sales_journal(entry, errors)
        self._check_customer(entry, "Customer", "Customer", errors)
        self._check_common_header(entry, errors)
        entry_type = entry.setdefault("Type", 20)
        if entry_type not in SALES_ENTRY_TYPES:
            errors.append("Invalid: Type")
        lines = entry.pop("SalesEntryLines", [])
        if not lines:
            errors.append("Mandatory: SalesEntryLines")
        for line in lines:
            self._check_entry_line(line, entry_type, errors)
        entry_date = entry.setdefault("EntryDate", self.today())
        rate = self._rate(entry, entry_date, errors)
        if journal is not None:
            self._check_period(entry, journal["Code"], entry_date, errors)
        if errors:
            raise ValidationFailed(errors)
        assert journal is not None
        with self.lock:
            code = journal["Code"]
            if entry_number is not None and self._entry_number_in_use(code, entry_number):
                raise ValidationFailed(
                    [f"Already exists - Entry number: {entry_number}, Journal: {code}"]
                )
            entry["EntryID"] = new_booking_id()
            entry["EntryNumber"] = entry_number or self._next_entry_number(
                journal["Code"], entry["ReportingYear"]
            )
            entry["InvoiceNumber"] = entry["EntryNumber"]
            entry["Status"] = STATUS_OPEN
            for number, line in enumerate(lines, start=1):
                line["ID"] = child_id(entry["EntryID"], number)
                line["EntryID"] = entry["EntryID"]
                line["LineNumber"] = number
            entry["SalesEntryLines"] = lines
            entry["AmountFC"] = sum(
                (li["AmountFC"] + li["VATAmountFC"] for li in lines), Decimal(0)
            )
            entry["VATAmountFC"] = sum((li["VATAmountFC"] for li in lines), Decimal(0))
            self._in_division_currency(lines, rate, "VATAmountFC")
            entry["AmountDC"] = sum(
                (li["AmountDC"] + li["VATAmountDC"] for li in lines), Decimal(0)
            )
            entry["VATAmountDC"] = sum((li["VATAmountDC"] for li in lines), Decimal(0))
            self._stamp(entry)
            self.stores["salesentry/SalesEntries"].add(entry)
            self._register_posting(entry)
        return entry

    def _check_entry_line(self, line: Record, entry_type: int, errors: list[str]) -> None:
        if "AmountFC" not in line:
            errors.append("Mandatory: Amount")
        gl_reference = line.get("GLAccount")
        gl_account = None
        if gl_reference is None:
            errors.append("Mandatory: G/L account")
        else:
            gl_account = self._check_revenue_account(gl_reference, errors)
            if gl_account is not None:
                line["GLAccount"] = gl_account["ID"]
        if line.setdefault("Type", entry_type) != entry_type:
            errors.append("Invalid: Type")
        # "If this property is not filled, it will use the default VAT code of the G/L account"
        code = line.get("VATCode") or (gl_account or {}).get("VATCode")
        vat = self._resolve_vat(code, errors) if gl_account is not None or code else None
        if vat is not None:
            line["VATCode"] = vat["Code"]
            if "AmountFC" in line:
                line["AmountFC"] = money(line["AmountFC"])
                self._line_vat(line, vat)

    # -- item-based documents: sales invoices and sales orders ---------------------------------

    def _check_item_lines(
        self, lines: list[Record], errors: list[str], *, vat_amount: str, has_gl: bool
    ) -> None:
        """Invoice lines (`VATAmountFC`, a GL account) or order lines (`VATAmount`, none: the
        invoice made from an order takes the item's revenue account)."""
        for line in lines:
            item_reference = line.get("Item")
            item = None
            if item_reference is None:
                errors.append("Mandatory: Item")
            else:
                item = self.stores["logistics/Items"].get(item_reference)
                if item is None or not item.get("IsSalesItem", True):
                    errors.append("Invalid reference: Item")
                    item = None
                else:
                    line["Item"] = item["ID"]
            if "UnitPrice" not in line:
                # Exact would take the price list; the sandbox keeps none, so it is required.
                errors.append("Mandatory: Unit price")
            quantity = line.setdefault("Quantity", Decimal(1))
            discount = line.setdefault("Discount", Decimal(0))
            if item is None:
                continue
            group = self.stores["logistics/ItemGroups"].get(item["ItemGroup"]) or {}
            gl_reference = line.get("GLAccount") or item.get("GLRevenue") or group.get("GLRevenue")
            gl_account = None
            if gl_reference is None:
                errors.append("Mandatory: G/L account")
            elif has_gl:
                gl_account = self._check_revenue_account(gl_reference, errors)
                line["GLAccount"] = gl_reference if gl_account is None else gl_account["ID"]
            else:
                gl_account = self.stores["financial/GLAccounts"].get(gl_reference)
            code = line.get("VATCode") or item.get("SalesVatCode")
            if code is None and gl_account is not None:
                code = gl_account.get("VATCode")
            vat = self._resolve_vat(code, errors)
            if vat is None or "UnitPrice" not in line:
                continue
            line["VATCode"] = vat["Code"]
            line["NetPrice"] = line["UnitPrice"] * (1 - discount)
            line["AmountFC"] = money(quantity * line["NetPrice"])
            self._line_vat(line, vat, vat_amount)

    def _number_lines(self, header: Record, key: str, lines: list[Record]) -> None:
        for number, line in enumerate(lines, start=1):
            line["ID"] = child_id(header[key], number)
            line[key] = header[key]
            line["LineNumber"] = number

    def _totals(self, header: Record, lines: list[Record], vat_amount: str, rate: Decimal) -> None:
        excl = sum((line["AmountFC"] for line in lines), Decimal(0))
        vat = sum((line[vat_amount] for line in lines), Decimal(0))
        header["AmountFCExclVat"] = excl
        header["VATAmountFC"] = vat
        header["AmountFC"] = excl + vat
        self._in_division_currency(lines, rate, vat_amount)
        vat_dc = sum((line["VATAmountDC"] for line in lines), Decimal(0))
        header["VATAmountDC"] = vat_dc
        header["AmountDC"] = sum((line["AmountDC"] for line in lines), Decimal(0)) + vat_dc

    def create_sales_invoice(self, raw: Any) -> Record:
        invoice = parse_body(model.SALES_INVOICE, raw)
        errors = length_errors(model.SALES_INVOICE, invoice)
        # Notes disagree on whether Journal may be left out; the stricter reading requires it.
        self._check_sales_journal(invoice, errors)
        self._check_customer(invoice, "OrderedBy", "Ordered by", errors)
        for name, label in (("InvoiceTo", "Invoice to"), ("DeliverTo", "Deliver to")):
            if name in invoice:
                self._check_customer(invoice, name, label, errors)
            else:
                invoice[name] = invoice.get("OrderedBy")
        self._check_common_header(invoice, errors)
        invoice_type = invoice.setdefault("Type", 8020)
        if invoice_type not in SALES_INVOICE_TYPES:
            errors.append("Invalid: Type")
        warehouse = invoice.get("Warehouse")
        if invoice_type in DIRECT_INVOICE_TYPES and warehouse is None:
            errors.append("Mandatory: Warehouse")
        elif (
            invoice_type in DIRECT_INVOICE_TYPES
            and self.stores["inventory/Warehouses"].get(warehouse) is None
        ):
            errors.append("Invalid reference: Warehouse")
        elif invoice_type not in DIRECT_INVOICE_TYPES and warehouse is not None:
            errors.append("Invalid: Warehouse")
        lines = invoice.pop("SalesInvoiceLines", [])
        if not lines:
            errors.append("Mandatory: SalesInvoiceLines")
        self._check_item_lines(lines, errors, vat_amount="VATAmountFC", has_gl=True)
        # Invoices take no Rate: Exact's own rate for the order date applies.
        rate = self._rate(invoice, invoice.setdefault("OrderDate", self.today()), errors)
        if errors:
            raise ValidationFailed(errors)
        with self.lock:
            invoice["InvoiceID"] = new_booking_id()
            invoice["Status"] = STATUS_OPEN
            if self.numbers_invoices_at_entry:
                # "Assigned at entry or at printing depending on setting" (SalesInvoices page).
                year = (self.calendar.period_of(invoice["OrderDate"]) or (self.today().year,))[0]
                invoice["InvoiceNumber"] = self._next_entry_number(invoice["Journal"], year)
            self._number_lines(invoice, "InvoiceID", lines)
            invoice["SalesInvoiceLines"] = lines
            self._totals(invoice, lines, "VATAmountFC", rate)
            self._stamp(invoice)
            self.stores["salesinvoice/SalesInvoices"].add(invoice)
        return invoice

    def print_sales_invoice(self, raw: Any) -> Record:
        request = parse_body(model.PRINTED_SALES_INVOICE, raw)
        invoice_id = request.get("InvoiceID")
        if invoice_id is None:
            raise ValidationFailed(["Mandatory: InvoiceID"])
        with self.lock:
            invoice = self.stores["salesinvoice/SalesInvoices"].get(invoice_id)
            if invoice is None:
                raise ValidationFailed(["Invalid reference: Invoice"])
            if invoice["Status"] != STATUS_PROCESSED:
                self._process_invoice(invoice, request)
            request["Document"] = self._invoice_document(invoice)
            request["DocumentCreationSuccess"] = "Document created"
            if request.get("SendEmailToCustomer"):
                self._send_invoice(invoice, request)
        return request

    def _process_invoice(self, invoice: Record, request: Record) -> None:
        """Printing makes the financial entry: its date and period pass the period checks."""
        invoice_date = request.get("InvoiceDate") or self.today()
        reporting = {
            name: request[name] for name in ("ReportingYear", "ReportingPeriod") if name in request
        }
        errors: list[str] = []
        self._check_period(reporting, invoice["Journal"], invoice_date, errors)
        if errors:
            raise ValidationFailed(errors)
        invoice["InvoiceDate"] = invoice_date
        invoice["ReportingYear"] = reporting["ReportingYear"]
        invoice["ReportingPeriod"] = reporting["ReportingPeriod"]
        if invoice.get("InvoiceNumber") is None:
            invoice["InvoiceNumber"] = self._next_entry_number(
                invoice["Journal"], invoice["ReportingYear"]
            )
        invoice["Status"] = STATUS_PROCESSED
        invoice["Modified"] = self.now()
        # For a sales invoice Exact reports the InvoiceID as the financial entry ID.
        invoice["EntryID"] = invoice["InvoiceID"]
        self._register_posting(invoice)

    def _invoice_document(self, invoice: Record) -> str:
        document = invoice.get("Document")
        if document is None:
            document = self.create_document(
                {"Subject": f"Sales invoice {invoice['InvoiceNumber']}", "Type": 10},
                extra={
                    "Account": invoice["InvoiceTo"],
                    "FinancialTransactionEntryID": invoice["InvoiceID"],
                    "SalesInvoiceNumber": invoice["InvoiceNumber"],
                },
            )["ID"]
            invoice["Document"] = document
        return document

    def _send_invoice(self, invoice: Record, request: Record) -> None:
        customer = self.stores["crm/Accounts"].get(invoice["InvoiceTo"]) or {}
        address = customer.get("Email")
        if not address:
            request["EmailCreationError"] = "The customer has no e-mail address."
            return
        sender = request.get("SenderEmailAddress") or self.facts.get("Email", "")
        self.outbox.append(
            OutgoingEmail(
                to=address,
                sender=sender,
                subject=f"Invoice {invoice['InvoiceNumber']} {self.facts.get('Description', '')}",
                invoice_id=invoice["InvoiceID"],
                invoice_number=invoice["InvoiceNumber"],
                sent_at=self.now(),
            )
        )
        # The sandbox sends nothing; it records that Exact would have sent this e-mail.
        request["EmailCreationSuccess"] = f"E-mail would be sent to {address}"

    def create_sales_order(self, raw: Any) -> Record:
        order = parse_body(model.SALES_ORDER, raw)
        errors = length_errors(model.SALES_ORDER, order)
        self._check_customer(order, "OrderedBy", "Ordered by", errors)
        for name in ("InvoiceTo", "DeliverTo"):
            order.setdefault(name, order.get("OrderedBy"))
        self._check_common_header(order, errors)
        lines = order.pop("SalesOrderLines", [])
        if not lines:
            errors.append("Mandatory: SalesOrderLines")
        self._check_item_lines(lines, errors, vat_amount="VATAmount", has_gl=False)
        rate = self._rate(order, order.setdefault("OrderDate", self.today()), errors)
        if errors:
            raise ValidationFailed(errors)
        with self.lock:
            self._order_counter += 1
            order["OrderID"] = new_booking_id()
            order["OrderNumber"] = self._order_counter
            order["Status"] = SALES_ORDER_OPEN
            order["ApprovalStatus"] = 1  # automatically approved
            self._number_lines(order, "OrderID", lines)
            order["SalesOrderLines"] = lines
            self._totals(order, lines, "VATAmount", rate)
            self._stamp(order)
            self.stores["salesorder/SalesOrders"].add(order)
        return order

    # -- master data writes ------------------------------------------------------------------

    def create_account(self, raw: Any) -> Record:
        account = parse_body(model.ACCOUNT, raw)
        errors = length_errors(model.ACCOUNT, account)
        store = self.stores["crm/Accounts"]
        if not account.get("Name"):
            errors.append("Mandatory: Name")
        if account.get("Status", "A") not in ACCOUNT_STATUSES:
            errors.append("Invalid: Status")
        vat = account.get("SalesVATCode")
        if vat is not None and self.vat_code(vat) is None:
            errors.append("Invalid reference: Sales VAT code")
        with self.lock:
            code = account.get("Code")
            if code is not None and (not code.strip().isdigit() or len(code.strip()) > 18):
                errors.append("Invalid: Code")
            elif code is not None and store.find("Code", code):
                errors.append(f"Duplicate: Code {code.strip()}")
            if errors:
                raise ValidationFailed(errors)
            if code is None:
                # "When a new account is created the value of the highest used code is
                # incremented by 1" (Exact, Tips and Tricks).
                highest = max((int(a["Code"]) for a in store.records), default=0)
                account["Code"] = pad(str(highest + 1), 18)
            account.setdefault("Status", "A")
            account.setdefault("Blocked", False)
            account.setdefault("IsSales", account["Status"] == "C")
            account.setdefault("IsSupplier", False)
            account["ID"] = new_booking_id()
            account["Type"] = "A"
            self._stamp(account)
            return store.add(account)

    def create_item(self, raw: Any) -> Record:
        item = parse_body(model.ITEM, raw)
        errors = length_errors(model.ITEM, item)
        store = self.stores["logistics/Items"]
        code, description = item.get("Code"), item.get("Description")
        if not code:
            errors.append("Mandatory: Code")
        if not description:
            errors.append("Mandatory: Description")
        group_reference = item.get("ItemGroup")
        if group_reference is None:
            group = self.default_item_group()
            item["ItemGroup"] = None if group is None else group["ID"]
        elif self.stores["logistics/ItemGroups"].get(group_reference) is None:
            errors.append("Invalid reference: Item group")
        if item.get("GLRevenue") is not None:
            self._check_revenue_account(item["GLRevenue"], errors)
        vat = item.get("SalesVatCode")
        if vat is not None and self.vat_code(vat) is None:
            errors.append("Invalid reference: Sales VAT code")
        with self.lock:
            if code and store.find("Code", code):
                errors.append(f"Duplicate: Code {code}")
            if errors:
                raise ValidationFailed(errors)
            item.setdefault("IsSalesItem", True)
            item.setdefault("IsStockItem", False)
            item.setdefault("IsWebshopItem", 0)
            item["ID"] = new_booking_id()
            self._stamp(item)
            return store.add(item)

    def create_document(self, raw: Any, *, extra: Mapping[str, Any] | None = None) -> Record:
        document = parse_body(model.DOCUMENT, raw)
        errors = length_errors(model.DOCUMENT, document)
        if not document.get("Subject"):
            errors.append("Mandatory: Subject")
        if "Type" not in document:
            errors.append("Mandatory: Type")
        elif document["Type"] not in DOCUMENT_TYPES:
            errors.append("Invalid reference: Type")
        account = document.get("Account")
        if account is not None and self.stores["crm/Accounts"].get(account) is None:
            errors.append("Invalid reference: Account")
        if errors:
            raise ValidationFailed(errors)
        with self.lock:
            self._document_counter += 1
            document.update(extra or {})
            document["ID"] = new_booking_id()
            document["HID"] = self._document_counter
            document.setdefault("DocumentDate", self.today())
            self._stamp(document)
            return self.stores["documents/Documents"].add(document)

    def create_attachment(self, raw: Any) -> Record:
        attachment = parse_body(model.DOCUMENT_ATTACHMENT, raw)
        errors = length_errors(model.DOCUMENT_ATTACHMENT, attachment)
        document = attachment.get("Document")
        if document is None:
            errors.append("Mandatory: Document")
        elif self.stores["documents/Documents"].get(document) is None:
            errors.append("Invalid reference: Document")
        if not attachment.get("FileName"):
            errors.append("Mandatory: FileName")
        encoded = attachment.pop("Attachment", None)
        content = b""
        if not encoded:
            errors.append("Mandatory: Attachment")
        else:
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as error:
                raise stream_error(
                    "Error encountered in converting the value from request payload for "
                    "property 'Attachment' to type 'Edm.Binary', which is the property's "
                    "expected type. See inner error for more details."
                ) from error
            if len(content) > self.attachment_limit:
                errors.append(
                    f"The attachment is too large: {len(content)} bytes, the maximum is "
                    f"{self.attachment_limit} bytes."
                )
        if errors:
            raise ValidationFailed(errors)
        with self.lock:
            attachment["ID"] = new_booking_id()
            attachment["FileSize"] = Decimal(len(content))
            attachment["Url"] = f"{self.base_url}/docs/SysAttachment.aspx?ID={attachment['ID']}"
            self.attachment_content[attachment["ID"]] = content
            return self.stores["documents/DocumentAttachments"].add(attachment)

    # -- reads -------------------------------------------------------------------------------

    def me_record(self, user: Mapping[str, Any]) -> Record:
        now = self.clock.now()
        local = local_wall_clock(now)
        offset = (local - now.replace(tzinfo=None)).total_seconds()
        return {
            **user,
            "CurrentDivision": self.code,
            "AccountingDivision": self.code,
            "Legislation": 1,
            "ServerTime": local,
            "ServerUtcOffset": Decimal(int(offset)),
        }

    def division_record(self) -> Record:
        return {
            "Code": self.code,
            "Description": self.facts.get("Description"),
            "HID": self.facts.get("HID", 1),
            "Country": pad(self.facts.get("Country", "NL"), -3),
            "Currency": self.facts.get("Currency", "EUR"),
            "VATNumber": self.facts.get("VATNumber"),
            "ChamberOfCommerceNumber": self.facts.get("ChamberOfCommerceNumber"),
            "Legislation": self.facts.get("Legislation", "NL"),
            "Status": 1,
            "Current": True,
            "Main": True,
            "Created": self.stores["financial/Journals"].records[0]["Created"],
            "Modified": self.stores["financial/Journals"].records[0]["Modified"],
        }

    def transaction_lines(
        self, after_key: str | None, equalities: Mapping[str, Any]
    ) -> Iterator[Record]:
        """The general-ledger lines of every posting, derived on demand, in booking order.

        `equalities` from the `$filter` skip postings whose header cannot match, so a look-up
        by YourRef or entry does not derive the lines of 100,000 other bookings.
        """
        header_values = {
            name: equalities[name] for name in _POSTING_HEADER_FIELDS if name in equalities
        }
        start, skip = 0, -1
        if after_key is not None:
            parent, number = parent_and_number(after_key)
            if parent in self._posting_positions:
                start, skip = self._posting_positions[parent], number - TRANSACTION_LINE_BASE
        for position in range(start, len(self.postings)):
            header = self.postings[position]
            if any(
                header.get(_POSTING_HEADER_FIELDS[name]) != value
                for name, value in header_values.items()
            ):
                continue
            for index, line in enumerate(self._ledger_lines(header)):
                if position == start and index <= skip:
                    continue
                yield line

    def _ledger_lines(self, header: Record) -> Iterator[Record]:
        is_invoice = "InvoiceID" in header
        lines = header["SalesInvoiceLines"] if is_invoice else header["SalesEntryLines"]
        customer_id = header["InvoiceTo"] if is_invoice else header["Customer"]
        customer = self.stores["crm/Accounts"].get(customer_id) or {}
        journal = self.journal(header["Journal"]) or {}
        date = header["InvoiceDate"] if is_invoice else header["EntryDate"]
        entry_type = SALES_INVOICE_TYPES[header["Type"]] if is_invoice else header["Type"]
        number = header["InvoiceNumber"]
        common = {
            "EntryID": header["EntryID"],
            "EntryNumber": number if is_invoice else header["EntryNumber"],
            "InvoiceNumber": number,
            "Type": entry_type,
            "Status": header["Status"],
            "JournalCode": header["Journal"],
            "JournalDescription": journal.get("Description"),
            "Date": date,
            "FinancialYear": header.get("ReportingYear", date.year),
            "FinancialPeriod": header.get("ReportingPeriod", date.month),
            "Account": customer_id,
            "AccountCode": customer.get("Code"),
            "AccountName": customer.get("Name"),
            "YourRef": header.get("YourRef"),
            "Currency": header["Currency"],
            "Document": header.get("Document"),
            "Division": self.code,
            "Created": header["Created"],
            "Modified": header["Modified"],
        }
        gl_store = self.stores["financial/GLAccounts"]
        sequence = iter(range(TRANSACTION_LINE_BASE, TRANSACTION_LINE_BASE + 0x7FFF))

        def ledger_line(
            gl_id: str | None, amount: Decimal, amount_dc: Decimal, **extra: Any
        ) -> Record:
            gl_account = gl_store.get(gl_id) or {}
            return {
                **common,
                "ID": child_id(header["EntryID"], next(sequence)),
                "GLAccount": gl_id,
                "GLAccountCode": gl_account.get("Code"),
                "GLAccountDescription": gl_account.get("Description"),
                "AmountFC": amount,
                "AmountDC": amount_dc,
                **extra,
            }

        # Debit the receivable for the total (a credit note posted negative credits it).
        yield ledger_line(
            journal.get("GLAccount"),
            header["AmountFC"],
            header["AmountDC"],
            LineNumber=0,
            LineType=1,
            Description=header.get("Description"),
        )
        vat_totals: dict[str, tuple[Decimal, Decimal]] = {}
        for line in lines:
            vat = self.vat_code(line["VATCode"]) or {}
            fc, dc = vat_totals.get(line["VATCode"], (Decimal(0), Decimal(0)))
            vat_totals[line["VATCode"]] = (fc + line["VATAmountFC"], dc + line["VATAmountDC"])
            yield ledger_line(
                line["GLAccount"],
                -line["AmountFC"],
                -line["AmountDC"],
                LineNumber=line["LineNumber"],
                LineType=0,
                Description=line.get("Description"),
                VATCode=line["VATCode"],
                VATCodeDescription=vat.get("Description"),
                VATPercentage=vat.get("Percentage"),
                AmountVATBaseFC=-line["AmountFC"],
                AmountVATFC=-line["VATAmountFC"],
                Item=line.get("Item"),
                Quantity=line.get("Quantity"),
                ItemCode=(self.stores["logistics/Items"].get(line.get("Item")) or {}).get("Code"),
            )
        for code, (amount, amount_dc) in vat_totals.items():
            vat = self.vat_code(code) or {}
            if amount:
                yield ledger_line(
                    vat.get("GLToPay"),
                    -amount,
                    -amount_dc,
                    LineNumber=0,
                    LineType=2,
                    Description=vat.get("Description"),
                    VATCode=code,
                    VATCodeDescription=vat.get("Description"),
                    VATPercentage=vat.get("Percentage"),
                    AmountVATFC=-amount,
                )

    def find_transaction_line(self, key: str) -> Record | None:
        parent, _ = parent_and_number(key)
        position = self._posting_positions.get(parent)
        if position is None:
            return None
        return next(
            (line for line in self._ledger_lines(self.postings[position]) if line["ID"] == key),
            None,
        )


def load_administration(path: Path | None) -> dict[str, Any]:
    source = path or default_administration_file()
    with source.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data
