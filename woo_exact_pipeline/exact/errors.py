"""What can go wrong talking to Exact Online, worded for the person who has to act on it.

Every error keeps Exact's own message (often Dutch: "Verplicht: Besteld door") and has room for
our context (which order, which field), so a sync-log line reads as one sentence. No error ever
carries a token, a client secret or an authorization code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

LOGIN_AGAIN = "run `woo-exact exact login` again to reconnect"


class ExactError(Exception):
    """Base of every failure talking to Exact Online."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, str] = {}

    def with_context(self, **context: object) -> Self:
        """Add our side of the story (order="1042", field="Customer") and return the error."""
        self.context.update({name: str(value) for name, value in context.items()})
        return self

    def __str__(self) -> str:
        if not self.context:
            return self.message
        where = ", ".join(f"{name} {value}" for name, value in self.context.items())
        return f"{self.message} ({where})"


class ExactConfigurationError(ExactError):
    """A setting or an environment variable the client needs is missing or wrong."""


class ExactLoginRequired(ExactError):
    """The stored connection is gone (never made, refresh token expired or rejected)."""


class ExactLoginFailed(ExactError):
    """The interactive login did not complete; nothing was stored."""


class ExactTokenStoreError(ExactError):
    """The stored tokens cannot be read, e.g. WOO_EXACT_SECRET_KEY differs from the login's."""


class ExactAuthenticationError(ExactError):
    """Exact refused our credentials or token for a reason a re-login may not fix."""


class ExactUnavailableError(ExactError):
    """Exact could not be reached or kept failing after the retries."""


class ExactResponseError(ExactError):
    """Exact answered, but not in the shape its API promises."""


class ExactDailyQuotaSpent(ExactError):
    """The administration's daily API quota for this app is used up until `resets_at`."""

    def __init__(self, division: int, resets_at: datetime) -> None:
        super().__init__(
            f"the daily Exact Online API quota of administration {division} is spent; "
            f"it resets at {resets_at:%Y-%m-%d %H:%M} UTC, the run can continue after that"
        )
        self.division = division
        self.resets_at = resets_at


class ExactErrorBudgetSpent(ExactError):
    """We refuse to send: one more error on this endpoint would get it blocked by Exact."""

    def __init__(self, endpoint: str, errors: int, frees_at: datetime) -> None:
        super().__init__(
            f"not sending to {endpoint}: Exact answered it with {errors} errors in the last hour "
            f"and blocks an endpoint after 10; requests resume at {frees_at:%H:%M:%S} UTC. "
            "Fix the cause of the earlier errors first"
        )
        self.endpoint = endpoint
        self.errors = errors
        self.frees_at = frees_at


class ExactApiError(ExactError):
    """Exact answered with an error: `status`, its messages and the endpoint concerned."""

    def __init__(
        self,
        *,
        status: int,
        method: str,
        endpoint: str,
        messages: list[str],
        code: str = "",
        reason: str | None = None,
    ) -> None:
        detail = "; ".join(messages) if messages else "no message"
        if reason and reason not in detail:
            detail = f"{detail} (reason: {reason})"
        super().__init__(f"Exact Online answered {status} to {method} {endpoint}: {detail}")
        self.status = status
        self.method = method
        self.endpoint = endpoint
        self.messages = messages
        self.code = code
        self.reason = reason


class ExactOutcomeUnknown(ExactError):
    """A POST was sent but no answer came back: it may or may not have been booked.

    Never post the same document again blindly: look it up first (by YourRef in the journal).
    """

    def __init__(self, endpoint: str, cause: str) -> None:
        super().__init__(
            f"POST {endpoint} was sent but its outcome is unknown ({cause}); look the document "
            "up in Exact before posting it again"
        )
        self.endpoint = endpoint
