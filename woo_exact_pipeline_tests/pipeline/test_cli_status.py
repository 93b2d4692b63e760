"""`woo-exact status`: per day, what the sync database says about extraction and booking."""

from datetime import date

from sqlalchemy import func, select

from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import accounting_events, woo_orders
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.cli import Cli, cli_fixture  # noqa: F401

pytestmark = SQLITE_ONLY


def status_rows(output: str) -> dict[str, list[str]]:
    lines = output.splitlines()
    assert lines[0].split()[:3] == ["day", "orders", "events"]
    return {line.split()[0]: line.split() for line in lines[1:] if line[:2] == "20"}


def test_status_counts_each_day_before_and_after_booking(cli: Cli) -> None:
    nothing = cli.run("status", "--config", str(cli.config))
    assert nothing.returncode == 0
    assert "Nothing synced yet" in nothing.stdout

    dry = cli.run("sync", "--from", "2026-11-08", "--to", "2026-11-09", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    engine = open_sync_database(cli.database_url)
    with engine.connect() as connection:
        orders = dict(
            connection.execute(
                select(woo_orders.c.partition_date, func.count()).group_by(
                    woo_orders.c.partition_date
                )
            ).all()
        )
        events = dict(
            connection.execute(
                select(accounting_events.c.partition_date, func.count()).group_by(
                    accounting_events.c.partition_date
                )
            ).all()
        )
    engine.dispose()
    day = date(2026, 11, 8)
    assert events[day] > 0

    before = status_rows(cli.run("status", "--config", str(cli.config)).stdout)
    # day, orders, events, booked, to book, pending, failed, waiting, quarantined, last sync
    assert before["2026-11-08"][1:9] == [
        str(orders[day]),
        str(events[day]),
        "0",
        str(events[day]),
        "0",
        "0",
        "0",
        "0",
    ]
    assert set(before) == {"2026-11-08", "2026-11-09"}

    cli.exact.faults.arm_commit_then_drop(count=1)
    assert cli.run("sync", "--from", "2026-11-08", "--to", "2026-11-08").returncode == 1
    after = status_rows(cli.run("status", "--from", "2026-11-08", "--to", "2026-11-08").stdout)
    assert set(after) == {"2026-11-08"}
    booked, to_book, pending = (int(n) for n in after["2026-11-08"][3:6])
    assert (booked, to_book, pending) == (events[day] - 1, 0, 1)


def test_a_sync_database_that_cannot_be_opened_is_a_message(cli: Cli) -> None:
    done = cli.run("status", WOO_EXACT_DATABASE_URL="nonsense://nowhere")
    assert done.returncode == 1
    assert "the sync database (WOO_EXACT_DATABASE_URL) cannot be opened" in done.stderr
    assert "Traceback" not in done.stderr
