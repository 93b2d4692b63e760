"""Booking accounting events in Exact Online exactly once.

For each event the ledger is asked first: booked events are skipped (and reported when their
content changed since), and every post is preceded by a committed `pending` claim. When a
previous attempt's answer was lost, Exact is asked by YourRef before anything is posted again.
Debtors and items are made sure of on the way; anything Exact would refuse for a reason we can
see beforehand is held back with that reason instead of spending one of Exact's ten errors an
hour per endpoint.

Problems of one event never stop the others. Problems of the connection (login lost, daily
quota spent, Exact down) end the load: they raise, and the run fails so that alerts fire.

A dry run (`dry_run=True`) applies the same rules but stops before anything is written: no
claim, no new debtor or item, no document, no post; an event that would be posted is reported
as `would_book`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from woo_exact_pipeline.bookkeeping import normalise_email
from woo_exact_pipeline.bookkeeping.model import AccountingEvent, Debtor, JournalLine
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.exact import read_back, reference
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.entry_uploads import EntryUploads, ReadyToUpload
from woo_exact_pipeline.exact.errors import ExactApiError, ExactError, ExactOutcomeUnknown
from woo_exact_pipeline.exact.exchange_rates import BookingRates, MissingExchangeRate
from woo_exact_pipeline.exact.master_data import (
    MasterData,
    clear_pending_debtor,
    note_pending_debtor,
    refresh_master_data,
    remember,
)
from woo_exact_pipeline.exact.odata import parse_decimal, string_literal
from woo_exact_pipeline.exact.outcomes import Booked, BookingOutcome, BookingStatus
from woo_exact_pipeline.exact.periods import decide
from woo_exact_pipeline.exact.xml_upload import (
    ACCOUNTS,
    accounts_document,
    debtor_name,
    lines_to_upload,
)
from woo_exact_pipeline.store.journal import event_key
from woo_exact_pipeline.store.ledger import (
    BookingLedger,
    EventToClaim,
    LedgerRow,
    reserved_entry_number,
)

#: From this many new customers on a day they are created in one XML upload, not one by one.
NEW_DEBTORS_IN_ONE_UPLOAD = 3
#: The id a dry run uses for a debtor or item it would create (it creates nothing).
NOT_CREATED_IN_DRY_RUN = "(created when booked)"


class _HeldBack(Exception):
    """An event Exact would refuse for a reason we can see before posting."""


@dataclass(frozen=True)
class InvoicePdf:
    file_name: str
    content: bytes


#: Where the invoice PDF of a sale comes from (the shop's PDF plugin), None when it has none.
InvoicePdfSource = Callable[[AccountingEvent], InvoicePdf | None]


class ExactLoader:
    def __init__(
        self,
        client: ExactClient,
        engine: Engine,
        settings: SyncConfig,
        ledger: BookingLedger,
        master: MasterData,
        *,
        shop: str,
        invoice_pdfs: InvoicePdfSource | None = None,
        dry_run: bool = False,
    ) -> None:
        self._client = client
        self._invoice_pdfs = invoice_pdfs
        self._engine = engine
        self._settings = settings
        self._exact = settings.exact
        self._ledger = ledger
        self._master = master
        self._shop = shop
        self._dry_run = dry_run
        self._master_refreshed = False
        self._target = reference.BOOKING_ENDPOINTS[self._exact.insertion_type]
        self._rates = BookingRates(client, self._exact)

    def book_partition(
        self, partition_date: date, events: Iterable[AccountingEvent], *, bulk: bool = False
    ) -> list[BookingOutcome]:
        """The day's events booked (or previewed); in XML uploads from exact.bulk_upload_from
        events to book, or whenever `bulk` asks for it."""
        rows = self._ledger.rows(self._shop, partition_date)
        events = list(events)
        uploaded: dict[str, BookingOutcome] = {}
        if not self._dry_run:
            to_book = [
                e
                for e in events
                if (row := rows.get(event_key(e))) is None or row.status != "booked"
            ]
            self._create_new_debtors_together(to_book)
            if to_book and (bulk or len(to_book) >= self._exact.bulk_upload_from):
                uploaded = self._book_in_uploads(partition_date, to_book, rows)
        handle = self._preview if self._dry_run else self.book
        outcomes = []
        for event in events:
            key = event_key(event)
            outcomes.append(uploaded.get(key) or handle(event, partition_date, rows.get(key)))
        return outcomes

    def _book_in_uploads(
        self, partition_date: date, events: Sequence[AccountingEvent], rows: dict[str, LedgerRow]
    ) -> dict[str, BookingOutcome]:
        """Event key -> outcome of the events booked through XML uploads; the rest (and all
        of them when invoices, orders or PDF attachments are booked) take the REST path."""
        if self._exact.insertion_type != "sales_entry" or self._invoice_pdfs is not None:
            return {}
        percentages = {code: vat.percentage for code, vat in self._master.vat_codes.items()}
        ready = [
            item
            for event in events
            if (item := self._ready_to_upload(event, rows.get(event_key(event)), percentages))
        ]
        if not ready:
            return {}
        uploads = EntryUploads(self._client, self._ledger, self._exact, shop=self._shop)
        return uploads.book(partition_date, ready)

    def _ready_to_upload(
        self, event: AccountingEvent, row: LedgerRow | None, percentages: dict[str, Decimal]
    ) -> ReadyToUpload | None:
        """The event as an upload takes it, when every check of the REST path passes (its
        debtor made sure of on the way); None leaves it to the REST path, which says why."""
        if row is not None and row.status == "pending" and reserved_entry_number(row) is None:
            return None  # a REST post whose answer was lost: looked up by YourRef first
        lines = lines_to_upload(event, percentages, self._exact.administration_currency)
        if lines is None:
            return None
        try:
            body = self._body(event)
        except (_HeldBack, ExactError):
            return None
        if "ReportingPeriod" in body:
            return None  # moved to a later open period, which the upload does not name
        debtor = event.debtor
        code = debtor.code
        if code is None and debtor.email and (known := self._master.debtor_by_email(debtor.email)):
            code = known.code
        return None if code is None else ReadyToUpload(event, code, lines)

    def _create_new_debtors_together(self, events: Sequence[AccountingEvent]) -> None:
        """The customers the day's events need and Exact lacks, created in one XML upload and
        read back by e-mail, when there are enough to save calls: one call for the upload and
        about one per 60 read back, where one by one each costs a call. Each is noted pending
        first and stays so until it is read back: an event whose debtor was not read back
        (a lost answer, a refusal) asks Exact by e-mail before creating it, so no customer is
        ever created twice."""
        new: dict[str, Debtor] = {}
        for event in events:
            debtor = event.debtor
            email = debtor.email
            if event.currency not in self._exact.currencies:
                continue  # held back before its debtor is looked for
            if debtor.code or not email or email in new or self._master.debtor_by_email(email):
                continue
            if email not in self._master.pending_debtor_emails:
                new[email] = debtor
        if len(new) < NEW_DEBTORS_IN_ONE_UPLOAD:
            return
        for email in new:
            note_pending_debtor(self._engine, self._client.division, email)
            self._master.pending_debtor_emails.add(email)
        try:
            self._client.upload_xml(ACCOUNTS, accounts_document(list(new.values())))
        except ExactOutcomeUnknown:
            return  # pending: each event asks Exact by e-mail before creating its debtor
        except ExactApiError:
            for email in new:  # refused whole: nothing was created
                self._forget_pending(email)
            return
        found = {
            normalise_email(debtor.email): debtor
            for debtor in read_back.debtors_by_email(self._client, new)
            if debtor.email
        }
        for email in new:
            if (debtor := found.get(normalise_email(email))) is not None:
                self._adopt_debtor(debtor, email)

    def _forget_pending(self, email: str) -> None:
        self._master.pending_debtor_emails.discard(email)
        clear_pending_debtor(self._engine, self._client.division, email)

    def _preview(
        self, event: AccountingEvent, partition_date: date, row: LedgerRow | None
    ) -> BookingOutcome:
        """What `book` would do, without claiming, creating or posting anything."""
        if row is not None and row.status == "booked":
            return self._booked_before(event, row)
        try:
            self._body(event)
        except _HeldBack as problem:
            return BookingOutcome.of(event, BookingStatus.HELD_BACK, message=str(problem))
        if row is not None and row.status == "pending":
            note = "an earlier answer was lost: Exact is asked by YourRef before posting"
            return BookingOutcome.of(event, BookingStatus.WOULD_BOOK, message=note)
        return BookingOutcome.of(event, BookingStatus.WOULD_BOOK)

    def book(
        self, event: AccountingEvent, partition_date: date, row: LedgerRow | None
    ) -> BookingOutcome:
        key = event_key(event)
        if row is not None and row.status == "booked":
            return self._booked_before(event, row)
        claim = self._ledger.claim(
            EventToClaim.of(
                event,
                shop=self._shop,
                division=self._client.division,
                journal=self._exact.sales_journal,
                partition_date=partition_date,
            )
        )
        if not claim.granted:
            assert claim.previous is not None
            if claim.previous.status == "booked":
                return self._booked_before(event, claim.previous)
            return BookingOutcome.of(
                event, BookingStatus.IN_PROGRESS_ELSEWHERE, message="claimed by another run"
            )
        finished = False
        try:
            if claim.answer_was_lost and (found := self._find_in_exact(event)):
                self._ledger.mark_booked(self._shop, key, found.id, found.number)
                finished = True
                return BookingOutcome.of(event, BookingStatus.RECOVERED, found.number, found.id)
            outcome = self._post(event, key)
            finished = outcome.status != BookingStatus.OUTCOME_UNKNOWN
            return outcome
        except ExactOutcomeUnknown as error:
            # A new debtor, item or document whose answer was lost: the next run looks it up.
            return BookingOutcome.of(event, BookingStatus.OUTCOME_UNKNOWN, message=str(error))
        except ExactApiError as error:
            # Exact refused something done on this event's behalf (a look-up, a new debtor,
            # item or document): this event fails, is retried by the next run, and the run
            # goes on. A lost answer stays pending for the next look-up.
            if claim.answer_was_lost:
                return BookingOutcome.of(event, BookingStatus.OUTCOME_UNKNOWN, message=str(error))
            message = str(error.with_context(order=event.order_number))
            self._ledger.mark_failed(self._shop, key, message)
            finished = True
            return BookingOutcome.of(event, BookingStatus.FAILED, message=message)
        finally:
            if not finished:
                # The answer never came (or the run is ending): the next run looks it up.
                self._ledger.release(self._shop, key)

    # --- posting ---------------------------------------------------------------------------

    def _post(self, event: AccountingEvent, key: str) -> BookingOutcome:
        try:
            body = self._body(event)
        except _HeldBack as problem:
            self._ledger.mark_failed(self._shop, key, str(problem))
            return BookingOutcome.of(event, BookingStatus.HELD_BACK, message=str(problem))
        try:
            created = self._client.post(self._target.path, body)
        except ExactOutcomeUnknown as error:
            return BookingOutcome.of(event, BookingStatus.OUTCOME_UNKNOWN, message=str(error))
        except ExactApiError as error:
            message = str(error.with_context(order=event.order_number))
            self._ledger.mark_failed(self._shop, key, message)
            return BookingOutcome.of(event, BookingStatus.FAILED, message=message)
        exact_id = str(created[self._target.key])
        number = created.get(self._target.number)
        exact_number = None if number is None else str(number)
        in_own = Booked(parse_decimal(created.get("AmountDC")), self._rate(event))
        self._ledger.mark_booked(
            self._shop,
            key,
            exact_id,
            exact_number,
            amount_dc=in_own.amount_dc,
            exchange_rate=in_own.exchange_rate,
        )
        note = self._process_invoice(event, exact_id)
        return BookingOutcome.of(
            event, BookingStatus.BOOKED, exact_number, exact_id, message=note, booked=in_own
        )

    def _process_invoice(self, event: AccountingEvent, invoice_id: str) -> str | None:
        """Process the invoice (and let Exact e-mail it) when sync.yaml asks for it."""
        if self._exact.insertion_type not in ("sales_invoice", "direct_sales_invoice"):
            return None
        if self._exact.invoice_status != "processed":
            return None
        go_live = self._settings.woocommerce.go_live_date
        send = self._exact.email_invoices and go_live is not None and event.event_date >= go_live
        try:
            self._client.post(
                "salesinvoice/PrintedSalesInvoices",
                {"InvoiceID": invoice_id, "SendEmailToCustomer": send},
            )
        except (ExactApiError, ExactOutcomeUnknown) as error:
            return f"booked as a draft; processing failed: {error}"
        return "processed and e-mailed by Exact" if send else "processed"

    def _body(self, event: AccountingEvent) -> dict[str, Any]:
        insertion = self._exact.insertion_type
        journal = self._exact.sales_journal
        if event.currency not in self._exact.currencies:
            raise _HeldBack(
                f"the order is in {event.currency}, which the administration does not book in "
                f"({', '.join(self._exact.currencies)}); set up {event.currency} with exchange "
                "rates in Exact and add it under exact.currencies"
            )
        if insertion != "sales_order" and journal not in self._known("journals", journal):
            raise _HeldBack(f"sales journal {journal} does not exist in Exact")
        rate = self._rate(event)
        customer = self._customer_id(event)
        lines = [self._line(event, line) for line in event.lines]
        body: dict[str, Any] = {
            "YourRef": event.reference,
            "Description": event.description,
            "Currency": event.currency,
            reference.LINES_PROPERTY[insertion]: lines,
        }
        if insertion == "sales_entry":
            body |= {"Journal": journal, "Customer": customer, "EntryDate": event.event_date}
            body |= self._reporting_period(event)
            if rate is not None:
                body["Rate"] = rate
        elif insertion == "sales_order":
            body |= {"OrderedBy": customer, "OrderDate": event.event_date}
        else:
            body |= {"Journal": journal, "OrderedBy": customer, "OrderDate": event.event_date}
        if insertion == "direct_sales_invoice":
            body["Warehouse"] = self._warehouse_id()
        if insertion != "sales_order":
            types = reference.SALE_TYPES if event.kind == "sale" else reference.CREDIT_TYPES
            body["Type"] = types[insertion]
            if (document := self._attached_invoice(event, customer)) is not None:
                body["Document"] = document
        return body

    def _rate(self, event: AccountingEvent) -> Decimal | None:
        try:
            return self._rates.rate_of(event)
        except MissingExchangeRate as missing:
            raise _HeldBack(str(missing)) from None

    def _reporting_period(self, event: AccountingEvent) -> dict[str, Any]:
        """Nothing when the entry's own period is open (Exact takes it from the date), a later
        open period when its own is closed and sync.yaml says to move it; else held back.

        Only sales entries are dated in the period of the order: invoices get their date
        when they are processed, and sales orders are not in the ledger at all."""
        decision = decide(
            self._master.periods,
            self._exact.sales_journal,
            event.event_date,
            self._exact.closed_period,
        )
        if decision.problem is not None:
            raise _HeldBack(decision.problem)
        if decision.move_to is None:
            return {}
        return {"ReportingYear": decision.move_to.year, "ReportingPeriod": decision.move_to.period}

    def _attached_invoice(self, event: AccountingEvent, customer: str) -> str | None:
        """The shop's invoice PDF as an Exact document, for the booking to refer to."""
        if event.kind != "sale" or self._invoice_pdfs is None or self._dry_run:
            return None
        pdf = self._invoice_pdfs(event)
        if pdf is None:
            return None
        try:
            document = self._client.post(
                "documents/Documents",
                {"Subject": f"Invoice {event.reference}", "Type": 10, "Account": customer},
            )
            self._client.post(
                "documents/DocumentAttachments",
                {
                    "Document": document["ID"],
                    "FileName": pdf.file_name,
                    "Attachment": base64.b64encode(pdf.content).decode("ascii"),
                },
            )
        except ExactApiError as error:
            raise error.with_context(invoice_pdf=pdf.file_name) from None
        return str(document["ID"])

    def _line(self, event: AccountingEvent, line: JournalLine) -> dict[str, Any]:
        insertion = self._exact.insertion_type
        gl_account = None
        if insertion != "sales_order":
            gl_account = self._known("gl_accounts", line.gl_account).get(line.gl_account)
            if gl_account is None:
                raise _HeldBack(f"GL account {line.gl_account} does not exist in Exact")
        vat_code = line.vat_code or self._exact.rounding_vat_code
        if vat_code is not None and vat_code not in self._known("vat_codes", vat_code):
            raise _HeldBack(f"VAT code {vat_code} does not exist in Exact")
        booked: dict[str, Any] = {"Description": line.description}
        if vat_code is not None:
            booked["VATCode"] = vat_code
        if gl_account is None:
            # Exact's sales order lines have no GL account (the invoice made from the order
            # takes the item's revenue account) and call their VAT amount `VATAmount`.
            return booked | self._item_part(line) | {"VATAmount": line.vat_amount}
        booked |= {"GLAccount": gl_account.id, "VATAmountFC": line.vat_amount}
        if insertion == "sales_entry":
            return booked | {"AmountFC": line.amount_excl_vat}
        return booked | self._item_part(line)

    def _item_part(self, line: JournalLine) -> dict[str, Any]:
        unit_price = line.unit_price if line.unit_price is not None else line.amount_excl_vat
        return {"Item": self._item_id(line), "Quantity": line.quantity, "UnitPrice": unit_price}

    # --- master data on the way ------------------------------------------------------------

    def _known(self, kind: str, code: str) -> dict[str, Any]:
        """The cached records of a kind, refreshed once per run when a code is unknown."""
        records: dict[str, Any] = getattr(self._master, kind)
        if code not in records and not self._master_refreshed:
            self._master_refreshed = True
            self._master = refresh_master_data(self._client, self._engine, self._master)
            records = getattr(self._master, kind)
        return records

    def _warehouse_id(self) -> str:
        code = self._exact.warehouse
        warehouse = self._known("warehouses", code).get(code) if code else None
        if warehouse is None:
            raise _HeldBack(
                f"direct sales invoices deliver from a warehouse; exact.warehouse {code or ''} "
                "is not set or does not exist in Exact"
            )
        return warehouse.id

    def _customer_id(self, event: AccountingEvent) -> str:
        debtor = event.debtor
        if debtor.code:
            known = self._known("debtors", debtor.code).get(debtor.code)
            if known is None:
                raise _HeldBack(f"debtor {debtor.code} does not exist in Exact as a customer")
            return known.id
        if not debtor.email:
            raise _HeldBack(
                "the customer has no e-mail address to recognise them by; "
                "set exact.default_debtor to book such orders on one debtor"
            )
        existing = self._master.debtor_by_email(debtor.email)
        if existing is None and debtor.email in self._master.pending_debtor_emails:
            existing = self._debtor_in_exact(debtor.email)
        if existing is not None:
            return existing.id
        if self._dry_run:
            return NOT_CREATED_IN_DRY_RUN
        return self._create_debtor(event).id

    def _debtor_in_exact(self, email: str) -> reference.Debtor | None:
        """A debtor whose creation answer was lost: it may exist already."""
        found = self._client.get(
            "crm/Accounts",
            select=reference.DEBTOR_FIELDS,
            filter=f"Email eq {string_literal(email)}",
        )
        if not found:
            return None
        debtor = reference.debtor_from_record(found[0])
        self._adopt_debtor(debtor, email)
        return debtor

    def _create_debtor(self, event: AccountingEvent) -> reference.Debtor:
        debtor = event.debtor
        assert debtor.email is not None
        note_pending_debtor(self._engine, self._client.division, debtor.email)
        self._master.pending_debtor_emails.add(debtor.email)
        account = {
            "Name": debtor_name(debtor),
            "Status": "C",
            "Email": debtor.email,
            "AddressLine1": debtor.address_line_1,
            "AddressLine2": debtor.address_line_2,
            "Postcode": debtor.postcode,
            "City": debtor.city,
            "Country": debtor.country,
            "VATNumber": debtor.vat_number,
        }
        try:
            created = self._client.post(
                "crm/Accounts", {k: v for k, v in account.items() if v not in (None, "")}
            )
        except ExactApiError as error:
            # Refused, so certainly not created: nothing to look up next time.
            self._forget_pending(debtor.email)
            raise error.with_context(new_debtor=debtor.email) from None
        record = reference.debtor_from_record(created)
        self._adopt_debtor(record, debtor.email)
        return record

    def _adopt_debtor(self, debtor: reference.Debtor, email: str) -> None:
        self._master.debtors[debtor.code] = debtor
        remember(self._engine, self._client.division, "debtor", debtor)
        self._forget_pending(email)

    def _item_id(self, line: JournalLine) -> str:
        code = line.item_code
        if code is None:
            raise _HeldBack(f"line {line.description!r} has no item, which an invoice needs")
        item = self._known("items", code).get(code)
        if item is not None:
            return item.id
        if not self._exact.create_missing_items:
            raise _HeldBack(
                f"item {code} does not exist in Exact; create it there or set "
                "exact.create_missing_items to yes"
            )
        if self._dry_run:
            return NOT_CREATED_IN_DRY_RUN
        try:
            created = self._client.post(
                "logistics/Items",
                {"Code": code, "Description": line.description[:60] or code, "IsSalesItem": True},
            )
        except ExactApiError as error:
            raise error.with_context(new_item=code) from None
        item = reference.Item(
            id=str(created["ID"]),
            code=code,
            description=str(created.get("Description") or ""),
            is_sales_item=True,
            gl_revenue_id=created.get("GLRevenue"),
            sales_vat_code=None,
        )
        self._master.items[code] = item
        remember(self._engine, self._client.division, "item", item)
        return item.id

    # --- idempotency -------------------------------------------------------------------------

    def _find_in_exact(self, event: AccountingEvent) -> reference.ExistingBooking | None:
        found = reference.find_by_your_ref(
            self._client, self._exact.insertion_type, self._exact.sales_journal, event.reference
        )
        return found[0] if found else None

    def _booked_before(self, event: AccountingEvent, row: LedgerRow) -> BookingOutcome:
        if row.content_hash != event.content_hash:
            return BookingOutcome.of(
                event,
                BookingStatus.CHANGED_AFTER_BOOKING,
                row.exact_number,
                row.exact_id,
                message=(
                    "the order changed in WooCommerce after it was booked; not re-posted. "
                    "Correct the booking in Exact by hand (or credit and re-book it)."
                ),
                booked=Booked(row.amount_dc, row.exchange_rate),
            )
        return BookingOutcome.of(
            event,
            BookingStatus.ALREADY_BOOKED,
            row.exact_number,
            row.exact_id,
            booked=Booked(row.amount_dc, row.exchange_rate),
        )
