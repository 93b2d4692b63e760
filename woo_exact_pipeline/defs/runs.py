"""Runs executed in-process (`make demo`, `woo-exact sync`) and what a crash leaves of them.

A process killed mid-run (SIGKILL, out of memory, a pulled plug) never reports its run as
finished: Dagster keeps it STARTED forever, with the pool slots of its steps taken. Every later
run of a pooled asset then waits for a slot that never comes, and the booking ledger respects
the dead run's claims as those of a live one. Runs executed in-process are tagged with the
process that executes them; before the next ones start, runs whose process is gone are marked
failed and their slots freed. (Runs launched by the daemon are Dagster's run monitoring's.)
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
        host, _, pid = run.tags.get(PROCESS_TAG, "").rpartition(":")
        if host != socket.gethostname() or not pid.isdigit() or _process_exists(int(pid)):
            continue
        instance.report_run_failed(
            run,
            f"the process that ran it ({pid} on {host}) is gone: killed or crashed. Events it "
            "was posting are looked up in Exact by YourRef before they are posted again.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


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
