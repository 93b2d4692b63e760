"""The recorded shops' orders, as the real WooCommerce answered them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from woo_exact_pipeline.bookkeeping import TransformResult
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline_tests.fixtures.bookkeeping import BASE_SETTINGS, book

#: The recorded answers of a real WooCommerce, in the project's shared/ folder beside the clone.
RECORDED = Path(__file__).resolve().parents[3] / "shared" / "woocommerce-recorded"


FIRST_SHOP = RECORDED


#: Tests of the recordings are skipped where shared/ is not beside the clone (a CI clone).
skip_without_recordings = pytest.mark.skipif(
    not (FIRST_SHOP / "orders_catalogue.json").is_file(),
    reason=f"the recorded WooCommerce answers are not at {RECORDED} (the project's shared/ "
    "folder beside the clone holds them)",
)


def recorded_settings(**exact: Any) -> SyncConfig:
    """The suite's settings with the VAT codes a Dutch administration has (sync.test.yaml)."""
    data = copy.deepcopy(BASE_SETTINGS)
    data["exact"]["vat_mapping"] = {
        "domestic": {21: "2", 9: "1", 0: "4"},
        "oss": {
            "AT": {20: "ATH", 10: "ATM"},
            "BE": {21: "BEH", 6: "BEM"},
            "DE": {19: "DEH", 7: "DEL"},
            "FR": {20: "FRH", 5.5: "FRM"},
            "IE": {23: "IEH", 13.5: "IEL"},
        },
        "reverse_charge": "7",  # the VAT-exempt German business (order 43 of the first shop)
        "export": "6",  # US and CH
    }
    data["exact"].update(exact)
    return SyncConfig.model_validate(data)


def body(path: Path) -> Any:
    """The body of a recorded answer."""
    return json.loads(path.read_text(encoding="utf-8"))["response"]["body"]


@dataclass(frozen=True)
class RecordedShop:
    orders: list[dict[str, Any]]
    refunds: dict[int, list[dict[str, Any]]]

    def order(self, order_id: int) -> dict[str, Any]:
        return copy.deepcopy(next(order for order in self.orders if order["id"] == order_id))


def booked(shop: RecordedShop, config: SyncConfig | None = None) -> TransformResult:
    return book(copy.deepcopy(shop.orders), copy.deepcopy(shop.refunds), config or SETTINGS)


SETTINGS = recorded_settings()


def recorded_shop(folder: Path) -> RecordedShop:
    """Each order as GET /orders/{id} answered, and its refunds as GET /orders/{id}/refunds."""
    catalogue = json.loads((folder / "orders_catalogue.json").read_text(encoding="utf-8"))
    orders = [body(folder / entry["file"]) for entry in catalogue]
    refunds: dict[int, list[dict[str, Any]]] = {}
    for entry in catalogue:
        if entry["refund_ids"]:
            (listing,) = (folder / "refunds").glob(f"order_{entry['id']}_refunds_*.json")
            refunds[entry["id"]] = body(listing)
            assert sorted(r["id"] for r in refunds[entry["id"]]) == sorted(entry["refund_ids"])
    return RecordedShop(orders, refunds)
