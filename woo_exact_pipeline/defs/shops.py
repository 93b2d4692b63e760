"""The shops this code location serves, and what each shop's Dagster objects are called.

sync.yaml is read once when the code location loads ($WOO_EXACT_CONFIG, default ./sync.yaml):
a broken file stops the location from loading and the UI shows every problem in it.

Every shop gets the whole pipeline of its own: its days (in its time zone, from its export
start), assets under its name (`fietsen/woo_orders`), jobs, sensors and schedules named after
it (`fietsen__exact_load_job`), and resources with its own credentials. A shop without a name
(a sync.yaml for one shop) keeps the plain names. Nothing is shared between shops but the sync
database (whose rows carry the shop) and, for shops booking into the same administration, the
Exact pool, token pair and rate limits.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any, Literal, Protocol, TypedDict
from zoneinfo import ZoneInfo

import dagster as dg

from woo_exact_pipeline.bookkeeping.calendar import day_bounds_gmt, shop_day
from woo_exact_pipeline.config import SECRET_KEY_VARIABLE, SyncConfig
from woo_exact_pipeline.defs.resources import (
    AlertChannels,
    ExactOnline,
    SyncDatabase,
    WooCommerceApi,
)

#: Tag of the runs of a shop's jobs (filter on it in the UI's run list).
SHOP_TAG = "woo_exact/shop"
#: Days of orders per extract-and-transform run: the assets' backfill policy, and how `sync`,
#: the chaos tests and the benchmarks cut a range (in_process.py).
DAYS_PER_RUN = 31


class AssetOptions(TypedDict, total=False):
    """Options that several of a shop's assets share, typed as `dg.asset` takes them, so a
    misspelt option is a type error instead of a keyword Dagster rejects at load."""

    key_prefix: list[str]
    group_name: str
    kinds: set[str]
    pool: str
    owners: list[str]
    tags: dict[str, str]
    retry_policy: dg.RetryPolicy
    required_resource_keys: set[str]
    partitions_def: dg.PartitionsDefinition
    backfill_policy: dg.BackfillPolicy


class _WithResources(Protocol):
    """An asset's, check's or sensor's context."""

    @property
    def resources(self) -> Any: ...


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Shop:
    settings: SyncConfig
    #: What "now" is for the shop's alert sensors and checks ("yesterday", deadlines, how long
    #: a problem lasts): the wall clock; a test sets its own.
    clock: Callable[[], datetime] = field(default=_wall_clock, compare=False)

    @property
    def key(self) -> str:
        """The shop's key in the sync database's tables."""
        return self.settings.shop_key

    def qualified(self, name: str) -> str:
        """The name of this shop's job, sensor, schedule, group or resource called `name`."""
        return f"{self.settings.name}__{name}" if self.settings.name else name

    def asset_key(self, name: str) -> dg.AssetKey:
        return dg.AssetKey([*self.key_prefix, name])

    @property
    def key_prefix(self) -> list[str]:
        return [self.settings.name] if self.settings.name else []

    @property
    def tags(self) -> dict[str, str]:
        return {SHOP_TAG: self.settings.label}

    def owns(self, run: dg.DagsterRun) -> bool:
        """Whether `run` works for this shop: one of its jobs, or its assets materialized
        from the UI (a run of the location's asset job)."""
        if not self.settings.name:
            return True  # the location's only shop
        if run.job_name.startswith(self.qualified("")):
            return True
        checks = run.asset_check_selection or ()
        selected = [*(run.asset_selection or ()), *(check.asset_key for check in checks)]
        return any(key.path[:1] == self.key_prefix for key in selected)

    @property
    def exact_pool(self) -> str:
        # Exact's limits and single-use refresh tokens are per app and administration: one
        # load at a time per division, whichever shop books into it.
        return f"exact_division_{self.settings.exact.division}"

    @cached_property
    def time_zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.woocommerce.time_zone)

    @cached_property
    def order_days(self) -> dg.DailyPartitionsDefinition:
        """One partition per day in the shop's time zone, from the export start, today
        included (end_offset=1) so intra-day changes are booked the same day; none after
        export_orders_until, when set."""
        woocommerce = self.settings.woocommerce
        until = woocommerce.export_orders_until
        return dg.DailyPartitionsDefinition(
            start_date=woocommerce.export_orders_from.isoformat(),
            end_date=(until + timedelta(days=1)).isoformat() if until else None,
            timezone=woocommerce.time_zone,
            end_offset=1,
        )

    def day_bounds_gmt(self, partition_key: str) -> tuple[datetime, datetime]:
        """GMT bounds of the day a partition key names (`calendar.day_bounds_gmt`)."""
        return day_bounds_gmt(date.fromisoformat(partition_key), self.time_zone)

    def partition_key_of(self, created_gmt: datetime) -> str:
        """The partition owning an order created at this moment (`calendar.shop_day`)."""
        return shop_day(created_gmt, self.time_zone).isoformat()

    # --- the shop's resources, as asset and sensor bodies reach them ----------------------

    def resource_keys(self, *connections: Literal["woocommerce", "exact"]) -> set[str]:
        """The keys of the shop's `connections` and of the sync database."""
        return {self.qualified(connection) for connection in connections} | {"sync_database"}

    def woocommerce(self, context: _WithResources) -> WooCommerceApi:
        return getattr(context.resources, self.qualified("woocommerce"))

    def exact(self, context: _WithResources) -> ExactOnline:
        return getattr(context.resources, self.qualified("exact"))

    @staticmethod
    def sync_database(context: _WithResources) -> SyncDatabase:
        return context.resources.sync_database

    @staticmethod
    def alert_channels(context: _WithResources) -> AlertChannels:
        """The deployment's alert channels, one resource shared by every shop."""
        return context.resources.alert_channels

    def resources(self) -> dict[str, dg.ConfigurableResource]:
        """This shop's connections, with the secrets read from the variables it names."""
        shop, credentials = self.settings.woocommerce, self.settings.credentials
        return {
            self.qualified("woocommerce"): WooCommerceApi(
                shop_url=shop.shop_url,
                consumer_key=dg.EnvVar(credentials.woo_consumer_key),
                consumer_secret=dg.EnvVar(credentials.woo_consumer_secret),
                timeout_seconds=shop.request_timeout_seconds,
                retry_backoff_seconds=shop.retry_backoff_seconds,
                verify_tls=shop.verify_tls,
                ca_bundle=shop.ca_bundle,
                key_variable=credentials.woo_consumer_key,
                secret_variable=credentials.woo_consumer_secret,
            ),
            self.qualified("exact"): ExactOnline(
                client_id=dg.EnvVar(credentials.exact_client_id),
                client_secret=dg.EnvVar(credentials.exact_client_secret),
                token_encryption_key=dg.EnvVar(SECRET_KEY_VARIABLE),
                client_id_variable=credentials.exact_client_id,
                client_secret_variable=credentials.exact_client_secret,
            ),
        }
