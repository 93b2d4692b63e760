"""A `--shop-data` shop built from the recorded answers of a real WooCommerce.

`shared/woocommerce-recorded/` (and its `shop2_tax_exclusive/`) hold what a genuine WooCommerce
answered: every order by id (`orders_catalogue.json` names the file of each), the store-wide
refunds, the customers including the administrator, products, variations, tax rates and
classes, and the shop's stored options (`settings.json`). This turns one such folder into the
sandbox's shop file, so the sandbox serves that very shop and can be held to the recordings:

    python -m woo_exact_pipeline.sandbox.woocommerce.recorded ../shared/woocommerce-recorded s.json
    woo-exact sandbox --shop-data s.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from woo_exact_pipeline.sandbox.woocommerce.shop_file import ShopDataError


def _body(folder: Path, relative: str) -> Any:
    path = folder / relative
    try:
        recording = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ShopDataError(f"cannot read the recording {path}: {error}") from error
    return recording["response"]["body"]


def _without_links(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "_links"}


def _settings(folder: Path) -> dict[str, Any]:
    options = json.loads((folder / "settings.json").read_text(encoding="utf-8"))["options"]
    return {
        "timezone": options["timezone_string"],
        "currency": options["woocommerce_currency"],
        "decimals": int(options["woocommerce_price_num_decimals"]),
        "prices_include_tax": options["woocommerce_prices_include_tax"] == "yes",
        "round_at_subtotal": options["woocommerce_tax_round_at_subtotal"] == "yes",
        "tax_based_on": options["woocommerce_tax_based_on"],
        "pdf_invoices": False,  # the recorded shops ran WooCommerce alone
    }


def _variations(folder: Path, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each variable product's recorded `/products/{id}/variations`, named after the product."""
    variations = []
    for product in products:
        if not product.get("variations"):
            continue
        listing = folder / "products" / f"product_{product['id']}_variations.json"
        if not listing.exists():
            raise ShopDataError(f"product {product['id']} has variations but {listing} is missing")
        for variation in _body(folder, str(listing.relative_to(folder))):
            variations.append({**_without_links(variation), "parent_id": product["id"]})
    return variations


def recorded_shop_data(folder: Path) -> dict[str, Any]:
    """The shop file of one recorded shop folder."""
    catalogue = json.loads((folder / "orders_catalogue.json").read_text(encoding="utf-8"))
    orders = [_without_links(_body(folder, entry["file"])) for entry in catalogue]
    refunds = []
    for refund in _body(folder, "refunds/list_all.json"):
        # The store-wide listing names the order in parent_id; the shop file in order_id.
        record = {k: v for k, v in _without_links(refund).items() if k != "parent_id"}
        refunds.append({**record, "order_id": refund["parent_id"]})
    products = [
        _without_links(product) for product in _body(folder, "products/list_status_any.json")
    ]
    return {
        "settings": _settings(folder),
        "orders": orders,
        "refunds": refunds,
        "customers": [_without_links(c) for c in _body(folder, "customers/list_role_all.json")],
        "products": products,
        "variations": _variations(folder, products),
        "taxes": [_without_links(tax) for tax in _body(folder, "taxes/list.json")],
        "tax_classes": [_without_links(c) for c in _body(folder, "taxes/classes.json")],
        "coupons": [_without_links(c) for c in _body(folder, "coupons/list.json")],
    }


def write_recorded_shop(folder: Path, target: Path) -> Path:
    """Write the shop file of `folder` to `target` (for `woo-exact sandbox --shop-data`)."""
    target.write_text(json.dumps(recorded_shop_data(folder), indent=1), encoding="utf-8")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(
            "usage: python -m woo_exact_pipeline.sandbox.woocommerce.recorded FOLDER OUT"
        )
    print(write_recorded_shop(Path(sys.argv[1]), Path(sys.argv[2])))
