"""Fault injection and the PDF invoice link: the unhappy paths a client must survive."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from woo_exact_pipeline.sandbox.woocommerce import FAULT_KINDS, Faults, WooSandbox
from woo_exact_pipeline.sandbox.woocommerce.documents import invoice_number
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import oauth_client

pytestmark = pytest.mark.chaos
ORDERS = "/wp-json/wc/v3/orders"


@pytest.fixture
def client(fresh_woocommerce_sandbox: WooSandbox) -> Iterator[httpx.Client]:
    with oauth_client(fresh_woocommerce_sandbox) as signed_client:
        yield signed_client


def test_queued_faults_hit_the_next_requests_in_order(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    fresh_woocommerce_sandbox.faults.queue("server_error", "rate_limit", "waf", "truncated")
    server_error = client.get(ORDERS)
    assert server_error.status_code in (500, 502, 503)
    rate_limited = client.get(ORDERS)
    assert rate_limited.status_code == 429
    assert int(rate_limited.headers["Retry-After"]) > 0
    blocked = client.get(ORDERS)
    assert blocked.status_code == 403 and blocked.headers["content-type"].startswith("text/html")
    assert "Wordfence" in blocked.text
    truncated = client.get(ORDERS)
    assert truncated.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.content)
    assert client.get(ORDERS).status_code == 200  # the queue is used up


def test_a_held_request_waits_until_the_test_releases_it(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    hold = fresh_woocommerce_sandbox.faults.hold_request(2)
    assert client.get(ORDERS).status_code == 200  # the first request is not held
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(client.get, ORDERS)
        assert hold.wait_until_reached(timeout=10)
        assert not held.done()
        hold.release()
        assert held.result(timeout=10).status_code == 200


def test_a_held_request_released_without_going_on_is_a_server_error(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    hold = fresh_woocommerce_sandbox.faults.hold_request()
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(client.get, ORDERS)
        assert hold.wait_until_reached(timeout=10)
        hold.release(go_on=False)
        assert held.result(timeout=10).status_code in (500, 502, 503)


def test_a_hanging_request_outlasts_the_client_timeout(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    fresh_woocommerce_sandbox.faults.hang_seconds = 2
    fresh_woocommerce_sandbox.faults.queue("hang")
    with pytest.raises(httpx.ReadTimeout):
        client.get(ORDERS, timeout=0.3)


def test_latency_and_error_rates_apply_to_every_request(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    faults = fresh_woocommerce_sandbox.faults
    faults.latency_seconds = 0.2
    started = time.monotonic()
    assert client.get(ORDERS).status_code == 200
    assert time.monotonic() - started >= 0.2
    faults.latency_seconds = 0
    faults.error_rate = 1.0
    assert {client.get(ORDERS).status_code for _ in range(12)} <= {500, 502, 503}
    faults.error_rate = 0.3
    statuses = [client.get(ORDERS, params={"per_page": 1}).status_code for _ in range(60)]
    assert 5 <= sum(status >= 500 for status in statuses) <= 35
    faults.clear()
    assert client.get(ORDERS).status_code == 200


def test_unknown_fault_kinds_are_refused(fresh_woocommerce_sandbox: WooSandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        fresh_woocommerce_sandbox.faults.queue("meteor")
    assert "rate_limit" in FAULT_KINDS


def test_fault_settings_can_be_given_as_a_command_line_value() -> None:
    faults = Faults.parse("error_rate=0.1, latency_seconds=0.5,retry_after_seconds=7")
    assert (faults.error_rate, faults.latency_seconds, faults.retry_after_seconds) == (0.1, 0.5, 7)
    with pytest.raises(ValueError, match="unknown fault setting 'errors'"):
        Faults.parse("errors=1")
    with pytest.raises(ValueError, match="needs a number"):
        Faults.parse("hang_rate=often")


def invoice_link(sandbox: WooSandbox, order_id: int, access_key: str) -> str:
    return (
        f"{sandbox.url}/wp-admin/admin-ajax.php?action=generate_wpo_wcpdf"
        f"&document_type=invoice&order_ids={order_id}&access_key={access_key}"
    )


def test_the_invoice_link_returns_a_real_pdf_with_number_and_total(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    record = next(
        r for r in fresh_woocommerce_sandbox.shop.orders.values() if invoice_number(r.document())
    )
    order = record.document()
    response = httpx.get(invoice_link(fresh_woocommerce_sandbox, order["id"], order["order_key"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert f"Factuur {invoice_number(order)}".encode() in pdf
    assert f"{order['total']}".encode() in pdf
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[startxref:].startswith(b"xref")


def test_a_wrong_access_key_gets_wordpress_error_text_not_a_pdf(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    order_id = next(iter(fresh_woocommerce_sandbox.shop.orders))
    response = httpx.get(invoice_link(fresh_woocommerce_sandbox, order_id, "wc_order_wrong"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "You do not have sufficient permissions to access this page."


def test_downloading_an_invoice_that_does_not_exist_yet_creates_it(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    shop = fresh_woocommerce_sandbox.shop
    record = next(
        r
        for r in shop.orders.values()
        if r.status == "processing" and not invoice_number(r.document())
    )
    order = record.document()
    highest = shop.last_invoice_number
    response = httpx.get(invoice_link(fresh_woocommerce_sandbox, order["id"], order["order_key"]))
    assert response.headers["content-type"] == "application/pdf"
    after = shop.orders[order["id"]].document()
    assert after["wpo_wcpdf_invoice_number"].endswith(f"{highest + 1:05d}")
    assert after["date_modified_gmt"] > order["date_modified_gmt"]
