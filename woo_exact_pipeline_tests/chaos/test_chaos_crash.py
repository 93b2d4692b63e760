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
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from woo_exact_pipeline.defs.runs import (
    PROCESS_TAG,
    fail_runs_of_dead_processes,
    free_slots_of_finished_runs,
)
from woo_exact_pipeline_tests.support.chaos import (
    assert_booked_exactly_once,
    deployment,
)
from woo_exact_pipeline_tests.support.kills import KillPoint, kill_at_each, ledger_counts
from woo_exact_pipeline_tests.support.settings import suite_shop

KILLS = 20
#: The first kills come while the shop is read (catalogue, extraction): at one of its first
#: WooCommerce requests. The others while a booking is in flight.
EARLY_KILLS = 3
#: At most this many bookings go through between two kills.
MOST_BOOKINGS_BETWEEN_KILLS = 8


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
        pending_after_kills = kill_at_each(world, points)

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
