"""The first recorded WooCommerce shop booked with each of the other insertion types (sales
invoices, direct sales invoices, sales orders) into the stricter Exact sandbox: every paid
order and refund exactly once, with the total WooCommerce charged (the sales-entry run and its
figures, written by hand from the recorded JSON, are in test_recorded_shops_end_to_end)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from woo_exact_pipeline.sandbox.woocommerce import start_woocommerce_sandbox
from woo_exact_pipeline.sandbox.woocommerce.recorded import write_recorded_shop
from woo_exact_pipeline_tests.support.recorded_orders import RECORDED, skip_without_recordings
from woo_exact_pipeline_tests.support.recorded_shops import (
    FIRST_SHOP_ENTRIES,
    Synced,
    cli_for,
)

FIRST, LAST = date(2026, 10, 20), date(2026, 12, 1)

pytestmark = skip_without_recordings


@pytest.fixture(
    name="booked", scope="module", params=["sales_invoice", "direct_sales_invoice", "sales_order"]
)
def booked_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Synced]]:
    insertion_type: str = request.param
    tmp_path: Path = tmp_path_factory.mktemp(insertion_type)
    woo = start_woocommerce_sandbox(shop_data=write_recorded_shop(RECORDED, tmp_path / "shop.json"))
    cli = cli_for(woo, tmp_path, f"sqlite:///{tmp_path / 'sync.db'}", FIRST, LAST)
    try:
        cli.write_settings(
            woocommerce={"export_orders_from": FIRST, "export_orders_until": LAST},
            insertion_type=insertion_type,
            create_missing_items=True,
            invoice_status="processed",
        )
        done = cli.run("sync", "--config", str(cli.config), "--from", str(FIRST), "--to", str(LAST))
        assert "Traceback" not in done.stderr, done.stderr
        yield insertion_type, Synced(cli, done.returncode, done.stdout + done.stderr)
    finally:
        cli.exact.stop()
        cli.woo.stop()


def documents(insertion_type: str, synced_shop: Synced) -> list[dict[str, Any]]:
    if insertion_type == "sales_order":
        return synced_shop.cli.exact.booked("salesorder/SalesOrders")
    return synced_shop.cli.exact.sales_invoices()


def test_every_paid_order_and_refund_is_booked_once_with_the_total_charged(
    booked: tuple[str, Synced],
) -> None:
    insertion_type, synced_shop = booked
    found = documents(insertion_type, synced_shop)
    assert Counter(d["YourRef"] for d in found) == Counter(list(FIRST_SHOP_ENTRIES))
    totals = {d["YourRef"]: Decimal(str(d["AmountFC"])) for d in found}
    assert totals == {ref: Decimal(entry.total) for ref, entry in FIRST_SHOP_ENTRIES.items()}


def test_credit_notes_are_typed_as_exact_types_them(booked: tuple[str, Synced]) -> None:
    insertion_type, synced_shop = booked
    if insertion_type == "sales_order":
        pytest.skip("sales orders have no document type: a refund is an order of minus items")
    credit, sale = {"sales_invoice": (8021, 8020), "direct_sales_invoice": (8024, 8023)}[
        insertion_type
    ]
    for document in documents(insertion_type, synced_shop):
        assert document["Type"] == (credit if "-R" in document["YourRef"] else sale)
        assert document["Status"] == 50  # processed, as sync.yaml asks
