"""SIGKILL the pipeline at 20 random points of a backfill and rerun it after each kill: every
accounting event ends up in Exact exactly once, read back by YourRef.

The sandboxes live in the test process and survive every kill, as the real shop and Exact
outlive a crashed worker. A kill leaves what a real crash leaves: `pending` ledger rows whose
answer may or may not have landed, and Dagster runs that stay STARTED forever.

Each kill lands on a moment the test makes happen, never on a sleep racing the machine: a
sandbox holds the chosen request (the n-th WooCommerce request, or the n-th booking before or
after Exact stored it) and the child is killed while that request waits.
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

from woo_exact_pipeline.defs.runs import (
    PROCESS_TAG,
    fail_runs_of_dead_processes,
    free_slots_of_finished_runs,
)
from woo_exact_pipeline.sandbox.holds import Hold
from woo_exact_pipeline.store.schema import accounting_events, bookings
from woo_exact_pipeline_tests.support.chaos import (
    Deployment,
    assert_booked_exactly_once,
    deployment,
)
from woo_exact_pipeline_tests.support.forked import ForkedProcess
from woo_exact_pipeline_tests.support.settings import suite_shop

KILLS = 20
#: The first kills come while the shop is read (catalogue, extraction): at one of its first
#: WooCommerce requests. The others while a booking is in flight.
EARLY_KILLS = 3
#: At most this many bookings go through between two kills.
MOST_BOOKINGS_BETWEEN_KILLS = 8
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


def test_runs_whose_process_is_gone_are_failed_and_give_back_their_pool_slot() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    shop = suite_shop()
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


def test_a_run_failed_by_run_monitoring_gives_back_the_pool_slots_it_held_or_waited_for() -> None:
    shop = suite_shop()
    pool = shop.exact_pool
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(pool, 1)

        def started() -> dg.DagsterRun:
            run = dg.DagsterRun(
                job_name=shop.qualified("exact_load_job"),
                run_id=str(uuid.uuid4()),
                status=dg.DagsterRunStatus.STARTED,
            )
            instance.add_run(run)
            return run

        killed, waiting, alive = started(), started(), started()
        assert storage.claim_concurrency_slot(pool, killed.run_id, "exact_bookings").is_claimed
        assert not storage.claim_concurrency_slot(pool, waiting.run_id, "exact_bookings").is_claimed
        # What run monitoring does to a run whose container died: failed, slots untouched.
        instance.report_run_failed(killed, "Container status is exited.")
        instance.report_run_failed(waiting, "Container status is exited.")
        assert not storage.claim_concurrency_slot(pool, alive.run_id, "exact_bookings").is_claimed

        assert free_slots_of_finished_runs(instance) == sorted([killed.run_id, waiting.run_id])
        assert storage.claim_concurrency_slot(pool, alive.run_id, "exact_bookings").is_claimed
        assert free_slots_of_finished_runs(instance) == []  # a live run keeps its slot


@pytest.mark.chaos
def test_a_backfill_killed_at_20_random_points_books_every_event_exactly_once(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261125)
    points = [KillPoint(woo_request=rng.randint(1, 6)) for _ in range(EARLY_KILLS)] + [
        KillPoint(
            booking=rng.randint(1, MOST_BOOKINGS_BETWEEN_KILLS),
            moment=rng.choice(("before_store", "after_store", "after_answer")),
        )
        for _ in range(KILLS - EARLY_KILLS)
    ]
    # One by one over REST: the kills land in the claim, post, mark cycle of each booking.
    by_rest = {"exact": {"bulk_upload_from": 10_000}}
    with deployment(tmp_path, days=2, orders_per_day=100, settings=by_rest) as world:
        # Enough to book: every kill's bookings, and many left for the final run.
        needed = sum(point.booking or 0 for point in points)
        assert needed < len(world.sandboxes.woocommerce.shop.orders) // 2
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

        final = world.run_pipeline(resume=True)
        assert final.returncode == 0, final.outcome
        ledger = assert_booked_exactly_once(world)
        assert sum(status == "booked" for status, _ in ledger.values()) > 150
        assert ledger_counts(world)[2] == 0
        # The kills really hit the write-ahead window (a booking is pending while Exact holds
        # its POST); the runs they left STARTED were marked failed (freeing their pool slots)
        # by the next run, none is left hanging.
        in_flight = [
            pending
            for point, pending in zip(points, pending_after_kills, strict=True)
            if point.moment != "after_answer" and point.booking is not None
        ]
        assert in_flight and all(in_flight), pending_after_kills
        with world.instance() as instance:
            assert not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            failed = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        assert len(failed) >= KILLS // 2


@pytest.mark.chaos
def test_a_backfill_in_xml_uploads_killed_around_its_uploads_books_every_event_exactly_once(
    tmp_path: Path,
) -> None:
    # Every day goes in uploads; each kill lands on the run's first or second upload of
    # entries: before Exact stores it, stored with the answer lost, or just after the answer.
    points = [
        KillPoint(booking=booking, moment=moment)
        for booking, moment in (
            (1, "before_store"),
            (1, "after_store"),
            (2, "after_store"),
            (1, "after_answer"),
            (2, "before_store"),
        )
    ]
    settings = {"exact": {"bulk_upload_from": 1}}
    with deployment(tmp_path, days=3, orders_per_day=30, settings=settings) as world:
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

        final = world.run_pipeline(resume=True)
        assert final.returncode == 0, final.outcome
        ledger = assert_booked_exactly_once(world)
        assert sum(status == "booked" for status, _ in ledger.values()) > 60
        assert ledger_counts(world)[2] == 0
        with world.engine() as engine, engine.connect() as connection:
            # Booked from an upload's answer, Exact's id unknown; recovered ones read back.
            uploaded = connection.execute(
                select(func.count()).where(
                    bookings.c.status == "booked", bookings.c.exact_id.is_(None)
                )
            ).scalar()
        assert uploaded
        # A kill while an upload was held left its entries pending under their numbers.
        assert all(
            pending
            for point, pending in zip(points, pending_after_kills, strict=True)
            if point.moment != "after_answer"
        ), pending_after_kills
