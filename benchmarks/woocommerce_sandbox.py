"""Benchmark of the WooCommerce sandbox: generation time, memory and page-of-100 latency.

    .venv/bin/python benchmarks/woocommerce_sandbox.py [--orders 100000]

Prints one JSON line. The targets (a page of 100 orders under 20 ms, 100,000 orders under
1 GB) keep pipeline benchmarks measuring the pipeline; this script measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import statistics
import time
from datetime import date
from pathlib import Path

import httpx

from woo_exact_pipeline.sandbox.server import BackgroundServer
from woo_exact_pipeline.sandbox.woocommerce.app import WooCommerceApi
from woo_exact_pipeline.sandbox.woocommerce.auth import (
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    ApiKey,
    KeyStore,
    oauth_signature,
)
from woo_exact_pipeline.sandbox.woocommerce.faults import Faults
from woo_exact_pipeline.sandbox.woocommerce.generator import generate_demo_shop

END_DATE = date(2026, 11, 10)
DAYS = 90


def resident_bytes() -> int:
    """Current resident set size (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def signed_params(url: str, params: dict[str, str]) -> dict[str, str]:
    signed: dict[str, str] = {
        **params,
        "oauth_consumer_key": DEFAULT_CONSUMER_KEY,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA256",
    }
    signed["oauth_signature"] = oauth_signature(
        method="GET",
        base_url=url,
        params=dict(signed),
        consumer_secret=DEFAULT_CONSUMER_SECRET,
        signature_method="HMAC-SHA256",
    )
    return signed


def timed_get(client: httpx.Client, url: str, params: dict[str, str]) -> tuple[float, int]:
    query = signed_params(url, params)
    started = time.perf_counter()
    response = client.get(url, params=query)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, len(response.json())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="about this many orders")
    parser.add_argument("--pages", type=int, default=30, help="pages of 100 to time")
    arguments = parser.parse_args()

    baseline = resident_bytes()
    started = time.perf_counter()
    shop, _ = generate_demo_shop(
        seed=1, days=DAYS, orders_per_day=max(1, round(arguments.orders / DAYS)), end_date=END_DATE
    )
    generation_seconds = time.perf_counter() - started
    shop_bytes = resident_bytes() - baseline
    orders = len(shop.orders)

    keys = KeyStore()
    keys.add(ApiKey(DEFAULT_CONSUMER_KEY, DEFAULT_CONSUMER_SECRET, "read_write"))
    api = WooCommerceApi(shop, keys, Faults())
    with BackgroundServer(api.app) as server, httpx.Client(timeout=30) as client:
        api.home_url = server.url
        url = f"{server.url}/wp-json/wc/v3/orders"
        # An extractor's incremental read: everything modified since a cursor, oldest first.
        query = {
            "modified_after": "2026-08-01T00:00:00",
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": "100",
        }
        first_page_ms, _ = timed_get(client, url, {**query, "page": "1"})
        warm = [
            timed_get(client, url, {**query, "page": str(page)})[0]
            for page in range(2, arguments.pages + 2)
        ]
        default_listing = [
            timed_get(client, url, {"per_page": "100", "page": str(page)})[0]
            for page in range(1, arguments.pages + 1)
        ]
    print(
        json.dumps(
            {
                "orders": orders,
                "refunds": len(shop.refunds),
                "generation_seconds": round(generation_seconds, 2),
                "resident_mb_for_shop": round(shop_bytes / 2**20, 1),
                "resident_mb_per_100k_orders": round(shop_bytes / 2**20 * 100_000 / orders, 1),
                "peak_resident_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "page_of_100_first_ms": round(first_page_ms, 1),
                "page_of_100_median_ms": round(statistics.median(warm), 1),
                "page_of_100_p95_ms": round(sorted(warm)[int(len(warm) * 0.95) - 1], 1),
                "default_listing_page_of_100_median_ms": round(
                    statistics.median(default_listing), 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
