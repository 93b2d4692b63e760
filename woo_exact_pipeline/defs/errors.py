"""Turning client errors into Dagster failures a shop owner can read, each named by its cause.

The cause is decided here, once, from the exception's type, and travels as the failure's
metadata (`CAUSE`): the alert sensor reads it from there and never from the message.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy.exc import InterfaceError, OperationalError

from woo_exact_pipeline.alerts.model import CAUSE, FailureCause
from woo_exact_pipeline.exact.errors import (
    ExactApiError,
    ExactAuthenticationError,
    ExactConfigurationError,
    ExactDailyQuotaSpent,
    ExactError,
    ExactLoginRequired,
    ExactOutcomeUnknown,
    ExactTokenStoreError,
    ExactUnavailableError,
)
from woo_exact_pipeline.woocommerce.client import (
    WooAuthenticationError,
    WooCommerceError,
    WooPlainPermalinksError,
    WooUnavailableError,
)

#: Causes that may pass by themselves: Dagster's retry policy may try the step again.
_PASSING = {
    FailureCause.EXACT_UNREACHABLE,
    FailureCause.WOOCOMMERCE_UNREACHABLE,
    FailureCause.SYNC_DATABASE_UNAVAILABLE,
}

_CAUSES: tuple[tuple[type[Exception] | tuple[type[Exception], ...], FailureCause], ...] = (
    (
        (ExactLoginRequired, ExactTokenStoreError, ExactAuthenticationError),
        FailureCause.EXACT_LOGIN_LOST,
    ),
    (ExactDailyQuotaSpent, FailureCause.EXACT_QUOTA_SPENT),
    ((ExactUnavailableError, ExactOutcomeUnknown), FailureCause.EXACT_UNREACHABLE),
    (ExactConfigurationError, FailureCause.INVALID_CONFIGURATION),
    (WooUnavailableError, FailureCause.WOOCOMMERCE_UNREACHABLE),
    ((WooAuthenticationError, WooPlainPermalinksError), FailureCause.INVALID_CONFIGURATION),
)


def cause_of(error: Exception) -> FailureCause:
    """What someone has to know to act on `error`."""
    if isinstance(error, ExactApiError) and error.status == 401:
        return FailureCause.EXACT_LOGIN_LOST  # the access token was refused
    for kinds, cause in _CAUSES:
        if isinstance(error, kinds):
            return cause
    return FailureCause.UNEXPECTED


@contextmanager
def failures_named_by_cause() -> Iterator[None]:
    """Fail the step with the client's own message and its cause; retry only what may pass by
    itself (a wrong key or a firewall page will not fix itself on a retry)."""
    try:
        yield
    except (WooCommerceError, ExactError) as error:
        raise _failure(str(error), cause_of(error)) from None
    except (OperationalError, InterfaceError) as error:
        # The database's reason, never the SQL or its parameters.
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise _failure(
            f"The sync database could not be used ({reason}). Nothing is lost: an event "
            "being posted stays pending and is looked up in Exact by YourRef before it is "
            "posted again. Run the load again once the database is back.",
            FailureCause.SYNC_DATABASE_UNAVAILABLE,
        ) from None


def _failure(description: str, cause: FailureCause) -> dg.Failure:
    return dg.Failure(
        description=description,
        metadata={CAUSE: cause.value},
        allow_retries=cause in _PASSING,
    )
