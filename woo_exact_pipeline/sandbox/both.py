"""Both sandboxes side by side, as `woo-exact sandbox` and the demo run them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from woo_exact_pipeline.sandbox.exact import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    ExactSandbox,
    start_exact_sandbox,
)
from woo_exact_pipeline.sandbox.woocommerce import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_DAYS,
    DEFAULT_ORDERS_PER_DAY,
    DEFAULT_SEED,
    DEFAULT_WOOCOMMERCE_VERSION,
    WooSandbox,
    start_woocommerce_sandbox,
)


@dataclass(frozen=True)
class SandboxOptions:
    woo_port: int = 0
    exact_port: int = 0
    #: Where both listen, and the name clients reach them by (default: the same).
    host: str = "127.0.0.1"
    public_host: str | None = None
    shop_data: Path | None = None
    seed: int = DEFAULT_SEED
    days: int = DEFAULT_DAYS
    orders_per_day: int = DEFAULT_ORDERS_PER_DAY
    end_date: date | None = None
    https: bool = False
    plain_permalinks: bool = False
    woocommerce_version: str = DEFAULT_WOOCOMMERCE_VERSION
    live: bool = False
    consumer_key: str = DEFAULT_CONSUMER_KEY
    consumer_secret: str = DEFAULT_CONSUMER_SECRET
    administration_file: Path | None = None
    exact_client_id: str = DEFAULT_CLIENT_ID
    exact_client_secret: str = DEFAULT_CLIENT_SECRET
    exact_redirect_uri: str = DEFAULT_REDIRECT_URI
    exact_minute_limit: int = 60
    exact_daily_limit: int = 5000
    #: Every Exact answer this much later (a slow administration; 0: as fast as it goes).
    exact_latency_seconds: float = 0.0


@dataclass
class Sandboxes:
    woocommerce: WooSandbox
    exact: ExactSandbox

    def describe(self) -> dict[str, Any]:
        """The first line `woo-exact sandbox` prints: addresses and credentials, for scripts."""
        return {"woocommerce": self.woocommerce.describe(), "exact": self.exact.describe()}

    def summary(self) -> str:
        return f"{self.woocommerce.summary()}\n{self.exact.summary()}"

    def stop(self) -> None:
        self.woocommerce.stop()
        self.exact.stop()


def start_sandboxes(options: SandboxOptions) -> Sandboxes:
    woocommerce = start_woocommerce_sandbox(
        port=options.woo_port,
        host=options.host,
        public_host=options.public_host,
        seed=options.seed,
        days=options.days,
        orders_per_day=options.orders_per_day,
        end_date=options.end_date,
        shop_data=options.shop_data,
        https=options.https,
        plain_permalinks=options.plain_permalinks,
        woocommerce_version=options.woocommerce_version,
        live=options.live,
        consumer_key=options.consumer_key,
        consumer_secret=options.consumer_secret,
    )
    try:
        exact = start_exact_sandbox(
            port=options.exact_port,
            host=options.host,
            public_host=options.public_host,
            administration_file=options.administration_file,
            client_id=options.exact_client_id,
            client_secret=options.exact_client_secret,
            redirect_uri=options.exact_redirect_uri,
            minute_limit=options.exact_minute_limit,
            daily_limit=options.exact_daily_limit,
        )
        exact.faults.latency_seconds = options.exact_latency_seconds
        exact.faults.latency_rate = 1.0 if options.exact_latency_seconds else 0.0
    except BaseException:
        woocommerce.stop()
        raise
    return Sandboxes(woocommerce=woocommerce, exact=exact)
