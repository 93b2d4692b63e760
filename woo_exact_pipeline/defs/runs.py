"""Runs whose process died, and what a crash leaves of them.

A process killed mid-run (SIGKILL, out of memory, a pulled plug) never reports its run as
finished: Dagster keeps it STARTED forever, with the pool slots of its steps taken. Every later
run of a pooled asset then waits for a slot that never comes (an administration's loads stop),
and the booking ledger respects the dead run's claims as those of a live one.

Where a run's process can be known, runs whose process is gone are marked failed and their
slots freed: runs executed in-process (`make demo`, `woo-exact sync`) are tagged with the host
and process that execute them, and are released before the next ones start; runs that Dagster's
default run launcher started are child processes of the code server on this machine, whose pid
the run's event log records, and `dead_runs_sensor` releases them. Runs in containers or pods
are failed by Dagster's run monitoring (deploy/dagster.yaml), which does not free the pool
slots their steps hold or wait for: `dead_runs_sensor` frees the slots of every finished run.
"""

import os
import socket
from pathlib import Path

import dagster as dg

#: "<host>:<pid>" of the process executing the run in-process.
PROCESS_TAG = "woo_exact/process"


def in_process_tags() -> dict[str, str]:
    """Tags of a run this process executes itself (`execute_in_process`)."""
    return {PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def fail_runs_of_dead_processes(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose process on this host is gone and free their pool
    slots; returns their run ids. Runs of other hosts and of live processes are left alone."""
    failed = []
    unfinished = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    for run in instance.get_runs(unfinished):
        pid = _local_process(instance, run)
        if pid is None or _process_exists(pid):
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.is_finished:
            continue  # it finished while we looked
        instance.report_run_failed(
            current,
            f"the process that ran it ({pid} on {socket.gethostname()}) is gone: killed or "
            "crashed. Events it was posting are looked up in Exact by YourRef before they are "
            "posted again.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def free_slots_of_finished_runs(instance: dg.DagsterInstance) -> list[str]:
    """Free the pool slots that finished runs still hold or wait for (a run container killed
    and failed by run monitoring keeps them); returns those runs' ids."""
    storage = instance.event_log_storage
    holders = set()
    for pool in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(pool)
        holders |= {slot.run_id for slot in info.claimed_slots}
        holders |= {step.run_id for step in info.pending_steps}
    freed = []
    for run_id in sorted(holders):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
    return freed


def _local_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The pid of the process executing `run` on this host, when that can be known."""
    host, _, pid = run.tags.get(PROCESS_TAG, "").rpartition(":")
    if host:
        return int(pid) if host == socket.gethostname() and pid.isdigit() else None
    if not isinstance(instance.run_launcher, dg.DefaultRunLauncher):
        return None
    # The process the code server starts for the run records its pid in the metadata of the
    # run's first engine event that has one (a step's own process puts its step key on its).
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        if event is not None and event.step_key is None:
            started = event.engine_event_data.metadata.get("pid")
            if started is not None:
                return int(str(started.value))
    return None


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed child its parent has not reaped yet is a zombie: gone all the same.
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


@dg.sensor(
    name="dead_runs_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Marks failed the runs whose process on this machine died without saying so (killed, "
        "out of memory), and frees the pool slots of every finished run (also of run "
        "containers failed by run monitoring), so an administration's loads never wait for a "
        "dead run. The run-failure alert then tells why."
    ),
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    released = fail_runs_of_dead_processes(context.instance)
    freed = free_slots_of_finished_runs(context.instance)
    parts = [f"released dead runs: {', '.join(released)}"] if released else []
    parts += [f"freed the pool slots of finished runs: {', '.join(freed)}"] if freed else []
    return dg.SkipReason("; ".join(parts) or "no dead runs")
