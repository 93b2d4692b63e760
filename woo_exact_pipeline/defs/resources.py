"""Resources: a shop's WooCommerce and Exact Online connections, the sync database and the
alert channels."""

import os
from collections.abc import Callable, Mapping
from functools import cache

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from woo_exact_pipeline.alerts.channels import Channel, configured_channels
from woo_exact_pipeline.config import (
    ALERT_VARIABLES,
    SECRET_KEY_VARIABLE,
    AlertSecrets,
    ExactSecrets,
    ExactSettings,
    Secret,
    SyncConfig,
)
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.store.database import default_database_url, open_sync_database
from woo_exact_pipeline.woocommerce.client import WooCommerceClient

_SECRET = {"dagster__is_secret": True}


class WooCommerceApi(dg.ConfigurableResource):
    """The shop's REST API; key and secret come from the environment."""

    shop_url: str
    consumer_key: str = Field(repr=False, json_schema_extra=_SECRET)
    consumer_secret: str = Field(repr=False, json_schema_extra=_SECRET)
    timeout_seconds: float = 30.0
    retry_backoff_seconds: float = 1.0
    verify_tls: bool = True
    ca_bundle: str | None = None
    #: The environment variables the key and secret come from (named in error advice).
    key_variable: str = "WOO_CONSUMER_KEY"
    secret_variable: str = "WOO_CONSUMER_SECRET"

    def client(self, notify: Callable[[str], None] | None = None) -> WooCommerceClient:
        return WooCommerceClient(
            self.shop_url,
            self.consumer_key.strip(),
            self.consumer_secret.strip(),
            timeout_seconds=self.timeout_seconds,
            backoff_seconds=self.retry_backoff_seconds,
            verify=self.ca_bundle or self.verify_tls,
            notify=notify,
            credential_variables=(self.key_variable, self.secret_variable),
        )


class ExactOnline(dg.ConfigurableResource):
    """The Exact Online app; the rotating tokens live encrypted in the sync database."""

    client_id: str
    client_secret: str = Field(repr=False, json_schema_extra=_SECRET)
    token_encryption_key: str = Field(repr=False, json_schema_extra=_SECRET)
    #: The environment variables the app's id and secret come from (named in error advice).
    client_id_variable: str = "EXACT_CLIENT_ID"
    client_secret_variable: str = "EXACT_CLIENT_SECRET"

    def client(self, settings: ExactSettings, engine: Engine) -> ExactClient:
        return ExactClient.from_settings(settings, engine, secrets=self.secrets)

    @property
    def secrets(self) -> ExactSecrets:
        return ExactSecrets(
            Secret(self.client_id_variable, self.client_id),
            Secret(self.client_secret_variable, self.client_secret),
            Secret(SECRET_KEY_VARIABLE, self.token_encryption_key),
        )


class AlertChannels(dg.ConfigurableResource):
    """The secrets of the alert channels sync.yaml switches on (e-mail, Slack, webhook), one
    set for the deployment; each field holds its variable's value, empty when it is not set."""

    smtp_host: str = ""
    smtp_port: str = ""
    smtp_user: str = ""
    smtp_password: str = Field(default="", repr=False, json_schema_extra=_SECRET)
    slack_token: str = Field(default="", repr=False, json_schema_extra=_SECRET)
    webhook_secret: str = Field(default="", repr=False, json_schema_extra=_SECRET)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "AlertChannels":
        """Each variable that is set, as a `dg.EnvVar` (its value stays out of run config and
        the UI); Dagster requires an EnvVar to be set, and port, login and an unused channel's
        secret are optional, so an unset one stays empty and the channel that needs it says
        which variable to set."""
        present = os.environ if environ is None else environ
        return cls(**{f: dg.EnvVar(name) for f, name in ALERT_VARIABLES.items() if name in present})

    @property
    def secrets(self) -> AlertSecrets:
        return AlertSecrets.of({name: getattr(self, f) for f, name in ALERT_VARIABLES.items()})

    def channels(self, settings: SyncConfig) -> list[Channel]:
        return configured_channels(settings, self.secrets)


class SyncDatabase(dg.ConfigurableResource):
    """The sync database (staging, ledger, tokens); default from WOO_EXACT_DATABASE_URL."""

    url: str | None = None

    def engine(self) -> Engine:
        return _engine(self.url or default_database_url())


@cache
def _engine(url: str) -> Engine:
    # One engine (and pool) per process and database, migrated on first use.
    return open_sync_database(url)
