"""Where a shop's secrets come from, as values: the environment variables its `credentials:`
names (and WOO_EXACT_SECRET_KEY, shared by every shop of a deployment).

Two resolvers, and only two: Dagster resources read them through `dg.EnvVar`
(`defs/shops.py`), the CLI through `credentials_for`. The clients take the values, never an
environment; each value keeps the name of its variable, so a client can say which one to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from woo_exact_pipeline.config.model import SyncConfig

#: Encrypts the stored Exact tokens; one per deployment.
SECRET_KEY_VARIABLE = "WOO_EXACT_SECRET_KEY"


@dataclass(frozen=True)
class Secret:
    """A secret's value (never in a repr) and the variable it came from."""

    variable: str
    value: str = field(repr=False)

    @property
    def missing(self) -> bool:
        return not self.value.strip()


@dataclass(frozen=True)
class WooCommerceSecrets:
    consumer_key: Secret
    consumer_secret: Secret


@dataclass(frozen=True)
class ExactSecrets:
    """The registered Exact app, and the key the sync database's token pair is sealed with."""

    client_id: Secret
    client_secret: Secret
    token_encryption_key: Secret


@dataclass(frozen=True)
class ShopSecrets:
    woocommerce: WooCommerceSecrets
    exact: ExactSecrets


def credentials_for(settings: SyncConfig, environ: Mapping[str, str] | None = None) -> ShopSecrets:
    """The shop's secrets for the CLI, from the variables its `credentials:` names (missing
    ones are empty: the client that needs one says which variable to set)."""
    source = os.environ if environ is None else environ
    names = settings.credentials

    def secret(variable: str) -> Secret:
        return Secret(variable, source.get(variable, "").strip())

    return ShopSecrets(
        woocommerce=WooCommerceSecrets(
            secret(names.woo_consumer_key), secret(names.woo_consumer_secret)
        ),
        exact=ExactSecrets(
            secret(names.exact_client_id),
            secret(names.exact_client_secret),
            secret(SECRET_KEY_VARIABLE),
        ),
    )
