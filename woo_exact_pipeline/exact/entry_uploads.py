"""A day's sales entries and credit notes booked through XML uploads: one API call per document
of up to 9.5 MB instead of one REST call per event, for backfills and busy days.

Exactly once, as on the REST path, but with the entry number as the handle: each event is
claimed in the booking ledger with its entry number *before* the upload (the journal's highest
number in Exact or in the ledger, plus one). An answer that is lost leaves the claims pending
with their numbers; the next load uploads them again under the same numbers, and Exact refuses
every one that landed. Whatever Exact does not answer "created" is read back by entry number:
held under our reference, it was booked (recovered); held under another, the number was taken
meanwhile and the next load gives the event a new one; not held, the event failed with Exact's
words and is retried by the next load.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.config import ExactSettings
from woo_exact_pipeline.exact import read_back
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import ExactApiError, ExactOutcomeUnknown
from woo_exact_pipeline.exact.outcomes import Booked, BookingOutcome, BookingStatus
from woo_exact_pipeline.exact.xml_upload import (
    GL_TRANSACTIONS,
    MAX_DOCUMENT_BYTES,
    EntryToUpload,
    LineToUpload,
    MessageType,
    UploadMessage,
    document,
    entry_outcomes,
    messages,
)
from woo_exact_pipeline.store.journal import event_key
from woo_exact_pipeline.store.ledger import BookingLedger, EventToClaim, reserved_entry_number


@dataclass(frozen=True)
class ReadyToUpload:
    """An event that passed every check of the REST path, with its debtor's code and its lines
    as Exact is to compute their VAT."""

    event: AccountingEvent
    debtor_code: str
    lines: tuple[LineToUpload, ...]


class EntryUploads:
    def __init__(
        self, client: ExactClient, ledger: BookingLedger, exact: ExactSettings, *, shop: str
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._exact = exact
        self._shop = shop

    def book(
        self, partition_date: date, ready: Sequence[ReadyToUpload]
    ) -> dict[str, BookingOutcome]:
        """Event key -> outcome for the events claimed and uploaded; an event another run
        holds or booked meanwhile is left out (the REST path reports it)."""
        entries = self._claimed(partition_date, ready)
        outcomes: dict[str, BookingOutcome] = {}
        try:
            for chunk in _documents(entries, self._exact.sales_journal, self._exact.receivables_gl):
                for outcome in self._upload(chunk):
                    outcomes[outcome.event_key] = outcome
        except BaseException:
            # The load ends (quota spent, Exact unreachable, the run stopped): what was not
            # answered stays pending under its number, free for the next load to upload.
            for entry in entries:
                if (key := event_key(entry.event)) not in outcomes:
                    self._ledger.release(self._shop, key)
            raise
        return outcomes

    def _claimed(self, partition_date: date, ready: Sequence[ReadyToUpload]) -> list[EntryToUpload]:
        journal = self._exact.sales_journal
        division = self._client.division
        highest = max(
            read_back.highest_entry_number(self._client, journal) or 0,
            self._ledger.highest_entry_number(division, journal) or 0,
        )
        entries = []
        for item in ready:
            event = item.event
            claim = self._ledger.claim(
                EventToClaim.of(
                    event,
                    shop=self._shop,
                    division=division,
                    journal=journal,
                    partition_date=partition_date,
                    entry_number=highest + 1,
                )
            )
            if not claim.granted:
                continue
            number = reserved_entry_number(claim.previous)
            if number is None:
                highest = number = highest + 1
            entries.append(EntryToUpload(event, number, item.debtor_code, item.lines))
        return entries

    def _upload(self, entries: Sequence[EntryToUpload]) -> list[BookingOutcome]:
        try:
            answer = messages(
                self._client.upload_xml(
                    GL_TRANSACTIONS,
                    document(entries, self._exact.sales_journal, self._exact.receivables_gl),
                )
            )
        except ExactOutcomeUnknown as error:
            # Pending under their numbers: the next load's upload of them is refused if
            # they landed, and they are read back.
            return [self._unknown(entry, str(error)) for entry in entries]
        except ExactApiError as error:  # refused whole: nothing landed
            return [self._failed(entry, str(error)) for entry in entries]
        by_number = entry_outcomes(answer)
        whole = next((m for m in answer if m.type == MessageType.FATAL), None)
        outcomes = []
        refused: list[tuple[EntryToUpload, UploadMessage]] = []
        for entry in entries:
            message = by_number.get(entry.entry_number)
            if message is not None and message.type == MessageType.SUCCESS:
                outcomes.append(self._booked(entry, None, BookingStatus.BOOKED))
            elif message is not None:
                refused.append((entry, message))
            elif whole is not None:
                outcomes.append(
                    self._failed(entry, f"Exact refused the upload: {whole.description}")
                )
            else:
                outcomes.append(self._unknown(entry, "Exact's answer names no outcome for it"))
        if refused:
            held = read_back.entries_by_number(
                self._client, self._exact.sales_journal, [e.entry_number for e, _ in refused]
            )
            for entry, message in refused:
                found = held.get(entry.entry_number)
                if found is not None and found.your_ref == entry.event.reference:
                    outcomes.append(self._booked(entry, found.id, BookingStatus.RECOVERED))
                elif found is not None:
                    outcomes.append(
                        self._failed(
                            entry,
                            f"entry number {entry.entry_number} is another entry's in Exact "
                            f"(YourRef {found.your_ref}); the next load numbers this one anew",
                        )
                    )
                else:
                    outcomes.append(self._failed(entry, f"Exact refused it: {message.description}"))
        return outcomes

    def _booked(
        self, entry: EntryToUpload, exact_id: str | None, status: BookingStatus
    ) -> BookingOutcome:
        event, number = entry.event, str(entry.entry_number)
        # In the administration's own currency only: the amount is the event's.
        booked = Booked(amount_dc=event.total_incl_vat, exchange_rate=None)
        self._ledger.mark_booked(
            self._shop, event_key(event), exact_id, number, amount_dc=booked.amount_dc
        )
        note = "booked in an XML upload" if status == BookingStatus.BOOKED else None
        return BookingOutcome.of(event, status, number, exact_id, message=note, booked=booked)

    def _failed(self, entry: EntryToUpload, reason: str) -> BookingOutcome:
        message = f"{reason} (order {entry.event.order_number}, entry {entry.entry_number})"
        self._ledger.mark_failed(self._shop, event_key(entry.event), message)
        return BookingOutcome.of(entry.event, BookingStatus.FAILED, message=message)

    def _unknown(self, entry: EntryToUpload, reason: str) -> BookingOutcome:
        self._ledger.release(self._shop, event_key(entry.event))
        return BookingOutcome.of(
            entry.event,
            BookingStatus.OUTCOME_UNKNOWN,
            str(entry.entry_number),
            message=f"uploaded as entry {entry.entry_number}, no answer: {reason}",
        )


def _documents(
    entries: Sequence[EntryToUpload], journal: str, receivables_gl: str
) -> Iterator[list[EntryToUpload]]:
    """The entries in consecutive runs whose documents stay under MAX_DOCUMENT_BYTES."""
    empty = len(document([], journal, receivables_gl))
    chunk: list[EntryToUpload] = []
    size = empty
    for entry in entries:
        entry_size = len(document([entry], journal, receivables_gl)) - empty
        if chunk and size + entry_size > MAX_DOCUMENT_BYTES:
            yield chunk
            chunk, size = [], empty
        chunk.append(entry)
        size += entry_size
    if chunk:
        yield chunk
