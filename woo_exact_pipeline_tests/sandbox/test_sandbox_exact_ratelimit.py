"""Exact's API limits: per-minute and per-day windows, their headers, and the error block."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from woo_exact_pipeline.sandbox.exact import ExactSandbox, SandboxClock, start_exact_sandbox
from woo_exact_pipeline_tests.fixtures.exact_sandbox import EXACT_TEST_START

RATE_HEADERS = {
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Minutely-Limit",
    "X-RateLimit-Minutely-Remaining",
    "X-RateLimit-Minutely-Reset",
}


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _rate_headers(response: httpx.Response) -> set[str]:
    return {name for name in RATE_HEADERS if name in response.headers}


def test_every_division_call_carries_six_headers_in_epoch_ms(exact_api: httpx.Client) -> None:
    answer = exact_api.get("financial/Journals")
    assert _rate_headers(answer) == RATE_HEADERS
    assert answer.headers["X-RateLimit-Limit"] == "5000"
    assert answer.headers["X-RateLimit-Remaining"] == "4999"
    assert answer.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert answer.headers["X-RateLimit-Minutely-Remaining"] == "59"
    # The test clock stands at 09:00:00 UTC: next minute 09:01, next day at 00:00 UTC.
    assert answer.headers["X-RateLimit-Minutely-Reset"] == _epoch_ms(
        datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
    )
    assert answer.headers["X-RateLimit-Reset"] == _epoch_ms(datetime(2026, 3, 3, tzinfo=UTC))


def test_errors_are_counted_and_carry_headers_too(exact_api: httpx.Client) -> None:
    answer = exact_api.get("financial/NoSuchThing")
    assert answer.status_code == 404
    assert _rate_headers(answer) == RATE_HEADERS


def test_call_61_in_a_minute_gets_429_with_only_minutely_headers(
    exact_api: httpx.Client, exact_clock: SandboxClock
) -> None:
    for _ in range(60):
        assert exact_api.get("financial/Journals").status_code == 200
    refused = exact_api.get("financial/Journals")
    assert refused.status_code == 429
    assert refused.content == b""
    assert _rate_headers(refused) == {
        "X-RateLimit-Minutely-Limit",
        "X-RateLimit-Minutely-Remaining",
        "X-RateLimit-Minutely-Reset",
    }
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    # A calendar minute: the window opens again at the next whole minute, not 60 s later.
    exact_clock.advance(seconds=60)
    again = exact_api.get("financial/Journals")
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert again.headers["X-RateLimit-Remaining"] == str(5000 - 61)


def test_current_me_is_not_counted(exact_sandbox: ExactSandbox, exact_api: httpx.Client) -> None:
    for _ in range(3):
        me = httpx.get(f"{exact_sandbox.base_url}/api/v1/current/Me", headers=exact_api.headers)
        assert me.status_code == 200
        assert _rate_headers(me) == set()
    assert exact_api.get("financial/Journals").headers["X-RateLimit-Minutely-Remaining"] == "59"


@pytest.fixture
def small_daily_sandbox() -> Iterator[tuple[ExactSandbox, SandboxClock]]:
    clock = SandboxClock(EXACT_TEST_START)
    sandbox = start_exact_sandbox(clock=clock, daily_limit=3, minute_limit=100)
    try:
        yield sandbox, clock
    finally:
        sandbox.stop()


def test_daily_limit_gives_429_with_only_daily_headers_until_midnight_utc(
    small_daily_sandbox: tuple[ExactSandbox, SandboxClock],
) -> None:
    sandbox, clock = small_daily_sandbox
    headers = {"Authorization": f"Bearer {sandbox.issue_tokens_for_tests()['access_token']}"}
    url = f"{sandbox.api_url}/financial/Journals"
    for _ in range(3):
        assert httpx.get(url, headers=headers).status_code == 200
    refused = httpx.get(url, headers=headers)
    assert refused.status_code == 429
    assert _rate_headers(refused) == {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    }
    assert refused.headers["X-RateLimit-Reset"] == _epoch_ms(datetime(2026, 3, 3, tzinfo=UTC))
    # 23:59 UTC is already the next day in Amsterdam, but Exact resets at 00:00 UTC.
    clock.advance(hours=14, minutes=59)
    fresh = sandbox.issue_tokens_for_tests()["access_token"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {fresh}"}).status_code == 429
    clock.advance(minutes=1)
    assert httpx.get(url, headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_eleven_errors_on_an_endpoint_block_it_for_an_hour(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, exact_clock: SandboxClock
) -> None:
    missing = "salesentry/SalesEntries(guid'00000000-0000-0000-0000-000000000001')"
    for _ in range(11):
        assert exact_api.get(missing).status_code == 404
    blocked = exact_api.get("salesentry/SalesEntries", params={"$top": "1"})
    assert blocked.status_code == 429
    assert "blocked" in blocked.json()["error"]["message"]["value"]
    # Other endpoints stay open.
    assert exact_api.get("financial/Journals").status_code == 200
    exact_clock.advance(minutes=59)
    exact_api.headers["Authorization"] = (
        f"Bearer {exact_sandbox.issue_tokens_for_tests()['access_token']}"
    )
    assert exact_api.get("salesentry/SalesEntries", params={"$top": "1"}).status_code == 429
    exact_clock.advance(minutes=1)
    assert exact_api.get("salesentry/SalesEntries", params={"$top": "1"}).status_code == 200


def test_ten_errors_an_hour_are_tolerated(
    exact_api: httpx.Client, exact_clock: SandboxClock
) -> None:
    for _ in range(10):
        assert exact_api.get("vat/VATCodes", params={"$filter": "Nope eq 1"}).status_code == 400
        exact_clock.advance(seconds=1)
    assert exact_api.get("vat/VATCodes", params={"$top": "1"}).status_code == 200


def test_business_refusals_answered_500_do_not_count_toward_the_block(
    exact_api: httpx.Client, exact_clock: SandboxClock
) -> None:
    # «API limits» counts 400, 401, 403 and 404; Exact answers business refusals with 500.
    no_customer = {"Journal": "70", "SalesEntryLines": []}
    for _ in range(12):
        refused = exact_api.post("salesentry/SalesEntries", json=no_customer)
        assert refused.status_code == 500
        exact_clock.advance(seconds=1)
    unknown_property = {**no_customer, "Nope": 1}
    for _ in range(11):
        assert exact_api.post("salesentry/SalesEntries", json=unknown_property).status_code == 400
        exact_clock.advance(seconds=1)
    assert exact_api.post("salesentry/SalesEntries", json=no_customer).status_code == 429


def _sign_in_again(sandbox: ExactSandbox, client: httpx.Client) -> None:
    client.headers["Authorization"] = f"Bearer {sandbox.issue_tokens_for_tests()['access_token']}"


def test_a_repeated_block_lasts_longer(
    exact_sandbox: ExactSandbox, exact_api: httpx.Client, exact_clock: SandboxClock
) -> None:
    missing = "crm/Accounts(guid'00000000-0000-0000-0000-000000000001')"
    for _ in range(11):
        exact_api.get(missing)
    exact_clock.advance(hours=1)
    _sign_in_again(exact_sandbox, exact_api)
    for _ in range(11):
        assert exact_api.get(missing).status_code == 404
    exact_clock.advance(hours=1)
    _sign_in_again(exact_sandbox, exact_api)
    assert exact_api.get(missing).status_code == 429  # the second block lasts two hours
    exact_clock.advance(hours=1)
    _sign_in_again(exact_sandbox, exact_api)
    assert exact_api.get(missing).status_code == 404
