"""No secret is ever written down in plain text, and none travels unprotected.

The demo pipeline runs (small), then everything it left is searched for the WooCommerce
consumer secret, the Exact client secret, the access and refresh tokens and the key that
encrypts them: every event record of the Dagster instance (materialization metadata included)
and every file under DAGSTER_HOME (run and compute logs), the pipeline's stdout and stderr, and
every row of every table of the sync database plus its files. (The OAuth callback's `state`
check and the token store's key are tested in test_exact_client_login.py and
test_exact_client_tokens.py.)
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, MetaData, select

from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import ExactUnavailableError
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.sandbox.woocommerce.tls import create_certificates
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore
from woo_exact_pipeline.woocommerce.client import (
    WooAuthenticationError,
    WooCommerceClient,
    WooUnavailableError,
    refuse_secret_in_the_clear,
)
from woo_exact_pipeline_tests.support.chaos import deployment
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY, app_secrets, exact_settings


def test_no_secret_is_left_in_plain_text_by_a_demo_run(tmp_path: Path) -> None:
    with deployment(tmp_path, days=2, orders_per_day=10) as world:
        run = world.run_pipeline()
        assert run.returncode == 0, run.outcome
        env = world.environment
        with world.engine() as engine:
            exact = world.sandboxes.exact
            current = TokenStore(
                engine, exact.client_id, exact.division, env["WOO_EXACT_SECRET_KEY"]
            ).load()
            assert current is not None
            tables = MetaData()
            tables.reflect(engine)
            with engine.connect() as connection:
                rows = {
                    name: [repr(tuple(row)) for row in connection.execute(select(table))]
                    for name, table in tables.tables.items()
                }
        secrets = {
            "consumer secret": env["WOO_CONSUMER_SECRET"],
            "Exact client secret": env["EXACT_CLIENT_SECRET"],
            "token encryption key": env["WOO_EXACT_SECRET_KEY"],
            "access token (login)": world.login.access_token,
            "refresh token (login)": world.login.refresh_token,
            "access token (now)": current.access_token,
            "refresh token (now)": current.refresh_token,
        }

        places: dict[str, str] = {"pipeline stdout": str(run.outcome)}
        places["pipeline stderr"] = world.log_file.read_text(encoding="utf-8")
        with world.instance() as instance:
            runs = instance.get_runs()
            assert len(runs) >= 5
            for dagster_run in runs:
                records = instance.all_logs(dagster_run.run_id)
                places[f"event log of run {dagster_run.run_id}"] = "\n".join(
                    dg.serialize_value(record) for record in records
                )
                places[f"run {dagster_run.run_id}"] = dg.serialize_value(dagster_run)
        materializations = [text for text in places.values() if "ASSET_MATERIALIZATION" in text]
        assert materializations, "the scan must cover materialization metadata"
        for name, table_rows in rows.items():
            places[f"table {name}"] = "\n".join(table_rows)
        assert rows["bookings"] and rows["exact_tokens"]
        dagster_home = Path(env["DAGSTER_HOME"])
        files = [*dagster_home.rglob("*"), *Path(env["WOO_EXACT_CONFIG"]).parent.glob("sync.db*")]
        compute_logs = [path for path in files if path.suffix in (".out", ".err")]
        assert compute_logs, "the scan must cover the runs' captured stdout/stderr"
        for path in files:
            if path.is_file():
                places[str(path)] = path.read_bytes().decode("utf-8", "replace")

        # The scan reads what is really there: the (public) client id is found in the tables.
        assert any(world.sandboxes.exact.client_id in text for text in places.values())
        leaks = [
            f"{secret} in {place}"
            for secret, value in secrets.items()
            for place, text in places.items()
            if value in text
        ]
        assert leaks == []


def test_the_consumer_secret_never_travels_unencrypted_to_another_host() -> None:
    for allowed in (
        "https://shop.example.nl/wp-json/wc/v3/orders",
        "http://127.0.0.1:8780/wp-json/wc/v3/orders",
        "http://localhost/wp-json/wc/v3/orders",
        "http://[::1]:8780/wp-json/wc/v3/orders",
    ):
        refuse_secret_in_the_clear(allowed)
    for refused in ("http://shop.example.nl/wp-json/wc/v3", "http://192.168.1.20/wp-json/wc/v3"):
        with pytest.raises(WooAuthenticationError, match="Refusing to send the API key") as error:
            refuse_secret_in_the_clear(refused)
        assert "cs_" not in str(error.value)


def test_over_plain_http_the_shop_client_sends_a_signature_never_the_secret(
    woocommerce_sandbox: WooSandbox,
) -> None:
    seen: list[str] = []
    with WooCommerceClient(
        woocommerce_sandbox.url,
        woocommerce_sandbox.consumer_key,
        woocommerce_sandbox.consumer_secret,
    ) as client:
        client._http.event_hooks["request"].append(
            lambda request: seen.append(f"{request.url} {dict(request.headers)}")
        )
        assert client.tax_classes()
    assert seen and all("oauth_signature" in request for request in seen)
    assert not any(woocommerce_sandbox.consumer_secret in request for request in seen)
    assert not any("authorization" in request.lower() for request in seen)


def test_tls_certificates_are_verified_by_default(
    woocommerce_https_sandbox: WooSandbox, tmp_path: Path, sync_engine: Engine
) -> None:
    # The shop: a self-signed certificate is refused unless its CA is given.
    with (
        WooCommerceClient(
            woocommerce_https_sandbox.url,
            woocommerce_https_sandbox.consumer_key,
            woocommerce_https_sandbox.consumer_secret,
            max_attempts=1,
        ) as client,
        pytest.raises(WooUnavailableError, match=r"certificate .* could not be verified"),
    ):
        client.tax_classes()
    # Exact: the API client the pipeline builds refuses a certificate it cannot verify.
    certificates = create_certificates(tmp_path)
    sandbox = ExactSandbox(
        ssl_certfile=certificates.server_cert, ssl_keyfile=certificates.server_key
    ).start()
    try:
        assert sandbox.base_url.startswith("https://")
        now = datetime.now(UTC)
        TokenStore(sync_engine, sandbox.client_id, sandbox.division, SECRET_KEY).save(
            ExactTokens("access", "refresh", now + timedelta(minutes=10), now)
        )
        with (
            ExactClient.from_settings(
                exact_settings(sandbox),
                sync_engine,
                secrets=app_secrets(sandbox),
                sleep=lambda seconds: None,
            ) as exact,
            pytest.raises(ExactUnavailableError, match="could not be reached"),
        ):
            exact.get("financial/Journals", select=["Code"])
    finally:
        sandbox.stop()
