"""The sync database goes away in the middle of a load: the run fails with a readable reason,
and once the database is back a rerun completes, nothing booked twice.

The moment is made to happen: Exact holds the load's 21st booking (stored, not yet answered)
while the database goes. PostgreSQL: the pipeline reaches the server through a relay whose plug
is then pulled (every connection dropped, new ones refused). SQLite: another process takes the
database's write lock and keeps it past the busy timeout, as a stuck backup or a second writer
would.
"""

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from woo_exact_pipeline_tests.support.chaos import (
    TcpProxy,
    assert_booked_exactly_once,
    deployment,
)

READABLE = "The sync database could not be used ("
#: The pipeline's SQLite busy timeout here (`?timeout=` in its URL): a short wait to outlast.
BUSY_TIMEOUT_SECONDS = 3
#: The database goes away while Exact holds this booking (stored, not yet answered).
CUT_AT_BOOKING = 21


@pytest.mark.chaos
def test_the_sync_database_gone_mid_run_fails_the_run_and_a_rerun_completes(
    tmp_path: Path, database_url: str
) -> None:
    with deployment(tmp_path, days=1, orders_per_day=40, database_url=database_url) as world:
        assert len(world.sandboxes.woocommerce.shop.orders) > CUT_AT_BOOKING
        hold = world.sandboxes.exact.faults.hold_booking(CUT_AT_BOOKING, after_store=True)
        if database_url.startswith("sqlite"):
            child = world.start_pipeline(
                database_url=f"{database_url}?timeout={BUSY_TIMEOUT_SECONDS}"
            )
            assert hold.wait_until_reached(timeout=90), "the load never got that far"
            holder = sqlite3.connect(urlsplit(database_url).path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the write lock, held until the run gave up
            try:
                hold.release()  # recording the answer waits for the lock past the busy timeout
                failed = world.finish(child, timeout=90)
            finally:
                holder.rollback()
                holder.close()
            expected = ("database is locked",)
        else:
            address = urlsplit(database_url)
            relay = TcpProxy((address.hostname or "127.0.0.1", address.port or 5432))
            through_relay = database_url.replace(
                address.netloc, f"{address.username}@127.0.0.1:{relay.port}"
            )
            child = world.start_pipeline(database_url=through_relay)
            assert hold.wait_until_reached(timeout=90), "the load never got that far"
            relay.cut()
            hold.release()
            failed = world.finish(child, timeout=90)
            relay.restore()
            expected = ("closed", "refused", "terminat")

        assert failed.returncode == 1
        assert any(reason in failed.outcome["error"] for reason in expected), failed.outcome
        assert READABLE in failed.outcome["error"], failed.outcome
        assert "[SQL:" not in failed.outcome["error"]

        # The held booking is in Exact while the ledger still calls it pending: the rerun finds
        # it by YourRef instead of posting it again.
        again = world.run_pipeline()
        assert again.returncode == 0, again.outcome
        assert_booked_exactly_once(world)
