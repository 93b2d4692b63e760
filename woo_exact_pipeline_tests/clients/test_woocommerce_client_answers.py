"""The WooCommerce client's edge cases against a shop's own answers, through httpx.MockTransport:
retries, the fallback when a host strips the Authorization header, and the wording of every
failure. The answers are recordings of a real WooCommerce 11.0.1 (support/recorded/) or, for
what a host in front of the shop sends (429, 503, a firewall's page), what such hosts send."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
import pytest

from woo_exact_pipeline.woocommerce.client import (
    WooAuthenticationError,
    WooCommerceClient,
    WooResponseError,
    WooUnavailableError,
)
from woo_exact_pipeline_tests.support.recorded_answers import (
    ScriptedShop,
    cut_off,
    html_page,
    recorded_answer,
)

HTTPS_SHOP, HTTP_SHOP = "https://shop.example", "http://shop.example"
KEY, SECRET = "ck_" + "4" * 40, "cs_" + "7" * 40


def client_of(shop: ScriptedShop, url: str = HTTPS_SHOP, **options: Any) -> WooCommerceClient:
    options.setdefault("sleep", lambda seconds: None)
    return WooCommerceClient(url, KEY, SECRET, transport=shop.transport(), **options)


def recorded_body(name: str) -> Any:
    return json.loads(recorded_answer(name).content)


def test_429_5xx_and_cut_off_answers_are_retried_honouring_retry_after() -> None:
    shop = ScriptedShop(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            html_page(503, "<h1>Briefly unavailable for scheduled maintenance.</h1>"),
            cut_off(recorded_answer("taxes/list")),
            recorded_answer("taxes/list"),
        ]
    )
    waits: list[float] = []
    with client_of(shop, sleep=waits.append) as client:
        rates = [rate for page in client.tax_rates() for rate in page]
        requests = client.request_count
    assert rates == recorded_body("taxes/list")
    assert requests == len(shop.requests) == 4  # three failures, then the one page
    # Retry-After first; then exponential back-off from 1 s with jitter: 1-2 s, then 2-4 s.
    assert waits[0] == 7
    assert 1 <= waits[1] <= 2 and 2 <= waits[2] <= 4


def test_a_shop_that_does_not_answer_in_time_is_asked_again() -> None:
    shop = ScriptedShop([httpx.ReadTimeout("timed out"), recorded_answer("taxes/classes")])
    with client_of(shop, timeout_seconds=0.5) as client:
        assert client.tax_classes() == recorded_body("taxes/classes")
        assert client.request_count == 2


def test_a_shop_that_keeps_failing_gives_up_naming_the_route_and_the_likely_cause() -> None:
    shop = ScriptedShop([], otherwise=html_page(503))
    with pytest.raises(WooUnavailableError) as raised, client_of(shop, max_attempts=3) as client:
        client.tax_classes()
    assert str(raised.value) == (
        "The shop at shop.example kept failing on /wc/v3/taxes/classes after 3 attempts "
        "(HTTP 503). Is the shop in maintenance mode?"
    )
    assert len(shop.requests) == 3
    broken = ScriptedShop([], otherwise=httpx.RemoteProtocolError("peer closed connection"))
    with pytest.raises(WooUnavailableError) as raised, client_of(broken, max_attempts=2) as client:
        client.tax_classes()
    assert "after 2 attempts (the connection broke off). Is the shop up and reachable" in str(
        raised.value
    )


def _untrusted_certificate(request: httpx.Request) -> httpx.Response:
    # As httpx raises it: the ssl module's verification error is the cause.
    verification = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed")
    raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]") from verification


def test_an_untrusted_certificate_is_named_at_once_with_its_setting() -> None:
    shop = ScriptedShop([_untrusted_certificate])
    with pytest.raises(WooUnavailableError) as raised, client_of(shop) as client:
        client.tax_classes()
    assert str(raised.value) == (
        "The TLS certificate of shop.example could not be verified. If the shop uses a "
        "self-signed certificate, set woocommerce.ca_bundle to it."
    )
    assert len(shop.requests) == 1  # a certificate does not get better by asking again


def test_a_security_plugin_page_instead_of_json_names_the_likely_causes() -> None:
    shop = ScriptedShop([html_page(403)])
    with pytest.raises(WooResponseError) as raised, client_of(shop) as client:
        client.tax_classes()
    assert str(raised.value) == (
        "The shop answered with a web page instead of data (HTTP 403). Likely causes: a "
        "security plugin or firewall blocking API requests, maintenance mode, or a caching "
        "proxy in front of the shop."
    )


def test_a_redirect_elsewhere_is_told_as_the_shop_living_at_another_address() -> None:
    """Only the trailing-slash redirect to an HTML page means plain permalinks; the Location
    may echo the query, so its query is never repeated."""
    moved = httpx.Response(
        301,
        headers={
            "Location": f"https://www.shop.example/wp-json/wc/v3/taxes/classes?consumer_secret={SECRET}"
        },
    )
    shop = ScriptedShop([moved])
    with pytest.raises(WooResponseError) as raised, client_of(shop) as client:
        client.tax_classes()
    assert str(raised.value) == (
        "The shop redirects API requests to https://www.shop.example/wp-json/wc/v3/taxes/classes; "
        "set shop_url to the address the shop really lives at (https, with or without www)."
    )


READ_REFUSED = httpx.Response(
    401,
    headers={"Content-Type": "application/json; charset=UTF-8"},
    # WooCommerce's check_permissions() for a GET with a write-only key
    # (includes/class-wc-rest-authentication.php).
    json={
        "code": "woocommerce_rest_authentication_error",
        "message": "The API key provided does not have read permissions.",
        "data": {"status": 401},
    },
)


@pytest.mark.parametrize(
    ("url", "answers", "advice"),
    [
        (
            HTTPS_SHOP,
            # An unknown key over Basic auth is "cannot list", as with no key at all, so the
            # client also tries the query string, which WooCommerce answers the same way.
            ["errors/auth_wrong_key_basic", "errors/auth_wrong_key_basic"],
            "The shop does not know this consumer key (check WOO_CONSUMER_KEY; it starts with "
            "ck_ and is created under WooCommerce > Settings > Advanced > REST API).",
        ),
        (
            HTTPS_SHOP,
            ["errors/auth_wrong_secret_basic"],
            "The consumer secret does not belong to this consumer key (check "
            "WOO_CONSUMER_SECRET; it starts with cs_).",
        ),
        (
            HTTP_SHOP,
            ["errors/http_oauth1_wrong_key"],
            "The shop does not know this consumer key (check WOO_CONSUMER_KEY; it starts with "
            "ck_ and is created under WooCommerce > Settings > Advanced > REST API).",
        ),
        (
            HTTP_SHOP,
            ["errors/http_oauth1_bad_signature"],
            "The consumer secret does not belong to this consumer key (check "
            "WOO_CONSUMER_SECRET; it starts with cs_). Over plain HTTP, shop_url must also be "
            "the shop's WordPress address.",
        ),
        (
            HTTP_SHOP,
            ["errors/http_oauth1_old_timestamp"],
            "This machine's clock and the shop's differ by more than 15 minutes.",
        ),
        (
            HTTPS_SHOP,
            [READ_REFUSED],
            "The API key has no Read permission. In WooCommerce > Settings > Advanced > REST "
            "API, edit the key and choose Read/Write.",
        ),
    ],
    ids=[
        "unknown-key",
        "wrong-secret",
        "oauth-unknown-key",
        "oauth-bad-signature",
        "clock",
        "no-read",
    ],
)
def test_each_refusal_of_the_key_is_told_with_what_to_check(
    url: str, answers: list[str | httpx.Response], advice: str
) -> None:
    shop = ScriptedShop([recorded_answer(a) if isinstance(a, str) else a for a in answers])
    with pytest.raises(WooAuthenticationError) as raised, client_of(shop, url) as client:
        client.tax_classes()
    assert str(raised.value) == advice
    assert len(shop.requests) == len(answers)


def test_when_the_host_strips_the_authorization_header_the_key_goes_in_the_query_once() -> None:
    shop = ScriptedShop(
        [
            recorded_answer("errors/auth_none"),  # what PHP sees without the header
            recorded_answer("taxes/classes"),
            recorded_answer("taxes/classes"),
            html_page(403),
        ]
    )
    notices: list[str] = []
    with client_of(shop, notify=notices.append) as client:
        assert client.tax_classes() == recorded_body("taxes/classes")
        assert client.tax_classes() == recorded_body("taxes/classes")
        with pytest.raises(WooResponseError) as raised:
            client.tax_classes()
    first, *later = shop.requests
    assert "authorization" in first.headers and "consumer_key" not in first.url.params
    for request in later:
        assert "authorization" not in request.headers
        assert request.url.params["consumer_key"] == KEY
    assert notices == [
        "The shop's web server drops the Authorization header; sending the API key as query "
        "parameters instead (over HTTPS)."
    ]
    # The secret now travels in the query, and still never in a message.
    assert SECRET not in repr(raised.value) and SECRET not in str(raised.value)
