"""The sale and credit note whose Exact bodies the body tests write out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from woo_exact_pipeline.bookkeeping.model import (
    AccountingEvent,
    Debtor,
    EventKind,
    JournalLine,
    LineKind,
    VatTreatment,
)

DAY = date(2026, 10, 20)


D = Decimal


def line(kind: LineKind, gl: str, vat: str, item: str, excl: str, tax: str) -> JournalLine:
    return JournalLine(
        kind=kind,
        gl_account=gl,
        vat_code=vat,
        vat_rate=D(21),
        item_code=item,
        description=f"{kind} {item}",
        quantity=D(1),
        unit_price=D(excl),
        amount_excl_vat=D(excl),
        vat_amount=D(tax),
    )


def event(kind: EventKind, reference: str, *lines: JournalLine) -> AccountingEvent:
    return AccountingEvent(
        kind=kind,
        reference=reference,
        order_id=5001,
        order_number="5001",
        refund_id=7 if kind == "credit" else None,
        event_date=DAY,
        currency="EUR",
        description=f"Order {reference}",
        # Nobody Exact knows: the loader creates the debtor.
        debtor=Debtor(
            source="customer",
            code=None,
            email="nieuw@klant.example",
            name="Nieuwe Klant",
            address_line_1="Dorpsstraat 1",
            postcode="1234 AB",
            city="Ergens",
            country="NL",
        ),
        vat_treatment=VatTreatment.DOMESTIC,
        vat_explanation="",
        flags=(),
        lines=lines,
        total_incl_vat=sum((li.amount_incl_vat for li in lines), D(0)),
    )


SALE = event(
    "sale",
    "5001",
    # An item Exact does not have yet: created on the way.
    line("revenue", "8000", "2", "NIEUW-ARTIKEL", "20.00", "4.20"),
    line("shipping", "8300", "2", "VERZENDKOSTEN", "4.95", "1.04"),
)


CREDIT = event(
    "credit", "5001-R7", line("revenue", "8000", "2", "NIEUW-ARTIKEL", "-20.00", "-4.20")
)
