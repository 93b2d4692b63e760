"""Errors the sandbox answers with, in Exact's OData error envelope."""

from __future__ import annotations

from collections.abc import Mapping


class ExactError(Exception):
    """An answer in Exact's envelope: `{"error": {"code": "", "message": {...}}}`."""

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, object]:
        return {"error": {"code": "", "message": {"lang": "", "value": self.message}}}


class ODataError(ExactError):
    """A malformed request: bad query option, bad body, unknown property (always 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class ValidationFailed(ExactError):
    """Business-rule errors, several joined by CRLF as Exact joins them.

    HTTP 500 with the envelope, as every report of Exact's business refusals shows it
    (picqer #172 "Error 500: Ongeldig: Factuur voor (Type)", #249, #325, #515; 2017-2021, no
    counter-example found). So they do not count toward the 10-errors-an-hour block (Exact
    counts 400, 401, 403 and 404), and a client must read the envelope to know that a 500 on
    a POST is a refusal (nothing booked) and not an outage. Malformed requests (an unknown
    property, a bad query) stay 400 `ODataError`s.
    """

    def __init__(self, messages: list[str]) -> None:
        unique = list(dict.fromkeys(messages))  # three lines without G/L: one message
        super().__init__(500, "\r\n".join(unique))
        self.messages = unique


def stream_error(detail: str) -> ODataError:
    return ODataError(f"Error processing request stream. {detail}")


def not_found() -> ExactError:
    return ExactError(404, "Resource not found")
