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

    Historically Exact answered these with 500; the notes cannot confirm that it still does.
    The sandbox answers 400, the stricter choice for a loader: a 400 counts toward the
    10-errors-per-hour block and must never be retried as if it were a server hiccup.
    """

    def __init__(self, messages: list[str]) -> None:
        unique = list(dict.fromkeys(messages))  # three lines without G/L: one message
        super().__init__(400, "\r\n".join(unique))
        self.messages = unique


def stream_error(detail: str) -> ODataError:
    return ODataError(f"Error processing request stream. {detail}")


def not_found() -> ExactError:
    return ExactError(404, "Resource not found")
