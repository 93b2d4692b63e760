"""Helpers for the Exact client tests: a sandbox on a frozen clock and clients connected to it.

Time never really passes in these tests: the client's clock is the sandbox's, and the client's
`sleep` moves that clock forward, so waiting for a minute window or for the 570 s refresh rule
takes no wall-clock time and is recorded in `SleepRecorder.waits`.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from woo_exact_pipeline.config import ExactSecrets, ExactSettings, Secret, SyncConfig
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.sandbox.exact import ExactSandbox, SandboxClock
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore

#: 09:00 UTC: far from midnight, so a day's quota does not reset by accident mid-test.
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
# Fixed so spawned child processes hold the same key; a test key, guarding nothing.
SECRET_KEY = base64.urlsafe_b64encode(b"woo-exact-pipeline test key 32b!").decode()


class SleepRecorder:
    """A `sleep` that moves the sandbox clock instead of waiting."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds=seconds)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_sandbox(**options: object) -> Iterator[ExactSandbox]:
    options.setdefault("clock", SandboxClock(START))
    sandbox = ExactSandbox(**options)  # type: ignore[arg-type]
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def environment(sandbox: ExactSandbox, secret_key: str = SECRET_KEY) -> dict[str, str]:
    """The sandbox app's variables, for a command that reads them from its environment."""
    return {
        "EXACT_CLIENT_ID": sandbox.client_id,
        "EXACT_CLIENT_SECRET": sandbox.client_secret,
        "WOO_EXACT_SECRET_KEY": secret_key,
    }


def app_secrets(
    sandbox: ExactSandbox, secret_key: str = SECRET_KEY, client_secret: str | None = None
) -> ExactSecrets:
    """The sandbox app's secrets, as the clients take them."""
    return ExactSecrets(
        Secret("EXACT_CLIENT_ID", sandbox.client_id),
        Secret(
            "EXACT_CLIENT_SECRET", sandbox.client_secret if client_secret is None else client_secret
        ),
        Secret("WOO_EXACT_SECRET_KEY", secret_key),
    )


def exact_settings(sandbox: ExactSandbox) -> ExactSettings:
    return ExactSettings.model_validate(
        {
            "base_url": sandbox.base_url,
            "redirect_uri": sandbox.redirect_uri,
            "division": sandbox.division,
            "vat_mapping": {"domestic": {21: "2", 9: "1"}},
            "gl_mapping": {"domestic": {21: "8000", 9: "8010"}},
            "eu_consumer_vat_regime": "shop_country_vat",
            "rounding_gl": "8990",
        }
    )


def store_sandbox_tokens(sandbox: ExactSandbox, engine: Engine) -> ExactTokens:
    """Log in through the sandbox's real code flow and store the pair as `login` would."""
    issued = sandbox.issue_tokens_for_tests()
    now = sandbox.clock.now()
    tokens = ExactTokens(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        access_expires_at=now + timedelta(seconds=int(issued["expires_in"])),
        issued_at=now,
    )
    TokenStore(engine, sandbox.client_id, sandbox.division, SECRET_KEY).save(tokens)
    return tokens


def connected_client(
    sandbox: ExactSandbox,
    engine: Engine,
    sleep: SleepRecorder | None = None,
    *,
    http_client: httpx.Client | None = None,
) -> ExactClient:
    """A client as the pipeline builds it, on the sandbox's clock."""
    return ExactClient.from_settings(
        exact_settings(sandbox),
        engine,
        secrets=app_secrets(sandbox),
        clock=sandbox.clock.now,
        sleep=sleep or SleepRecorder(sandbox.clock),
        http_client=http_client,
    )


def refresh_in_child_process(
    database_url: str,
    sandbox_facts: dict[str, Any],
    clock_offset_seconds: Any,
    start: Any,
    results: Any,
    rounds: int = 1,
) -> None:
    """Run in a spawned process: per round, wait for the others, then use a token that is due.

    The child's clock is real time plus `clock_offset_seconds` (a shared `multiprocessing.Value`
    the parent moves along with its ticking sandbox clock), so both sides agree the token is in
    its last 30 seconds. Puts ("ok", token) or ("failed", reason) per round.
    """
    engine = open_sync_database(database_url)
    settings = ExactSettings.model_validate(
        {
            "base_url": sandbox_facts["base_url"],
            "redirect_uri": sandbox_facts["redirect_uri"],
            "division": sandbox_facts["division"],
            "vat_mapping": {"domestic": {21: "2"}},
            "gl_mapping": {"domestic": {21: "8000"}},
            "eu_consumer_vat_regime": "shop_country_vat",
            "rounding_gl": "8900",
        }
    )
    secrets = ExactSecrets(
        Secret("EXACT_CLIENT_ID", sandbox_facts["client_id"]),
        Secret("EXACT_CLIENT_SECRET", sandbox_facts["client_secret"]),
        Secret("WOO_EXACT_SECRET_KEY", SECRET_KEY),
    )

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=clock_offset_seconds.value)

    try:
        with ExactClient.from_settings(settings, engine, secrets=secrets, clock=clock) as client:
            for _ in range(rounds):
                start.wait()
                try:
                    token = client.tokens.access_token()
                    client.get("financial/Journals", select=["Code"])
                    results.put(("ok", token))
                except Exception as error:
                    results.put(("failed", f"{type(error).__name__}: {error}"))
    finally:
        engine.dispose()


def book_by_hand(
    exact: ExactSandbox, engine: Engine, settings: SyncConfig, reference: str, day: date
) -> dict[str, Any]:
    """A sale of 10.00 + 2.10 VAT on debtor 2 in journal 70, as a bookkeeper (or another
    connector) books one in Exact, numbered by Exact."""
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        return client.post(
            "salesentry/SalesEntries",
            {
                "Journal": "70",
                "Customer": exact.seeded_id("account", "2"),
                "EntryDate": day,
                "YourRef": reference,
                "Type": 20,
                "SalesEntryLines": [
                    {
                        "GLAccount": exact.seeded_id("gl", "8000"),
                        "VATCode": "2",
                        "AmountFC": "10.00",
                        "VATAmountFC": "2.10",
                    }
                ],
            },
        )
