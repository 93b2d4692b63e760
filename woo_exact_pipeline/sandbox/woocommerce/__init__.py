"""A faithful local WooCommerce (wc/v3 REST API) with a deterministic Dutch demo shop.

    sandbox = start_woocommerce_sandbox(seed=42, days=90, orders_per_day=40)
    print(json.dumps({"woocommerce": sandbox.describe()}))  # url, consumer_key/secret, verify
    print(sandbox.summary())
    ...
    sandbox.stop()

`woo-exact sandbox` flags map one to one: --woo-port -> port, --shop-data -> shop_data,
--seed, --days, --orders-per-day, --https, --plain-permalinks, --woocommerce-version
(default 11.0.1: `?rest_route=` refuses API keys up to 11.0.x), --live, and a fault setting
string -> faults=Faults.parse("error_rate=0.1,latency_seconds=0.5").

Default credentials (WooCommerce's own `ck_`/`cs_` format), overridable per sandbox:
DEFAULT_CONSUMER_KEY / DEFAULT_CONSUMER_SECRET (read_write) and READ_ONLY_CONSUMER_KEY /
READ_ONLY_CONSUMER_SECRET (read). Over plain HTTP only OAuth 1.0a works, over HTTPS Basic
auth or `consumer_key`/`consumer_secret` query parameters, as in WooCommerce.

Tests reach the shop itself through `sandbox.shop` (orders, refunds, customers, ...) and
inject failures through `sandbox.faults` (rates, or `faults.queue("rate_limit")`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from woo_exact_pipeline.sandbox.server import BackgroundServer
from woo_exact_pipeline.sandbox.woocommerce.app import DEFAULT_WOOCOMMERCE_VERSION, WooCommerceApi
from woo_exact_pipeline.sandbox.woocommerce.auth import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    READ_ONLY_CONSUMER_KEY,
    READ_ONLY_CONSUMER_SECRET,
    ApiKey,
    KeyStore,
)
from woo_exact_pipeline.sandbox.woocommerce.faults import FAULT_KINDS, Faults
from woo_exact_pipeline.sandbox.woocommerce.generator import generate_demo_shop
from woo_exact_pipeline.sandbox.woocommerce.live import LiveShop
from woo_exact_pipeline.sandbox.woocommerce.shop import Shop, ShopSettings
from woo_exact_pipeline.sandbox.woocommerce.shop_file import ShopDataError, load_shop_file
from woo_exact_pipeline.sandbox.woocommerce.tls import create_certificates

DEFAULT_SEED = 42
DEFAULT_DAYS = 90
DEFAULT_ORDERS_PER_DAY = 40
DEFAULT_LIVE_INTERVAL_SECONDS = 5.0

__all__ = [
    "DEFAULT_CONSUMER_KEY",
    "DEFAULT_CONSUMER_SECRET",
    "DEFAULT_DAYS",
    "DEFAULT_ORDERS_PER_DAY",
    "DEFAULT_SEED",
    "DEFAULT_WOOCOMMERCE_VERSION",
    "FAULT_KINDS",
    "READ_ONLY_CONSUMER_KEY",
    "READ_ONLY_CONSUMER_SECRET",
    "Faults",
    "Shop",
    "ShopDataError",
    "WooSandbox",
    "start_woocommerce_sandbox",
]


@dataclass
class WooSandbox:
    """A running sandbox shop. Use as a context manager or call stop()."""

    api: WooCommerceApi
    server: BackgroundServer
    consumer_key: str
    consumer_secret: str
    read_only_consumer_key: str
    read_only_consumer_secret: str
    ca_cert_path: Path | None
    live: LiveShop | None
    certificate_directory: Path | None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def shop(self) -> Shop:
        return self.api.shop

    @property
    def faults(self) -> Faults:
        return self.api.faults

    def describe(self) -> dict[str, Any]:
        """The `"woocommerce"` entry of the sandbox's first JSON line."""
        described: dict[str, Any] = {
            "url": self.url,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
        }
        if self.ca_cert_path is not None:
            described["verify"] = str(self.ca_cert_path)
        if self.api.plain_permalinks:
            described["plain_permalinks"] = True
        return described

    def summary(self) -> str:
        shop = self.shop
        with shop.lock:
            statuses = Counter(record.status for record in shop.orders.values())
            created = sorted(record.created_local for record in shop.orders.values())
            refunds = len(shop.refunds)
            refunded_orders = len({record.order_id for record in shop.refunds.values()})
            customers, products = len(shop.customers), len(shop.products)
            variations = len(shop.variations)
        lines = [
            f"WooCommerce sandbox at {self.url} ({shop.settings.currency}, "
            f"{shop.settings.timezone}, prices "
            f"{'including' if shop.settings.prices_include_tax else 'excluding'} tax"
            f"{', plain permalinks' if self.api.plain_permalinks else ''})",
            f"  orders:    {sum(statuses.values())} "
            + "("
            + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
            + ")",
            f"  refunds:   {refunds} on {refunded_orders} orders",
            f"  customers: {customers} registered (guests are in the orders only)",
            f"  products:  {products} with {variations} variations",
        ]
        if created:
            lines.append(f"  orders created from {created[0]} to {created[-1]} (site time)")
        lines.append(
            f"  read-write key {self.consumer_key} / read-only key {self.read_only_consumer_key}"
        )
        if self.live is not None:
            lines.append(
                f"  live: a new order and a status change every {self.live.interval_seconds:g} s"
            )
        return "\n".join(lines)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
        self.server.stop()
        if self.certificate_directory is not None:
            shutil.rmtree(self.certificate_directory, ignore_errors=True)

    def __enter__(self) -> WooSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_woocommerce_sandbox(
    *,
    port: int = 0,
    seed: int = DEFAULT_SEED,
    days: int = DEFAULT_DAYS,
    orders_per_day: int = DEFAULT_ORDERS_PER_DAY,
    end_date: date | None = None,
    shop_data: Path | None = None,
    https: bool = False,
    plain_permalinks: bool = False,
    woocommerce_version: str = DEFAULT_WOOCOMMERCE_VERSION,
    live: bool = False,
    live_interval_seconds: float = DEFAULT_LIVE_INTERVAL_SECONDS,
    consumer_key: str = DEFAULT_CONSUMER_KEY,
    consumer_secret: str = DEFAULT_CONSUMER_SECRET,
    read_only_consumer_key: str = READ_ONLY_CONSUMER_KEY,
    read_only_consumer_secret: str = READ_ONLY_CONSUMER_SECRET,
    faults: Faults | None = None,
    host: str = "127.0.0.1",
    public_host: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> WooSandbox:
    """Build the shop (generated, or loaded from `shop_data`) and serve it on 127.0.0.1.

    Orders and refunds written through the API are dated by `clock` (default: the wall clock).

    Raises ShopDataError when `shop_data` is not a usable shop file.
    """
    if shop_data is not None:
        shop = load_shop_file(shop_data)
    elif end_date is None:
        # No end date: the history runs up to this moment, as `make demo` and `make ui` want.
        now = datetime.now(UTC).replace(microsecond=0)
        shop, _ = generate_demo_shop(
            seed=seed,
            days=days,
            orders_per_day=orders_per_day,
            end_date=now.astimezone(ShopSettings().zone).date(),
            now=now,
        )
    else:
        shop, _ = generate_demo_shop(
            seed=seed, days=days, orders_per_day=orders_per_day, end_date=end_date
        )
    keys = KeyStore()
    keys.add(ApiKey(consumer_key, consumer_secret, "read_write"))
    keys.add(ApiKey(read_only_consumer_key, read_only_consumer_secret, "read"))
    api = WooCommerceApi(
        shop,
        keys,
        faults or Faults(),
        plain_permalinks=plain_permalinks,
        woocommerce_version=woocommerce_version,
        clock=clock,
    )
    certificate_directory = None
    certificates = None
    if https:
        certificate_directory = Path(tempfile.mkdtemp(prefix="woo-sandbox-tls-"))
        certificates = create_certificates(certificate_directory)
    server = BackgroundServer(
        api.app,
        host=host,
        public_host=public_host,
        port=port,
        ssl_certfile=certificates.server_cert if certificates else None,
        ssl_keyfile=certificates.server_key if certificates else None,
    ).start()
    api.home_url = server.url
    live_shop = None
    if live:
        live_shop = LiveShop(shop, interval_seconds=live_interval_seconds, seed=seed)
        live_shop.start()
    return WooSandbox(
        api=api,
        server=server,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        read_only_consumer_key=read_only_consumer_key,
        read_only_consumer_secret=read_only_consumer_secret,
        ca_cert_path=certificates.ca_cert if certificates else None,
        live=live_shop,
        certificate_directory=certificate_directory,
    )
