"""`--live`: keep placing and progressing orders every few seconds, so sensors see changes."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.sandbox.woocommerce.documents import refunded_amount
from woo_exact_pipeline.sandbox.woocommerce.money import round_half_up
from woo_exact_pipeline.sandbox.woocommerce.shop import Shop
from woo_exact_pipeline.sandbox.woocommerce.writes import (
    create_order,
    create_refund,
    ensure_invoice,
    update_order,
)

LIVE_BUYERS = (
    {
        "first_name": "Sanne",
        "last_name": "de Vries",
        "city": "Utrecht",
        "postcode": "3511 LX",
        "address_1": "Oudegracht 12",
        "country": "NL",
        "email": "sanne@example.nl",
    },
    {
        "first_name": "Jürgen",
        "last_name": "Müller",
        "city": "Köln",
        "postcode": "50667",
        "address_1": "Hohe Straße 3",
        "country": "DE",
        "email": "juergen@example.de",
    },
    {
        "first_name": "Chloë",
        "last_name": "Peeters",
        "city": "Gent",
        "postcode": "9000",
        "address_1": "Korenmarkt 8",
        "country": "BE",
        "email": "chloe@example.be",
    },
)


class LiveShop:
    """A background thread that behaves like customers and a shop owner."""

    def __init__(self, shop: Shop, *, interval_seconds: float, seed: int) -> None:
        self.shop = shop
        self.interval_seconds = interval_seconds
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="woo-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            self.step(datetime.now(UTC).replace(microsecond=0))

    def step(self, now: datetime) -> None:
        """One tick: a new order, and one existing order moves one step further."""
        self.place(now)
        self.progress(now)

    def place(self, now: datetime) -> dict[str, Any]:
        rng = self.rng
        products = [
            product for product in self.shop.products.values() if product["status"] == "publish"
        ]
        lines = []
        for product in rng.sample(products, k=min(len(products), rng.randint(1, 3))):
            variation_ids = product.get("variations") or []
            lines.append(
                {
                    "product_id": product["id"],
                    "variation_id": rng.choice(variation_ids) if variation_ids else 0,
                    "quantity": rng.randint(1, 3),
                }
            )
        buyer = rng.choice(LIVE_BUYERS)
        body = {
            "payment_method": "mollie_wc_gateway_ideal",
            "payment_method_title": "iDEAL",
            "created_via": "checkout",
            "billing": buyer,
            "shipping": {k: v for k, v in buyer.items() if k != "email"},
            "line_items": lines,
            "shipping_lines": [
                {
                    "method_id": "flat_rate",
                    "method_title": "Verzenden met PostNL",
                    "instance_id": "1",
                    "total": "4.95",
                }
            ],
        }
        return create_order(self.shop, body, now)

    def progress(self, now: datetime) -> None:
        rng = self.rng
        with self.shop.lock:
            candidates = [
                record.id
                for record in self.shop.orders.values()
                if record.status in ("pending", "on-hold", "processing", "completed")
            ][-200:]
            if not candidates:
                return
            order_id = rng.choice(candidates)
            status = self.shop.orders[order_id].status
        if status in ("pending", "on-hold"):
            next_status = "processing" if rng.random() < 0.85 else "cancelled"
            update_order(self.shop, order_id, {"status": next_status}, now)
        elif status == "processing":
            update_order(self.shop, order_id, {"status": "completed"}, now)
            ensure_invoice(self.shop, order_id, now)
        elif rng.random() < 0.2:
            order = self.shop.orders[order_id].document()
            left = Decimal(order["total"]) - refunded_amount(order)
            amount = round_half_up(Decimal(order["total"]) * Decimal("0.1"))
            if Decimal("0") < amount <= left:
                create_refund(
                    self.shop,
                    order_id,
                    {"amount": str(amount), "reason": "Tegemoetkoming", "api_refund": False},
                    now,
                )
