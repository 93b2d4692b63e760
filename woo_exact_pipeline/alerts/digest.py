"""The daily digest: one message with yesterday's figures."""

from __future__ import annotations

from woo_exact_pipeline.alerts.model import Notice
from woo_exact_pipeline.store.day_summary import DaySummary


def digest_notice(ledger: DaySummary, reconciliation: str, api_calls: int) -> Notice:
    figures = {
        "day": ledger.day.isoformat(),
        "orders": ledger.orders,
        "sales_booked": ledger.sales_booked,
        "credit_notes_booked": ledger.credits_booked,
        "not_booked": ledger.events - ledger.booked,
        "waiting": ledger.waiting,
        "quarantined": ledger.quarantined,
        "reconciliation": reconciliation,
        "exact_api_calls": api_calls,
    }
    lines = (
        f"Orders in the shop:     {ledger.orders}",
        f"Sales booked:           {ledger.sales_booked}",
        f"Credit notes booked:    {ledger.credits_booked}",
        f"Not booked (yet):       {ledger.events - ledger.booked}",
        f"Waiting:                {ledger.waiting}",
        f"Quarantined:            {ledger.quarantined}",
        f"Reconciliation:         {reconciliation}",
        f"Exact API calls spent:  {api_calls}",
    )
    return Notice("digest", f"Daily digest for {ledger.day}", lines, figures=figures)
