"""Runs that Dagster's default run launcher started and whose process died are released by
`dead_runs_sensor`: marked failed, their pool slots freed, so an administration's loads never
wait for a dead run."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import EngineEventData

from woo_exact_pipeline.defs.runs import dead_runs_sensor, fail_runs_of_dead_processes

POOL = "exact_division_3102026"


@pytest.fixture
def gone_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # instance_for_test uses Dagster's default run launcher, as `make ui` does.
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        yield instance


def launched_run(instance: dg.DagsterInstance, pid: int | None) -> str:
    """A STARTED load run as the code server leaves it: with its process's pid recorded."""
    run = dg.DagsterRun(
        job_name="exact_load_job", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED
    )
    instance.add_run(run)
    if pid is not None:
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )
    return run.run_id


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def test_a_launched_run_whose_process_died_is_failed_and_gives_back_its_pool_slot(
    instance: dg.DagsterInstance, gone_pid: int
) -> None:
    storage = instance.event_log_storage
    dead = launched_run(instance, gone_pid)
    assert storage.claim_concurrency_slot(POOL, dead, "exact_bookings").is_claimed
    alive = launched_run(instance, os.getpid())
    not_yet_started = launched_run(instance, None)
    waiting = launched_run(instance, os.getpid())  # a live run waiting for the slot
    assert not storage.claim_concurrency_slot(POOL, waiting, "exact_bookings").is_claimed

    result = dead_runs_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))

    assert result.skip_message == f"released dead runs: {dead}"
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    assert status(instance, alive) == dg.DagsterRunStatus.STARTED
    assert status(instance, not_yet_started) == dg.DagsterRunStatus.STARTED
    assert storage.claim_concurrency_slot(POOL, waiting, "exact_bookings").is_claimed
    [failure] = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"the process that ran it ({gone_pid} on" in failure.message
    again = dead_runs_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert again.skip_message == "no dead runs"


def test_runs_in_containers_are_left_to_dagsters_run_monitoring(gone_pid: int) -> None:
    # Another launcher: the recorded pid is another machine's or container's, not ours.
    with dg.instance_for_test(
        overrides={
            "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}
        }
    ) as instance:
        elsewhere = launched_run(instance, gone_pid)
        assert fail_runs_of_dead_processes(instance) == []
        assert status(instance, elsewhere) == dg.DagsterRunStatus.STARTED


def test_a_finished_step_process_is_not_taken_for_the_runs_process(
    instance: dg.DagsterInstance, gone_pid: int
) -> None:
    # With the multiprocess executor each step runs in a process of its own that ends with it.
    alive = launched_run(instance, os.getpid())
    not_yet_started = launched_run(instance, None)
    for run_id in (alive, not_yet_started):
        instance.report_engine_event(
            f'Executing step "exact_bookings" in subprocess (pid: {gone_pid}).',
            instance.get_run_by_id(run_id),
            EngineEventData.in_process(gone_pid),
            step_key="exact_bookings",
        )

    assert fail_runs_of_dead_processes(instance) == []
    assert (
        status(instance, alive) == status(instance, not_yet_started) == dg.DagsterRunStatus.STARTED
    )
