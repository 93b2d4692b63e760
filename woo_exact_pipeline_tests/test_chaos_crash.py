"""SIGKILL the pipeline at 20 random points of a 500-order backfill and rerun it after each kill:
every accounting event ends up in Exact exactly once, read back by YourRef.

The sandboxes live in the test process and survive every kill, as the real shop and Exact
outlive a crashed worker. A kill leaves what a real crash leaves: `pending` ledger rows whose
answer may or may not have landed, and Dagster runs that stay STARTED forever.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import func, select

from woo_exact_pipeline.defs.runs import PROCESS_TAG, fail_runs_of_dead_processes
from woo_exact_pipeline.defs.shops import SHOPS
from woo_exact_pipeline.store.schema import accounting_events, bookings
from woo_exact_pipeline_tests.chaos_support import (
    Deployment,
    assert_booked_exactly_once,
    deployment,
)

KILLS = 20
#: The first kills come at a random moment after the start (catalogue, extraction, first
#: loads); the others when the ledger has booked a random number of events, plus a few ms.
TIMED_KILLS = 3
#: A rerun that books nothing for this long is blocked (by a dead run's claims or pool slots).
STUCK_SECONDS = 45


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
    """Seconds after the child started, or the share of all events booked by then."""

    seconds: float | None = None
    booked_share: float | None = None

    def reached(self, world: Deployment, running_for: float) -> bool:
        if self.seconds is not None:
            return running_for >= self.seconds
        assert self.booked_share is not None
        events, booked, _ = ledger_counts(world)
        return events > 0 and booked >= self.booked_share * events


def kill_at(child: subprocess.Popen[str], point: KillPoint, world: Deployment) -> bool:
    """SIGKILL the child at this point; False when it finished before."""
    rng = random.Random(str(point))
    started = time.monotonic()
    while child.poll() is None:
        running_for = time.monotonic() - started
        assert running_for < STUCK_SECONDS, f"no progress in {STUCK_SECONDS} s: {point}"
        if point.reached(world, running_for):
            time.sleep(rng.uniform(0, 0.03))  # anywhere in the claim -> post -> mark cycle
            os.kill(child.pid, signal.SIGKILL)
            child.wait()  # reaped: its pid is gone, as after a real crash
            return True
        time.sleep(0.01)
    return False


def test_runs_whose_process_is_gone_are_failed_and_give_back_their_pool_slot() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    shop = SHOPS[0]
    pool = shop.exact_pool
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(pool, 1)

        def started(process: str) -> str:
            run = dg.DagsterRun(
                job_name=shop.qualified("exact_load_job"),
                run_id=str(uuid.uuid4()),
                status=dg.DagsterRunStatus.STARTED,
                tags={PROCESS_TAG: process},
            )
            instance.add_run(run)
            return run.run_id

        killed = started(f"{host}:{gone.pid}")
        assert storage.claim_concurrency_slot(pool, killed, "exact_bookings").is_claimed
        alive = started(f"{host}:{os.getpid()}")
        elsewhere = started(f"another-host:{gone.pid}")
        waiting = str(uuid.uuid4())
        assert not storage.claim_concurrency_slot(pool, waiting, "s").is_claimed

        assert fail_runs_of_dead_processes(instance) == [killed]
        statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in (killed, alive)}
        assert statuses == {
            killed: dg.DagsterRunStatus.FAILURE,
            alive: dg.DagsterRunStatus.STARTED,
        }
        assert instance.get_run_by_id(elsewhere).status == dg.DagsterRunStatus.STARTED
        assert storage.claim_concurrency_slot(pool, waiting, "s").is_claimed
        assert fail_runs_of_dead_processes(instance) == []


@pytest.mark.chaos
def test_a_backfill_killed_at_20_random_points_books_every_event_exactly_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261125)
    points = [KillPoint(seconds=rng.uniform(0.2, 3.0)) for _ in range(TIMED_KILLS)] + [
        KillPoint(booked_share=share)
        for share in sorted(rng.uniform(0.01, 0.95) for _ in range(KILLS - TIMED_KILLS))
    ]
    with deployment(tmp_path, days=4, orders_per_day=125) as world:
        orders = len(world.sandboxes.woocommerce.shop.orders)
        assert 450 <= orders <= 550
        pending_after_kills = []
        for point in points:
            child = world.start_pipeline(resume=True)
            try:
                killed = kill_at(child, point, world)
            finally:
                child.kill()
                child.wait()
            assert killed, world.log_file.read_text(encoding="utf-8")[-3000:]
            pending_after_kills.append(ledger_counts(world)[2])

        final = world.run_pipeline(resume=True)
        assert final.returncode == 0, final.outcome
        ledger = assert_booked_exactly_once(world)
        assert len(ledger) > 300
        assert ledger_counts(world)[2] == 0
        # The kills really hit the write-ahead window; the runs they left STARTED were marked
        # failed (freeing their pool slots) by the next run, none is left hanging.
        assert sum(pending_after_kills) > 0, pending_after_kills
        with world.instance() as instance:
            assert not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            failed = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        assert len(failed) >= KILLS // 2
