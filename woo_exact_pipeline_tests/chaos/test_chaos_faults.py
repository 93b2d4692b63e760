"""10% of the requests to each API fail, in every way the sandboxes know: the pipeline, its
failed runs retried, books every event once and nothing twice.

WooCommerce: 5xx pages, hangs past the client's timeout, 429 with Retry-After, JSON cut off
halfway and a security plugin's HTML page. Exact: 5xx (with and without Exact's error envelope),
hangs answered 504 by a gateway, and bookings stored whose answer is lost (connection reset).
Randomness is seeded; timeouts are short so the test stays fast.
"""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from woo_exact_pipeline.sandbox.exact import DropMode
from woo_exact_pipeline.store.schema import bookings
from woo_exact_pipeline_tests.support.chaos import assert_booked_exactly_once, deployment


@pytest.mark.chaos
def test_ten_percent_faults_on_both_apis_book_everything_once(tmp_path: Path) -> None:
    with deployment(
        tmp_path,
        days=3,
        orders_per_day=40,
        seed=11,
        settings={"woocommerce": {"request_timeout_seconds": 0.5}},
    ) as world:
        shop = world.sandboxes.woocommerce.faults
        shop.error_rate = shop.hang_rate = shop.waf_rate = 0.02
        shop.rate_limit_rate = shop.truncated_rate = 0.02
        shop.hang_seconds, shop.retry_after_seconds = 1.0, 1
        # The shop sees few requests (100 orders a page): every kind at least once, first.
        shop.queue("server_error", "hang", "rate_limit", "truncated", "waf")
        exact = world.sandboxes.exact.faults
        exact._random.seed(11)  # the sandbox draws unseeded unless told; the shop's is seed 0
        exact.server_error_rate, exact.server_error_statuses = 0.04, (500, 502, 503)
        exact.hang_rate, exact.hang_limit_seconds = 0.03, 0.3
        exact.commit_then_drop_rate, exact.drop_mode = 0.03, DropMode.RESET

        run = world.run_pipeline(attempts=15, timeout=150)

        assert run.returncode == 0, run.outcome
        assert run.outcome["failed_runs"] > 0, "the faults never failed a run"
        log = world.log_file.read_text(encoding="utf-8")
        assert "web page instead of data" in log  # the firewall page failed a run, retried
        ledger = assert_booked_exactly_once(world)
        assert sum(status == "booked" for status, _ in ledger.values()) > 60
        with world.engine() as engine, engine.connect() as connection:
            retried = connection.execute(
                select(func.count()).select_from(bookings).where(bookings.c.attempts > 1)
            ).scalar()
        assert retried, "no booking needed a second attempt: the faults missed the posts"
