"""Killing the pipeline's child process at a moment a test makes happen: a sandbox holds the
chosen request and the child is SIGKILLed while it waits, never on a sleep racing the machine."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from woo_exact_pipeline.sandbox.holds import Hold
from woo_exact_pipeline.store.schema import accounting_events, bookings
from woo_exact_pipeline_tests.support.chaos import Deployment
from woo_exact_pipeline_tests.support.forked import ForkedProcess

#: How long a hold may take to be reached before the test calls the rerun stuck.
STUCK_SECONDS = 60


def ledger_counts(world: Deployment) -> tuple[int, int, int]:
    """(events, booked, pending): the day's events and the booking ledger's rows."""
    with world.engine() as engine, engine.connect() as connection:
        counts = dict(
            connection.execute(
                select(bookings.c.status, func.count()).group_by(bookings.c.status)
            ).all()
        )
        events = connection.execute(select(func.count()).select_from(accounting_events)).scalar()
    return events or 0, counts.get("booked", 0), counts.get("pending", 0)


@dataclass(frozen=True)
class KillPoint:
    """Where the child dies: at its `woo_request`-th WooCommerce request, or at its `booking`-th
    booking, `moment` being "before_store" (the POST never reaches Exact), "after_store" (Exact
    stored it, the answer is lost) or "after_answer" (a few ms after the answer: anywhere in
    marking it booked and claiming the next)."""

    woo_request: int | None = None
    booking: int | None = None
    moment: str = "before_store"

    def arm(self, world: Deployment) -> Hold:
        if self.woo_request is not None:
            return world.sandboxes.woocommerce.faults.hold_request(self.woo_request)
        assert self.booking is not None
        return world.sandboxes.exact.faults.hold_booking(
            self.booking, after_store=self.moment == "after_store"
        )


def kill_at(child: ForkedProcess, point: KillPoint, hold: Hold) -> bool:
    """SIGKILL the child while its held request waits; False when it finished before."""
    started = time.monotonic()
    while not hold.wait_until_reached(timeout=0.05):
        if child.poll() is not None:
            return False
        assert time.monotonic() - started < STUCK_SECONDS, f"{point} not reached"
    if point.moment == "after_answer":
        hold.release()
        time.sleep(random.Random(str(point)).uniform(0, 0.03))
    os.kill(child.pid, signal.SIGKILL)
    child.wait()  # reaped: its pid is gone, as after a real crash
    # A booking held before it was stored is lost with the process that sent it.
    hold.release(go_on=point.moment != "before_store")
    return True


def kill_at_each(world: Deployment, points: Sequence[KillPoint]) -> list[int]:
    """Start the pipeline and kill it at each point in turn; the pending ledger rows after each."""
    pending_after_kills = []
    for point in points:
        hold = point.arm(world)
        child = world.start_pipeline(resume=True)
        try:
            killed = kill_at(child, point, hold)
        finally:
            child.kill()
            child.wait()
            hold.release()
        assert killed, world.log_file.read_text(encoding="utf-8")[-3000:]
        pending_after_kills.append(ledger_counts(world)[2])
    return pending_after_kills
