"""SIGKILL a backfill booked in XML uploads around its uploads (before Exact stores one, stored
with the answer lost, just after the answer) and rerun it after each kill: every accounting event
ends up in Exact exactly once, read back by YourRef (see test_chaos_crash.py for the REST path)."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from woo_exact_pipeline.store.schema import bookings
from woo_exact_pipeline_tests.support.chaos import assert_booked_exactly_once, deployment
from woo_exact_pipeline_tests.support.kills import KillPoint, kill_at_each, ledger_counts


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
        pending_after_kills = kill_at_each(world, points)

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
