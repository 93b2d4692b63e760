"""WooCommerce extraction: the shop's orders, customers, products and tax rates, staged in the
sync database, where an analyst can query them with SQL."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg

from woo_exact_pipeline.defs.errors import failures_named_by_cause
from woo_exact_pipeline.defs.shops import DAYS_PER_RUN, AssetOptions, Shop
from woo_exact_pipeline.markdown import markdown_table
from woo_exact_pipeline.store import staging
from woo_exact_pipeline.store.cursors import read_cursor, write_cursor

RETRY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
PREVIEW_ROWS = 10
CUSTOMERS_CURRENT_FOR = timedelta(days=1)


def woocommerce_assets(shop: Shop) -> list[dg.AssetsDefinition]:
    extraction: AssetOptions = {
        "key_prefix": shop.key_prefix,
        "group_name": shop.qualified("woocommerce"),
        "kinds": {"woocommerce", "sql"},
        "pool": shop.qualified("woocommerce_api"),
        "owners": ["team:data-engineering"],
        "tags": {"system": "woocommerce"},
        "retry_policy": RETRY,
        # Extraction never needs Exact's app or tokens.
        "required_resource_keys": shop.resource_keys("woocommerce"),
    }
    days: AssetOptions = {
        "partitions_def": shop.order_days,
        "backfill_policy": dg.BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN),
    }

    @dg.asset(
        name="woo_orders",
        description=(
            "Every order created on the partition's day in the shop's time zone, in any status, "
            "with its refunds, as WooCommerce returns them (tables woo_orders, woo_refunds). "
            "Re-running a day replaces its rows, so it is always safe."
        ),
        metadata=ORDERS_METADATA,
        **days,
        **extraction,
    )
    def woo_orders(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return extract_orders(context, shop)

    @dg.asset(
        name="woo_customers",
        deps=[woo_orders],
        description=(
            "The registered customers that the day's orders reference (table woo_customers). "
            "Guests (customer_id 0) exist only inside their orders."
        ),
        **days,
        **extraction,
    )
    def woo_customers(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return extract_customers(context, shop)

    @dg.asset(
        name="woo_products",
        description=(
            "Products and their variations (SKU, name, tax class), table woo_products. Refreshed "
            "incrementally: only what changed since the stored cursor is read again."
        ),
        **extraction,
    )
    def woo_products(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return extract_products(context, shop)

    @dg.asset(
        name="woo_tax_rates",
        description="The shop's tax rates and tax classes (table woo_tax_rates), read in full.",
        **extraction,
    )
    def woo_tax_rates(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return extract_tax_rates(context, shop)

    return [woo_orders, woo_customers, woo_products, woo_tax_rates]


ORDERS_METADATA = {
    "dagster/table_name": "woo_orders",
    "dagster/column_schema": dg.TableSchema(
        columns=[
            dg.TableColumn("id", "integer", description="WooCommerce order id"),
            dg.TableColumn("partition_date", "date", description="shop-local creation day"),
            dg.TableColumn("number", "text", description="the order number customers see"),
            dg.TableColumn("status", "text"),
            dg.TableColumn("currency", "text"),
            dg.TableColumn("total", "decimal", description="including VAT, to the cent"),
            dg.TableColumn("customer_id", "integer", description="0 for a guest"),
            dg.TableColumn("created_via", "text", description="checkout, admin, pos-rest-api"),
            dg.TableColumn("date_created_gmt", "timestamp"),
            dg.TableColumn("date_modified_gmt", "timestamp"),
            dg.TableColumn("raw", "json", description="the order as the REST API returns it"),
        ]
    ),
}


def extract_orders(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    keys = context.partition_keys
    staged = staging.RangeStaging(
        shop.sync_database(context).engine(),
        shop.key,
        [date.fromisoformat(key) for key in keys],
        shop.time_zone,
    )
    preview: list[dict] = []
    with (
        failures_named_by_cause(),
        shop.woocommerce(context).client(notify=context.log.warning) as client,
    ):
        # One paged read for the whole range: a run of DAYS_PER_RUN days costs about one
        # request per 100 orders, not three requests a day.
        for orders in client.orders_created_between(
            shop.day_bounds_gmt(keys[0])[0], shop.day_bounds_gmt(keys[-1])[1]
        ):
            staged.save_orders(orders)
            preview += orders[: PREVIEW_ROWS - len(preview)]
        staged.save_refunds(client.refunds(staged.refunded_orders))
        requests = client.request_count
    summary = staged.finish()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": summary.orders,
            "refunds": summary.refunds,
            "orders removed since the last extraction": summary.removed,
            "api_requests": requests,
            "orders by status": dg.MetadataValue.md(_status_table(summary.status_counts)),
            "revenue (orders in any status)": _revenue_text(summary.status_counts),
            "preview": dg.MetadataValue.md(_order_preview(preview)),
        }
    )


def extract_customers(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    engine = shop.sync_database(context).engine()
    with engine.connect() as connection:
        customer_ids = {
            customer_id
            for partition_key in context.partition_keys
            for customer_id in staging.customer_ids_of_partition(
                connection, shop.key, date.fromisoformat(partition_key)
            )
        }
        # The customers endpoint has no date filter: what was read in the last day is current
        # enough, so a backfill reads each customer once instead of once per run.
        current = staging.customers_extracted_since(
            connection, shop.key, customer_ids, datetime.now(UTC) - CUSTOMERS_CURRENT_FOR
        )
    extracted = 0
    with (
        failures_named_by_cause(),
        shop.woocommerce(context).client(notify=context.log.warning) as client,
    ):
        for customers in client.customers(customer_ids - current):
            with engine.begin() as connection:
                staging.save_customers(connection, shop.key, customers)
            extracted += len(customers)
        requests = client.request_count
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": extracted,
            "customers referenced": len(customer_ids),
            "customers read less than a day ago": len(current),
            "api_requests": requests,
        }
    )


def extract_products(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    engine = shop.sync_database(context).engine()
    cursor_name = f"woo_products:{shop.key}"
    with engine.connect() as connection:
        stored = read_cursor(connection, cursor_name)
    # WooCommerce compares whole seconds, exclusively: re-read the cursor's own second, in
    # case another product changed in it after the last read.
    since = datetime.fromisoformat(stored) - timedelta(seconds=1) if stored else None
    extracted = 0
    newest = stored
    with (
        failures_named_by_cause(),
        shop.woocommerce(context).client(notify=context.log.warning) as client,
    ):
        for products in client.products_modified_after(since):
            variations = [
                {**variation, "parent_id": product["id"]}
                for product in products
                if product.get("type") == "variable"
                for page in client.variations(product["id"])
                for variation in page
            ]
            with engine.begin() as connection:
                staging.save_products(connection, shop.key, products + variations)
            extracted += len(products) + len(variations)
            modified = [p["date_modified_gmt"] for p in products if p.get("date_modified_gmt")]
            newest = max([newest or "", *modified]) or None
        requests = client.request_count
    if newest:
        with engine.begin() as connection:
            write_cursor(connection, cursor_name, newest)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": extracted,
            "read since": stored or "the beginning",
            "cursor": newest or "",
            "api_requests": requests,
        }
    )


def extract_tax_rates(context: dg.AssetExecutionContext, shop: Shop) -> dg.MaterializeResult:
    with (
        failures_named_by_cause(),
        shop.woocommerce(context).client(notify=context.log.warning) as client,
    ):
        rates = [rate for page in client.tax_rates() for rate in page]
        classes = client.tax_classes()
        requests = client.request_count
    with shop.sync_database(context).engine().begin() as connection:
        staging.replace_tax_rates(connection, shop.key, rates)
    table = markdown_table(
        ("country", "class", "rate %", "name"),
        (
            (
                rate.get("country") or "*",
                rate.get("class") or "standard",
                rate.get("rate"),
                rate.get("name"),
            )
            for rate in rates
        ),
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rates),
            "tax classes": ", ".join(c.get("slug", "") for c in classes),
            "api_requests": requests,
            "rates": dg.MetadataValue.md(table),
        }
    )


def _status_table(counts: list[staging.StatusCount]) -> str:
    rows = [(c.status, c.currency, c.orders, f"{c.total:.2f}") for c in counts]
    return markdown_table(("status", "currency", "orders", "total"), rows)


def _revenue_text(counts: list[staging.StatusCount]) -> str:
    totals: dict[str, Decimal] = {}
    for count in counts:
        totals[count.currency] = totals.get(count.currency, Decimal(0)) + count.total
    return ", ".join(f"{currency} {total:.2f}" for currency, total in sorted(totals.items()))


def _order_preview(orders: list[dict]) -> str:
    rows = [
        (
            order.get("number"),
            order.get("status"),
            order.get("date_created"),
            f"{order.get('currency')} {order.get('total')}",
            _customer_name(order),
        )
        for order in orders
    ]
    return markdown_table(("order", "status", "created (shop time)", "total", "customer"), rows)


def _customer_name(order: dict) -> str:
    billing = order.get("billing") or {}
    name = " ".join(filter(None, (billing.get("first_name"), billing.get("last_name"))))
    return name[:60]
