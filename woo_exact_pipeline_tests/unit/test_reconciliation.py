"""The reconciliation's comparison on hand-made days: figures computed by hand, and a property
that a perfect copy agrees and one removed, duplicated or altered document is reported once."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from woo_exact_pipeline.bookkeeping.model import (
    AccountingEvent,
    Debtor,
    EventKind,
    JournalLine,
    LineKind,
    VatTreatment,
)
from woo_exact_pipeline.bookkeeping.reconciliation import (
    EXACTS_DEFAULT_VAT_CODE,
    ExactDocument,
    ExactLine,
    Figures,
    differences_table,
    reconcile,
    vat_code_table,
)

D = Decimal
DAY = date(2026, 10, 20)


def line(kind: LineKind, gl: str, vat_code: str | None, excl: str, vat: str) -> JournalLine:
    return JournalLine(
        kind=kind,
        gl_account=gl,
        vat_code=vat_code,
        vat_rate=D(21),
        item_code=None,
        description=kind,
        quantity=D(1),
        unit_price=None,
        amount_excl_vat=D(excl),
        vat_amount=D(vat),
    )


def event(reference: str, *lines: JournalLine, kind: EventKind = "sale") -> AccountingEvent:
    total = sum((li.amount_incl_vat for li in lines), D(0))
    return AccountingEvent(
        kind=kind,
        reference=reference,
        order_id=int(reference.split("-")[0]),
        order_number=reference.split("-")[0],
        refund_id=int(reference.split("R")[1]) if "-R" in reference else None,
        event_date=DAY,
        currency="EUR",
        description=f"Order {reference}",
        debtor=Debtor(source="default", code="2"),
        vat_treatment=VatTreatment.DOMESTIC,
        vat_explanation="",
        flags=(),
        lines=lines,
        total_incl_vat=total,
    )


def booked(item: AccountingEvent, number: int, rounding_code: str | None = None) -> ExactDocument:
    """The document the loader books for an event, as Exact gives it back."""
    return ExactDocument(
        exact_id=f"id-{item.reference}-{number}",
        number=str(number),
        your_ref=item.reference,
        kind=item.kind,
        currency=item.currency,
        lines=tuple(
            ExactLine(
                li.gl_account, li.vat_code or rounding_code, li.amount_excl_vat, li.vat_amount
            )
            for li in item.lines
        ),
    )


def a_day() -> list[AccountingEvent]:
    return [
        event(
            "1001",
            line("revenue", "8000", "2", "100.00", "21.00"),
            line("discount", "8000", "2", "-10.00", "-2.10"),
            line("shipping", "8300", "2", "5.00", "1.05"),
            line("revenue", "8010", "1", "20.00", "1.80"),
        ),
        event("1002", line("revenue", "8000", "2", "50.00", "10.50")),
        event(
            "1001-R7",
            line("revenue", "8000", "2", "-40.00", "-8.40"),
            kind="credit",
        ),
    ]


def test_a_faithful_copy_agrees_and_the_table_adds_up_by_hand() -> None:
    events = a_day()
    result = reconcile(events, [booked(e, n) for n, e in enumerate(events, start=1)])

    assert result.agrees
    assert result.differences == ()
    [low, high] = result.by_vat_code
    assert (low.currency, low.vat_code) == ("EUR", "1")
    # In the administration's own currency the amounts in it are the same.
    assert (
        low.woocommerce
        == low.exact
        == Figures(D("20.00"), D("1.80"), D("20.00"), D("1.80"), documents=1)
    )
    # Code 2: 100 - 10 + 5 + 50 - 40 = 105 excl., 21 - 2.10 + 1.05 + 10.50 - 8.40 = 22.05 VAT.
    assert high.woocommerce == Figures(
        amount_excl_vat=D("105.00"),
        vat_amount=D("22.05"),
        amount_excl_vat_dc=D("105.00"),
        vat_amount_dc=D("22.05"),
        shipping=D("5.00"),
        discounts=D("-10.00"),
        credits=D("-40.00"),
        documents=3,
    )
    assert high.exact == high.woocommerce
    assert "| EUR | 2 | 105.00 | 105.00 | 0 | 22.05 | 22.05 | 0 |" in vat_code_table(result, "EUR")


def in_dollars(reference: str) -> AccountingEvent:
    return replace(
        event(
            reference,
            line("revenue", "8000", "2", "100.00", "21.00"),
            line("shipping", "8300", "2", "5.00", "1.05"),
        ),
        currency="USD",
        exchange_rate=D("1.08"),
    )


def booked_at(item: AccountingEvent, rate: Decimal) -> ExactDocument:
    """As Exact holds a foreign-currency entry: each line divided by the rate, to the cent."""
    document = booked(item, 1)
    cents = D("0.01")
    return replace(
        document,
        lines=tuple(
            replace(
                li,
                amount_excl_vat_dc=(li.amount_excl_vat / rate).quantize(cents),
                vat_amount_dc=(li.vat_amount / rate).quantize(cents),
            )
            for li in document.lines
        ),
    )


def test_a_dollar_entry_is_compared_in_dollars_and_in_euros_line_by_line() -> None:
    order = in_dollars("1003")
    result = reconcile([order], [booked_at(order, D("1.08"))], rates={"1003": D("1.08")})

    assert result.agrees
    [row] = result.by_vat_code
    # 100 / 1.08 = 92.59 and 5 / 1.08 = 4.63; VAT 21 / 1.08 = 19.44 and 1.05 / 1.08 = 0.97:
    # line by line 20.41 VAT, where the total converted at once would be 20.42.
    assert (
        row.woocommerce
        == row.exact
        == Figures(
            amount_excl_vat=D("105.00"),
            vat_amount=D("22.05"),
            amount_excl_vat_dc=D("97.22"),
            vat_amount_dc=D("20.41"),
            shipping=D("5.00"),
            documents=1,
        )
    )
    table = vat_code_table(result, "EUR")
    assert "| EUR excl. VAT (W / E) | EUR VAT (W / E) |" in table
    assert (
        "| USD | 2 | 105.00 | 105.00 | 0 | 22.05 | 22.05 | 0 | 97.22 / 97.22 | 20.41 / 20.41 |"
        in (table)
    )
    # A day in the administration's own currency keeps the table as it was.
    assert "EUR excl. VAT (W / E)" not in vat_code_table(reconcile(a_day(), []), "EUR")


def test_a_dollar_entry_converted_at_another_rate_than_the_booking_names_its_line() -> None:
    order = in_dollars("1003")
    result = reconcile([order], [booked_at(order, D("1.0720"))], rates={"1003": D("1.08")})

    [difference] = result.different
    # 100 / 1.0720 = 93.28 in Exact against 92.59 at the shop's 1.08.
    assert difference.reason == (
        "line 1: excl. VAT in the administration's currency 92.59 at the booking's rate, "
        "93.28 in Exact"
    )
    # With 5 / 1.0720 = 4.66 against 4.63: 97.94 against 97.22 excluding VAT on the day.
    [row] = result.by_vat_code
    assert (row.woocommerce.amount_excl_vat_dc, row.exact.amount_excl_vat_dc) == (
        D("97.22"),
        D("97.94"),
    )


def test_a_foreign_event_without_a_rate_counts_nothing_in_euros() -> None:
    order = in_dollars("1003")
    result = reconcile([order], [], rates={"1003": None})

    [missing] = result.missing
    assert missing.reference == "1003"
    [row] = result.by_vat_code
    assert (row.woocommerce.amount_excl_vat, row.woocommerce.amount_excl_vat_dc) == (
        D("105.00"),
        D(0),
    )


def test_a_missing_booking_is_listed_with_the_ledgers_reason() -> None:
    events = a_day()
    result = reconcile(
        events,
        [booked(events[0], 1), booked(events[2], 3)],
        ledger_notes={"1002": "failed in the booking ledger: Exact refused it"},
    )

    assert not result.agrees
    [missing] = result.missing
    assert missing.reference == "1002"
    assert (missing.woocommerce_excl_vat, missing.woocommerce_vat) == (D("50.00"), D("10.50"))
    assert (missing.exact_excl_vat, missing.exact_vat) == (None, None)
    assert "Exact refused it" in missing.reason
    high = result.by_vat_code[1]
    assert high.woocommerce.amount_excl_vat - high.exact.amount_excl_vat == D("50.00")
    assert high.exact.documents == 2
    assert "| 1002 |  | 50.00 | 10.50 | — | — |" in differences_table(result.differences)


def test_a_duplicate_is_extra_and_the_agreeing_copy_is_the_booking() -> None:
    events = a_day()
    wrong_first = replace(
        booked(events[1], 5),
        lines=(ExactLine("8000", "2", D("50.00"), D("10.00")),),
    )
    result = reconcile(
        events, [booked(events[0], 1), wrong_first, booked(events[1], 6), booked(events[2], 3)]
    )

    assert result.different == () and result.missing == ()
    [extra] = result.extra
    assert (extra.reference, extra.exact_number) == ("1002", "5")
    assert "booked 2 times" in extra.reason
    # Exact's side counts what Exact holds: the duplicate too.
    high = result.by_vat_code[1]
    assert high.exact.amount_excl_vat - high.woocommerce.amount_excl_vat == D("50.00")
    assert high.exact.vat_amount - high.woocommerce.vat_amount == D("10.00")


def test_an_unknown_reference_is_extra() -> None:
    events = a_day()
    stray = booked(event("1003", line("revenue", "8000", "2", "8.00", "1.68")), 9)
    result = reconcile(events, [*(booked(e, n) for n, e in enumerate(events)), stray])

    [extra] = result.extra
    assert (extra.reference, extra.woocommerce_excl_vat, extra.exact_excl_vat) == (
        "1003",
        None,
        D("8.00"),
    )
    assert "no sale or refund of this day" in extra.reason


def test_each_kind_of_difference_is_named_at_its_line() -> None:
    events = a_day()
    sale = booked(events[0], 1)
    changes = {
        "VAT 1.05 in WooCommerce, 1.00 in Exact": (2, ExactLine("8300", "2", D("5.00"), D("1.00"))),
        "GL account 8300 in WooCommerce, 8310 in Exact": (
            2,
            ExactLine("8310", "2", D("5.00"), D("1.05")),
        ),
        "VAT code 1 in WooCommerce, 2 in Exact": (3, ExactLine("8010", "2", D("20.00"), D("1.80"))),
        "20.00 excl. VAT in WooCommerce, 19.99 in Exact": (
            3,
            ExactLine("8010", "1", D("19.99"), D("1.80")),
        ),
    }
    for words, (position, changed) in changes.items():
        lines = list(sale.lines)
        lines[position] = changed
        result = reconcile(events[:1], [replace(sale, lines=tuple(lines))])
        [different] = result.different
        assert different.reason == f"line {position + 1}: {words}"
        assert not result.agrees

    as_sale = reconcile(events[2:], [replace(booked(events[2], 3), kind="sale")])
    assert as_sale.different[0].reason == "a credit in WooCommerce, a sale in Exact"
    shorter = reconcile(events[:1], [replace(sale, lines=sale.lines[:3])])
    assert shorter.different[0].reason == "4 lines in WooCommerce, 3 in Exact"


def test_a_line_without_vat_code_takes_the_rounding_code_or_exacts_default() -> None:
    rounded = event(
        "1004",
        line("revenue", "8000", "2", "10.00", "2.10"),
        line("rounding", "8900", None, "0.01", "0.00"),
    )
    with_setting = reconcile(
        [rounded], [booked(rounded, 1, rounding_code="0")], rounding_vat_code="0"
    )
    assert with_setting.agrees
    assert [row.vat_code for row in with_setting.by_vat_code] == ["0", "2"]

    # Without the setting Exact puts the GL account's default code on the line.
    without = reconcile([rounded], [booked(rounded, 1, rounding_code="4")])
    assert without.agrees
    assert [row.vat_code for row in without.by_vat_code] == [EXACTS_DEFAULT_VAT_CODE, "2"]
    mismatched = reconcile(
        [rounded], [booked(rounded, 1, rounding_code="0")], rounding_vat_code="4"
    )
    assert mismatched.different[0].reason == "line 2: VAT code 4 in WooCommerce, 0 in Exact"


def test_a_sales_order_has_no_type_to_compare() -> None:
    events = a_day()
    orders = [replace(booked(e, n), kind=None) for n, e in enumerate(events)]
    result = reconcile(events, orders)
    assert result.agrees
    assert result.by_vat_code[1].exact.credits == D("-40.00")


# --- the property ------------------------------------------------------------------------------

cents = st.integers(min_value=-100_000, max_value=100_000).map(lambda n: D(n).scaleb(-2))
lines = st.builds(
    line,
    st.sampled_from(["revenue", "shipping", "discount", "fee"]),
    st.sampled_from(["8000", "8010", "8300"]),
    st.sampled_from(["1", "2", "4"]),
    cents.map(str),
    cents.map(str),
)


@st.composite
def days(draw: st.DrawFn) -> list[AccountingEvent]:
    orders = draw(st.lists(st.lists(lines, min_size=1, max_size=4), min_size=1, max_size=8))
    return [
        event(f"{1000 + n}", *order_lines, kind=draw(st.sampled_from(["sale", "credit"])))
        for n, order_lines in enumerate(orders)
    ]


@given(days(), st.data())
def test_a_copy_agrees_and_one_changed_document_is_reported_exactly_once(
    events: list[AccountingEvent], data: st.DataObject
) -> None:
    copy = [booked(e, n) for n, e in enumerate(events)]
    perfect = reconcile(events, copy)
    assert perfect.agrees
    assert all(row.woocommerce == row.exact for row in perfect.by_vat_code)

    victim = data.draw(st.integers(min_value=0, max_value=len(events) - 1))
    reference = events[victim].reference

    removed = reconcile(events, copy[:victim] + copy[victim + 1 :])
    assert [d.reference for d in removed.differences] == [reference]
    assert removed.missing[0].reference == reference

    doubled = reconcile(events, [*copy, replace(copy[victim], exact_id="again")])
    assert [d.reference for d in doubled.differences] == [reference]
    assert doubled.extra[0].exact_number == copy[victim].number

    position = data.draw(st.integers(min_value=0, max_value=len(copy[victim].lines) - 1))
    changed_lines = list(copy[victim].lines)
    changed_lines[position] = replace(
        changed_lines[position], vat_amount=changed_lines[position].vat_amount + D("0.01")
    )
    altered = reconcile(
        events,
        [*copy[:victim], replace(copy[victim], lines=tuple(changed_lines)), *copy[victim + 1 :]],
    )
    assert [d.reference for d in altered.differences] == [reference]
    assert altered.different[0].reason.startswith(f"line {position + 1}: VAT")
    assert not altered.agrees


def test_a_line_uploaded_in_parts_agrees_with_the_line_and_a_wrong_part_is_named() -> None:
    # 69.00 incl. 21%: WooCommerce 57.02 + 11.98; the XML upload sends 28.51 twice, on which
    # Exact computes 5.99 VAT each, and a shipping line whole.
    sale = event(
        "1003",
        line("revenue", "8000", "2", "57.02", "11.98"),
        line("shipping", "8300", "2", "4.13", "0.87"),
    )
    parts = (
        ExactLine("8000", "2", D("28.51"), D("5.99")),
        ExactLine("8000", "2", D("28.51"), D("5.99")),
        ExactLine("8300", "2", D("4.13"), D("0.87")),
    )
    uploaded = replace(booked(sale, 1), lines=parts)
    result = reconcile([sale], [uploaded])
    assert result.agrees, result.differences
    [row] = result.by_vat_code
    assert (row.exact.amount_excl_vat, row.exact.vat_amount, row.exact.shipping) == (
        D("61.15"),
        D("12.85"),
        D("4.13"),
    )

    short = replace(uploaded, lines=(parts[0], replace(parts[1], vat_amount=D("5.98")), parts[2]))
    [difference] = reconcile([sale], [short]).different
    assert "VAT" in difference.reason and "11.98" in difference.reason
