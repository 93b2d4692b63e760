"""The WooCommerce client against the sandbox shop over real HTTP: every way a shop is reached.
How each failure is retried and worded is told in test_woocommerce_client_answers.py, against the
recorded answers of a real shop through httpx.MockTransport."""

from datetime import UTC, datetime
from typing import Any

import pytest

from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.sandbox.woocommerce.shop import CHECKOUT_DRAFT, TRASH
from woo_exact_pipeline.woocommerce.client import (
    WooCommerceClient,
    WooPlainPermalinksError,
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
