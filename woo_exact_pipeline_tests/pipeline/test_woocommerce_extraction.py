"""Extraction into daily partitions, through the real Dagster assets, from the sandbox shop."""

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import Engine, func, select

from woo_exact_pipeline.bookkeeping.parse import parse_gmt
from woo_exact_pipeline.config import load_config
from woo_exact_pipeline.definitions import defs
from woo_exact_pipeline.defs.resources import SyncDatabase, WooCommerceApi
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import woo_customers as customers_table
from woo_exact_pipeline.store.schema import woo_orders as orders_table
from woo_exact_pipeline.store.schema import woo_products as products_table
from woo_exact_pipeline.store.schema import woo_refunds as refunds_table
from woo_exact_pipeline.store.schema import woo_tax_rates as tax_rates_table
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import SANDBOX_END_DATE, oauth_client
from woo_exact_pipeline_tests.support.pipeline import assets_of

SETTINGS = load_config()  # the suite's sync.test.yaml (conftest.py)
SHOP = Shop(SETTINGS)
ASSETS = assets_of(SETTINGS)
woo_orders, woo_customers, woo_products, woo_tax_rates = (
    ASSETS[name] for name in ("woo_orders", "woo_customers", "woo_products", "woo_tax_rates")
)
DAY_ASSETS = [woo_orders, woo_customers, ASSETS["exact_journal_lines"]]


def resources(sandbox: WooSandbox, database_url: str) -> dict[str, Any]:
    """What extraction needs: the shop and the sync database (no Exact)."""
    return {
        "woocommerce": WooCommerceApi(
            shop_url=sandbox.url,
            consumer_key=sandbox.consumer_key,
            consumer_secret=sandbox.consumer_secret,
        ),
        "sync_database": SyncDatabase(url=database_url),
    }


def orders_created_on(sandbox: WooSandbox, day: str) -> set[int]:
    """The day's orders the shop lists: a checkout draft is no order until it is placed
    (WooCommerce lists drafts only under status=checkout-draft)."""
    return {
        r.id
        for r in sandbox.shop.orders.values()
        if r.created_local.startswith(day) and r.status != "checkout-draft"
    }


def staged_ids(engine: Engine, day: str) -> set[int]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                select(orders_table.c.id).where(
                    orders_table.c.shop == SHOP.key,
                    orders_table.c.partition_date == date.fromisoformat(day),
                )
            ).scalars()
        )


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_sync_database(database_url)
    yield engine
    engine.dispose()


def materialize_day(sandbox: WooSandbox, database_url: str, day: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(DAY_ASSETS, partition_key=day, resources=resources(sandbox, database_url))


def test_a_day_stages_exactly_the_orders_created_that_local_day_with_their_refunds(
    woocommerce_sandbox: WooSandbox, database_url: str, engine: Engine
) -> None:
    result = materialize_day(woocommerce_sandbox, database_url, "2026-10-20")
    assert result.success
    expected = orders_created_on(woocommerce_sandbox, "2026-10-20")
    assert expected and staged_ids(engine, "2026-10-20") == expected
    with engine.connect() as connection:
        refunds = set(connection.execute(select(refunds_table.c.id)).scalars())
        customers = set(connection.execute(select(customers_table.c.id)).scalars())
    shop = woocommerce_sandbox.shop
    assert refunds == {r.id for r in shop.refunds.values() if r.order_id in expected}
    assert customers == {shop.orders[i].customer_id for i in expected if shop.orders[i].customer_id}
    orders_event = result.asset_materializations_for_node("woo_orders")[0]
    assert orders_event.metadata["dagster/row_count"].value == len(expected)
    assert orders_event.metadata["api_requests"].value <= 3  # a page, the refunds, no more


def test_the_25_hour_dst_day_and_its_neighbours_lose_and_duplicate_nothing(
    woocommerce_sandbox: WooSandbox, database_url: str, engine: Engine
) -> None:
    days = ["2026-10-24", "2026-10-25", "2026-10-26"]
    result = dg.materialize(
        [woo_orders],
        resources=resources(woocommerce_sandbox, database_url),
        tags={
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
    )
    assert result.success
    for day in days:
        assert staged_ids(engine, day) == orders_created_on(woocommerce_sandbox, day), day
    # Each staged order's GMT creation time maps back to the partition that holds it.
    with engine.connect() as connection:
        for created, partition in connection.execute(
            select(orders_table.c.date_created_gmt, orders_table.c.partition_date)
        ):
            assert SHOP.partition_key_of(created) == partition.isoformat()


def test_an_order_trashed_in_the_shop_leaves_the_staged_day(
    fresh_woocommerce_sandbox: WooSandbox, database_url: str, engine: Engine
) -> None:
    sandbox = fresh_woocommerce_sandbox
    day = sorted({r.created_local[:10] for r in sandbox.shop.orders.values()})[-1]
    assert materialize_day(sandbox, database_url, day).success
    staged = staged_ids(engine, day)
    trashed = min(staged)
    with oauth_client(sandbox) as http:
        http.delete(f"/wp-json/wc/v3/orders/{trashed}").raise_for_status()
    result = materialize_day(sandbox, database_url, day)
    assert staged_ids(engine, day) == staged - {trashed}
    metadata = result.asset_materializations_for_node("woo_orders")[0].metadata
    assert metadata["orders removed since the last extraction"].value == 1


def test_re_materializing_a_day_is_idempotent(
    woocommerce_sandbox: WooSandbox, database_url: str, engine: Engine
) -> None:
    day = "2026-11-02"
    assert materialize_day(woocommerce_sandbox, database_url, day).success
    with engine.connect() as connection:
        first = connection.execute(select(orders_table).order_by(orders_table.c.id)).all()
    assert materialize_day(woocommerce_sandbox, database_url, day).success
    with engine.connect() as connection:
        second = connection.execute(select(orders_table).order_by(orders_table.c.id)).all()
    assert [row.raw for row in second] == [row.raw for row in first]
    assert len(first) == len(orders_created_on(woocommerce_sandbox, day))


def test_products_are_read_incrementally_after_their_cursor(
    fresh_woocommerce_sandbox: WooSandbox, database_url: str, engine: Engine
) -> None:
    sandbox = fresh_woocommerce_sandbox
    first = dg.materialize(
        [woo_products, woo_tax_rates], resources=resources(sandbox, database_url)
    )
    assert first.success
    shop = sandbox.shop
    with engine.connect() as connection:
        staged = connection.execute(select(func.count()).select_from(products_table)).scalar()
        rates = connection.execute(select(func.count()).select_from(tax_rates_table)).scalar()
    assert staged == len(shop.products) + len(shop.variations)
    assert rates == len(shop.taxes)

    # The shop manager renames one simple product a day later (an admin edit in the shop).
    product_id, product = next((i, p) for i, p in shop.products.items() if p["type"] == "simple")
    later = (parse_gmt(product["date_modified_gmt"]) + timedelta(days=1)).isoformat()
    with shop.lock:
        shop.products[product_id] = {**product, "name": "Renamed", "date_modified_gmt": later}
        shop.revision += 1
    assert dg.materialize([woo_products], resources=resources(sandbox, database_url)).success
    # The cursor moved to the edit, so the next read asks only for what changed since.
    again = dg.materialize([woo_products], resources=resources(sandbox, database_url))
    metadata = again.asset_materializations_for_node("woo_products")[0].metadata
    assert metadata["dagster/row_count"].value == 1
    assert metadata["cursor"].value == later
    with engine.connect() as connection:
        name = connection.execute(
            select(products_table.c.name).where(products_table.c.id == product_id)
        ).scalar()
    assert name == "Renamed"


def test_a_day_of_ten_thousand_orders_extracts_completely(
    database_url: str, engine: Engine
) -> None:
    with start_woocommerce_sandbox(
        seed=99, days=1, orders_per_day=12_000, end_date=SANDBOX_END_DATE
    ) as sandbox:
        created_days = Counter(r.created_local[:10] for r in sandbox.shop.orders.values())
        day = created_days.most_common(1)[0][0]
        result = dg.materialize(
            [woo_orders], partition_key=day, resources=resources(sandbox, database_url)
        )
        expected = orders_created_on(sandbox, day)
    assert len(expected) >= 10_000
    assert staged_ids(engine, day) == expected
    metadata = result.asset_materializations_for_node("woo_orders")[0].metadata
    assert metadata["api_requests"].value <= len(expected) / 100 + 1 + len(expected) / 1000


# --- the change sensor ----------------------------------------------------------------------


def sensor_tick(sandbox: WooSandbox, cursor: str | None) -> Any:
    """One tick of the code location's change sensor, connected to the sandbox shop only."""
    location = defs()
    context = dg.build_sensor_context(
        cursor=cursor,
        definitions=location,
        resources={
            "woocommerce": WooCommerceApi(
                shop_url=sandbox.url,
                consumer_key=sandbox.consumer_key,
                consumer_secret=sandbox.consumer_secret,
            )
        },
    )
    return location.resolve_sensor_def("woo_order_changes_sensor").evaluate_tick(context)


def test_the_change_sensor_requests_each_changed_day_once() -> None:
    with (
        start_woocommerce_sandbox(
            seed=21, days=5, orders_per_day=6, end_date=SANDBOX_END_DATE
        ) as sandbox,
        oauth_client(sandbox) as http,
    ):
        first = sensor_tick(sandbox, None)
        # The first tick only remembers "now": history is the backfill's job.
        assert first.run_requests == [] and first.skip_message
        assert sensor_tick(sandbox, first.cursor).run_requests == []

        pending = next(r for r in sandbox.shop.orders.values() if r.status == "pending")
        http.put(
            f"/wp-json/wc/v3/orders/{pending.id}", json={"status": "processing"}
        ).raise_for_status()
        changed = sensor_tick(sandbox, first.cursor)
        [request] = changed.run_requests
        assert request.partition_key == pending.created_local[:10]
        # Seen again within the overlap: the same run key, so Dagster starts no second run.
        again = sensor_tick(sandbox, changed.cursor)
        assert [r.run_key for r in again.run_requests] == [request.run_key]

        paid = next(r for r in sandbox.shop.orders.values() if r.status == "completed")
        http.post(
            f"/wp-json/wc/v3/orders/{paid.id}/refunds", json={"amount": "1.00", "reason": "test"}
        ).raise_for_status()
        product = next(p["id"] for p in sandbox.shop.products.values() if p["type"] == "simple")
        created = http.post(
            "/wp-json/wc/v3/orders",
            json={"status": "processing", "line_items": [{"product_id": product, "quantity": 1}]},
        )
        created.raise_for_status()
        later = sensor_tick(sandbox, changed.cursor)
        new_days = {r.partition_key for r in later.run_requests if r.run_key != request.run_key}
        assert new_days == {
            paid.created_local[:10],
            SHOP.partition_key_of(parse_gmt(created.json()["date_created_gmt"])),
        }


def test_customers_read_less_than_a_day_ago_are_not_read_again(
    woocommerce_sandbox: WooSandbox, database_url: str, engine: Engine
) -> None:
    day = "2026-10-22"
    assert materialize_day(woocommerce_sandbox, database_url, day).success
    again = materialize_day(woocommerce_sandbox, database_url, day)
    metadata = again.asset_materializations_for_node("woo_customers")[0].metadata
    referenced = metadata["customers referenced"].value
    assert referenced > 0
    assert metadata["customers read less than a day ago"].value == referenced
    assert metadata["api_requests"].value == 0
    assert metadata["dagster/row_count"].value == 0


def test_a_checkout_draft_is_unseen_until_it_becomes_an_order_then_its_day_is_requested() -> None:
    """WooCommerce lists drafts only for status=checkout-draft, so the sensor's status=any
    query skips a draft; once placed, the order has a real status and a new date_modified."""
    with (
        start_woocommerce_sandbox(
            seed=21, days=5, orders_per_day=6, end_date=SANDBOX_END_DATE
        ) as sandbox,
        oauth_client(sandbox) as http,
    ):
        first = sensor_tick(sandbox, None)
        product = next(p["id"] for p in sandbox.shop.products.values() if p["type"] == "simple")
        created = http.post(
            "/wp-json/wc/v3/orders",
            json={
                "status": "checkout-draft",
                "line_items": [{"product_id": product, "quantity": 1}],
            },
        )
        created.raise_for_status()
        draft = created.json()
        assert sensor_tick(sandbox, first.cursor).run_requests == []

        http.put(
            f"/wp-json/wc/v3/orders/{draft['id']}", json={"status": "processing"}
        ).raise_for_status()
        [request] = sensor_tick(sandbox, first.cursor).run_requests
        assert request.partition_key == SHOP.partition_key_of(parse_gmt(draft["date_created_gmt"]))
