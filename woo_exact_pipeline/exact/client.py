"""A typed client for the Exact Online REST API (api/v1) on httpx.

Every call goes through the same gate: the endpoint's error budget (Exact blocks an endpoint
for an hour after more than 10 errors), the shared minute and day windows (wait for the next
minute instead of collecting a 429; stop cleanly when the day is spent), then a valid access
token. GETs are retried on 429, 5xx, timeouts and dropped connections. POSTs are not: a POST
whose answer never arrived raises `ExactOutcomeUnknown`, and the loader looks the document up
by YourRef before it posts again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy import Engine

from woo_exact_pipeline.config import ExactSecrets, ExactSettings
from woo_exact_pipeline.exact.errors import (
    LOGIN_AGAIN,
    ExactApiError,
    ExactConfigurationError,
    ExactDailyQuotaSpent,
    ExactErrorBudgetSpent,
    ExactOutcomeUnknown,
    ExactResponseError,
    ExactTokenStoreError,
    ExactUnavailableError,
)
from woo_exact_pipeline.exact.oauth import (
    Clock,
    ExactCredentials,
    TokenKeeper,
    required,
    utc_now,
)
from woo_exact_pipeline.exact.odata import wire_value
from woo_exact_pipeline.store.rate_limits import RateLimits, RateLimitStore, Window
from woo_exact_pipeline.store.tokens import InvalidSecretKey, TokenStore, TokenStoreError
from woo_exact_pipeline.tls import tls_context

API_PATH = "/api/v1"
#: Exact's XML API, for many records in one call (docs/XMLUpload.aspx?Topic=...).
XML_UPLOAD_PATH = "/docs/XMLUpload.aspx"
USER_AGENT = "woo-exact-pipeline (+https://github.com/woo-exact-pipeline)"
#: Exact blocks an endpoint after more than 10 errors (400/401/403/404) within an hour.
ERROR_BUDGET_PER_HOUR = 10
RETRYABLE_STATUSES = {500, 502, 503, 504}
# Sent a little after a window resets, so our clock and Exact's agree it has.
RESET_MARGIN_SECONDS = 0.5
ODATA_SAFE_CHARACTERS = "',()/:$*@"

Record = dict[str, Any]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    records: list[Record]
    next_url: str | None


class ExactClient:
    """Calls to one Exact Online administration (division) on behalf of one app."""

    def __init__(
        self,
        *,
        base_url: str,
        division: int,
        tokens: TokenKeeper,
        limits: RateLimitStore,
        http: httpx.Client,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        error_budget: int = ERROR_BUDGET_PER_HOUR,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.division = division
        self.tokens = tokens
        self.limits = limits
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._max_backoff_seconds = max_backoff_seconds
        self._error_budget = error_budget
        self._origin = urlsplit(self.base_url)[:2]
        #: Requests Exact answered (for the sync log's "API calls spent").
        self.calls_made = 0
        #: Of which XML uploads (each one call, however many records it holds).
        self.uploads_made = 0

    @classmethod
    def from_settings(
        cls,
        settings: ExactSettings,
        engine: Engine,
        *,
        secrets: ExactSecrets,
        timeout_seconds: float = 60.0,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        division: int | None = None,
        login_division: int | None = None,
        http_client: httpx.Client | None = None,
    ) -> ExactClient:
        """The client of sync.yaml's administration, signed in with `secrets`.

        `division` overrides the configured one. Each division has its own login (token
        pair), the target's unless `login_division` names another: listing the user's
        divisions calls their current division with the login made for the configured one.
        `http_client` (closed with the client) is for proxies, custom transports or request
        instrumentation.
        """
        credentials = ExactCredentials.of(secrets)
        secret_key = required(secrets.token_encryption_key)
        target = division or settings.division
        http = http_client or new_http_client(timeout_seconds)
        try:
            store = TokenStore(
                engine, credentials.client_id, login_division or target, secret_key, clock=clock
            )
        except TokenStoreError as error:
            http.close()
            if isinstance(error, InvalidSecretKey):
                raise ExactConfigurationError(str(error)) from None
            raise ExactTokenStoreError(str(error)) from None
        return cls(
            base_url=settings.api_base_url,
            division=target,
            tokens=TokenKeeper(
                base_url=settings.api_base_url,
                credentials=credentials,
                store=store,
                http=http,
                clock=clock,
                sleep=sleep,
            ),
            limits=RateLimitStore(engine, credentials.client_id, target),
            http=http,
            clock=clock,
            sleep=sleep,
            backoff_seconds=settings.retry_backoff_seconds,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ExactClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ExactClient(base_url={self.base_url!r}, division={self.division})"

    # --- reading -------------------------------------------------------------------------

    def get(
        self,
        path: str,
        *,
        select: Sequence[str],
        filter: str | None = None,
        top: int | None = None,
        orderby: str | None = None,
        expand: str | None = None,
    ) -> list[Record]:
        """Every record of `path` (e.g. "financial/Journals"), following `__next` pages;
        `expand` names a lines collection served inside each record."""
        return [
            record
            for page in self.pages(
                path, select=select, filter=filter, top=top, orderby=orderby, expand=expand
            )
            for record in page
        ]

    def pages(
        self,
        path: str,
        *,
        select: Sequence[str],
        filter: str | None = None,
        top: int | None = None,
        orderby: str | None = None,
        expand: str | None = None,
    ) -> Iterator[list[Record]]:
        """Pages as Exact serves them: 60 records on regular endpoints, 1,000 on bulk/."""
        url: str | None = self.division_url(
            path, select=select, filter=filter, top=top, orderby=orderby, expand=expand
        )
        endpoint = endpoint_of(path)
        while url is not None:
            page = self._page(self._send("GET", url, endpoint))
            yield page.records
            url = self._checked_next(page.next_url) if top is None else None

    def bulk(
        self, path: str, *, select: Sequence[str], filter: str | None = None
    ) -> Iterator[list[Record]]:
        """Pages of a bulk endpoint (`path` without "bulk/", e.g. "Financial/GLAccounts")."""
        return self.pages(f"bulk/{path}", select=select, filter=filter)

    def current_me(self, select: Sequence[str]) -> Record:
        """`current/Me`: the logged-in user and their current division (not rate limited)."""
        url = self._url(f"{API_PATH}/current/Me", {"$select": _selection(select)})
        records = self._page(self._send("GET", url, "current/Me", counted=False)).records
        if not records:
            raise ExactResponseError("Exact answered current/Me without a user")
        return records[0]

    # --- writing -------------------------------------------------------------------------

    def post(self, path: str, body: Mapping[str, Any]) -> Record:
        """Create one record and return it as Exact stored it.

        Never retried once the request may have reached Exact: a lost answer raises
        `ExactOutcomeUnknown`. A 429 is retried (Exact refused it unprocessed), and so is a
        connection that could not even be opened.
        """
        content = json.dumps(body, default=wire_value).encode("utf-8")
        response = self._send("POST", self.division_url(path), endpoint_of(path), content=content)
        return self._single(response)

    def upload_xml(self, topic: str, document: bytes) -> bytes:
        """One XMLUpload.aspx call, however many records the document holds (one API call
        under the same limits as REST); Exact's `<eExact><Messages>` answer, a message per
        record. Never retried once it may have reached Exact, as a POST."""
        url = self._url(XML_UPLOAD_PATH, {"Topic": topic, "_Division_": str(self.division)})
        self.uploads_made += 1
        response = self._send(
            "POST", url, f"XMLUpload {topic}", content=document, media_type="application/xml"
        )
        return response.content

    # --- status for the sync log ---------------------------------------------------------

    def rate_limits(self) -> RateLimits | None:
        """The minute and day windows as last announced by Exact (daily quota left)."""
        return self.limits.current()

    # --- the gate every call passes ------------------------------------------------------

    def division_url(
        self,
        path: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        top: int | None = None,
        orderby: str | None = None,
        expand: str | None = None,
    ) -> str:
        query: dict[str, str] = {}
        if expand:
            query["$expand"] = expand
        if select is not None:
            query["$select"] = _selection(select)
        if filter:
            query["$filter"] = filter
        if top is not None:
            query["$top"] = str(top)
        if orderby:
            query["$orderby"] = orderby
        return self._url(f"{API_PATH}/{self.division}/{path.lstrip('/')}", query)

    def _url(self, path: str, query: Mapping[str, str]) -> str:
        # Spaces as %20 and `$`, quotes and parentheses kept: OData servers read `+` literally.
        encoded = "&".join(
            f"{name}={quote(value, safe=ODATA_SAFE_CHARACTERS)}" for name, value in query.items()
        )
        return f"{self.base_url}{path}" + (f"?{encoded}" if encoded else "")

    def _checked_next(self, next_url: str | None) -> str | None:
        # The bearer token goes wherever __next points: only ever to Exact's own host.
        if next_url is not None and urlsplit(next_url)[:2] != self._origin:
            raise ExactResponseError(f"Exact's next-page link leaves {self.base_url}: refused")
        return next_url

    def _send(
        self,
        method: str,
        url: str,
        endpoint: str,
        *,
        content: bytes | None = None,
        counted: bool = True,
        media_type: str = "application/json",
    ) -> httpx.Response:
        idempotent = method == "GET"
        attempt = 0
        rejected_token: str | None = None
        while True:
            attempt += 1
            self._check_error_budget(endpoint)
            if counted:
                self._wait_for_rate_limit()
            token = self.tokens.access_token()
            # Per request, not per http client: a caller's client may lack it, and without it
            # Exact answers in Atom XML.
            headers = {"Authorization": f"Bearer {token}", "Accept": media_type}
            if content is not None:
                headers |= {"Content-Type": media_type, "Prefer": "return=representation"}
            try:
                response = self._http.request(method, url, content=content, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                # Nothing reached Exact: safe to try again, even for a POST.
                self._retry_or_raise(attempt, endpoint, error)
                continue
            except httpx.TransportError as error:
                if not idempotent:
                    raise ExactOutcomeUnknown(endpoint, _describe(error)) from None
                self._retry_or_raise(attempt, endpoint, error)
                continue
            self.calls_made += 1
            now = self._clock()
            if counted:
                self.limits.observe(announced_limits(response.headers), now)
            status = response.status_code
            if status < 400:
                return response
            if status == 429:
                self._after_too_many_requests(response, attempt, endpoint)
                continue
            if status < 500:
                self.limits.record_error(endpoint, status, now)
                if status == 401 and rejected_token is None:
                    # Another process may have refreshed; Exact still counts the 401.
                    rejected_token = token
                    if self.tokens.token_after_rejection(token) is not None:
                        continue
                raise _api_error(response, method, endpoint)
            if not idempotent:
                if not _error_messages(response):
                    # A bare 5xx may come from a gateway after Exact booked: nobody knows.
                    raise ExactOutcomeUnknown(endpoint, f"Exact answered {status}")
                # An envelope is Exact's own refusal, so nothing was booked: business
                # validation (historically a 500), or Exact being unavailable.
                if status == 503:
                    raise ExactUnavailableError(
                        f"Exact Online is unavailable; POST {endpoint} was not processed "
                        f"({'; '.join(_error_messages(response))})"
                    )
                raise _api_error(response, method, endpoint)
            if status not in RETRYABLE_STATUSES or attempt >= self._max_attempts:
                if status in RETRYABLE_STATUSES:
                    raise ExactUnavailableError(
                        f"Exact Online kept failing on GET {endpoint} "
                        f"({status} after {attempt} attempts)"
                    )
                raise _api_error(response, method, endpoint)
            self._sleep(self._backoff(attempt))

    def _retry_or_raise(self, attempt: int, endpoint: str, error: httpx.HTTPError) -> None:
        if attempt >= self._max_attempts:
            raise ExactUnavailableError(
                f"Exact Online could not be reached for {endpoint} after {attempt} attempts "
                f"({_describe(error)})"
            ) from None
        self._sleep(self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        return min(self._max_backoff_seconds, self._backoff_seconds * 2 ** (attempt - 1))

    def _check_error_budget(self, endpoint: str) -> None:
        now = self._clock()
        count = self.limits.errors_last_hour(endpoint, now)
        if count.errors >= self._error_budget and count.oldest_at is not None:
            raise ExactErrorBudgetSpent(
                endpoint, count.errors, count.oldest_at + timedelta(hours=1)
            )

    def _wait_for_rate_limit(self) -> None:
        while True:
            now = self._clock()
            reservation = self.limits.reserve(now)
            if reservation.daily_spent_until is not None:
                raise ExactDailyQuotaSpent(self.division, reservation.daily_spent_until)
            if reservation.wait_until is None:
                return
            self._wait_until(reservation.wait_until, now)

    def _wait_until(self, moment: datetime, now: datetime) -> None:
        seconds = max(0.0, (moment - now).total_seconds()) + RESET_MARGIN_SECONDS
        logger.info("Exact's minute limit is reached; waiting %.1f s for the next minute", seconds)
        self._sleep(seconds)

    def _after_too_many_requests(
        self, response: httpx.Response, attempt: int, endpoint: str
    ) -> None:
        # Exact sends only the headers of the window that ran out.
        announced = announced_limits(response.headers)
        if announced.minutely is None and announced.daily is None and _error_messages(response):
            # Not a spent window but a block with a reason (e.g. too many errors on this
            # endpoint, caused elsewhere): waiting a minute would not help.
            raise _api_error(response, response.request.method, endpoint)
        now = self._clock()
        if announced.daily is not None and announced.daily.remaining <= 0:
            raise ExactDailyQuotaSpent(self.division, announced.daily.resets_at)
        if attempt >= self._max_attempts:
            raise ExactUnavailableError(
                f"Exact Online kept answering 429 Too Many Requests on {endpoint}; another "
                "app or process may be using this administration's limit"
            )
        if announced.minutely is not None:
            self._wait_until(announced.minutely.resets_at, now)
        else:
            self._wait_until(now.replace(second=0, microsecond=0) + timedelta(minutes=1), now)

    # --- answers -------------------------------------------------------------------------

    @staticmethod
    def _payload(response: httpx.Response) -> Any:
        try:
            return response.json()["d"]
        except (ValueError, KeyError, TypeError):
            raise ExactResponseError(
                f"Exact answered {response.request.method} {urlsplit(str(response.url)).path} "
                "without the expected JSON envelope"
            ) from None

    def _page(self, response: httpx.Response) -> Page:
        data = self._payload(response)
        if isinstance(data, list):
            return Page(records=data, next_url=None)
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            return Page(records=data["results"], next_url=data.get("__next"))
        raise ExactResponseError("Exact answered a list request with a single record")

    def _single(self, response: httpx.Response) -> Record:
        data = self._payload(response)
        if isinstance(data, dict) and "results" not in data:
            return data
        if isinstance(data, dict) and len(data["results"]) == 1:
            return dict(data["results"][0])
        raise ExactResponseError("Exact answered with a list where one record was expected")


def new_http_client(timeout_seconds: float = 60.0) -> httpx.Client:
    return httpx.Client(
        timeout=timeout_seconds, headers={"User-Agent": USER_AGENT}, verify=tls_context()
    )


def endpoint_of(path: str) -> str:
    """The endpoint Exact counts errors on: the path without key or query."""
    return path.split("?", 1)[0].split("(", 1)[0].strip("/")


def announced_limits(headers: httpx.Headers) -> RateLimits:
    return RateLimits(
        minutely=_window(headers, "X-RateLimit-Minutely-"),
        daily=_window(headers, "X-RateLimit-"),
    )


def _window(headers: httpx.Headers, prefix: str) -> Window | None:
    try:
        limit = int(headers[f"{prefix}Limit"])
        remaining = int(headers[f"{prefix}Remaining"])
        reset = int(headers[f"{prefix}Reset"])
    except (KeyError, ValueError):
        return None
    # Epoch milliseconds per Exact; some clients met seconds, which are far smaller.
    seconds = reset / 1000 if reset > 10**11 else reset
    return Window(limit, remaining, datetime.fromtimestamp(seconds, UTC))


def _selection(select: Sequence[str]) -> str:
    if isinstance(select, str) or not select:
        raise ValueError("name the fields to read: Exact wants $select on every list request")
    return ",".join(select)


def _describe(error: httpx.HTTPError) -> str:
    kind = type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return f"no answer in time ({kind})"
    return f"connection lost ({kind})"


def _error_messages(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return []
    message = error.get("message")
    value = message.get("value") if isinstance(message, dict) else message
    if not value:
        return []
    # Exact joins several messages with CRLF.
    return [line.strip() for line in str(value).splitlines() if line.strip()]


def _api_error(response: httpx.Response, method: str, endpoint: str) -> ExactApiError:
    messages = _error_messages(response)
    if not messages and response.status_code == 401:
        messages = [f"the access token was refused; if this persists, {LOGIN_AGAIN}"]
    code = ""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = str(body["error"].get("code") or "")
    except ValueError:
        pass
    return ExactApiError(
        status=response.status_code,
        method=method,
        endpoint=endpoint,
        messages=messages or [response.reason_phrase],
        code=code,
        reason=response.headers.get("Reason"),
    )
