"""Authentication exactly as WooCommerce: OAuth 1.0a over HTTP, Basic or query keys over HTTPS."""

from __future__ import annotations

import base64
import secrets
import ssl
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.sandbox.woocommerce.auth import oauth_signature as sandbox_signature
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import oauth_client, oauth_signature

ORDERS = "/wp-json/wc/v3/orders"
AUTH_ERROR = "woocommerce_rest_authentication_error"


def signed(
    sandbox: WooSandbox,
    path: str,
    params: dict[str, str],
    *,
    key: str | None = None,
    secret: str | None = None,
    algorithm: str = "HMAC-SHA256",
    timestamp: int | None = None,
    nonce: str | None = None,
    method: str = "GET",
) -> list[tuple[str, str]]:
    pairs = [
        *params.items(),
        ("oauth_consumer_key", key or sandbox.consumer_key),
        ("oauth_timestamp", str(timestamp if timestamp is not None else int(time.time()))),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_signature_method", algorithm),
    ]
    signature = oauth_signature(
        method, sandbox.url + path, pairs, secret or sandbox.consumer_secret, algorithm
    )
    return [*pairs, ("oauth_signature", signature)]


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body: dict[str, Any] = response.json()
    assert body["data"]["status"] == response.status_code
    return response.status_code, body["code"], body["message"]


def test_the_sandbox_signs_the_reference_test_vector() -> None:
    params: dict[str, str | list[str]] = {
        "per_page": "100",
        "page": "2",
        "modified_after": "2024-01-01T00:00:00",
        "dates_are_gmt": "true",
        "oauth_consumer_key": "ck_test",
        "oauth_timestamp": "1700000000",
        "oauth_nonce": "abcdef0123456789abcdef0123456789",
        "oauth_signature_method": "HMAC-SHA256",
    }
    url = "http://example.com/wp-json/wc/v3/orders"
    assert (
        sandbox_signature(
            method="GET",
            base_url=url,
            params=params,
            consumer_secret="cs_test",
            signature_method="HMAC-SHA256",
        )
        == "A4sLD697nq+DNFEJM4H+ZgwmyMuDqeNRgXvQHL7gs+A="
    )
    params["oauth_signature_method"] = "HMAC-SHA1"
    assert (
        sandbox_signature(
            method="GET",
            base_url=url,
            params=params,
            consumer_secret="cs_test",
            signature_method="HMAC-SHA1",
        )
        == "0ve85ZA08QuBpSm2Kqjazx94cAU="
    )


def test_without_credentials_nothing_can_be_listed_or_viewed(
    woocommerce_sandbox: WooSandbox,
) -> None:
    url = woocommerce_sandbox.url
    assert error_of(httpx.get(url + ORDERS)) == (
        401,
        "woocommerce_rest_cannot_view",
        "Sorry, you cannot list resources.",
    )
    order_id = next(iter(woocommerce_sandbox.shop.orders))
    assert error_of(httpx.get(f"{url}{ORDERS}/{order_id}")) == (
        401,
        "woocommerce_rest_cannot_view",
        "Sorry, you cannot view this resource.",
    )


def test_basic_auth_and_query_keys_are_ignored_over_plain_http(
    woocommerce_sandbox: WooSandbox,
) -> None:
    sandbox = woocommerce_sandbox
    basic = httpx.get(sandbox.url + ORDERS, auth=(sandbox.consumer_key, sandbox.consumer_secret))
    assert error_of(basic)[:2] == (401, "woocommerce_rest_cannot_view")
    query = httpx.get(
        sandbox.url + ORDERS,
        params={"consumer_key": sandbox.consumer_key, "consumer_secret": sandbox.consumer_secret},
    )
    assert error_of(query)[:2] == (401, "woocommerce_rest_cannot_view")


@pytest.mark.parametrize("algorithm", ["HMAC-SHA1", "HMAC-SHA256"])
def test_oauth_signatures_with_either_algorithm_are_accepted(
    woocommerce_sandbox: WooSandbox, algorithm: str
) -> None:
    params = signed(woocommerce_sandbox, ORDERS, {"per_page": "2"}, algorithm=algorithm)
    response = httpx.get(woocommerce_sandbox.url + ORDERS, params=params)
    assert response.status_code == 200, response.text


def test_oauth_parameters_may_come_in_an_authorization_header(
    woocommerce_sandbox: WooSandbox,
) -> None:
    pairs = signed(woocommerce_sandbox, ORDERS, {"per_page": "2"})
    query = [pair for pair in pairs if not pair[0].startswith("oauth_")]
    header = "OAuth " + ", ".join(
        f'{key}="{quote(value, safe="")}"' for key, value in pairs if key.startswith("oauth_")
    )
    response = httpx.get(
        woocommerce_sandbox.url + ORDERS, params=query, headers={"Authorization": header}
    )
    assert response.status_code == 200, response.text


def test_every_query_parameter_is_signed(woocommerce_sandbox: WooSandbox) -> None:
    pairs = signed(woocommerce_sandbox, ORDERS, {"per_page": "2"})
    tampered = [(k, "100" if k == "per_page" else v) for k, v in pairs]
    response = httpx.get(woocommerce_sandbox.url + ORDERS, params=tampered)
    assert error_of(response) == (
        401,
        AUTH_ERROR,
        "Invalid signature - provided signature does not match.",
    )


def test_oauth_failures_have_woocommerces_codes_and_messages(
    woocommerce_sandbox: WooSandbox,
) -> None:
    sandbox = woocommerce_sandbox
    url = sandbox.url + ORDERS
    unknown_key = signed(sandbox, ORDERS, {}, key="ck_" + "0" * 40)
    assert error_of(httpx.get(url, params=unknown_key)) == (
        401,
        AUTH_ERROR,
        "Consumer key is invalid.",
    )
    wrong_secret = signed(sandbox, ORDERS, {}, secret="cs_wrong")
    assert error_of(httpx.get(url, params=wrong_secret))[2] == (
        "Invalid signature - provided signature does not match."
    )
    bad_method = signed(sandbox, ORDERS, {}, algorithm="PLAINTEXT")
    assert error_of(httpx.get(url, params=bad_method))[2] == (
        "Invalid signature - signature method is invalid."
    )
    stale = signed(sandbox, ORDERS, {}, timestamp=int(time.time()) - 16 * 60)
    assert error_of(httpx.get(url, params=stale))[2] == "Invalid timestamp."
    incomplete = [("oauth_consumer_key", sandbox.consumer_key), ("oauth_nonce", "x")]
    assert error_of(httpx.get(url, params=incomplete)) == (
        401,
        "woocommerce_rest_authentication_missing_parameter",
        "Missing OAuth parameter(s) oauth_timestamp, oauth_signature, oauth_signature_method",
    )


def test_a_nonce_cannot_be_replayed(woocommerce_sandbox: WooSandbox) -> None:
    nonce = secrets.token_hex(16)
    first = signed(woocommerce_sandbox, ORDERS, {"per_page": "1"}, nonce=nonce)
    assert httpx.get(woocommerce_sandbox.url + ORDERS, params=first).status_code == 200
    replay = httpx.get(woocommerce_sandbox.url + ORDERS, params=first)
    assert error_of(replay) == (401, AUTH_ERROR, "Invalid nonce - nonce has already been used.")


def test_a_read_only_key_reads_but_may_not_write(woocommerce_sandbox: WooSandbox) -> None:
    with oauth_client(woocommerce_sandbox, read_only=True) as client:
        assert client.get(ORDERS, params={"per_page": 1}).status_code == 200
        order_id = next(iter(woocommerce_sandbox.shop.orders))
        response = client.put(f"{ORDERS}/{order_id}", json={"status": "completed"})
        assert error_of(response) == (
            401,
            AUTH_ERROR,
            "The API key provided does not have write permissions.",
        )


def test_https_basic_auth_wrong_secret_and_unknown_key(
    woocommerce_https_sandbox: WooSandbox,
) -> None:
    sandbox = woocommerce_https_sandbox
    verify = ssl.create_default_context(cafile=str(sandbox.ca_cert_path))
    ok = httpx.get(
        sandbox.url + ORDERS, auth=(sandbox.consumer_key, sandbox.consumer_secret), verify=verify
    )
    assert ok.status_code == 200, ok.text
    wrong = httpx.get(sandbox.url + ORDERS, auth=(sandbox.consumer_key, "cs_x"), verify=verify)
    assert error_of(wrong) == (401, AUTH_ERROR, "Consumer secret is invalid.")
    assert "WWW-Authenticate" not in wrong.headers  # no 401 of the recorded shop carried one
    unknown = httpx.get(sandbox.url + ORDERS, auth=("ck_nobody", "cs_x"), verify=verify)
    assert error_of(unknown)[:2] == (401, "woocommerce_rest_cannot_view")
    # Query-string keys win over a Basic header, as in WC_REST_Authentication.
    credentials = base64.b64encode(b"ck_nobody:cs_x").decode()
    query_first = httpx.get(
        sandbox.url + ORDERS,
        params={"consumer_key": sandbox.consumer_key, "consumer_secret": sandbox.consumer_secret},
        headers={"Authorization": f"Basic {credentials}"},
        verify=verify,
    )
    assert query_first.status_code == 200, query_first.text


def test_oauth_also_works_over_https(woocommerce_https_sandbox: WooSandbox) -> None:
    sandbox = woocommerce_https_sandbox
    response = httpx.get(
        sandbox.url + ORDERS,
        params=signed(sandbox, ORDERS, {"per_page": "1"}),
        verify=ssl.create_default_context(cafile=str(sandbox.ca_cert_path)),
    )
    assert response.status_code == 200, response.text


def test_https_refuses_clients_that_do_not_trust_the_sandbox_certificate(
    woocommerce_https_sandbox: WooSandbox,
) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(woocommerce_https_sandbox.url + ORDERS)
