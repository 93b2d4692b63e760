"""`woo-exact sandbox`: the first line is one JSON object scripts can use right away."""

import json
import subprocess
import sys
from pathlib import Path

import httpx


def test_the_first_line_names_both_sandboxes_and_they_answer() -> None:
    command = Path(sys.executable).with_name("woo-exact")
    process = subprocess.Popen(
        [
            str(command),
            "sandbox",
            "--woo-port=0",
            "--exact-port=0",
            "--days=2",
            "--orders-per-day=3",
            "--consumer-key=ck_" + "1" * 40,
            "--exact-client-secret=my-secret",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        described = json.loads(process.stdout.readline())
        assert described["woocommerce"]["consumer_key"] == "ck_" + "1" * 40
        assert described["woocommerce"]["consumer_secret"].startswith("cs_")
        exact = described["exact"]
        assert exact["client_secret"] == "my-secret"
        assert set(exact) == {"base_url", "client_id", "client_secret", "redirect_uri", "division"}
        # Both listen: the shop refuses an unsigned request as WooCommerce does, Exact's
        # overview page lists the administration.
        shop = httpx.get(f"{described['woocommerce']['url']}/wp-json/wc/v3/orders")
        assert shop.status_code == 401
        assert str(exact["division"]) in httpx.get(f"{exact['base_url']}/").text
    finally:
        process.terminate()
        process.wait(timeout=30)
