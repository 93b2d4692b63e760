"""Resources: a shop's WooCommerce and Exact Online connections, and the sync database."""

from collections.abc import Callable
from functools import cache

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from woo_exact_pipeline.config import SECRET_KEY_VARIABLE, ExactSecrets, ExactSettings, Secret
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


class SyncDatabase(dg.ConfigurableResource):
    """The sync database (staging, ledger, tokens); default from WOO_EXACT_DATABASE_URL."""

    url: str | None = None

    def engine(self) -> Engine:
        return _engine(self.url or default_database_url())


@cache
def _engine(url: str) -> Engine:
    # One engine (and pool) per process and database, migrated on first use.
    return open_sync_database(url)
