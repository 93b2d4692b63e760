"""Exact's OAuth2 authorisation-code flow, with every rule that breaks connectors.

Codes last 3 minutes and work once; access tokens last 600 s; each refresh rotates the
refresh token; a refresh within 570 s of the previous issue is refused; a refresh token unused
for 30 days is dead.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from woo_exact_pipeline.sandbox.exact.clock import SandboxClock

ACCESS_TOKEN_SECONDS = 600
MIN_REFRESH_INTERVAL = timedelta(seconds=570)
CODE_LIFETIME = timedelta(minutes=3)
REFRESH_IDLE_LIFETIME = timedelta(days=30)
# Exact «API limits»: at most 200 token-endpoint calls per app, per user, per day. Which
# calls count and what the refusal says is not documented: the sandbox counts every call of
# the registered app and answers like the too-early refusal.
TOKEN_CALLS_PER_DAY = 200
TOO_EARLY_REASON = "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"


class TokenError(Exception):
    """A refusal at the token endpoint: `{"error": ..., "error_description": ...}`."""

    def __init__(
        self, status: int, error: str, description: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(description or error)
        self.status = status
        self.error = error
        self.description = description
        self.reason = reason

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description is not None:
            body["error_description"] = self.description
        return body


@dataclass
class _Grant:
    """One consent: the chain of tokens that rotates with every refresh."""

    client_id: str
    access_token: str
    access_expires: datetime
    refresh_token: str
    issued_at: datetime


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    issued_at: datetime


def normalise_client_id(value: str) -> str:
    """App Center shows client ids with braces; clients send them with or without."""
    return value.strip().strip("{}").lower()


def _exact_timestamp(moment: datetime) -> str:
    # As in Exact's message: "The refresh token expired at 10/11/2022 9:18:20 PM ..."
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {suffix}"


class OAuthServer:
    def __init__(
        self, clock: SandboxClock, *, client_id: str, client_secret: str, redirect_uri: str
    ) -> None:
        self.clock = clock
        self.client_id = normalise_client_id(client_id)
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._codes: dict[str, _Code] = {}
        self._grants_by_access: dict[str, _Grant] = {}
        self._grants_by_refresh: dict[str, _Grant] = {}
        self._retired_refresh: set[str] = set()
        self._token_calls: tuple[object, int] = (None, 0)  # (UTC day, calls that day)
        self._lock = threading.Lock()

    def check_authorize_request(self, params: Any) -> str | None:
        """Why an authorisation request cannot be served, or None when it can."""
        if normalise_client_id(params.get("client_id", "")) != self.client_id:
            return "Unknown client_id."
        if params.get("redirect_uri") != self.redirect_uri:
            return "The redirect_uri does not match the one registered for this app."
        if params.get("response_type", "code") != "code":
            return "Only response_type=code is supported by the sandbox."
        return None

    def issue_code(self, redirect_uri: str) -> str:
        code = f"stamp!IAAAA{secrets.token_urlsafe(32)}"
        with self._lock:
            self._codes[code] = _Code(self.client_id, redirect_uri, self.clock.now())
        return code

    def exchange(self, form: Any) -> dict[str, str]:
        """The token endpoint: `authorization_code` and `refresh_token` grants."""
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise TokenError(400, "unsupported_grant_type")
        self._authenticate_client(form)
        self._count_token_call()
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        return self._refresh(form)

    def _count_token_call(self) -> None:
        today = self.clock.now().date()
        with self._lock:
            day, calls = self._token_calls
            calls = calls + 1 if day == today else 1
            self._token_calls = (today, calls)
        if calls > TOKEN_CALLS_PER_DAY:
            raise TokenError(
                400, "access_denied", "Rate limit exceeded: too many token requests today"
            )

    def _authenticate_client(self, form: Any) -> None:
        if normalise_client_id(form.get("client_id", "")) != self.client_id:
            raise TokenError(401, "invalid_client", "Unknown client.")
        if not secrets.compare_digest(str(form.get("client_secret", "")), self.client_secret):
            raise TokenError(401, "invalid_client", "Invalid client secret.")

    def _exchange_code(self, form: Any) -> dict[str, str]:
        now = self.clock.now()
        with self._lock:
            code = self._codes.pop(str(form.get("code", "")), None)
            if code is None or now - code.issued_at > CODE_LIFETIME:
                raise TokenError(400, "invalid_request", "The authorization code is not valid.")
            if form.get("redirect_uri") != code.redirect_uri:
                raise TokenError(400, "invalid_request", "The redirect_uri does not match.")
            grant = _Grant(code.client_id, "", now, "", now)
            return self._issue(grant, now)

    def _refresh(self, form: Any) -> dict[str, str]:
        token = str(form.get("refresh_token", ""))
        if not token:
            raise TokenError(400, "invalid_request")
        now = self.clock.now()
        with self._lock:
            if token in self._retired_refresh:
                raise TokenError(401, "unauthorized_client", "Old refresh token used.")
            grant = self._grants_by_refresh.get(token)
            if grant is None:
                raise TokenError(400, "invalid_grant", "The refresh token is not valid.")
            expires_at = grant.issued_at + REFRESH_IDLE_LIFETIME
            if now >= expires_at:
                raise TokenError(
                    400,
                    "invalid_request",
                    f"The refresh token expired at {_exact_timestamp(expires_at)} "
                    f"and it is now {_exact_timestamp(now)}.",
                )
            if now - grant.issued_at < MIN_REFRESH_INTERVAL:
                raise TokenError(
                    400,
                    "access_denied",
                    "Rate limit exceeded: access_token not expired",
                    reason=TOO_EARLY_REASON,
                )
            del self._grants_by_refresh[token]
            self._retired_refresh.add(token)
            # The previous access token dies with the rotation. Whether Exact keeps it alive
            # until it expires is not documented; the stricter choice is to revoke it.
            self._grants_by_access.pop(grant.access_token, None)
            return self._issue(grant, now)

    def _issue(self, grant: _Grant, now: datetime) -> dict[str, str]:
        grant.access_token = f"AAEAA{secrets.token_urlsafe(48)}"
        grant.access_expires = now + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        grant.refresh_token = f"Gcp7!IAAAA{secrets.token_urlsafe(48)}"
        grant.issued_at = now
        self._grants_by_access[grant.access_token] = grant
        self._grants_by_refresh[grant.refresh_token] = grant
        return {
            "access_token": grant.access_token,
            "token_type": "bearer",
            "expires_in": str(ACCESS_TOKEN_SECONDS),  # a string, as Exact sends it
            "refresh_token": grant.refresh_token,
        }

    def client_for(self, access_token: str) -> tuple[str | None, bool]:
        """(client id, still valid) for a bearer token; (None, False) when unknown."""
        with self._lock:
            grant = self._grants_by_access.get(access_token)
        if grant is None:
            return None, False
        return grant.client_id, self.clock.now() < grant.access_expires
