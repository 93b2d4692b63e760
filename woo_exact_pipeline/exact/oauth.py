"""OAuth2 with Exact Online: the token endpoint and the rules for refreshing.

Exact's rules make refreshing the riskiest thing the client does: an access token lives 600 s,
a new one may be asked for only 570 s after the previous one, every refresh kills the refresh
token it used, and an unused refresh token dies after 30 days. So the keeper refreshes only in
the last 30 s of an access token (or after it expired), and only under the token store's
cross-process lock, after re-reading the pair: whoever comes second finds the fresh pair and
uses it instead of burning the connection with a dead refresh token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from woo_exact_pipeline.config import ExactSecrets, Secret
from woo_exact_pipeline.exact.errors import (
    LOGIN_AGAIN,
    ExactAuthenticationError,
    ExactConfigurationError,
    ExactLoginRequired,
    ExactTokenStoreError,
    ExactUnavailableError,
)
from woo_exact_pipeline.store.tokens import ExactTokens, TokenStore, TokenStoreError

AUTHORIZE_PATH = "/api/oauth2/auth"
TOKEN_PATH = "/api/oauth2/token"
#: Refresh in the last 30 s of an access token's life, not earlier ...
REFRESH_MARGIN = timedelta(seconds=30)
#: ... and never sooner than 570 s after the previous token was issued (Exact refuses).
MIN_REFRESH_INTERVAL = timedelta(seconds=570)
#: The daily schedule refreshes a refresh token this close to its 30-day idle expiry.
PROACTIVE_REFRESH_WINDOW = timedelta(days=7)
TOKEN_REQUEST_ATTEMPTS = 3
# A refresh holds the token lock (on SQLite: the whole database, whose other writers give up
# after 30 s), so the token endpoint gets short timeouts and short pauses between attempts.
TOKEN_REQUEST_TIMEOUT_SECONDS = 8.0

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ExactCredentials:
    """The registered Exact app; the secret never shows in a repr."""

    client_id: str
    client_secret: str = field(repr=False)

    @classmethod
    def of(cls, secrets: ExactSecrets) -> ExactCredentials:
        return cls(required(secrets.client_id), required(secrets.client_secret))


def required(secret: Secret) -> str:
    """The secret's value; naming the variable to set when it is empty."""
    if secret.missing:
        raise ExactConfigurationError(
            f"environment variable {secret.variable} is not set; see .env.example for what it holds"
        )
    return secret.value.strip()


def consent_url(base_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The page where the user signs in to Exact and lets the app use their administrations."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            "force_login": "0",
        }
    )
    return f"{base_url}{AUTHORIZE_PATH}?{query}"


class TokenKeeper:
    """Hands out a valid access token, refreshing by Exact's rules, safe across processes."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: ExactCredentials,
        store: TokenStore,
        http: httpx.Client,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token_url = f"{base_url}{TOKEN_PATH}"
        self._credentials = credentials
        self._store = store
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._tokens: ExactTokens | None = None

    def __repr__(self) -> str:
        return f"TokenKeeper(client_id={self.client_id!r})"

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    # --- login ---------------------------------------------------------------------------

    def exchange_code(self, code: str, redirect_uri: str) -> ExactTokens:
        """Trade the authorization code of a login for a token pair and store it."""
        tokens = self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            failure="Exact refused the login",
        )
        self._guarded(lambda: self._store.save(tokens))
        self._tokens = tokens
        return tokens

    # --- using the connection ------------------------------------------------------------

    def stored(self) -> ExactTokens | None:
        """The pair as stored now (for status reports: expiry times; tokens stay hidden)."""
        return self._guarded(self._store.load)

    def access_token(self) -> str:
        tokens = self._tokens
        if tokens is None or self._needs_refresh(tokens, self._clock()):
            tokens = self._refresh_under_lock(proactive_window=None)
        return tokens.access_token

    def token_after_rejection(self, rejected: str) -> str | None:
        """After a 401: a newer access token another process stored meanwhile, if any."""
        stored = self.stored()
        if stored is None or stored.access_token == rejected:
            return None
        if self._clock() >= stored.access_expires_at:
            return None
        self._tokens = stored
        return stored.access_token

    def refresh_before_idle_expiry(self, within: timedelta = PROACTIVE_REFRESH_WINDOW) -> bool:
        """For the daily schedule: refresh when the refresh token dies within `within`.

        A connection nobody used for 30 days would otherwise need a human to log in again.
        Returns whether a new pair was fetched.
        """
        before = self.stored()
        after = self._refresh_under_lock(proactive_window=within)
        return before is None or after.issued_at != before.issued_at

    # --- the rules -----------------------------------------------------------------------

    @staticmethod
    def _needs_refresh(tokens: ExactTokens, now: datetime) -> bool:
        return now >= tokens.access_expires_at - REFRESH_MARGIN

    def _refresh_under_lock(self, proactive_window: timedelta | None) -> ExactTokens:
        while True:
            outcome = self._guarded(lambda: self._refresh_if_due(proactive_window))
            if isinstance(outcome, ExactTokens):
                self._tokens = outcome
                return outcome
            # Only reachable when Exact issues tokens shorter than 570 s: wait, outside the
            # lock, until Exact allows the refresh.
            self._sleep(max(0.0, (outcome - self._clock()).total_seconds()))

    def _refresh_if_due(self, proactive_window: timedelta | None) -> ExactTokens | datetime:
        """The pair to use, refreshed if due; or when to try again if Exact would refuse."""
        with self._store.locked() as locked:
            current = locked.tokens
            if current is None:
                raise ExactLoginRequired(
                    f"there is no Exact Online connection for app {self.client_id} and "
                    f"administration {self._store.division} in the sync database; {LOGIN_AGAIN}"
                )
            now = self._clock()
            if proactive_window is not None:
                due = now >= current.refresh_expires_at - proactive_window
            else:
                due = self._needs_refresh(current, now)
            if not due:
                return current  # another process refreshed meanwhile, or nothing to do
            earliest = current.issued_at + MIN_REFRESH_INTERVAL
            if now < earliest:
                # Exact would refuse as too early: keep a still valid token, else wait.
                return current if now < current.access_expires_at else earliest
            fresh = self._token_request(
                {"grant_type": "refresh_token", "refresh_token": current.refresh_token},
                failure="Exact refused to refresh the connection",
            )
            # Saved (committed when this block ends) before anyone uses the new pair.
            locked.replace(fresh)
        logger.info(
            "refreshed the Exact Online tokens; access valid until %s",
            fresh.access_expires_at.isoformat(),
        )
        return fresh

    def _guarded(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except TokenStoreError as error:
            raise ExactTokenStoreError(str(error)) from None

    def _token_request(self, grant: dict[str, str], *, failure: str) -> ExactTokens:
        form = {
            **grant,
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
        }
        for attempt in range(1, TOKEN_REQUEST_ATTEMPTS + 1):
            requested_at = self._clock()
            try:
                response = self._http.post(
                    self._token_url,
                    data=form,
                    headers={"Accept": "application/json"},
                    timeout=TOKEN_REQUEST_TIMEOUT_SECONDS,
                )
            except httpx.HTTPError as error:
                if attempt == TOKEN_REQUEST_ATTEMPTS:
                    raise ExactUnavailableError(
                        f"{failure}: Exact's token endpoint could not be reached "
                        f"({type(error).__name__})"
                    ) from None
                self._sleep(float(attempt))
                continue
            if response.status_code >= 500 and attempt < TOKEN_REQUEST_ATTEMPTS:
                self._sleep(float(attempt))
                continue
            if response.status_code != 200:
                raise self._token_error(response, failure)
            return self._parse_tokens(response, requested_at)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _parse_tokens(self, response: httpx.Response, requested_at: datetime) -> ExactTokens:
        try:
            body = response.json()
            lifetime = timedelta(seconds=int(body["expires_in"]))  # Exact sends "600", a string
            access_token = str(body["access_token"])
            refresh_token = str(body["refresh_token"])
        except (ValueError, KeyError, TypeError):
            raise ExactAuthenticationError(
                "Exact's token endpoint answered without a usable token pair"
            ) from None
        return ExactTokens(
            access_token=access_token,
            refresh_token=refresh_token,
            # Expiry counted from before the request, the 570 s from after the answer: both
            # err on the safe side of Exact's own clock.
            access_expires_at=requested_at + lifetime,
            issued_at=self._clock(),
        )

    @staticmethod
    def _token_error(response: httpx.Response, failure: str) -> Exception:
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("error") or "")
        description = str(body.get("error_description") or response.reason_phrase or "")
        reason = response.headers.get("Reason")
        said = f"{code}: {description}" if code else description
        if reason and reason not in said:
            said = f"{said} (reason: {reason})"
        detail = f"{failure} ({response.status_code} {said})"
        if code == "invalid_client":
            # A new login would not help: the app's own credentials are wrong.
            return ExactAuthenticationError(
                f"{detail}; check EXACT_CLIENT_ID and EXACT_CLIENT_SECRET against your app in "
                "Exact's App Center"
            )
        if code in {"invalid_request", "invalid_grant", "unauthorized_client"} or (
            response.status_code == 401
        ):
            return ExactLoginRequired(f"{detail}; {LOGIN_AGAIN}")
        return ExactAuthenticationError(detail)
