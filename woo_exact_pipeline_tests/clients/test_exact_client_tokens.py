"""Token store and refresh rules against the Exact exact_sandbox, on SQLite and PostgreSQL.

The exact_sandbox enforces what Exact does: a refresh within 570 s of the last issue is refused,
every refresh retires the refresh token it used (and the previous access token), and a refresh
token unused for 30 days is dead. A client that breaks a rule fails these tests loudly.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import (
    ExactAuthenticationError,
    ExactConfigurationError,
    ExactLoginRequired,
    ExactTokenStoreError,
)
from woo_exact_pipeline.exact.oauth import ExactCredentials
from woo_exact_pipeline.sandbox.exact import ExactSandbox, SandboxClock
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import exact_tokens
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore, TokenStoreError
from woo_exact_pipeline_tests.support.exact_client import (
    SECRET_KEY,
    SleepRecorder,
    app_secrets,
    connected_client,
    exact_settings,
    refresh_in_child_process,
    running_sandbox,
    store_sandbox_tokens,
)

JOURNAL_FIELDS = ["Code"]


def token_store(
    exact_sandbox: ExactSandbox, engine: Engine, secret_key: str = SECRET_KEY
) -> TokenStore:
    """The store of the sandbox app in the sandbox's administration, as the client uses it."""
    return TokenStore(engine, exact_sandbox.client_id, exact_sandbox.division, secret_key)


def stored(exact_sandbox: ExactSandbox, engine: Engine) -> ExactTokens:
    tokens = token_store(exact_sandbox, engine).load()
    assert tokens is not None
    return tokens


def read_journals(client: ExactClient) -> None:
    assert client.get("financial/Journals", select=JOURNAL_FIELDS)


def test_the_access_token_is_kept_until_its_last_30_seconds(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    # Recorded as issued 100 s earlier than it was, the 570 s rule would allow a refresh from
    # 470 s on: only the 30 s margin keeps the client from a refresh Exact refuses as too early.
    token_store(exact_sandbox, sync_engine).save(
        ExactTokens(
            access_token=login.access_token,
            refresh_token=login.refresh_token,
            access_expires_at=login.access_expires_at,
            issued_at=login.issued_at - timedelta(seconds=100),
        )
    )
    with connected_client(exact_sandbox, sync_engine) as client:
        read_journals(client)
        exact_sandbox.clock.advance(seconds=565)
        read_journals(client)
        assert stored(exact_sandbox, sync_engine).refresh_token == login.refresh_token

        exact_sandbox.clock.advance(seconds=6)  # 571 s: inside the last 30 s
        read_journals(client)
        refreshed = stored(exact_sandbox, sync_engine)
        assert refreshed.issued_at == exact_sandbox.clock.now()
        assert refreshed.refresh_token != login.refresh_token
        assert refreshed.access_expires_at == exact_sandbox.clock.now() + timedelta(seconds=600)


def test_a_short_lived_token_is_used_until_570_seconds_have_passed(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    # Should Exact ever issue tokens shorter than 570 s, refreshing in the margin would be
    # refused as too early: the client keeps the current token, then waits for 570 s.
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    short = ExactTokens(
        access_token=login.access_token,
        refresh_token=login.refresh_token,
        access_expires_at=login.issued_at + timedelta(seconds=60),
        issued_at=login.issued_at,
    )
    token_store(exact_sandbox, sync_engine).save(short)
    sleep = SleepRecorder(exact_sandbox.clock)
    with connected_client(exact_sandbox, sync_engine, sleep) as client:
        exact_sandbox.clock.advance(seconds=45)  # in the margin, only 45 s after the issue
        read_journals(client)
        assert stored(exact_sandbox, sync_engine).refresh_token == login.refresh_token
        assert sleep.waits == []

        exact_sandbox.clock.advance(seconds=20)  # expired at 65 s: wait until 570 s, then refresh
        read_journals(client)
        assert sleep.waits == [pytest.approx(570 - 65)]
        assert stored(exact_sandbox, sync_engine).refresh_token != login.refresh_token


def test_the_rotated_pair_is_stored_before_it_is_used(
    exact_sandbox: ExactSandbox, sync_engine: Engine, database_url: str
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    observer = open_sync_database(database_url)
    seen: list[bool] = []

    def check_stored_token(request: httpx.Request) -> None:
        # Every API request must carry the token the database holds at that moment.
        if "/api/v1/" in request.url.path:
            bearer = request.headers["Authorization"].removeprefix("Bearer ")
            seen.append(stored(exact_sandbox, observer).access_token == bearer)

    http = httpx.Client(event_hooks={"request": [check_stored_token]})
    with connected_client(exact_sandbox, sync_engine, http_client=http) as client:
        read_journals(client)
        exact_sandbox.clock.advance(seconds=575)
        read_journals(client)
        exact_sandbox.clock.advance(seconds=575)
        read_journals(client)
    observer.dispose()
    assert seen == [True, True, True]


def test_two_processes_refreshing_at_once_keep_the_connection(
    exact_sandbox: ExactSandbox, database_url: str
) -> None:
    setup = open_sync_database(database_url)
    login = store_sandbox_tokens(exact_sandbox, setup)
    setup.dispose()
    # Two "processes": separate engines and clients, both finding the token due at once.
    engines = [open_sync_database(database_url) for _ in range(2)]
    clients = [connected_client(exact_sandbox, engine) for engine in engines]
    for client in clients:
        read_journals(client)
    exact_sandbox.clock.advance(seconds=580)
    start = threading.Barrier(len(clients))
    tokens: list[str] = []
    failures: list[BaseException] = []

    def refresh_and_call(client: ExactClient) -> None:
        start.wait()
        try:
            tokens.append(client.tokens.access_token())
            read_journals(client)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=refresh_and_call, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(set(tokens)) == 1, "the second process must reuse the first one's new pair"
    after = stored(exact_sandbox, engines[0])
    assert after.access_token == tokens[0]
    assert after.refresh_token != login.refresh_token

    # And the connection lives on: the next rotation works for either process.
    exact_sandbox.clock.advance(seconds=580)
    read_journals(clients[1])
    read_journals(clients[0])
    for client, engine in zip(clients, engines, strict=True):
        client.close()
        engine.dispose()


def test_an_expired_refresh_token_asks_for_a_new_login(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    with connected_client(exact_sandbox, sync_engine) as client:
        exact_sandbox.clock.advance(days=30, seconds=1)
        with pytest.raises(ExactLoginRequired) as raised:
            read_journals(client)
    message = str(raised.value)
    assert "woo-exact exact login" in message
    assert "refresh token expired" in message
    assert login.refresh_token not in message and login.access_token not in message


def test_a_refresh_token_used_elsewhere_asks_for_a_new_login(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    exact_sandbox.clock.advance(seconds=600)
    # Someone refreshes with our pair but never stores the result: the stored pair is dead.
    stolen = httpx.post(
        f"{exact_sandbox.base_url}/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": login.refresh_token,
            "client_id": exact_sandbox.client_id,
            "client_secret": exact_sandbox.client_secret,
        },
    )
    assert stolen.status_code == 200
    with (
        connected_client(exact_sandbox, sync_engine) as client,
        pytest.raises(ExactLoginRequired, match=r"Old refresh token used\..*woo-exact exact login"),
    ):
        read_journals(client)


def test_no_connection_stored_asks_for_a_login(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    with (
        connected_client(exact_sandbox, sync_engine) as client,
        pytest.raises(ExactLoginRequired, match="woo-exact exact login"),
    ):
        read_journals(client)


def test_the_daily_schedule_refreshes_a_refresh_token_near_its_idle_expiry(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    with connected_client(exact_sandbox, sync_engine) as client:
        exact_sandbox.clock.advance(days=20)
        assert client.tokens.refresh_before_idle_expiry(within=timedelta(days=7)) is False
        assert stored(exact_sandbox, sync_engine).refresh_token == login.refresh_token

        exact_sandbox.clock.advance(days=4)  # 24 days idle: 6 days left
        assert client.tokens.refresh_before_idle_expiry(within=timedelta(days=7)) is True
        renewed = stored(exact_sandbox, sync_engine)
        assert renewed.refresh_expires_at == exact_sandbox.clock.now() + timedelta(days=30)

        exact_sandbox.clock.advance(days=29)  # alive thanks to the proactive refresh
        read_journals(client)


def test_tokens_are_unreadable_without_the_key(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    with sync_engine.connect() as connection:
        row = connection.execute(select(exact_tokens)).one()
    stored_bytes = bytes(row.encrypted_tokens)
    assert login.access_token.encode() not in stored_bytes
    assert login.refresh_token.encode() not in stored_bytes
    assert b"IAAAA" not in stored_bytes  # the fixed part of the exact_sandbox's tokens

    other_key = Fernet.generate_key().decode()
    with pytest.raises(TokenStoreError, match="WOO_EXACT_SECRET_KEY"):
        token_store(exact_sandbox, sync_engine, other_key).load()
    with (
        ExactClient.from_settings(
            exact_settings(exact_sandbox),
            sync_engine,
            secrets=app_secrets(exact_sandbox, secret_key=other_key),
            clock=exact_sandbox.clock.now,
        ) as client,
        pytest.raises(ExactTokenStoreError, match="cannot be decrypted"),
    ):
        read_journals(client)


def test_a_row_copied_to_another_app_does_not_load(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    with sync_engine.begin() as connection:
        connection.execute(exact_tokens.update().values(client_id="another-app"))
    with pytest.raises(TokenStoreError, match="belong to another app"):
        TokenStore(sync_engine, "another-app", exact_sandbox.division, SECRET_KEY).load()


def test_two_divisions_of_one_app_keep_their_own_pair(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    # Two shops of one deployment, each signed in to its own administration.
    other_division = exact_sandbox.division + 1
    first = store_sandbox_tokens(exact_sandbox, sync_engine)
    issued = exact_sandbox.issue_tokens_for_tests()
    now = exact_sandbox.clock.now()
    other_store = TokenStore(sync_engine, exact_sandbox.client_id, other_division, SECRET_KEY)
    other_store.save(
        ExactTokens(
            access_token=issued["access_token"],
            refresh_token=issued["refresh_token"],
            access_expires_at=now + timedelta(seconds=int(issued["expires_in"])),
            issued_at=now,
        )
    )
    second = other_store.load()
    assert second is not None and second.refresh_token != first.refresh_token

    exact_sandbox.clock.advance(seconds=580)
    with connected_client(exact_sandbox, sync_engine) as client:
        client.tokens.access_token()  # refreshes the configured division's pair
    assert stored(exact_sandbox, sync_engine).refresh_token != first.refresh_token
    assert other_store.load() == second, "the other division's pair is untouched"

    # Its refresh token was never used, so the other division refreshes on its own.
    with ExactClient.from_settings(
        exact_settings(exact_sandbox),
        sync_engine,
        secrets=app_secrets(exact_sandbox),
        clock=exact_sandbox.clock.now,
        division=other_division,
    ) as other:
        other.tokens.access_token()
    renewed = other_store.load()
    assert renewed is not None and renewed.refresh_token != second.refresh_token
    with sync_engine.connect() as connection:
        rows = connection.execute(select(exact_tokens.c.division)).scalars().all()
    assert sorted(rows) == [exact_sandbox.division, other_division]


def test_a_row_copied_to_another_division_does_not_load(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    other_division = exact_sandbox.division + 1
    with sync_engine.begin() as connection:
        connection.execute(exact_tokens.update().values(division=other_division))
    refused = (
        f"issued for administration {exact_sandbox.division}; run `woo-exact exact login` "
        f"for the shop that books into administration {other_division}"
    )
    with pytest.raises(TokenStoreError, match=re.escape(refused)):
        TokenStore(sync_engine, exact_sandbox.client_id, other_division, SECRET_KEY).load()
    assert token_store(exact_sandbox, sync_engine).load() is None


def test_one_divisions_token_lock_does_not_hold_up_another(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    if sync_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one write lock for the whole database")
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    other = TokenStore(sync_engine, exact_sandbox.client_id, exact_sandbox.division + 1, SECRET_KEY)
    saver = threading.Thread(target=other.save, args=(login,))
    with token_store(exact_sandbox, sync_engine).locked():
        saver.start()
        saver.join(timeout=10)
        finished_while_locked = not saver.is_alive()
    saver.join()
    assert finished_while_locked
    assert other.load() == login


def test_secrets_show_in_no_repr_no_error_and_no_log(
    exact_sandbox: ExactSandbox, sync_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    login = store_sandbox_tokens(exact_sandbox, sync_engine)
    credentials = ExactCredentials.of(app_secrets(exact_sandbox))
    with connected_client(exact_sandbox, sync_engine) as client:
        read_journals(client)
        exact_sandbox.clock.advance(seconds=580)
        read_journals(client)  # a refresh: new tokens travel and are stored
        refreshed = stored(exact_sandbox, sync_engine)
        shown = " ".join(
            [
                repr(login),
                str(login),
                repr(refreshed),
                repr(credentials),
                repr(client),
                repr(client.tokens),
                repr(token_store(exact_sandbox, sync_engine)),
            ]
        )
        exact_sandbox.clock.advance(days=31)
        with pytest.raises(ExactLoginRequired) as raised:
            read_journals(client)
    shown += f" {raised.value!s} {raised.value!r} {caplog.text}"
    assert repr(token_store(exact_sandbox, sync_engine)) == (
        f"TokenStore(client_id={exact_sandbox.client_id!r}, division={exact_sandbox.division})"
    )
    assert "refreshed the Exact Online tokens" in caplog.text
    assert "send_request_headers" in caplog.text, "the transport logs were captured too"
    secrets = (
        login.access_token,
        login.refresh_token,
        refreshed.access_token,
        refreshed.refresh_token,
        exact_sandbox.client_secret,
        SECRET_KEY,
    )
    for secret in secrets:
        assert secret not in shown


def test_a_missing_secret_names_the_environment_variable(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    incomplete = app_secrets(exact_sandbox, secret_key="")
    with pytest.raises(ExactConfigurationError, match="WOO_EXACT_SECRET_KEY is not set"):
        ExactClient.from_settings(exact_settings(exact_sandbox), sync_engine, secrets=incomplete)


def test_a_request_overtaken_by_another_processs_refresh_retries_with_the_new_token(
    exact_sandbox: ExactSandbox, sync_engine: Engine, database_url: str
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    other_engine = open_sync_database(database_url)
    other = connected_client(exact_sandbox, other_engine)
    overtaken: list[int] = []

    def refresh_elsewhere_while_in_flight(request: httpx.Request) -> None:
        # Our token was still good when we sent it; while the request travels, another
        # process refreshes, and Exact retires our access token with the rotation.
        if not overtaken:
            overtaken.append(1)
            exact_sandbox.clock.advance(seconds=2)
            other.tokens.access_token()

    http = httpx.Client(event_hooks={"request": [refresh_elsewhere_while_in_flight]})
    with connected_client(exact_sandbox, sync_engine, http_client=http) as client:
        exact_sandbox.clock.advance(seconds=569)
        read_journals(client)
        assert client.calls_made == 2, "one 401, then the same request with the new token"
        assert client.tokens.access_token() == stored(exact_sandbox, sync_engine).access_token
    other.close()
    other_engine.dispose()


def test_three_real_processes_refreshing_at_once_keep_the_connection(
    database_url: str,
) -> None:
    # A ticking exact_sandbox clock, because the children cannot share a frozen one.
    with running_sandbox(clock=SandboxClock(ticking=True)) as exact_sandbox:
        setup = open_sync_database(database_url)
        login = store_sandbox_tokens(exact_sandbox, setup)
        exact_sandbox.clock.advance(seconds=575)
        context = multiprocessing.get_context("spawn")
        offset = context.Value("d", (exact_sandbox.clock.now() - datetime.now(UTC)).total_seconds())
        start = context.Barrier(3)
        results = context.Queue()
        children = [
            context.Process(
                target=refresh_in_child_process,
                args=(database_url, exact_sandbox.describe(), offset, start, results),
            )
            for _ in range(3)
        ]
        for child in children:
            child.start()
        outcomes = [results.get(timeout=120) for _ in children]
        for child in children:
            child.join(timeout=30)
        assert [status for status, _ in outcomes] == ["ok"] * 3, outcomes
        tokens = {token for _, token in outcomes}
        assert len(tokens) == 1, "one refresh; the others used the pair it stored"
        after = stored(exact_sandbox, setup)
        assert after.access_token in tokens
        assert after.refresh_token != login.refresh_token
        setup.dispose()


def test_a_malformed_key_is_explained_with_how_to_make_one(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    secrets = app_secrets(exact_sandbox, secret_key="not-a-fernet-key")
    with pytest.raises(ExactConfigurationError, match="not a valid Fernet key; generate one with"):
        ExactClient.from_settings(exact_settings(exact_sandbox), sync_engine, secrets=secrets)


def test_a_wrong_client_secret_points_at_the_app_credentials_not_at_login(
    exact_sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    store_sandbox_tokens(exact_sandbox, sync_engine)
    secrets = app_secrets(exact_sandbox, client_secret="a-mistyped-secret")
    exact_sandbox.clock.advance(seconds=580)
    with (
        ExactClient.from_settings(
            exact_settings(exact_sandbox),
            sync_engine,
            secrets=secrets,
            clock=exact_sandbox.clock.now,
        ) as client,
        pytest.raises(ExactAuthenticationError) as raised,
    ):
        read_journals(client)
    assert "check EXACT_CLIENT_ID and EXACT_CLIENT_SECRET" in str(raised.value)
    assert "a-mistyped-secret" not in str(raised.value)
