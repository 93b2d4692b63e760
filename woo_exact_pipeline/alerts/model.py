"""A problem worth telling someone about, and the messages that announce it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

#: Kinds of problem, in the order messages list them, with the heading each message gets.
KINDS: dict[str, str] = {
    "run_failed": "A run failed",
    "exact_login": "The Exact Online login",
    "order_stuck": "Orders not booked",
    "reconciliation": "WooCommerce and Exact differ",
    "freshness": "Bookings are late",
    "missed_tick": "Automation stopped ticking",
}

NoticeStatus = Literal["started", "cleared", "digest", "test"]


class FailureCause(StrEnum):
    """Why a run failed, as far as someone can act on it. A step failure carries it in its
    metadata (`CAUSE`), set once from the exception's type (defs/errors.py)."""

    EXACT_LOGIN_LOST = "exact_login_lost"
    EXACT_QUOTA_SPENT = "exact_quota_spent"
    EXACT_UNREACHABLE = "exact_unreachable"
    WOOCOMMERCE_UNREACHABLE = "woocommerce_unreachable"
    SYNC_DATABASE_UNAVAILABLE = "sync_database_unavailable"
    INVALID_CONFIGURATION = "invalid_configuration"
    UNEXPECTED = "unexpected"


#: The metadata entry of a step failure that holds its `FailureCause`.
CAUSE = "cause"


@dataclass(frozen=True)
class Problem:
    """One open problem. `stage` is its current state (e.g. `expiring` or `expired`): a new
    stage is announced again; `since` is when it began, `after` how long it must last
    before it is announced (orders stuck longer than a threshold)."""

    key: str
    kind: str
    stage: str
    summary: str
    since: datetime
    details: tuple[str, ...] = ()
    fix: str | None = None
    after_seconds: float = 0

    def due(self, now: datetime) -> bool:
        return (now - self.since).total_seconds() >= self.after_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "stage": self.stage,
            "summary": self.summary,
            "since": self.since.isoformat(),
            "details": list(self.details),
            "fix": self.fix,
            "after_seconds": self.after_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Problem:
        return cls(
            key=data["key"],
            kind=data["kind"],
            stage=data["stage"],
            summary=data["summary"],
            since=datetime.fromisoformat(data["since"]),
            details=tuple(data["details"]),
            fix=data["fix"],
            after_seconds=data["after_seconds"],
        )


@dataclass(frozen=True)
class Notice:
    """One message to one channel: problems that started (or got worse), or cleared."""

    status: NoticeStatus
    title: str
    lines: tuple[str, ...]
    problems: tuple[Problem, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join([self.title, "", *self.lines])

    def to_json(self, shop: str, sent_at: datetime) -> dict[str, Any]:
        return {
            "event": self.status,
            "shop": shop,
            "title": self.title,
            "text": self.text,
            "problems": [problem.to_json() for problem in self.problems],
            "figures": self.figures,
            "sent_at": sent_at.isoformat(),
        }


def started_notice(kind: str, problems: list[Problem]) -> Notice:
    lines: list[str] = []
    for problem in problems:
        lines.append(f"- {problem.summary}")
        lines += [f"    {detail}" for detail in problem.details]
        if problem.fix:
            lines.append(f"    What to do: {problem.fix}")
    return Notice("started", f"PROBLEM: {KINDS[kind]}", tuple(lines), tuple(problems))


def cleared_notice(kind: str, problems: list[Problem]) -> Notice:
    lines = tuple(f"- resolved: {problem.summary}" for problem in problems)
    return Notice("cleared", f"RESOLVED: {KINDS[kind]}", lines, tuple(problems))
