"""`woo-exact sandbox --woocommerce-version`: the shop behaves as that WooCommerce release.

Up to 11.0.x WooCommerce reads API keys only for "wp-json/wc/" addresses, so `?rest_route=`
stays anonymous (woocommerce#41191, fixed in 11.1); the default is the recorded 11.0.1."""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


@pytest.mark.parametrize(("version", "status"), [(None, 401), ("11.1.0", 200)])
def test_rest_route_takes_api_keys_only_from_11_1(version: str | None, status: int) -> None:
    command = [
        str(Path(sys.executable).with_name("woo-exact")),
        "sandbox",
        "--woo-port=0",
        "--exact-port=0",
        "--days=1",
        "--orders-per-day=2",
        "--end-date=2026-11-10",
        "--https",
        *([f"--woocommerce-version={version}"] if version else []),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        shop = json.loads(process.stdout.readline())["woocommerce"]
        answer = httpx.get(
            f"{shop['url']}/",
            params={"rest_route": "/wc/v3/orders", "per_page": "1"},
            auth=(shop["consumer_key"], shop["consumer_secret"]),
            verify=shop["verify"],
        )
        assert answer.status_code == status, answer.text
        pretty = httpx.get(
            f"{shop['url']}/wp-json/wc/v3/orders",
            params={"per_page": "1"},
            auth=(shop["consumer_key"], shop["consumer_secret"]),
            verify=shop["verify"],
        )
        assert pretty.status_code == 200, pretty.text  # /wp-json/ works on every version
    finally:
        process.terminate()
        process.wait(timeout=30)
