"""Who has been told what: one message when a problem starts, one when it clears.

Each alert source (a sensor) keeps one JSON document in the sync database's `cursors` table
(name `alerts:<shop>:<source>`): the problems open now, per channel the problems that channel
has been told about, and per channel the last daily digest it got. A tick compares the open
problems with what each channel was told, sends the difference grouped by kind, and records
only what was delivered: a channel that was down gets its message on a later tick, the others
never twice.
The database is never held locked while a message is on its way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from woo_exact_pipeline.alerts.channels import AlertDeliveryError, Channel
from woo_exact_pipeline.alerts.model import (
    KINDS,
    Notice,
    Problem,
    cleared_notice,
    started_notice,
)
from woo_exact_pipeline.store.cursors import read_cursor, write_cursor
from woo_exact_pipeline.store.locks import lock_for_transaction

OpenProblems = dict[str, Problem]


@dataclass
class Delivery:
    """What a tick sent, and what it could not (one line per failed channel and message)."""

    sent: list[tuple[str, Notice]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class _State:
    open: OpenProblems
    told: dict[str, OpenProblems]
    digest_sent: dict[str, str]

    @classmethod
    def parse(cls, text: str | None) -> _State:
        data: dict[str, Any] = json.loads(text) if text else {}
        return cls(
            open=_problems(data.get("open", {})),
            told={name: _problems(told) for name, told in data.get("told", {}).items()},
            digest_sent=data.get("digest_sent", {}),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "open": _dump(self.open),
                "told": {name: _dump(told) for name, told in self.told.items()},
                "digest_sent": self.digest_sent,
            },
            sort_keys=True,
        )


def _problems(data: dict[str, Any]) -> OpenProblems:
    return {key: Problem.from_json(value) for key, value in data.items()}


def _dump(problems: OpenProblems) -> dict[str, Any]:
    return {key: problem.to_json() for key, problem in problems.items()}


@dataclass(frozen=True)
class _Pending:
    notice: Notice
    told: dict[str, Problem | None]  # key -> announced problem, None: cleared


def pending_notices(
    open_problems: OpenProblems, told: OpenProblems, now: datetime
) -> list[_Pending]:
    """What one channel still has to hear: per kind, new (or worse) problems and cleared ones."""
    due = {key: problem for key, problem in open_problems.items() if problem.due(now)}
    started = [p for key, p in due.items() if key not in told or told[key].stage != p.stage]
    cleared = [p for key, p in told.items() if key not in open_problems]
    pending = []
    for kind in KINDS:
        new = sorted((p for p in started if p.kind == kind), key=lambda p: p.key)
        if new:
            pending.append(_Pending(started_notice(kind, new), {p.key: p for p in new}))
        gone = sorted((p for p in cleared if p.kind == kind), key=lambda p: p.key)
        if gone:
            pending.append(_Pending(cleared_notice(kind, gone), {p.key: None for p in gone}))
    return pending


class AlertBook:
    """The alert state of one source, and delivery of its notices to the channels."""

    def __init__(
        self, engine: Engine, source: str, channels: Sequence[Channel], *, shop: str
    ) -> None:
        self._engine = engine
        self._name = f"alerts:{shop}:{source}"
        self._channels = list(channels)
        self._shop = shop

    def _read(self, connection: Connection) -> _State:
        lock_for_transaction(connection, self._name)
        return _State.parse(read_cursor(connection, self._name))

    def open_problems(self) -> OpenProblems:
        with self._engine.connect() as connection:
            return _State.parse(read_cursor(connection, self._name)).open

    def update(
        self,
        now: datetime,
        change: Callable[[OpenProblems], OpenProblems],
    ) -> Delivery:
        """Apply `change` to the open problems, then tell each channel what it has not heard."""
        with self._engine.begin() as connection:
            state = self._read(connection)
            state.open = change(dict(state.open))
            write_cursor(connection, self._name, state.dump())
        delivery = Delivery()
        delivered: dict[str, dict[str, Problem | None]] = {}
        for channel in self._channels:
            told = state.told.get(channel.name, {})
            for pending in pending_notices(state.open, told, now):
                try:
                    channel.send(pending.notice, shop=self._shop, now=now)
                except AlertDeliveryError as error:
                    delivery.failures.append(f"{pending.notice.title}: {error}")
                    continue
                delivery.sent.append((channel.name, pending.notice))
                delivered.setdefault(channel.name, {}).update(pending.told)
        if delivered:
            with self._engine.begin() as connection:
                state = self._read(connection)
                for name, changes in delivered.items():
                    told = state.told.setdefault(name, {})
                    for key, problem in changes.items():
                        if problem is None:
                            told.pop(key, None)
                        else:
                            told[key] = problem
                write_cursor(connection, self._name, state.dump())
        return delivery

    def send_digest(self, day: date, notice: Notice, now: datetime) -> Delivery:
        """Send the digest of `day` to every channel that has not had it yet."""
        with self._engine.connect() as connection:
            sent = _State.parse(read_cursor(connection, self._name)).digest_sent
        delivery = Delivery()
        done = []
        for channel in self._channels:
            if sent.get(channel.name) == day.isoformat():
                continue
            try:
                channel.send(notice, shop=self._shop, now=now)
            except AlertDeliveryError as error:
                delivery.failures.append(f"{notice.title}: {error}")
                continue
            delivery.sent.append((channel.name, notice))
            done.append(channel.name)
        if done:
            with self._engine.begin() as connection:
                state = self._read(connection)
                state.digest_sent.update({name: day.isoformat() for name in done})
                write_cursor(connection, self._name, state.dump())
        return delivery
