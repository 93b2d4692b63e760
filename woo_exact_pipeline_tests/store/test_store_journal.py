"""A partition's journal: stored, replaced on re-run, read back identical, problems remembered."""

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from woo_exact_pipeline.bookkeeping.model import (
    AccountingEvent,
    Debtor,
    JournalLine,
    Quarantined,
    TransformResult,
    VatTreatment,
    Waiting,
)
from woo_exact_pipeline.store.journal import (
    ProblemOutcome,
    load_partition_events,
    partition_problems,
    replace_partition_journal,
)

DAY = date(2026, 3, 29)


def sale_of_order_1001() -> AccountingEvent:
    return AccountingEvent(
        kind="sale",
        reference="1001",
        order_id=1001,
        order_number="1001",
        refund_id=None,
        event_date=DAY,
        currency="EUR",
        description="Order 1001 Jeroen de Vries",
        debtor=Debtor(source="new", code=None, email="jeroen@example.nl", name="Jeroen de Vries"),
        vat_treatment=VatTreatment.DOMESTIC,
        vat_explanation="Dutch consumer: Dutch VAT",
        flags=(),
        lines=(
            JournalLine(
                kind="revenue",
                gl_account="8000",
                vat_code="2",
                vat_rate=Decimal("21"),
                item_code=None,
                description="Omzet 21%",
                quantity=Decimal("1"),
                unit_price=None,
                amount_excl_vat=Decimal("41.32"),
                vat_amount=Decimal("8.68"),
            ),
            JournalLine(
                kind="shipping",
                gl_account="8200",
                vat_code="2",
                vat_rate=Decimal("21"),
                item_code=None,
                description="Verzendkosten",
                quantity=Decimal("1"),
                unit_price=None,
                amount_excl_vat=Decimal("4.09"),
                vat_amount=Decimal("0.86"),
            ),
        ),
        total_incl_vat=Decimal("54.95"),
    )


def test_events_and_lines_read_back_exactly_as_stored(sync_engine: Engine) -> None:
    sale = sale_of_order_1001()
    with sync_engine.begin() as connection:
        replace_partition_journal(connection, "shop", DAY, TransformResult((sale,), (), ()))
    with sync_engine.connect() as connection:
        [loaded] = load_partition_events(connection, "shop", DAY)
    assert loaded == sale
    assert loaded.content_hash == sale.content_hash
    assert loaded.lines_total == Decimal("54.95")


def test_a_rerun_replaces_the_partition_and_keeps_when_a_problem_was_first_seen(
    sync_engine: Engine,
) -> None:
    waiting = Waiting(order_id=1002, order_number="1002", reason="no invoice number yet")
    quarantined = Quarantined(
        order_id=1003,
        order_number="1003",
        category="unmapped_vat_rate",
        reason="tax rate 19% to DE has no VAT code in the mapping; add one under vat_mapping.oss",
        details={"country": "DE", "rate": "19"},
    )
    with sync_engine.begin() as connection:
        replace_partition_journal(
            connection,
            "shop",
            DAY,
            TransformResult((sale_of_order_1001(),), (waiting,), (quarantined,)),
        )
    with sync_engine.connect() as connection:
        first = {p.problem_key: p for p in partition_problems(connection, "shop", DAY)}
    # The next run: 1002 got its invoice number, 1003 is still quarantined.
    with sync_engine.begin() as connection:
        replace_partition_journal(connection, "shop", DAY, TransformResult((), (), (quarantined,)))
    with sync_engine.connect() as connection:
        assert load_partition_events(connection, "shop", DAY) == []
        [still] = partition_problems(connection, "shop", DAY)
    assert set(first) == {"sale:1002", "sale:1003"}
    assert still.problem_key == "sale:1003"
    assert still.outcome == ProblemOutcome.QUARANTINED
    assert still.details == {"country": "DE", "rate": "19"}
    assert still.first_seen_at == first["sale:1003"].first_seen_at
    assert still.last_seen_at >= still.first_seen_at
