"""Turning client errors into Dagster failures a shop owner can read."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy.exc import InterfaceError, OperationalError

from woo_exact_pipeline.exact.errors import ExactError, ExactUnavailableError
from woo_exact_pipeline.woocommerce.client import WooCommerceError, WooUnavailableError


@contextmanager
def shop_owner_errors() -> Iterator[None]:
    """Fail the step with the client's own message; retry only what may pass by itself."""
    try:
        yield
    except WooUnavailableError as error:
        raise dg.Failure(description=str(error), allow_retries=True) from None
    except WooCommerceError as error:
        # A wrong key or a firewall page will not fix itself on a retry.
        raise dg.Failure(description=str(error), allow_retries=False) from None


@contextmanager
def exact_connection_errors() -> Iterator[None]:
    """A lost login, a spent quota or a wrong setting ends the run with Exact's reason."""
    try:
        yield
    except ExactUnavailableError as error:
        raise dg.Failure(description=str(error), allow_retries=True) from None
    except ExactError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None


@contextmanager
def sync_database_errors() -> Iterator[None]:
    """The sync database down, unreachable or locked ends the run with the database's reason
    (never the SQL or its parameters) and what happens to the events on their way."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise dg.Failure(
            description=(
                f"The sync database could not be used ({reason}). Nothing is lost: an event "
                "being posted stays pending and is looked up in Exact by YourRef before it is "
                "posted again. Run the load again once the database is back."
            ),
            allow_retries=True,
        ) from None
