"""Pure bookkeeping: WooCommerce orders and refunds in, Exact-ready accounting events out.

No Dagster, HTTP or database here; money is `Decimal` end to end. The rules the transform
applies where WooCommerce leaves a choice are documented in `events`.
"""

from woo_exact_pipeline.bookkeeping.events import build_accounting_events
from woo_exact_pipeline.bookkeeping.model import (
    AccountingEvent,
    Debtor,
    JournalLine,
    Quarantined,
    TransformResult,
    VatTreatment,
    Waiting,
)
from woo_exact_pipeline.bookkeeping.order import normalise_email
from woo_exact_pipeline.bookkeeping.parts import ExactReferenceData

__all__ = [
    "AccountingEvent",
    "Debtor",
    "ExactReferenceData",
    "JournalLine",
    "Quarantined",
    "TransformResult",
    "VatTreatment",
    "Waiting",
    "build_accounting_events",
    "normalise_email",
]
