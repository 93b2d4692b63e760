"""The sync database goes away in the middle of a load: the run fails with a readable reason,
and once the database is back a rerun completes, nothing booked twice.

PostgreSQL: the pipeline reaches the server through a relay whose plug is pulled (every
connection dropped, new ones refused). SQLite: another process holds the database's write lock
past the busy timeout, as a stuck backup or a second writer would.
"""

import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from woo_exact_pipeline.store.schema import bookings
from woo_exact_pipeline_tests.chaos_support import (
    Deployment,
    TcpProxy,
    assert_booked_exactly_once,
    deployment,
)

READABLE = "The sync database could not be used ("
#: The pipeline's SQLite busy timeout here (`?timeout=` in its URL): a short wait to outlast.
BUSY_TIMEOUT_SECONDS = 3


def wait_until_booking(world: Deployment, child: subprocess.Popen[str]) -> None:
    """Until the load has booked its first events (read past any relay)."""
    deadline = time.monotonic() + 60
    with world.engine() as engine:
        while True:
            with engine.connect() as connection:
                count = connection.execute(
                    select(func.count()).select_from(bookings).where(bookings.c.status == "booked")
                ).scalar_one()
            if count >= 20:
                return
            assert child.poll() is None, "the pipeline finished before the database went away"
            assert time.monotonic() < deadline, "the load never started"
            time.sleep(0.02)


@pytest.mark.chaos
def test_the_sync_database_gone_mid_run_fails_the_run_and_a_rerun_completes(
    tmp_path: Path, database_url: str
) -> None:
    with deployment(tmp_path, days=1, orders_per_day=80, database_url=database_url) as world:
        # Exact answers slowly, so the load is surely still running when the database goes.
        exact_faults = world.sandboxes.exact.faults
        exact_faults.latency_seconds, exact_faults.latency_rate = 0.05, 1.0
        if database_url.startswith("sqlite"):
            child = world.start_pipeline(
                database_url=f"{database_url}?timeout={BUSY_TIMEOUT_SECONDS}"
            )
            wait_until_booking(world, child)
            holder = sqlite3.connect(urlsplit(database_url).path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the write lock, held past the busy timeout
            try:
                time.sleep(BUSY_TIMEOUT_SECONDS + 2)  # the load's write gives up
            finally:
                holder.rollback()
                holder.close()
            failed = world.finish(child, timeout=90)
            expected = ("database is locked",)
        else:
            address = urlsplit(database_url)
            relay = TcpProxy((address.hostname or "127.0.0.1", address.port or 5432))
            through_relay = database_url.replace(
                address.netloc, f"{address.username}@127.0.0.1:{relay.port}"
            )
            child = world.start_pipeline(database_url=through_relay)
            wait_until_booking(world, child)
            relay.cut()
            failed = world.finish(child, timeout=90)
            relay.restore()
            expected = ("closed", "refused", "terminat")

        assert failed.returncode == 1
        assert any(reason in failed.outcome["error"] for reason in expected), failed.outcome
        assert "The sync database could not be used (" in failed.outcome["error"], failed.outcome
        assert "[SQL:" not in failed.outcome["error"]

        exact_faults.latency_rate = 0.0
        again = world.run_pipeline()
        assert again.returncode == 0, again.outcome
        assert_booked_exactly_once(world)
