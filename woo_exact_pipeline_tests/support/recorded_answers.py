"""A WooCommerce shop answering from the recordings of a real WooCommerce 11.0.1, as an
`httpx.MockTransport` handler: the client's edge cases (retries, the auth fallback, every way of
wording a failure) are tested against the shop's own words, without starting a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

RECORDINGS = Path(__file__).parent / "recorded"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def recorded_answer(name: str) -> httpx.Response:
    """The response of one recording, e.g. `errors/auth_wrong_secret_basic`."""
    recording = json.loads((RECORDINGS / f"{name}.json").read_text())["response"]
    headers = {
        key: value
        for key, value in recording["headers"].items()
        if key.lower() not in ("content-length", "content-encoding", "transfer-encoding")
    }
    body = recording["body"]
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return httpx.Response(recording["status"], headers=headers, content=content)


def html_page(status: int, text: str = "<html><body>Access denied</body></html>") -> httpx.Response:
    return httpx.Response(status, headers={"Content-Type": "text/html; charset=UTF-8"}, text=text)


def cut_off(response: httpx.Response) -> httpx.Response:
    """The same answer with its JSON body ended halfway, as a proxy timing out mid-body."""
    return httpx.Response(
        response.status_code, headers=response.headers, content=response.content[:40]
    )


@dataclass
class ScriptedShop:
    """Answers each request with the next scripted answer, then with `otherwise`; keeps every
    request it was sent so a test can read what the client did."""

    script: list[Answer]
    otherwise: Answer | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.script.pop(0) if self.script else self.otherwise
        if answer is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        # A Response can be sent once: hand out a copy so a scripted answer may repeat.
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
