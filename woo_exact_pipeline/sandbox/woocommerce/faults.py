"""Fault injection: the ways real shops and their hosting fail an API client.

Set the rates on a running sandbox (`sandbox.faults.error_rate = 0.1`) or queue exact faults
for the next requests (`sandbox.faults.queue("rate_limit", "server_error")`) for tests that must
see one particular failure; `hold_request(n)` keeps the n-th API request waiting until the test
releases it (`sandbox/holds.py`).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

from woo_exact_pipeline.sandbox.holds import Hold, HoldCounter

FAULT_KINDS = ("server_error", "hang", "waf", "rate_limit", "truncated")

WAF_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Access Denied</title></head>
<body><h1>403 Forbidden</h1>
<p>Your access to this site has been limited by the site owner (Wordfence).</p>
<p>If you think you have been blocked in error, contact the owner of this site.</p>
</body></html>"""


@dataclass
class Faults:
    latency_seconds: float = 0.0
    error_rate: float = 0.0  # share answered 500, 502 or 503
    hang_rate: float = 0.0  # share that hangs for `hang_seconds` (past the client's timeout)
    hang_seconds: float = 30.0
    waf_rate: float = 0.0  # share answered with a security plugin's HTML page
    rate_limit_rate: float = 0.0  # share answered 429 with Retry-After
    retry_after_seconds: int = 2
    truncated_rate: float = 0.0  # share whose JSON body is cut off halfway
    seed: int = 0
    _queued: deque[str] = field(default_factory=deque, repr=False)
    _random: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _holds: HoldCounter = field(default_factory=HoldCounter, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Faults from a command-line value like "error_rate=0.1,latency_seconds=0.5"."""
        settings: dict[str, Any] = {}
        tunable = {
            name: kind
            for name, kind in (
                ("latency_seconds", float),
                ("error_rate", float),
                ("hang_rate", float),
                ("hang_seconds", float),
                ("waf_rate", float),
                ("rate_limit_rate", float),
                ("retry_after_seconds", int),
                ("truncated_rate", float),
                ("seed", int),
            )
        }
        for part in filter(None, (piece.strip() for piece in spec.split(","))):
            name, _, value = part.partition("=")
            if name not in tunable:
                raise ValueError(
                    f"unknown fault setting {name!r}; choose from {', '.join(tunable)}"
                )
            try:
                settings[name] = tunable[name](value)
            except ValueError as error:
                raise ValueError(f"fault setting {name!r} needs a number, got {value!r}") from error
        return cls(**settings)

    def queue(self, *kinds: str) -> None:
        """Make the next requests fail with exactly these faults, in order."""
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._queued.extend(kinds)

    def hold_request(self, nth: int = 1) -> Hold:
        """Hold the `nth` API request from now (1 = the next one) until `release()`; released
        with `go_on=False` it is answered as a server error."""
        return self._holds.arm(nth)

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()
        self._holds.release_all()
        self.latency_seconds = 0.0
        self.error_rate = self.hang_rate = self.waf_rate = 0.0
        self.rate_limit_rate = self.truncated_rate = 0.0

    def draw(self) -> str | None:
        """The fault for this request, if any."""
        with self._lock:
            if self._queued:
                return self._queued.popleft()
            roll = self._random.random()
        for kind, rate in (
            ("server_error", self.error_rate),
            ("hang", self.hang_rate),
            ("waf", self.waf_rate),
            ("rate_limit", self.rate_limit_rate),
            ("truncated", self.truncated_rate),
        ):
            if roll < rate:
                return kind
            roll -= rate
        return None

    async def before(self, kind: str | None) -> Response | None:
        """Delay the request and answer in place of the shop when the fault says so."""
        hold = self._holds.arrived()
        if hold is not None:
            await hold.wait_here()
            if not hold.go_on:
                kind = "server_error"
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        if kind == "hang":
            await asyncio.sleep(self.hang_seconds)
        elif kind == "server_error":
            with self._lock:
                status = self._random.choice((500, 502, 503))
            if status == 500:
                return JSONResponse(
                    {
                        "code": "internal_server_error",
                        "message": "<p>There has been a critical error on this website.</p>",
                        "data": {"status": 500},
                        "additional_errors": [],
                    },
                    status_code=500,
                )
            return HTMLResponse(
                f"<html><head><title>{status}</title></head><body><center><h1>{status} "
                f"{'Bad Gateway' if status == 502 else 'Service Temporarily Unavailable'}"
                "</h1></center><hr><center>nginx</center></body></html>",
                status_code=status,
            )
        elif kind == "waf":
            return HTMLResponse(WAF_PAGE, status_code=403)
        elif kind == "rate_limit":
            return JSONResponse(
                {
                    "code": "too_many_requests",
                    "message": "Too Many Requests",
                    "data": {"status": 429},
                },
                status_code=429,
                headers={"Retry-After": str(self.retry_after_seconds)},
            )
        return None

    @staticmethod
    def truncate(response: Response) -> Response:
        """The body a PHP fatal error or a dropped proxy connection leaves: half a JSON document."""
        body = bytes(response.body)
        headers = {
            key: value
            for key, value in response.headers.items()
            if key.lower() not in ("content-length",)
        }
        return Response(
            body[: max(1, len(body) // 2)], status_code=response.status_code, headers=headers
        )
