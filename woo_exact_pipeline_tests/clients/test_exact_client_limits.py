"""Exact's limits, shared through the sync database: minute window, daily quota, error budget.

The sandbox answers 429 exactly as Exact does (only the exhausted window's headers, no body)
and blocks an endpoint after more than 10 errors in an hour. `calls_made` counts every answer,
429s included, so "no 429 was collected" is checked by counting calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from woo_exact_pipeline.exact.errors import (
    ExactApiError,
    ExactDailyQuotaSpent,
    ExactErrorBudgetSpent,
    ExactUnavailableError,
)
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline_tests.support.exact_client import (
    START,
    SleepRecorder,
    connected_client,
    running_sandbox,
    store_sandbox_tokens,
)

JOURNALS = "financial/Journals"
NEXT_MIDNIGHT = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[ExactSandbox]:
    with running_sandbox(minute_limit=5, daily_limit=12) as running:
        yield running


def test_the_minute_limit_is_waited_for_instead_of_collecting_a_429(
    sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(sandbox, sync_engine)
    sandbox.clock.advance(seconds=10)  # 09:00:10: the first window ends in 50 s
    sleep = SleepRecorder(sandbox.clock)
    with connected_client(sandbox, sync_engine, sleep) as client:
        for _ in range(11):
            client.get(JOURNALS, select=["Code"])
        assert client.calls_made == 11
    # Two waits for the next calendar minute (plus half a second to be sure it has begun):
    # from 09:00:10 after the 5th call, from 09:01:00.5 after the 10th.
    assert sleep.waits == [pytest.approx(50.5), pytest.approx(60.0)]
    assert sandbox.clock.now() == START + timedelta(minutes=2, seconds=0.5)


def test_processes_share_the_minute_window(sandbox: ExactSandbox, database_url: str) -> None:
    setup = open_sync_database(database_url)
    store_sandbox_tokens(sandbox, setup)
    setup.dispose()
    engines = [open_sync_database(database_url) for _ in range(2)]
    sleep = SleepRecorder(sandbox.clock)
    clients = [connected_client(sandbox, engine, sleep) for engine in engines]
    for turn in range(8):
        clients[turn % 2].get(JOURNALS, select=["Code"])
    assert sum(client.calls_made for client in clients) == 8
    assert len(sleep.waits) == 1
    limits = clients[0].rate_limits()
    assert limits is not None and limits.daily is not None
    assert limits.daily.remaining == 12 - 8
    for client, engine in zip(clients, engines, strict=True):
        client.close()
        engine.dispose()


def test_a_spent_daily_quota_stops_cleanly_with_its_reset_time(
    sandbox: ExactSandbox, sync_engine: Engine, database_url: str
) -> None:
    store_sandbox_tokens(sandbox, sync_engine)
    with connected_client(sandbox, sync_engine) as client:
        for _ in range(12):
            client.get(JOURNALS, select=["Code"])
        with pytest.raises(ExactDailyQuotaSpent) as raised:
            client.get(JOURNALS, select=["Code"])
        assert client.calls_made == 12, "known to be spent: not even asked"
    assert raised.value.resets_at == NEXT_MIDNIGHT
    assert "2026-11-26 00:00 UTC" in str(raised.value)


def test_a_quota_spent_by_someone_else_is_read_from_exacts_429(
    sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(sandbox, sync_engine)
    sleep = SleepRecorder(sandbox.clock)
    with connected_client(sandbox, sync_engine, sleep) as client:
        # Another app instance with its own database spends the day's calls.
        token = client.tokens.access_token()
        for _ in range(12):
            sandbox.clock.advance(seconds=15)  # stay under the minute limit
            sandbox_get(sandbox, token)
        with pytest.raises(ExactDailyQuotaSpent) as raised:
            client.get(JOURNALS, select=["Code"])
    assert raised.value.resets_at == NEXT_MIDNIGHT


def sandbox_get(sandbox: ExactSandbox, token: str) -> None:
    answer = httpx.get(
        f"{sandbox.api_url}/{JOURNALS}?$select=Code",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert answer.status_code == 200


def test_the_error_budget_refuses_the_eleventh_error_before_exact_blocks(
    sync_engine: Engine,
) -> None:
    with running_sandbox() as sandbox:
        store_sandbox_tokens(sandbox, sync_engine)
        with connected_client(sandbox, sync_engine) as client:
            for _ in range(10):
                # crm/Accounts without a $filter: Exact's mandatory-filtering 400.
                with pytest.raises(ExactApiError, match="mandatory filtering"):
                    client.get("crm/Accounts", select=["ID"])
            with pytest.raises(ExactErrorBudgetSpent) as raised:
                client.get("crm/Accounts", select=["ID"], filter="Status eq 'C'")
            assert client.calls_made == 10, "the refused request was never sent"
            assert raised.value.frees_at == START + timedelta(hours=1)
            assert "crm/Accounts" in str(raised.value)

            # Other endpoints are unaffected; an hour later the endpoint is usable again,
            # and Exact never blocked it (the sandbox blocks after more than 10).
            client.get(JOURNALS, select=["Code"])
            sandbox.clock.advance(hours=1, seconds=1)
            assert client.get("crm/Accounts", select=["ID"], filter="Status eq 'C'")


def test_gets_are_retried_on_server_errors(sandbox: ExactSandbox, sync_engine: Engine) -> None:
    store_sandbox_tokens(sandbox, sync_engine)
    sandbox.faults.server_error_rate = 1.0

    def recover(response: httpx.Response) -> None:
        if response.status_code == 503:
            sandbox.faults.server_error_rate = 0.0  # Exact is back after one failure

    sleep = SleepRecorder(sandbox.clock)
    http = httpx.Client(event_hooks={"response": [recover]})
    with connected_client(sandbox, sync_engine, sleep, http_client=http) as client:
        assert client.get(JOURNALS, select=["Code"])
        assert client.calls_made == 2
    assert sleep.waits == [1]


def test_gets_give_up_when_exact_stays_down(sandbox: ExactSandbox, sync_engine: Engine) -> None:
    store_sandbox_tokens(sandbox, sync_engine)
    sandbox.faults.server_error_rate = 1.0
    sleep = SleepRecorder(sandbox.clock)
    with connected_client(sandbox, sync_engine, sleep) as client:
        with pytest.raises(ExactUnavailableError, match=r"503 after 5 attempts"):
            client.get(JOURNALS, select=["Code"])
        assert client.calls_made == 5
    assert sleep.waits == [1, 2, 4, 8]


def test_an_endpoint_blocked_by_exact_is_reported_not_waited_for(
    sync_engine: Engine,
) -> None:
    with running_sandbox() as sandbox:
        store_sandbox_tokens(sandbox, sync_engine)
        sleep = SleepRecorder(sandbox.clock)
        with connected_client(sandbox, sync_engine, sleep) as client:
            # Another installation with its own database makes 11 errors: Exact blocks.
            token = client.tokens.access_token()
            for _ in range(11):
                answer = httpx.get(
                    f"{sandbox.api_url}/crm/Accounts?$select=ID",
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )
                assert answer.status_code == 400
            with pytest.raises(ExactApiError, match="429 to GET crm/Accounts: Too many errors"):
                client.get("crm/Accounts", select=["ID"], filter="Status eq 'C'")
            assert client.calls_made == 1
        assert sleep.waits == []
