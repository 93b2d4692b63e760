"""The interactive login against the sandbox's consent page, over real HTTP.

The "browser" is httpx: it opens the consent URL the login prints, signs in (or uses the
sandbox's auto_approve shortcut) and follows Exact's redirect to the login's callback server.
"""

from __future__ import annotations

import re
import threading
import webbrowser
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from woo_exact_pipeline.cli import main
from woo_exact_pipeline.exact.errors import ExactLoginFailed
from woo_exact_pipeline.exact.login import login
from woo_exact_pipeline.sandbox.exact import (
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    ExactSandbox,
    SandboxClock,
)
from woo_exact_pipeline.store.tokens import TokenStore
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import (
    SECRET_KEY,
    app_secrets,
    environment,
    exact_settings,
    free_port,
    running_sandbox,
)

pytestmark = SQLITE_ONLY

SANDBOX_DIVISION_NAME = "Fietsenwinkel De Spaak B.V."


@pytest.fixture
def sandbox() -> Iterator[ExactSandbox]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/exact/oauth/callback"
    with running_sandbox(redirect_uri=redirect_uri) as running:
        yield running


def approve_automatically(url: str) -> None:
    landed = httpx.get(f"{url}&auto_approve=true", follow_redirects=True)
    assert landed.status_code == 200
    assert "Exact Online is connected" in landed.text


def sign_in_on_the_consent_page(url: str) -> None:
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(url)
        assert page.status_code == 200
        fields = {
            unescape(name): unescape(value)
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text
            )
        }
        assert fields["state"] and fields["redirect_uri"]
        landed = browser.post(
            page.url.copy_with(query=None),
            data={**fields, "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD},
        )
    assert "Exact Online is connected" in landed.text


@pytest.mark.parametrize(
    "browser", [approve_automatically, sign_in_on_the_consent_page], ids=["auto", "form"]
)
def test_login_stores_the_tokens_and_lists_the_divisions(
    sandbox: ExactSandbox, sync_engine: Engine, browser: object
) -> None:
    shown: list[str] = []
    result = login(
        exact_settings(sandbox),
        sync_engine,
        secrets=app_secrets(sandbox),
        show_consent_url=shown.append,
        open_browser=browser,  # type: ignore[arg-type]
        timeout_seconds=30,
        clock=sandbox.clock.now,
    )
    assert len(shown) == 1 and shown[0].startswith(f"{sandbox.base_url}/api/oauth2/auth?")
    assert "state=" in shown[0] and "response_type=code" in shown[0]
    assert result.current_division == sandbox.division
    assert [(d.code, d.description) for d in result.divisions] == [
        (sandbox.division, SANDBOX_DIVISION_NAME)
    ]
    assert result.configured_division_available
    assert result.user_name == "Sanne de Boekhouder"
    tokens = TokenStore(sync_engine, sandbox.client_id, sandbox.division, SECRET_KEY).load()
    assert tokens is not None and tokens.issued_at == sandbox.clock.now()


def test_a_callback_with_another_state_is_refused_and_nothing_is_stored(
    sandbox: ExactSandbox, sync_engine: Engine
) -> None:
    def forged_callback(url: str) -> None:
        # A real code, but delivered with a state this login never sent.
        consent = httpx.get(f"{url.replace('state=', 'state=forged')}&auto_approve=true")
        httpx.get(consent.headers["location"])

    with pytest.raises(ExactLoginFailed, match="different state"):
        login(
            exact_settings(sandbox),
            sync_engine,
            secrets=app_secrets(sandbox),
            show_consent_url=lambda url: None,
            open_browser=forged_callback,
            timeout_seconds=30,
            clock=sandbox.clock.now,
        )
    assert TokenStore(sync_engine, sandbox.client_id, sandbox.division, SECRET_KEY).load() is None


def test_a_refused_consent_says_so(sandbox: ExactSandbox, sync_engine: Engine) -> None:
    def refuse(url: str) -> None:
        httpx.get(f"{sandbox.redirect_uri}?error=access_denied&error_description=User+refused")

    with pytest.raises(ExactLoginFailed, match="access_denied: User refused"):
        login(
            exact_settings(sandbox),
            sync_engine,
            secrets=app_secrets(sandbox),
            show_consent_url=lambda url: None,
            open_browser=refuse,
            timeout_seconds=30,
            clock=sandbox.clock.now,
        )


def test_the_cli_prints_the_consent_url_and_the_divisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI runs on the real clock, so the sandbox's ticks along with it.
    redirect_uri = f"http://127.0.0.1:{free_port()}/exact/oauth/callback"
    with running_sandbox(redirect_uri=redirect_uri, clock=SandboxClock(ticking=True)) as sandbox:
        config = tmp_path / "sync.yaml"
        config.write_text(
            f"""
woocommerce:
  shop_url: https://shop.example.nl
  export_orders_from: 2026-01-01
exact:
  base_url: {sandbox.base_url}
  redirect_uri: {redirect_uri}
  division: 999
  eu_consumer_vat_regime: shop_country_vat
  vat_mapping: {{domestic: {{21: "2"}}}}
  gl_mapping: {{domestic: {{21: "8000"}}}}
  rounding_gl: "8900"
""",
            encoding="utf-8",
        )
        opened: list[str] = []

        def browser(url: str) -> bool:
            opened.append(url)
            threading.Thread(target=approve_automatically, args=(url,), daemon=True).start()
            return True

        monkeypatch.setattr(webbrowser, "open", browser)
        env = {
            **environment(sandbox),
            "WOO_EXACT_DATABASE_URL": f"sqlite:///{tmp_path / 'sync.db'}",
        }
        outcome = CliRunner().invoke(main, ["exact", "login", "--config", str(config)], env=env)
    assert len(opened) == 1
    assert opened[0] in outcome.output
    assert f"{sandbox.division}  {SANDBOX_DIVISION_NAME}  (current in Exact)" in outcome.output
    # The configured administration 999 is not among them: a readable failure, exit code 1.
    assert outcome.exit_code == 1
    assert "exact.division 999 is not one of these" in outcome.output
