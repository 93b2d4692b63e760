"""`woo-exact exact login`: the one interactive step, Exact's authorization-code flow.

Exact has no client-credentials grant, so a person signs in once and the pipeline lives on
refresh tokens after that. The flow: a consent URL with a random `state`; a one-shot HTTP
server on the redirect URI's host, port and path receives the code; the state is checked (so
a forged callback cannot plant someone else's connection); the code is exchanged within its
3 minutes and the tokens are stored; then the administrations the user may choose are listed.
"""

from __future__ import annotations

import html
import queue
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from secrets import compare_digest, token_urlsafe
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine

from woo_exact_pipeline.config import ExactSecrets, ExactSettings
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import ExactConfigurationError, ExactLoginFailed
from woo_exact_pipeline.exact.oauth import Clock, consent_url, utc_now

DEFAULT_TIMEOUT_SECONDS = 300.0
DIVISION_FIELDS = ("Code", "Description", "Country")


@dataclass(frozen=True)
class DivisionChoice:
    code: int
    description: str
    country: str | None


@dataclass(frozen=True)
class LoginResult:
    user_name: str
    current_division: int
    divisions: list[DivisionChoice]
    configured_division: int

    @property
    def configured_division_available(self) -> bool:
        return any(choice.code == self.configured_division for choice in self.divisions)


@dataclass(frozen=True)
class _Callback:
    code: str | None
    state: str | None
    error: str | None


def login(
    settings: ExactSettings,
    engine: Engine,
    *,
    secrets: ExactSecrets,
    show_consent_url: Callable[[str], None] = print,
    open_browser: Callable[[str], object] | None = webbrowser.open,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    clock: Clock = utc_now,
) -> LoginResult:
    """Run the consent flow, store the tokens for the configured administration (each has its
    own login) and list the administrations to choose from."""
    client = ExactClient.from_settings(settings, engine, secrets=secrets, clock=clock)
    try:
        state = token_urlsafe(24)
        url = consent_url(
            settings.api_base_url,
            client.tokens.client_id,
            settings.redirect_uri,
            state,
        )
        callback = _receive_callback(
            settings.redirect_uri,
            lambda: _show(url, show_consent_url, open_browser),
            timeout_seconds,
        )
        if callback.error is not None:
            raise ExactLoginFailed(f"Exact did not grant access: {callback.error}")
        if callback.state is None or not compare_digest(callback.state, state):
            raise ExactLoginFailed(
                "the login callback carried a different state than the one sent: it did not "
                "come from this login attempt, so nothing was stored; try again"
            )
        if not callback.code:
            raise ExactLoginFailed("Exact's callback carried no authorization code; try again")
        client.tokens.exchange_code(callback.code, settings.redirect_uri)
        me = client.current_me(["CurrentDivision", "FullName", "UserName"])
    finally:
        client.close()
    current = int(me["CurrentDivision"])
    # Listing divisions needs a division in the URL: the user's current one, called with the
    # login just stored for the configured division.
    with ExactClient.from_settings(
        settings,
        engine,
        secrets=secrets,
        clock=clock,
        division=current,
        login_division=settings.division,
    ) as current_client:
        records = current_client.get("system/Divisions", select=DIVISION_FIELDS)
    return LoginResult(
        user_name=str(me.get("FullName") or me.get("UserName") or ""),
        current_division=current,
        divisions=[
            DivisionChoice(
                code=int(record["Code"]),
                description=record.get("Description") or "",
                country=(record.get("Country") or "").strip() or None,
            )
            for record in records
        ],
        configured_division=settings.division,
    )


def _show(
    url: str,
    show_consent_url: Callable[[str], None],
    open_browser: Callable[[str], object] | None,
) -> None:
    show_consent_url(url)
    if open_browser is not None:
        open_browser(url)


def _receive_callback(
    redirect_uri: str, when_listening: Callable[[], None], timeout_seconds: float
) -> _Callback:
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname is None:
        raise ExactConfigurationError(
            f"redirect_uri {redirect_uri} cannot be received by `woo-exact exact login`: it "
            "serves plain http on this machine; register e.g. "
            "http://localhost:8765/exact/oauth/callback with your Exact app and use that"
        )
    path = parts.path or "/"
    answers: queue.Queue[_Callback] = queue.Queue()

    class CallbackHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = urlsplit(self.path)
            if request.path != path:
                self.send_error(404)
                return
            query = parse_qs(request.query)

            def first(name: str) -> str | None:
                return query.get(name, [None])[0]

            error = first("error")
            if error is not None:
                description = first("error_description")
                error = f"{error}: {description}" if description else error
            answers.put(_Callback(code=first("code"), state=first("state"), error=error))
            message = (
                "Exact Online is connected. You can close this window."
                if error is None
                else f"Exact Online did not grant access: {error}"
            )
            body = f"<!doctype html><title>woo-exact</title><p>{html.escape(message)}</p>"
            encoded = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: object) -> None:
            # The default logs the request line, which holds the authorization code.
            return

    try:
        server = HTTPServer((parts.hostname, parts.port or 80), CallbackHandler)
    except OSError as error:
        raise ExactConfigurationError(
            f"cannot listen on {parts.hostname}:{parts.port or 80} for the login callback "
            f"({error.strerror}); is another login running?"
        ) from None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        when_listening()
        try:
            return answers.get(timeout=timeout_seconds)
        except queue.Empty:
            raise ExactLoginFailed(
                f"no answer from Exact within {timeout_seconds:.0f} s; run the login again"
            ) from None
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
