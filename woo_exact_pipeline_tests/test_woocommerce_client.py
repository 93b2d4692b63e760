"""The WooCommerce client against the sandbox shop over real HTTP: every way a shop is reached,
and every failure worded so the shop owner knows what to do."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from woo_exact_pipeline.sandbox.server import BackgroundServer
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.sandbox.woocommerce.auth import ApiKey
from woo_exact_pipeline.sandbox.woocommerce.shop import CHECKOUT_DRAFT, TRASH
from woo_exact_pipeline.sandbox.woocommerce.tls import create_certificates
from woo_exact_pipeline.woocommerce.client import (
    WooAuthenticationError,
    WooCommerceClient,
    WooCommerceError,
    WooPlainPermalinksError,
    WooResponseError,
    WooUnavailableError,
)
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import SANDBOX_END_DATE

ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def client_for(sandbox: WooSandbox, **options: Any) -> WooCommerceClient:
    options.setdefault("verify", str(sandbox.ca_cert_path) if sandbox.ca_cert_path else True)
    options.setdefault("sleep", lambda seconds: None)
    return WooCommerceClient(sandbox.url, sandbox.consumer_key, sandbox.consumer_secret, **options)


def listed_ids(sandbox: WooSandbox) -> list[int]:
    """The shop's orders that status=any lists: trashed ones and checkout drafts are left out."""
    hidden = (TRASH, CHECKOUT_DRAFT)
    return sorted(i for i, record in sandbox.shop.orders.items() if record.status not in hidden)


def every_order_id(client: WooCommerceClient) -> list[int]:
    return [order["id"] for page in client.orders_created_between(*ALL_TIME) for order in page]


def test_over_plain_http_the_client_signs_with_oauth_and_reads_every_order_in_pages(
    woocommerce_sandbox: WooSandbox,
) -> None:
    with client_for(woocommerce_sandbox) as client:
        ids = every_order_id(client)
        requests = client.request_count
    assert sorted(ids) == listed_ids(woocommerce_sandbox)
    assert len(ids) == len(set(ids))
    # One request per page of 100, each signed afresh: the Link header's next URL echoes the
    # first request's nonce and would be refused (errors/http_oauth1_follow_link_next_verbatim).
    assert requests == -(-len(ids) // 100)


def test_over_https_the_client_uses_basic_auth(woocommerce_https_sandbox: WooSandbox) -> None:
    notices: list[str] = []
    with client_for(woocommerce_https_sandbox, notify=notices.append) as client:
        ids = every_order_id(client)
    assert sorted(ids) == listed_ids(woocommerce_https_sandbox)
    assert notices == []


class _StripAuthorization:
    """A web host that loses the Authorization header on its way to PHP."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


@pytest.fixture
def header_stripping_host(
    woocommerce_https_sandbox: WooSandbox, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    certificates = create_certificates(tmp_path)
    server = BackgroundServer(
        _StripAuthorization(woocommerce_https_sandbox.api.app),
        ssl_certfile=certificates.server_cert,
        ssl_keyfile=certificates.server_key,
    ).start()
    yield server.url, certificates.ca_cert
    server.stop()


def test_when_the_host_strips_the_authorization_header_the_key_goes_in_the_query_once(
    woocommerce_https_sandbox: WooSandbox, header_stripping_host: tuple[str, Path]
) -> None:
    url, ca_cert = header_stripping_host
    notices: list[str] = []
    with WooCommerceClient(
        url,
        woocommerce_https_sandbox.consumer_key,
        woocommerce_https_sandbox.consumer_secret,
        verify=str(ca_cert),
        notify=notices.append,
    ) as client:
        ids = every_order_id(client)
        tax_rates = [rate for page in client.tax_rates() for rate in page]
    assert sorted(ids) == listed_ids(woocommerce_https_sandbox)
    assert tax_rates
    assert len(notices) == 1
    assert "drops the Authorization header" in notices[0]


def test_plain_permalinks_are_detected_and_read_through_rest_route_from_woocommerce_11_1() -> None:
    """/wp-json/ answers with a 301 to the trailing slash and then the home page; from 11.1 on
    `?rest_route=` takes the key, so the client reads there."""
    notices: list[str] = []
    with (
        start_woocommerce_sandbox(
            seed=5,
            days=3,
            orders_per_day=4,
            end_date=SANDBOX_END_DATE,
            plain_permalinks=True,
            woocommerce_version="11.1.0",
        ) as sandbox,
        client_for(sandbox, notify=notices.append) as client,
    ):
        ids = every_order_id(client)
        assert [rate for page in client.tax_rates() for rate in page]
    assert sorted(ids) == listed_ids(sandbox)
    assert len(notices) == 1
    assert "?rest_route=" in notices[0]


@pytest.mark.parametrize("https", [False, True], ids=["oauth", "basic"])
def test_plain_permalinks_on_woocommerce_11_0_say_no_key_can_work_and_what_to_change(
    https: bool,
) -> None:
    notices: list[str] = []
    with (
        start_woocommerce_sandbox(
            seed=5,
            days=1,
            orders_per_day=2,
            end_date=SANDBOX_END_DATE,
            https=https,
            plain_permalinks=True,
        ) as sandbox,
        client_for(sandbox, notify=notices.append) as client,
        pytest.raises(WooPlainPermalinksError) as raised,
    ):
        client.tax_classes()
    message = str(raised.value)
    assert message.startswith(
        "The shop uses plain permalinks: /wp-json/ only shows its home page, and WooCommerce "
        "up to 11.0.x does not accept API keys at ?rest_route= (WooCommerce issue #41191), so "
        'no key can work there. To fix it, choose "Post name" under Settings > Permalinks in '
        "WordPress, or update WooCommerce to 11.1 or later."
    )
    assert "redirects" not in message and "shop_url" not in message
    assert sandbox.consumer_secret not in message
    assert notices == []  # nothing claims ?rest_route= works


def test_a_redirect_elsewhere_is_still_told_as_the_shop_living_at_another_address() -> None:
    """Only the trailing-slash redirect to an HTML page means plain permalinks."""

    async def moved(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 301,
                "headers": [(b"location", b"https://www.shop.example/wp-json/wc/v3/orders")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    with (
        BackgroundServer(moved).start() as server,
        WooCommerceClient(server.url, "ck_x", "cs_x", sleep=lambda s: None) as client,
        pytest.raises(WooResponseError, match=r"redirects API requests to https://www\.shop"),
    ):
        client.tax_classes()


def test_a_day_is_read_with_exclusive_gmt_bounds_so_midnight_orders_count_once(
    woocommerce_sandbox: WooSandbox,
) -> None:
    # The sandbox shop's 2026-10-25 in Amsterdam: the 25-hour day the clocks go back.
    start, end = datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC)
    expected = sorted(
        record.id
        for record in woocommerce_sandbox.shop.orders.values()
        if record.created_local.startswith("2026-10-25")
        and record.status not in (TRASH, CHECKOUT_DRAFT)
    )
    with client_for(woocommerce_sandbox) as client:
        ids = [order["id"] for page in client.orders_created_between(start, end) for order in page]
    assert expected and sorted(ids) == expected


def test_refunds_are_read_in_full_for_a_page_of_orders(woocommerce_sandbox: WooSandbox) -> None:
    with client_for(woocommerce_sandbox) as client:
        orders = [order for page in client.orders_created_between(*ALL_TIME) for order in page]
        refunds = client.refunds(orders)
    expected = {refund["id"] for order in orders for refund in order["refunds"]}
    assert expected
    assert {refund["id"] for refund in refunds} == expected
    by_id = {order["id"]: order for order in orders}
    for refund in refunds:
        assert refund["id"] in {r["id"] for r in by_id[refund["parent_id"]]["refunds"]}
        assert "line_items" in refund


def auth_problem(sandbox: WooSandbox, key: str, secret: str) -> str:
    with (
        pytest.raises(WooAuthenticationError) as raised,
        WooCommerceClient(
            sandbox.url,
            key,
            secret,
            verify=str(sandbox.ca_cert_path) if sandbox.ca_cert_path else True,
        ) as client,
    ):
        client.tax_classes()
    message = str(raised.value)
    assert secret not in message
    return message


@pytest.mark.parametrize("https", [False, True], ids=["oauth", "basic"])
def test_a_wrong_key_a_wrong_secret_and_a_key_without_read_are_told_apart(
    https: bool, woocommerce_sandbox: WooSandbox, woocommerce_https_sandbox: WooSandbox
) -> None:
    sandbox = woocommerce_https_sandbox if https else woocommerce_sandbox
    sandbox.api.keys.add(
        ApiKey("ck_writeonly0000000000000000000000000000", "cs_w" + "1" * 36, "write")
    )
    assert "does not know this consumer key" in auth_problem(
        sandbox, "ck_unknown000000000000000000000000000000", sandbox.consumer_secret
    )
    assert "consumer secret does not belong to this consumer key" in auth_problem(
        sandbox, sandbox.consumer_key, "cs_wrong000000000000000000000000000000000"
    )
    assert "no Read permission" in auth_problem(
        sandbox, "ck_writeonly0000000000000000000000000000", "cs_w" + "1" * 36
    )


def test_a_security_plugin_page_instead_of_json_names_the_likely_causes(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    fresh_woocommerce_sandbox.faults.queue("waf")
    with pytest.raises(WooResponseError) as raised, client_for(fresh_woocommerce_sandbox) as client:
        client.tax_classes()
    message = str(raised.value)
    assert "web page instead of data" in message
    assert "security plugin" in message and "maintenance" in message and "caching proxy" in message


def test_429_5xx_and_cut_off_answers_are_retried_honouring_retry_after(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    waits: list[float] = []
    fresh_woocommerce_sandbox.faults.queue("rate_limit", "server_error", "truncated")
    with client_for(fresh_woocommerce_sandbox, sleep=waits.append) as client:
        ids = every_order_id(client)
        requests = client.request_count
    assert sorted(ids) == listed_ids(fresh_woocommerce_sandbox)
    assert requests == 4  # three failures, then the page
    assert waits[0] == fresh_woocommerce_sandbox.faults.retry_after_seconds
    assert len(waits) == 3


def test_a_hanging_shop_times_out_and_is_retried(fresh_woocommerce_sandbox: WooSandbox) -> None:
    fresh_woocommerce_sandbox.faults.hang_seconds = 3
    fresh_woocommerce_sandbox.faults.queue("hang")
    with client_for(fresh_woocommerce_sandbox, timeout_seconds=0.5) as client:
        assert sorted(every_order_id(client)) == listed_ids(fresh_woocommerce_sandbox)
        assert client.request_count == 2


def test_a_shop_that_keeps_failing_gives_up_with_a_clear_message(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    fresh_woocommerce_sandbox.faults.error_rate = 1.0
    with (
        pytest.raises(WooUnavailableError, match=r"kept failing .* after 3 attempts"),
        client_for(fresh_woocommerce_sandbox, max_attempts=3) as client,
    ):
        client.tax_classes()


def test_an_untrusted_certificate_and_an_unreachable_host_are_named(
    woocommerce_https_sandbox: WooSandbox,
) -> None:
    with (
        pytest.raises(WooUnavailableError, match=r"certificate .* could not be verified") as raised,
        client_for(woocommerce_https_sandbox, verify=True) as client,
    ):
        client.tax_classes()
    assert woocommerce_https_sandbox.consumer_secret not in str(raised.value)
    with (
        pytest.raises(WooUnavailableError, match="refused or the host is unknown"),
        WooCommerceClient(
            "http://127.0.0.1:9", "ck_x", "cs_secret", max_attempts=2, sleep=lambda s: None
        ) as client,
    ):
        client.tax_classes()


def test_no_message_ever_contains_the_secret_even_with_query_string_auth(
    woocommerce_https_sandbox: WooSandbox, header_stripping_host: tuple[str, Path]
) -> None:
    url, ca_cert = header_stripping_host
    errors: list[WooCommerceError] = []
    with WooCommerceClient(
        url,
        woocommerce_https_sandbox.consumer_key,
        woocommerce_https_sandbox.consumer_secret,
        verify=str(ca_cert),
        sleep=lambda s: None,
    ) as client:
        client.tax_classes()  # switches to query-string auth
        woocommerce_https_sandbox.faults.queue("waf")
        try:
            client.tax_classes()
        except WooCommerceError as error:
            errors.append(error)
    assert errors
    assert woocommerce_https_sandbox.consumer_secret not in repr(errors[0])
