"""The suite's shop pointed at the sandboxes: its settings for an Exact sandbox administration
and the connections of its assets, for the tests that run the pipeline's assets directly."""

from typing import Any

from woo_exact_pipeline.config import SyncConfig, load_config
from woo_exact_pipeline.defs.resources import ExactOnline, SyncDatabase, WooCommerceApi
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY

#: The suite's shop (sync.test.yaml): settings_for changes its administration, never its address.
SHOP_KEY = Shop(load_config()).key
STAGE = ("woo_orders", "woo_customers", "exact_journal_lines")


def settings_for(exact: ExactSandbox, **changes: Any) -> SyncConfig:
    base = load_config()  # the suite's sync.test.yaml: the sandbox administration's codes
    return base.model_copy(
        update={
            "exact": base.exact.model_copy(
                update={"base_url": exact.base_url, "division": exact.division, **changes}
            )
        }
    )


def resources(woo: WooSandbox, exact: ExactSandbox, url: str) -> dict:
    """The connections of the assets of a shop without a name (their plain resource keys)."""
    return {
        "woocommerce": WooCommerceApi(
            shop_url=woo.url, consumer_key=woo.consumer_key, consumer_secret=woo.consumer_secret
        ),
        "exact": ExactOnline(
            client_id=exact.client_id,
            client_secret=exact.client_secret,
            token_encryption_key=SECRET_KEY,
        ),
        "sync_database": SyncDatabase(url=url),
    }
