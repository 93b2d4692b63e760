"""Reading the sandbox shop over real HTTP: paging, filters and shapes as in WooCommerce."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from woocommerce import API

from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.sandbox.woocommerce.shop import CHECKOUT_DRAFT, TRASH, OrderRecord
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import SANDBOX_END_DATE, oauth_client

ORDERS = "/wp-json/wc/v3/orders"


def all_pages(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(path, params={**params, "per_page": 100, "page": page})
        assert response.status_code == 200, response.text
        batch = response.json()
        if not batch:
            return items
        items += batch
        page += 1


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def test_the_official_python_client_reads_orders_with_oauth(
    woocommerce_sandbox: WooSandbox,
) -> None:
    client = API(
        url=woocommerce_sandbox.url,
        consumer_key=woocommerce_sandbox.consumer_key,
        consumer_secret=woocommerce_sandbox.consumer_secret,
        version="wc/v3",
        timeout=10,
    )
    response = client.get(
        "orders", params={"per_page": 100, "modified_after": "2026-11-01T00:00:00"}
    )
    assert response.status_code == 200, response.text
    expected = [
        r
        for r in woocommerce_sandbox.shop.orders.values()
        if r.modified_local > "2026-11-01T00:00:00"
    ]
    assert int(response.headers["X-WP-Total"]) == len(expected)
    assert len(response.json()) == min(100, len(expected))


def test_the_official_client_reads_over_https_with_basic_and_query_string_auth(
    woocommerce_https_sandbox: WooSandbox,
) -> None:
    for query_string_auth in (False, True):
        client = API(
            url=woocommerce_https_sandbox.url,
            consumer_key=woocommerce_https_sandbox.consumer_key,
            consumer_secret=woocommerce_https_sandbox.consumer_secret,
            version="wc/v3",
            timeout=10,
            verify_ssl=str(woocommerce_https_sandbox.ca_cert_path),
            query_string_auth=query_string_auth,
        )
        response = client.get("orders", params={"per_page": 5})
        assert response.status_code == 200, response.text
        assert len(response.json()) == 5
    assert woocommerce_https_sandbox.describe()["verify"] == str(
        woocommerce_https_sandbox.ca_cert_path
    )


def listed(sandbox: WooSandbox) -> list[OrderRecord]:
    """The orders `status=any` lists: not the trashed ones, nor checkout drafts."""
    return [r for r in sandbox.shop.orders.values() if r.status not in (TRASH, CHECKOUT_DRAFT)]


def test_paging_headers_links_and_an_empty_page_past_the_end(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    total = len(listed(woocommerce_sandbox))
    pages = -(-total // 100)
    first = woocommerce_client.get(ORDERS, params={"per_page": 100})
    assert first.headers["X-WP-Total"] == str(total)
    assert first.headers["X-WP-TotalPages"] == str(pages)
    assert 'rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["Link"]).group(1)
    assert next_url.startswith(f"{woocommerce_sandbox.url}/wp-json/wc/v3/orders?per_page=100")
    assert "page=2" in next_url
    last = woocommerce_client.get(ORDERS, params={"per_page": 100, "page": pages})
    assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]
    beyond = woocommerce_client.get(ORDERS, params={"per_page": 100, "page": pages + 1})
    assert beyond.status_code == 200 and beyond.json() == []
    # As the recorded real shop: a page past the end counts 0 of 0 and points back at page 0.
    assert (beyond.headers["X-WP-Total"], beyond.headers["X-WP-TotalPages"]) == ("0", "0")
    prev = beyond.headers["Link"]
    assert prev.startswith(f"<{woocommerce_sandbox.url}/wp-json/wc/v3/orders?per_page=100&page=0&")
    assert prev.endswith('&status%5B0%5D=any>; rel="prev"')  # the OAuth values in between
    every = all_pages(woocommerce_client, ORDERS)
    assert len({order["id"] for order in every}) == total
    default = woocommerce_client.get(ORDERS)
    assert len(default.json()) == 10  # WooCommerce's default page size
    dates = [order["date_created"] for order in default.json()]
    assert dates == sorted(dates, reverse=True)  # newest first by default


@pytest.mark.parametrize("per_page", ["0", "101"])
def test_per_page_outside_1_to_100_is_refused_like_wordpress(
    woocommerce_client: httpx.Client, per_page: str
) -> None:
    response = woocommerce_client.get(ORDERS, params={"per_page": per_page})
    assert response.status_code == 400
    message = "per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert response.json() == {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): per_page",
        "data": {
            "status": 400,
            "params": {"per_page": message},
            "details": {
                "per_page": {"code": "rest_out_of_bounds", "message": message, "data": None}
            },
        },
    }


def test_offset_skips_orders_regardless_of_page(woocommerce_client: httpx.Client) -> None:
    by_page = ids(woocommerce_client.get(ORDERS, params={"per_page": 5, "orderby": "id"}))
    by_offset = ids(
        woocommerce_client.get(ORDERS, params={"per_page": 3, "offset": 2, "orderby": "id"})
    )
    assert by_offset == by_page[2:5]


def test_date_filters_are_exclusive_and_pick_local_or_gmt_columns(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    orders = sorted(listed(woocommerce_sandbox), key=lambda r: r.id)
    pivot = orders[len(orders) // 2]
    got = {o["id"] for o in all_pages(woocommerce_client, ORDERS, after=pivot.created_local)}
    assert got == {r.id for r in orders if r.created_local > pivot.created_local}
    assert pivot.id not in got  # exclusive
    got_gmt = {
        o["id"]
        for o in all_pages(
            woocommerce_client, ORDERS, before=pivot.created_gmt, dates_are_gmt="true"
        )
    }
    assert got_gmt == {r.id for r in orders if r.created_gmt < pivot.created_gmt}
    modified = {
        o["id"]
        for o in all_pages(
            woocommerce_client,
            ORDERS,
            modified_after=pivot.modified_gmt,
            modified_before="2026-11-09T12:00:00",
            dates_are_gmt="true",
        )
    }
    assert modified == {
        r.id for r in orders if pivot.modified_gmt < r.modified_gmt < "2026-11-09T12:00:00"
    }


def test_an_offset_in_a_filter_date_is_turned_into_site_time_even_for_gmt_columns(
    woocommerce_client: httpx.Client,
) -> None:
    # WordPress converts "…Z" to Amsterdam wall time (+01:00 in November) before comparing.
    with_offset = ids(
        woocommerce_client.get(
            ORDERS,
            params={"per_page": 100, "modified_after": "2026-11-08T10:00:00Z", "dates_are_gmt": 1},
        )
    )
    as_site_time = ids(
        woocommerce_client.get(
            ORDERS,
            params={"per_page": 100, "modified_after": "2026-11-08T11:00:00", "dates_are_gmt": 1},
        )
    )
    assert with_offset == as_site_time


def test_a_bare_date_is_not_a_valid_filter(woocommerce_client: httpx.Client) -> None:
    response = woocommerce_client.get(ORDERS, params={"after": "2026-11-01"})
    assert response.status_code == 400
    assert response.json()["data"]["params"] == {"after": "Invalid date."}


def test_status_lists_any_and_unknown_statuses(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    shop_orders = woocommerce_sandbox.shop.orders.values()
    wanted = {"completed", "refunded"}
    got = all_pages(woocommerce_client, ORDERS, status="completed,refunded")
    assert {o["status"] for o in got} == wanted
    assert len(got) == sum(1 for r in shop_orders if r.status in wanted)
    anything = woocommerce_client.get(ORDERS, params={"status": "any", "per_page": 1})
    assert anything.headers["X-WP-Total"] == str(len(listed(woocommerce_sandbox)))
    wrong = woocommerce_client.get(ORDERS, params={"status": "paid"})
    assert wrong.status_code == 400
    assert wrong.json()["message"] == "Invalid parameter(s): status"


def test_ordering_include_exclude_customer_product_and_channel(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    records = sorted(woocommerce_sandbox.shop.orders.values(), key=lambda r: r.id)
    ascending = ids(woocommerce_client.get(ORDERS, params={"orderby": "id", "order": "asc"}))
    assert ascending == [r.id for r in records[:10]]
    by_modified = woocommerce_client.get(ORDERS, params={"orderby": "modified", "per_page": 50})
    modified = [o["date_modified"] for o in by_modified.json()]
    assert modified == sorted(modified, reverse=True)
    chosen = [records[5].id, records[1].id, records[9].id]
    included = woocommerce_client.get(
        ORDERS, params={"include": ",".join(map(str, chosen)), "orderby": "include"}
    )
    assert ids(included) == chosen
    excluded = ids(
        woocommerce_client.get(
            ORDERS, params={"exclude": str(records[0].id), "orderby": "id", "order": "asc"}
        )
    )
    assert records[0].id not in excluded
    customer_id = next(r.customer_id for r in records if r.customer_id)
    for order in all_pages(woocommerce_client, ORDERS, customer=customer_id):
        assert order["customer_id"] == customer_id
    product_id = next(iter(records[0].product_ids))
    for order in all_pages(woocommerce_client, ORDERS, product=product_id):
        assert product_id in {item["product_id"] for item in order["line_items"]}
    found = all_pages(woocommerce_client, ORDERS, search="müller")
    assert found and all("Müller" in str(order["billing"]) for order in found)
    pos = all_pages(woocommerce_client, ORDERS, created_via="pos-rest-api")
    assert pos and {o["created_via"] for o in pos} == {"pos-rest-api"}


def test_fields_limits_the_output(woocommerce_client: httpx.Client) -> None:
    response = woocommerce_client.get(
        ORDERS, params={"_fields": "id,date_modified_gmt,billing.country", "per_page": 3}
    )
    for order in response.json():
        assert set(order) == {"id", "date_modified_gmt", "billing"}
        assert set(order["billing"]) == {"country"}


def test_an_order_has_woocommerces_fields_and_types(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    order_id = max(
        r.id for r in woocommerce_sandbox.shop.orders.values() if r.status == "completed"
    )
    order = woocommerce_client.get(f"{ORDERS}/{order_id}").json()
    for field in (
        "id",
        "parent_id",
        "number",
        "order_key",
        "created_via",
        "version",
        "status",
        "currency",
        "currency_symbol",
        "date_created",
        "date_created_gmt",
        "date_modified",
        "date_modified_gmt",
        "date_paid",
        "date_paid_gmt",
        "date_completed",
        "date_completed_gmt",
        "discount_total",
        "discount_tax",
        "shipping_total",
        "shipping_tax",
        "cart_tax",
        "total",
        "total_tax",
        "prices_include_tax",
        "customer_id",
        "billing",
        "shipping",
        "payment_method",
        "payment_method_title",
        "transaction_id",
        "meta_data",
        "line_items",
        "tax_lines",
        "shipping_lines",
        "fee_lines",
        "coupon_lines",
        "refunds",
        "payment_url",
        "is_editable",
        "needs_payment",
        "needs_processing",
        "_links",
        "wpo_wcpdf_invoice_number",
    ):
        assert field in order, field
    for amount in ("total", "total_tax", "cart_tax", "shipping_total", "discount_total"):
        assert re.fullmatch(r"-?\d+\.\d{2}", order[amount]), amount
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", order["date_created"])
    assert order["prices_include_tax"] is True
    item = order["line_items"][0]
    assert isinstance(item["price"], float | int) and isinstance(item["quantity"], int)
    assert isinstance(item["subtotal"], str) and isinstance(item["taxes"], list)
    for tax_line in order["tax_lines"]:
        assert set(tax_line) >= {
            "rate_id",
            "rate_code",
            "rate_percent",
            "compound",
            "tax_total",
            "shipping_tax_total",
        }
        assert isinstance(tax_line["rate_percent"], float | int)
    assert order["_links"]["self"][0]["href"] == f"{woocommerce_sandbox.url}{ORDERS}/{order_id}"
    missing = woocommerce_client.get(f"{ORDERS}/999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_line_taxes_per_rate_are_shown_at_the_shops_two_decimals(
    woocommerce_client: httpx.Client,
) -> None:
    """WooCommerce 11 formats the stored unrounded taxes[] at `dp` (the recorded shop's
    order 45 shows 0.53 for a stored 0.525, next to a half-down total_tax of 0.52)."""
    orders = all_pages(woocommerce_client, ORDERS, status="completed")
    taxes = [tax["total"] for o in orders for item in o["line_items"] for tax in item["taxes"]]
    assert taxes and all(re.fullmatch(r"-?\d+\.\d{2}", value) for value in taxes)


def test_refunds_per_order_and_store_wide(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    shop_refunds = woocommerce_sandbox.shop.refunds
    refund = next(iter(shop_refunds.values()))
    per_order = woocommerce_client.get(f"{ORDERS}/{refund.order_id}/refunds").json()
    assert refund.id in {r["id"] for r in per_order}
    assert all("parent_id" not in r for r in per_order)
    assert float(per_order[0]["amount"]) > 0
    store_wide = all_pages(woocommerce_client, "/wp-json/wc/v3/refunds")
    assert len(store_wide) == len(shop_refunds)
    assert {r["id"]: r["parent_id"] for r in store_wide} == {
        r.id: r.order_id for r in shop_refunds.values()
    }
    single = woocommerce_client.get(f"{ORDERS}/{refund.order_id}/refunds/{refund.id}")
    assert single.json()["id"] == refund.id


def test_customers_products_variations_and_taxes(
    woocommerce_sandbox: WooSandbox, woocommerce_client: httpx.Client
) -> None:
    shop = woocommerce_sandbox.shop
    customers = all_pages(woocommerce_client, "/wp-json/wc/v3/customers")
    assert len(customers) == len(shop.customers)
    usernames = [c["username"] for c in customers]
    assert usernames == sorted(usernames)  # orderby name, ascending by default
    someone = customers[3]
    by_email = woocommerce_client.get(
        "/wp-json/wc/v3/customers", params={"email": someone["email"]}
    )
    assert ids(by_email) == [someone["id"]]
    assert (
        woocommerce_client.get("/wp-json/wc/v3/customers", params={"role": "administrator"}).json()
        == []
    )
    assert (
        woocommerce_client.get(f"/wp-json/wc/v3/customers/{someone['id']}").json()["email"]
        == (someone["email"])
    )

    products = all_pages(woocommerce_client, "/wp-json/wc/v3/products")
    assert len(products) == len(shop.products)
    variable = woocommerce_client.get("/wp-json/wc/v3/products", params={"type": "variable"}).json()
    assert variable and all(p["type"] == "variable" and p["variations"] for p in variable)
    variations = woocommerce_client.get(
        f"/wp-json/wc/v3/products/{variable[0]['id']}/variations"
    ).json()
    assert {v["id"] for v in variations} == set(variable[0]["variations"])
    everywhere = all_pages(woocommerce_client, "/wp-json/wc/v3/variations")
    assert {v["id"]: v["parent_id"] for v in everywhere} == shop.variation_parents
    variation_sku = next(v["sku"] for v in variations if v["sku"] != variable[0]["sku"])
    by_sku = woocommerce_client.get(
        "/wp-json/wc/v3/products", params={"sku": f"{variation_sku},KB-BRA-1000"}
    ).json()
    assert {p["sku"] for p in by_sku} == {variation_sku, "KB-BRA-1000"}  # variations included

    taxes = all_pages(woocommerce_client, "/wp-json/wc/v3/taxes")
    assert [t["order"] for t in taxes] == sorted(t["order"] for t in taxes)
    reduced = woocommerce_client.get("/wp-json/wc/v3/taxes", params={"class": "reduced-rate"})
    assert {t["class"] for t in reduced.json()} == {"reduced-rate"}
    assert {t["rate"] for t in taxes} >= {"21.0000", "9.0000", "13.5000"}
    classes = woocommerce_client.get("/wp-json/wc/v3/taxes/classes").json()
    assert [c["slug"] for c in classes] == ["standard", "reduced-rate", "zero-rate"]


def test_unknown_routes_answer_rest_no_route(woocommerce_client: httpx.Client) -> None:
    response = woocommerce_client.get("/wp-json/wc/v3/coupon-codes")
    assert response.status_code == 404
    assert response.json()["code"] == "rest_no_route"


def test_rest_route_refuses_api_keys_up_to_woocommerce_11_0(
    woocommerce_sandbox: WooSandbox,
) -> None:
    """WooCommerce 11.0.1 (the default) reads API keys only for "wp-json/wc/" request URIs
    (woocommerce#41191): a signed `?rest_route=` request is anonymous."""
    with oauth_client(woocommerce_sandbox) as client:
        response = client.get("/", params={"rest_route": "/wc/v3/orders", "per_page": 2})
        assert response.status_code == 401
        assert response.json() == {
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": {"status": 401},
        }
        index = client.get("/", params={"rest_route": "/"})
        assert index.status_code == 200 and "wc/v3" in index.json()["namespaces"]


def test_rest_route_takes_api_keys_from_woocommerce_11_1() -> None:
    with (
        start_woocommerce_sandbox(
            days=1, orders_per_day=3, end_date=SANDBOX_END_DATE, woocommerce_version="11.1.0"
        ) as sandbox,
        oauth_client(sandbox) as client,
    ):
        response = client.get("/", params={"rest_route": "/wc/v3/orders", "per_page": 2})
        assert response.status_code == 200, response.text
        assert len(response.json()) == 2


def test_plain_permalinks_redirect_wp_json_to_the_home_page() -> None:
    """SURPRISES.md item 21: a 301 to the same address with a trailing slash, whose target is
    the HTML home page with 200. Not a 404, and not JSON."""
    with (
        start_woocommerce_sandbox(
            days=3,
            orders_per_day=5,
            end_date=SANDBOX_END_DATE,
            plain_permalinks=True,
            woocommerce_version="11.1.0",
        ) as sandbox,
        oauth_client(sandbox) as client,
    ):
        pretty = client.get(ORDERS, params={"per_page": 100})
        assert pretty.status_code == 301
        location = pretty.headers["Location"]
        assert location.startswith(f"{sandbox.url}/wp-json/wc/v3/orders/?per_page=100&")
        target = httpx.get(location)
        assert target.status_code == 200
        assert target.headers["content-type"].startswith("text/html")
        assert target.headers["Link"] == (
            f'<{sandbox.url}/index.php?rest_route=/>; rel="https://api.w.org/"'
        )
        plain = client.get("/", params={"rest_route": "/wc/v3/orders", "per_page": 2})
        assert plain.status_code == 200, plain.text
        assert "index.php?rest_route=/wc/v3/orders" in plain.headers["Link"]
        assert plain.json()[0]["_links"]["self"][0]["href"].startswith(
            f"{sandbox.url}/index.php?rest_route=/wc/v3/orders/"
        )
        via_index = client.get("/index.php", params={"rest_route": "/wc/v3/orders"})
        assert via_index.status_code == 200, via_index.text


def test_the_summary_and_description_name_what_is_served(woocommerce_sandbox: WooSandbox) -> None:
    described = woocommerce_sandbox.describe()
    assert described["url"] == woocommerce_sandbox.url
    assert described["consumer_key"].startswith("ck_")
    assert described["consumer_secret"].startswith("cs_")
    summary = woocommerce_sandbox.summary()
    assert f"orders:    {len(woocommerce_sandbox.shop.orders)}" in summary
    assert "refunded" in summary and "customers:" in summary and "products:" in summary
    first_day = min(r.created_local for r in woocommerce_sandbox.shop.orders.values())[:10]
    assert first_day in summary
    assert datetime.fromisoformat(first_day) > datetime(2026, 11, 10) - timedelta(days=31)


def test_responses_are_encoded_like_phps_json_encode(woocommerce_client: httpx.Client) -> None:
    """WordPress escapes slashes and non-ASCII characters; clients must decode, not grep."""
    body = woocommerce_client.get(ORDERS, params={"per_page": 100}).content
    assert b'"href":"http:\\/\\/127.0.0.1:' in body
    assert all(byte < 0x80 for byte in body)
    assert (
        woocommerce_client.get(ORDERS, params={"search": "x"}).headers["content-type"]
        == "application/json; charset=UTF-8"
    )
