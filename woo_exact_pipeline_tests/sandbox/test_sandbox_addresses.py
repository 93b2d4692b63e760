"""Sandboxes listening on one address and known to clients by another name (a container's, in
the production profile's test): every link they write uses the name clients reach them by."""

from datetime import date

import httpx

from woo_exact_pipeline.sandbox.both import SandboxOptions, start_sandboxes


def test_the_links_use_the_public_name_and_the_servers_answer_there() -> None:
    sandboxes = start_sandboxes(
        SandboxOptions(
            host="127.0.0.1", public_host="localhost", days=1, end_date=date(2026, 11, 18)
        )
    )
    try:
        described = sandboxes.describe()
        woo, exact = described["woocommerce"]["url"], described["exact"]["base_url"]
        assert woo.startswith("http://localhost:") and exact.startswith("http://localhost:")
        assert httpx.get(f"{woo}/wp-json/").status_code == 200
        token_endpoint = httpx.post(f"{exact}/api/oauth2/token", data={})
        assert token_endpoint.status_code == 400  # Exact's answer to a request without a grant
        index = httpx.get(f"{woo}/wp-json/").json()
        assert index["home"].startswith("http://localhost:")
    finally:
        sandboxes.stop()
