"""`--shop-data`: a shop replayed from REST-shaped records, and `--live` changes over time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from woo_exact_pipeline.sandbox.woocommerce import (
    ShopDataError,
    WooSandbox,
    start_woocommerce_sandbox,
)
from woo_exact_pipeline.sandbox.woocommerce.live import LiveShop
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import SANDBOX_END_DATE, oauth_client

ORDERS = "/wp-json/wc/v3/orders"


def strip_links(items: list[dict]) -> list[dict]:
    return [{k: v for k, v in item.items() if k != "_links"} for item in items]


def test_an_exported_shop_replays_to_the_same_api_answers(
    fresh_woocommerce_sandbox: WooSandbox, tmp_path: Path
) -> None:
    exported = fresh_woocommerce_sandbox.shop.export()
    for order in exported["orders"]:  # as fetched from a real shop's API
        order["_links"] = {
            "self": [{"href": f"https://shop.example/wp-json/wc/v3/orders/{order['id']}"}]
        }
    shop_file = tmp_path / "shop.json"
    shop_file.write_text(json.dumps(exported), encoding="utf-8")
    with (
        start_woocommerce_sandbox(shop_data=shop_file) as replay,
        oauth_client(fresh_woocommerce_sandbox) as original_client,
        oauth_client(replay) as replay_client,
    ):
        for path in (
            ORDERS,
            "/wp-json/wc/v3/refunds",
            "/wp-json/wc/v3/customers",
            "/wp-json/wc/v3/products",
            "/wp-json/wc/v3/taxes",
        ):
            params = {"per_page": 100, "orderby": "id"}
            original = original_client.get(path, params=params)
            replayed = replay_client.get(path, params=params)
            assert replayed.headers["X-WP-Total"] == original.headers["X-WP-Total"], path
            assert strip_links(replayed.json()) == strip_links(original.json()), path
            assert replayed.content.count(b'"_links"') == len(replayed.json()), path
        created = replay_client.post(
            ORDERS,
            json={"line_items": [{"product_id": next(iter(replay.shop.products))}]},
        )
        assert created.status_code == 201, created.text
        assert created.json()["id"] > max(
            [*replay.shop.refunds, *(r for r in replay.shop.orders if r != created.json()["id"])]
        )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda data: data["orders"][0].pop("date_created_gmt"),
            r"orders\[0\] \(id \d+\): field 'date_created_gmt' is missing",
        ),
        (
            lambda data: data["orders"][1].update(total=12.5),
            r"orders\[1\] \(id \d+\): field 'total' must be an amount string",
        ),
        (
            lambda data: data["orders"][2].update(status="paid"),
            r"orders\[2\] \(id \d+\): field 'status' must be one of pending",
        ),
        (
            lambda data: data["orders"][0]["line_items"][0].pop("product_id"),
            r"orders\[0\] \(id \d+\) line_items\[0\]: field 'product_id' is missing",
        ),
        (
            lambda data: data["refunds"][0].update(order_id=1),
            r"refunds\[0\] \(id \d+\): field 'order_id' names order 1",
        ),
        (
            lambda data: data["variations"][0].update(parent_id=None, id=123456),
            r"variations\[0\] \(id 123456\): field 'parent_id' is missing",
        ),
        (
            lambda data: data["settings"].update(timezone="Mars/Olympus"),
            r"settings: field 'timezone' is not a known time zone",
        ),
    ],
)
def test_an_invalid_shop_file_names_the_record_and_field(
    fresh_woocommerce_sandbox: WooSandbox,
    tmp_path: Path,
    mutate: Callable[[dict], object],
    message: str,
) -> None:
    data = fresh_woocommerce_sandbox.shop.export()
    mutate(data)
    shop_file = tmp_path / "shop.json"
    shop_file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ShopDataError, match=message):
        start_woocommerce_sandbox(shop_data=shop_file)


def test_variations_exported_per_product_find_their_parent(
    fresh_woocommerce_sandbox: WooSandbox, tmp_path: Path
) -> None:
    data = fresh_woocommerce_sandbox.shop.export()
    for variation in data["variations"]:
        del variation["parent_id"]
    shop_file = tmp_path / "shop.json"
    shop_file.write_text(json.dumps(data), encoding="utf-8")
    with start_woocommerce_sandbox(shop_data=shop_file) as replay:
        assert replay.shop.variation_parents == fresh_woocommerce_sandbox.shop.variation_parents


def test_a_file_that_is_not_json_is_reported(tmp_path: Path) -> None:
    shop_file = tmp_path / "shop.json"
    shop_file.write_text("{orders: []", encoding="utf-8")
    with pytest.raises(ShopDataError, match="is not valid JSON"):
        start_woocommerce_sandbox(shop_data=shop_file)


def test_live_mode_places_orders_and_moves_existing_ones_along(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    shop = fresh_woocommerce_sandbox.shop
    live = LiveShop(shop, interval_seconds=1, seed=1)
    before = {record.id: record.modified_gmt for record in shop.orders.values()}
    moment = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
    for tick in range(20):
        live.step(moment + timedelta(seconds=5 * tick))
    new_orders = set(shop.orders) - set(before)
    assert len(new_orders) == 20
    moved = [
        order_id
        for order_id, modified in before.items()
        if shop.orders[order_id].modified_gmt != modified
    ]
    assert moved
    with oauth_client(fresh_woocommerce_sandbox) as client:
        changed = client.get(
            ORDERS,
            params={"modified_after": "2026-11-11T08:59:59", "dates_are_gmt": 1, "per_page": 100},
        )
        assert int(changed.headers["X-WP-Total"]) >= 20


def test_live_mode_runs_in_the_background_of_a_started_sandbox() -> None:
    with start_woocommerce_sandbox(
        days=2, orders_per_day=3, end_date=SANDBOX_END_DATE, live=True, live_interval_seconds=0.05
    ) as sandbox:
        count = len(sandbox.shop.orders)
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while len(sandbox.shop.orders) < count + 3 and datetime.now(UTC) < deadline:
            time.sleep(0.05)
        assert len(sandbox.shop.orders) >= count + 3
        assert "live:" in sandbox.summary()
