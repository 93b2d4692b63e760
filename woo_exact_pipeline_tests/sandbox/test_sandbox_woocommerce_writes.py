"""Writing through the REST API: orders are created and moved on, refunds are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from woocommerce import API

from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import oauth_client

ORDERS = "/wp-json/wc/v3/orders"


@pytest.fixture
def client(fresh_woocommerce_sandbox: WooSandbox) -> Iterator[httpx.Client]:
    with oauth_client(fresh_woocommerce_sandbox) as signed_client:
        yield signed_client


def simple_product(sandbox: WooSandbox, tax_class: str = "") -> dict[str, Any]:
    return next(
        product
        for product in sandbox.shop.products.values()
        if product["type"] == "simple" and product["tax_class"] == tax_class
    )


def a_paid_order(sandbox: WooSandbox, client: httpx.Client) -> dict[str, Any]:
    product = simple_product(sandbox)
    response = client.post(
        ORDERS,
        json={
            "payment_method": "mollie_wc_gateway_ideal",
            "payment_method_title": "iDEAL",
            "set_paid": True,
            "billing": {
                "first_name": "Zoë",
                "last_name": "Bakker",
                "country": "NL",
                "email": "zoe@example.nl",
            },
            "line_items": [{"product_id": product["id"], "quantity": 2}],
            "shipping_lines": [
                {"method_id": "flat_rate", "method_title": "PostNL", "total": "4.95"}
            ],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_official_client_creates_an_order_priced_like_a_checkout(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    sandbox = fresh_woocommerce_sandbox
    product = simple_product(sandbox)
    client = API(
        url=sandbox.url,
        consumer_key=sandbox.consumer_key,
        consumer_secret=sandbox.consumer_secret,
        version="wc/v3",
        timeout=10,
    )
    response = client.post(
        "orders",
        {
            "billing": {"first_name": "Émilie", "country": "NL", "email": "e@example.nl"},
            "line_items": [{"product_id": product["id"], "quantity": 1}],
        },
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["id"] > max(r.id for r in sandbox.shop.refunds.values())
    assert order["status"] == "pending" and order["created_via"] == "rest-api"
    assert order["customer_id"] == 0
    assert order["total"] == product["price"]  # a Dutch customer pays the shelf price
    assert Decimal(order["total_tax"]) == Decimal(order["line_items"][0]["total_tax"]) > 0
    assert order["date_paid"] is None


def test_set_paid_and_status_changes_bump_date_modified(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    sandbox = fresh_woocommerce_sandbox
    order = a_paid_order(sandbox, client)
    assert order["status"] == "processing" and order["date_paid"] is not None
    older = min(
        (r for r in sandbox.shop.orders.values() if r.status == "processing"),
        key=lambda r: r.modified_gmt,
    )
    response = client.put(f"{ORDERS}/{older.id}", json={"status": "completed"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["status"] == "completed"
    assert updated["date_modified_gmt"] > older.modified_gmt
    assert updated["date_completed_gmt"] == updated["date_modified_gmt"]
    changed = client.get(
        ORDERS,
        params={
            "modified_after": older.modified_gmt,
            "dates_are_gmt": "true",
            "per_page": 100,
            "orderby": "modified",
            "order": "desc",
        },
    ).json()
    assert changed[0]["id"] in {older.id, order["id"]}
    assert older.id in {o["id"] for o in changed}
    unchanged = client.put(f"{ORDERS}/{older.id}", json={"status": "completed"}).json()
    assert unchanged["date_modified_gmt"] == updated["date_modified_gmt"]


def test_invalid_writes_are_refused(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    order_id = next(iter(fresh_woocommerce_sandbox.shop.orders))
    bad_status = client.put(f"{ORDERS}/{order_id}", json={"status": "shipped"})
    assert bad_status.status_code == 400
    assert bad_status.json()["code"] == "rest_invalid_param"
    missing = client.put(f"{ORDERS}/99999999", json={"status": "completed"})
    assert missing.status_code == 404
    product_id = simple_product(fresh_woocommerce_sandbox)["id"]
    bad_quantity = client.post(
        ORDERS, json={"line_items": [{"product_id": product_id, "quantity": "x"}]}
    )
    assert bad_quantity.status_code == 400
    assert bad_quantity.json()["message"] == "Invalid parameter(s): line_items"
    not_json = client.post(ORDERS, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["code"] == "rest_invalid_json"
    no_auth = httpx.post(fresh_woocommerce_sandbox.url + ORDERS, json={})
    assert no_auth.status_code == 401
    assert no_auth.json()["code"] == "woocommerce_rest_cannot_create"


def test_amount_only_partial_and_full_refunds(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    order = a_paid_order(fresh_woocommerce_sandbox, client)
    refunds = f"{ORDERS}/{order['id']}/refunds"
    amount_only = client.post(refunds, json={"amount": "5.00", "reason": "Te laat"})
    assert amount_only.status_code == 201, amount_only.text
    assert amount_only.json()["line_items"] == [] and amount_only.json()["amount"] == "5.00"

    item = order["line_items"][0]
    one_unit = client.post(
        refunds, json={"reason": "Kapot", "line_items": [{"id": item["id"], "quantity": 1}]}
    )
    assert one_unit.status_code == 201, one_unit.text
    refunded_line = one_unit.json()["line_items"][0]
    assert refunded_line["quantity"] == -1
    assert Decimal(refunded_line["total"]) == -Decimal(item["total"]) / 2
    assert refunded_line["meta_data"][0]["value"] == str(item["id"])

    after = client.get(f"{ORDERS}/{order['id']}").json()
    assert after["status"] == "processing"
    assert [r["total"] for r in after["refunds"]] == [
        "-" + one_unit.json()["amount"],
        "-5.00",
    ]
    assert after["date_modified_gmt"] >= one_unit.json()["date_created_gmt"]

    left = Decimal(order["total"]) - Decimal("5.00") - Decimal(one_unit.json()["amount"])
    too_much = client.post(refunds, json={"amount": str(left + Decimal("0.01"))})
    assert too_much.status_code == 500
    assert too_much.json()["message"] == "Invalid refund amount."
    rest = client.post(refunds, json={"amount": str(left), "reason": "Retour"})
    assert rest.status_code == 201, rest.text
    assert client.get(f"{ORDERS}/{order['id']}").json()["status"] == "refunded"
    store_wide = client.get("/wp-json/wc/v3/refunds", params={"parent": order["id"]}).json()
    assert len(store_wide) == 3 and {r["parent_id"] for r in store_wide} == {order["id"]}


def test_gateways_without_a_refund_api_need_api_refund_false(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    product = simple_product(fresh_woocommerce_sandbox)
    order = client.post(
        ORDERS,
        json={
            "payment_method": "bacs",
            "status": "on-hold",
            "line_items": [{"product_id": product["id"]}],
        },
    ).json()
    refunds = f"{ORDERS}/{order['id']}/refunds"
    automatic = client.post(refunds, json={"amount": "1.00"})
    assert automatic.status_code == 500
    assert automatic.json()["message"] == (
        "The payment gateway for this order does not support automatic refunds."
    )
    manual = client.post(refunds, json={"amount": "1.00", "api_refund": False})
    assert manual.status_code == 201 and manual.json()["refunded_payment"] is False


def test_marking_an_order_refunded_records_a_refund_of_what_is_left(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    order = a_paid_order(fresh_woocommerce_sandbox, client)
    item = order["line_items"][0]
    one_unit = {"amount": "2.00", "line_items": [{"id": item["id"], "quantity": 1}]}
    client.post(f"{ORDERS}/{order['id']}/refunds", json=one_unit)
    refunded = client.put(f"{ORDERS}/{order['id']}", json={"status": "refunded"}).json()
    assert refunded["status"] == "refunded"
    refunds = client.get(f"{ORDERS}/{order['id']}/refunds").json()
    assert len(refunds) == 2
    newest = max(refunds, key=lambda refund: refund["id"])
    assert Decimal(newest["amount"]) == Decimal(order["total"]) - Decimal("2.00")
    assert newest["reason"].startswith("Order status set to refunded.")
    assert newest["refunded_payment"] is False
    assert [line["quantity"] for line in newest["line_items"]] == [-(item["quantity"] - 1)]
    assert len(newest["shipping_lines"]) == 1


def test_deleting_an_order_trashes_it_and_force_removes_it_for_good(
    fresh_woocommerce_sandbox: WooSandbox, client: httpx.Client
) -> None:
    shop = fresh_woocommerce_sandbox.shop
    # The demo shop has a trashed order and a checkout draft of its own: "any" lists neither.
    total = len(shop.orders) - shop.trashed_orders - shop.draft_orders
    already_trashed = sorted(i for i, record in shop.orders.items() if record.status == "trash")
    trashed_id, deleted_id = sorted(shop.orders)[:2]

    trashed = client.delete(f"{ORDERS}/{trashed_id}")
    assert trashed.status_code == 200, trashed.text
    assert trashed.json()["status"] == "trash"
    listed = client.get(ORDERS, params={"per_page": 1})
    assert listed.headers["X-WP-Total"] == str(total - 1)  # "any" leaves the trash out
    in_trash = client.get(ORDERS, params={"status": "trash"}).json()
    assert sorted(order["id"] for order in in_trash) == sorted([*already_trashed, trashed_id])
    again = client.delete(f"{ORDERS}/{trashed_id}")
    assert again.status_code == 410
    assert again.json()["code"] == "woocommerce_rest_already_trashed"

    gone = client.delete(f"{ORDERS}/{deleted_id}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["id"] == deleted_id
    assert client.get(f"{ORDERS}/{deleted_id}").status_code == 404
    assert client.get(ORDERS, params={"per_page": 1}).headers["X-WP-Total"] == str(total - 2)
    assert deleted_id not in {refund.order_id for refund in shop.refunds.values()}
    no_auth = httpx.delete(f"{fresh_woocommerce_sandbox.url}{ORDERS}/{trashed_id}")
    assert no_auth.json()["code"] == "woocommerce_rest_cannot_delete"
