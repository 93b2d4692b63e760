"""Where the secrets come from, as values: the environment variables a shop's `credentials:`
names, WOO_EXACT_SECRET_KEY and the alert channels' WOO_EXACT_SMTP_*, _SLACK_TOKEN and
_WEBHOOK_SECRET (these shared by every shop of a deployment).

Two resolvers, and only two: Dagster resources read them through `dg.EnvVar`
(`defs/shops.py`, `defs/resources.py`), the CLI through `credentials_for` and
`alert_secrets_for`. The clients take the values, never an
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


#: The alert channels' secrets, one set per deployment (`alerts:` in sync.yaml says which
#: channels are on). Port, user and password are optional: an SMTP relay may need no login.
SMTP_HOST_VARIABLE = "WOO_EXACT_SMTP_HOST"
SMTP_PORT_VARIABLE = "WOO_EXACT_SMTP_PORT"
SMTP_USER_VARIABLE = "WOO_EXACT_SMTP_USER"
SMTP_PASSWORD_VARIABLE = "WOO_EXACT_SMTP_PASSWORD"
SLACK_TOKEN_VARIABLE = "WOO_EXACT_SLACK_TOKEN"
WEBHOOK_SECRET_VARIABLE = "WOO_EXACT_WEBHOOK_SECRET"
#: AlertSecrets' fields and the variable each comes from.
ALERT_VARIABLES = {
    "smtp_host": SMTP_HOST_VARIABLE,
    "smtp_port": SMTP_PORT_VARIABLE,
    "smtp_user": SMTP_USER_VARIABLE,
    "smtp_password": SMTP_PASSWORD_VARIABLE,
    "slack_token": SLACK_TOKEN_VARIABLE,
    "webhook_secret": WEBHOOK_SECRET_VARIABLE,
}


@dataclass(frozen=True)
class AlertSecrets:
    """What the alert channels log in with; an empty value means its variable is not set."""

    smtp_host: Secret
    smtp_port: Secret
    smtp_user: Secret
    smtp_password: Secret
    slack_token: Secret
    webhook_secret: Secret

    @classmethod
    def of(cls, values: Mapping[str, str]) -> AlertSecrets:
        """From values by variable name (a missing one is empty)."""
        return cls(
            **{f: Secret(name, values.get(name, "").strip()) for f, name in ALERT_VARIABLES.items()}
        )


def alert_secrets_for(environ: Mapping[str, str] | None = None) -> AlertSecrets:
    """The alert channels' secrets for the CLI, from the environment."""
    return AlertSecrets.of(os.environ if environ is None else environ)
