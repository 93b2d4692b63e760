"""Partition summaries for the asset's metadata and checks, computed from hand-made results."""

from __future__ import annotations

from decimal import Decimal

from woo_exact_pipeline.bookkeeping import TransformResult
from woo_exact_pipeline.bookkeeping.summary import (
    VatTotal,
    category_counts,
    journal_line_rows,
    outcome_counts,
    reason_counts,
    unmapped_shop_tax_rates,
    unmapped_tax_rates,
    vat_totals,
)
from woo_exact_pipeline_tests.fixtures.bookkeeping import book, settings
from woo_exact_pipeline_tests.support.orders import (
    DE_TAX_LINES,
    coffee_order,
    german_order,
    goodwill_refund,
)

D = Decimal


def partition() -> TransformResult:
    unmapped = german_order(1003)
    unmapped["tax_lines"] = [{**DE_TAX_LINES[0], "rate_percent": 16.0}, DE_TAX_LINES[1]]
    return book(
        [coffee_order(), german_order(), unmapped, coffee_order(1004, total="130.00")],
        {1001: [goodwill_refund()]},
    )


def test_vat_totals_per_currency_treatment_and_code_net_of_credits() -> None:
    result = partition()
    assert vat_totals(result.events) == [
        # Code 1: cookbook 22.89 / 2.06 less its credit share 1.89 / 0.17.
        # Code 2: products 73.47 / 15.43, shipping 5.74 / 1.21, fee 0.29 / 0.06, less the
        # credit shares 6.09 / 1.28 and 0.47 / 0.10. The two held orders count nowhere.
        VatTotal("EUR", "domestic", "1", D("21.00"), D("1.89"), 2),
        VatTotal("EUR", "domestic", "2", D("72.94"), D("15.32"), 5),
        VatTotal("EUR", "oss", "D19", D("39.87"), D("7.58"), 2),
        VatTotal("EUR", "oss", "D7", D("18.64"), D("1.31"), 1),
    ]


def test_counts_reasons_and_unmapped_rates() -> None:
    result = partition()
    assert outcome_counts(result) == {
        "sales": 2,
        "credits": 1,
        "journal_lines": 10,
        "waiting": 0,
        "quarantined": 2,
    }
    quarantined = result.quarantined
    assert category_counts(quarantined) == {"unbalanced": 1, "unmapped_vat_rate": 1}
    assert list(reason_counts(quarantined).values()) == [1, 1]
    assert unmapped_tax_rates(quarantined) == [("DE", "16")]


def test_journal_line_rows_flatten_events_with_their_header() -> None:
    (sale,) = book([coffee_order()]).events
    rows = journal_line_rows([sale])
    assert len(rows) == 4
    assert journal_line_rows([sale, sale], limit=2) == rows[:2]
    assert rows[1] == {
        "reference": "1001",
        "kind": "sale",
        "order_id": 1001,
        "refund_id": None,
        "event_date": sale.event_date,
        "currency": "EUR",
        "debtor": "jan@example.nl",
        "vat_treatment": "domestic",
        "line": 2,
        "line_kind": "revenue",
        "gl_account": "8010",
        "vat_code": "1",
        "vat_rate": D("9"),
        "item_code": None,
        "description": "Sales 9% VAT",
        "quantity": D("1"),
        "unit_price": None,
        "amount_excl_vat": D("22.89"),
        "vat_amount": D("2.06"),
    }


def test_unmapped_shop_tax_rates_are_found_from_the_shops_rate_table() -> None:
    tax_rates = [
        {"id": 1, "country": "NL", "rate": "21.0000", "class": "standard"},
        {"id": 2, "country": "NL", "rate": "9.0000", "class": "reduced-rate"},
        {"id": 3, "country": "DE", "rate": "19.0000", "class": "standard"},
        {"id": 4, "country": "FR", "rate": "20.0000", "class": "standard"},
        {"id": 5, "country": "NL", "rate": "13.5000", "class": "special"},
        {"id": 6, "country": "US", "rate": "8.6250", "class": "standard"},
        {"id": 7, "country": "BE", "rate": "", "class": "standard"},
    ]
    assert unmapped_shop_tax_rates(tax_rates, settings()) == [
        "tax rate 13.5% to NL has no VAT code in the mapping; add one under "
        "exact.vat_mapping.domestic",
        "tax rate 13.5% to NL has no revenue account in the mapping; add one under "
        "exact.gl_mapping.domestic",
        "tax rate 20% to FR has no VAT code in the mapping; add one under exact.vat_mapping.oss.FR",
        "tax rate 7 has no readable percentage",
    ]
