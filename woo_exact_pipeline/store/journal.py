"""The transform's output per partition: accounting events, their journal lines, and the
orders that wait or are quarantined (with when the problem was first seen, for alerts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from woo_exact_pipeline.bookkeeping.model import (
    AccountingEvent,
    Debtor,
    JournalLine,
    Quarantined,
    TransformResult,
    VatTreatment,
    Waiting,
)
from woo_exact_pipeline.store.schema import accounting_events, journal_lines, order_problems
from woo_exact_pipeline.store.tokens import as_utc


def sale_key(order_id: int) -> str:
    """The one key of an order's sale, in every table (events, journal lines, ledger,
    problems)."""
    return f"sale:{order_id}"


def credit_key(refund_id: int) -> str:
    """The one key of a refund's credit note, in every table."""
    return f"credit:{refund_id}"


def event_key(event: AccountingEvent) -> str:
    if event.kind == "credit":
        assert event.refund_id is not None, "a credit note is always of a refund"
        return credit_key(event.refund_id)
    return sale_key(event.order_id)


def problem_key(problem: Waiting | Quarantined, position: int) -> str:
    """The key of the event a problem holds back: the refund's credit note, else the order's
    sale."""
    if problem.refund_id is not None:
        return credit_key(problem.refund_id)
    if problem.order_id is not None:
        return sale_key(problem.order_id)
    # An order too broken to have an id: keyed by its place in the day's list.
    return f"unreadable:{problem.order_number or position}"


def replace_partition_journal(
    connection: Connection, shop: str, partition_date: date, result: TransformResult
) -> None:
    """Store a partition's transform result in place of the previous one."""
    now = datetime.now(UTC)
    for table in (journal_lines, accounting_events):
        keys = select(accounting_events.c.event_key).where(
            accounting_events.c.shop == shop, accounting_events.c.partition_date == partition_date
        )
        connection.execute(delete(table).where(table.c.shop == shop, table.c.event_key.in_(keys)))
    if result.events:
        connection.execute(
            insert(accounting_events),
            [_event_row(shop, partition_date, event, now) for event in result.events],
        )
        connection.execute(
            insert(journal_lines),
            [
                {"shop": shop, "event_key": event_key(event), "line_number": number, **asdict(line)}
                for event in result.events
                for number, line in enumerate(event.lines, start=1)
            ],
        )
    _replace_problems(connection, shop, partition_date, [*result.waiting, *result.quarantined], now)


def load_partition_events(
    connection: Connection, shop: str, partition_date: date
) -> list[AccountingEvent]:
    lines: dict[str, list[JournalLine]] = {}
    for row in connection.execute(
        select(journal_lines)
        .join(
            accounting_events,
            (accounting_events.c.shop == journal_lines.c.shop)
            & (accounting_events.c.event_key == journal_lines.c.event_key),
        )
        .where(
            accounting_events.c.shop == shop, accounting_events.c.partition_date == partition_date
        )
        .order_by(journal_lines.c.event_key, journal_lines.c.line_number)
    ).mappings():
        lines.setdefault(row["event_key"], []).append(
            JournalLine(
                kind=row["kind"],
                gl_account=row["gl_account"],
                vat_code=row["vat_code"],
                vat_rate=row["vat_rate"],
                item_code=row["item_code"],
                description=row["description"],
                quantity=row["quantity"],
                unit_price=row["unit_price"],
                amount_excl_vat=row["amount_excl_vat"],
                vat_amount=row["vat_amount"],
            )
        )
    return [
        AccountingEvent(
            kind=row["kind"],
            reference=row["reference"],
            order_id=row["order_id"],
            order_number=row["order_number"],
            refund_id=row["refund_id"],
            event_date=row["event_date"],
            currency=row["currency"],
            description=row["description"],
            debtor=Debtor(**row["debtor"]),
            vat_treatment=VatTreatment(row["vat_treatment"]),
            vat_explanation=row["vat_explanation"],
            flags=tuple(row["flags"]),
            lines=tuple(lines.get(row["event_key"], ())),
            total_incl_vat=row["total_incl_vat"],
            exchange_rate=row["exchange_rate"],
        )
        for row in connection.execute(
            select(accounting_events)
            .where(
                accounting_events.c.shop == shop,
                accounting_events.c.partition_date == partition_date,
            )
            .order_by(accounting_events.c.event_date, accounting_events.c.event_key)
        ).mappings()
    ]


class ProblemOutcome(StrEnum):
    WAITING = "waiting"  # not bookable yet (unpaid, a status to come); booked when it is
    QUARANTINED = "quarantined"  # cannot be booked as it is; the reason says what to fix


@dataclass(frozen=True)
class OrderProblem:
    """An order (or one refund of it) the transform could not turn into an event, as stored."""

    problem_key: str
    partition_date: date
    order_id: int | None
    refund_id: int | None
    order_number: str
    outcome: ProblemOutcome
    category: str
    reason: str
    details: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime


def partition_problems(
    connection: Connection, shop: str, partition_date: date
) -> list[OrderProblem]:
    return _problems(
        connection,
        order_problems.c.shop == shop,
        order_problems.c.partition_date == partition_date,
    )


def all_problems(
    connection: Connection, shop: str, days: tuple[date, date] | None = None
) -> list[OrderProblem]:
    """Every waiting and quarantined order of the shop, oldest day first (over every day or
    the days given, first and last inclusive)."""
    within = [] if days is None else [order_problems.c.partition_date.between(*days)]
    return _problems(connection, order_problems.c.shop == shop, *within)


def _problems(connection: Connection, *conditions: Any) -> list[OrderProblem]:
    rows = connection.execute(
        select(order_problems)
        .where(*conditions)
        .order_by(order_problems.c.partition_date, order_problems.c.problem_key)
    )
    return [
        OrderProblem(
            problem_key=row.problem_key,
            partition_date=row.partition_date,
            order_id=row.order_id,
            refund_id=row.refund_id,
            order_number=row.order_number,
            outcome=ProblemOutcome(row.outcome),
            category=row.category,
            reason=row.reason,
            details=dict(row.details or {}),
            first_seen_at=as_utc(row.first_seen_at),
            last_seen_at=as_utc(row.last_seen_at),
        )
        for row in rows
    ]


def _replace_problems(
    connection: Connection,
    shop: str,
    partition_date: date,
    problems: Iterable[Waiting | Quarantined],
    now: datetime,
) -> None:
    first_seen = dict(
        connection.execute(
            select(order_problems.c.problem_key, order_problems.c.first_seen_at).where(
                order_problems.c.shop == shop, order_problems.c.partition_date == partition_date
            )
        ).all()
    )
    connection.execute(
        delete(order_problems).where(
            order_problems.c.shop == shop, order_problems.c.partition_date == partition_date
        )
    )
    rows = []
    for position, problem in enumerate(problems):
        key = problem_key(problem, position)
        quarantined = isinstance(problem, Quarantined)
        rows.append(
            {
                "shop": shop,
                "problem_key": key,
                "partition_date": partition_date,
                "order_id": problem.order_id,
                "refund_id": problem.refund_id,
                "order_number": problem.order_number,
                "outcome": ProblemOutcome.QUARANTINED if quarantined else ProblemOutcome.WAITING,
                "category": problem.category if quarantined else "waiting",
                "reason": problem.reason,
                "details": dict(problem.details) if quarantined else {},
                # Kept across re-runs, so "quarantined for more than a day" can be told.
                "first_seen_at": first_seen.get(key, now),
                "last_seen_at": now,
            }
        )
    if rows:
        connection.execute(insert(order_problems), rows)


def _event_row(
    shop: str, partition_date: date, event: AccountingEvent, now: datetime
) -> dict[str, Any]:
    return {
        "shop": shop,
        "event_key": event_key(event),
        "partition_date": partition_date,
        "kind": event.kind,
        "reference": event.reference,
        "order_id": event.order_id,
        "order_number": event.order_number,
        "refund_id": event.refund_id,
        "event_date": event.event_date,
        "currency": event.currency,
        "description": event.description,
        "debtor": asdict(event.debtor),
        "vat_treatment": str(event.vat_treatment),
        "vat_explanation": event.vat_explanation,
        "flags": list(event.flags),
        "total_incl_vat": event.total_incl_vat,
        "exchange_rate": event.exchange_rate,
        "content_hash": event.content_hash,
        "transformed_at": now,
    }
