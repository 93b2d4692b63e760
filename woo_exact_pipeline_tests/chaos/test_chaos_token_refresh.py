"""Two worker processes find the Exact token due at the same moment, 50 times over: each time
exactly one refreshes (Exact's refresh tokens are single-use), the other uses the pair it
stored, and the connection is never lost. On SQLite and PostgreSQL."""

import multiprocessing
from datetime import UTC, datetime

import pytest

from woo_exact_pipeline.sandbox.exact import SandboxClock
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.tokens import TokenStore
from woo_exact_pipeline_tests.support.exact_client import (
    SECRET_KEY,
    refresh_in_child_process,
    running_sandbox,
    store_sandbox_tokens,
)

ROUNDS = 50
WORKERS = 2


@pytest.mark.chaos
def test_two_workers_racing_on_the_refresh_50_times_never_lose_the_connection(
    database_url: str,
) -> None:
    with running_sandbox(clock=SandboxClock(ticking=True)) as exact:
        setup = open_sync_database(database_url)
        previous = store_sandbox_tokens(exact, setup).refresh_token
        context = multiprocessing.get_context("spawn")
        offset = context.Value("d", 0.0)
        start = context.Barrier(WORKERS + 1)
        results = context.Queue()
        workers = [
            context.Process(
                target=refresh_in_child_process,
                args=(database_url, exact.describe(), offset, start, results, ROUNDS),
            )
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        try:
            for round_number in range(ROUNDS):
                # Past the 570 s rule and into the token's last 30 s, for both workers at once.
                exact.clock.advance(seconds=580)
                offset.value = (exact.clock.now() - datetime.now(UTC)).total_seconds()
                start.wait(timeout=120)
                outcomes = [results.get(timeout=60) for _ in workers]
                assert [status for status, _ in outcomes] == ["ok"] * WORKERS, (
                    round_number,
                    outcomes,
                )
                assert len({token for _, token in outcomes}) == 1, round_number
                stored = TokenStore(setup, exact.client_id, exact.division, SECRET_KEY).load()
                assert stored is not None
                assert stored.access_token == outcomes[0][1]
                assert stored.refresh_token != previous, f"round {round_number}: no refresh"
                previous = stored.refresh_token
        finally:
            for worker in workers:
                worker.join(timeout=30)
                worker.kill()
            setup.dispose()
