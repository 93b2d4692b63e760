"""A catalogue of bad and unusual orders through the real pipeline: the sandbox shop serves them
among a normal day's orders, Dagster extracts, transforms and loads them into the Exact sandbox.
Each is booked correctly (read back from Exact by YourRef, to the cent) or quarantined or held
back with a reason a bookkeeper can act on, and the rest of its day books normally.

The same mistakes are tested one by one in test_bookkeeping_bad_input.py; here they travel the
whole way: WooCommerce's JSON, the staging tables, the journal, the ledger and Exact. The shop
also answers once with a firewall's HTML page and once with JSON cut off halfway.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from woo_exact_pipeline.store.schema import bookings, order_problems
from woo_exact_pipeline_tests.fixtures.bookkeeping import address
from woo_exact_pipeline_tests.support.bad_orders import (
    hundred_percent_coupon,
    simple_order,
)
from woo_exact_pipeline_tests.support.chaos import deployment
from woo_exact_pipeline_tests.support.orders import (
    DE_TAX_LINES,
    NL_TAX_LINES,
    business_order,
    german_order,
)

Order = dict[str, Any]
FIRST_ID = 900_001
BOOKED_STATUSES = ("processing", "completed")


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[Order], Order]
    #: "booked" with the total Exact must hold, or the words the reason must contain.
    booked_total: str | None = None
    reason: str | None = None


def fields(**values: Any) -> Callable[[Order], Order]:
    return lambda order: order | values


def line(**values: Any) -> Callable[[Order], Order]:
    def change(order: Order) -> Order:
        order["line_items"][0].update(values)
        return order

    return change


def whole(make: Callable[[], Order]) -> Callable[[Order], Order]:
    """Replace the simple order by another one, keeping its id, number and dates."""
    keep = ("id", "number", "order_key", "date_created", "date_created_gmt", "date_modified")
    keep += ("date_modified_gmt", "date_paid", "date_paid_gmt")
    return lambda order: make() | {name: order[name] for name in keep}


def many_lines(order: Order) -> Order:
    order["line_items"] = [
        {**order["line_items"][0], "id": number, "name": f"Mok {number}"}
        for number in range(1, 501)
    ]
    return order | {"total": "6050.00", "total_tax": "1050.00", "cart_tax": "1050.00"}


def duplicate_skus(order: Order) -> Order:
    order["line_items"].append({**order["line_items"][0], "id": 2, "name": "Mok (blauw)"})
    return order | {"total": "24.20", "total_tax": "4.20", "cart_tax": "4.20"}


def zero_total(order: Order) -> Order:
    order["line_items"][0].update(
        subtotal="0.00", subtotal_tax="0.00", total="0.00", total_tax="0.00", price=0,
        taxes=[{"id": 1, "total": "0", "subtotal": "0"}],
    )  # fmt: skip
    return order | {"total": "0.00", "total_tax": "0.00", "cart_tax": "0.00"}


def zero_quantity_with_amount(order: Order) -> Order:
    order["line_items"].append(
        {"id": 2, "name": "Gratis sticker", "product_id": 6, "quantity": 0, "subtotal": "1.00",
         "subtotal_tax": "0.00", "total": "1.00", "total_tax": "0.00", "taxes": [], "sku": ""}
    )  # fmt: skip
    return order


def emoji_and_right_to_left(order: Order) -> Order:
    order["line_items"][0]["name"] = "قهوة عربية ☕ קפה " + "👨‍👩‍👧‍👦" * 20
    order["billing"] |= {"first_name": "Zoë 🌷" * 12, "last_name": "שרה"}
    return order


def compound_taxes(order: Order) -> Order:
    order["line_items"][0]["taxes"] = [
        {"id": 1, "total": "2.1", "subtotal": "2.1"},
        {"id": 2, "total": "0.9", "subtotal": "0.9"},
    ]
    return order | {"tax_lines": NL_TAX_LINES}


def no_rate_percent(order: Order) -> Order:
    tax_line = {key: value for key, value in NL_TAX_LINES[0].items() if key != "rate_percent"}
    return order | {"tax_lines": [tax_line]}


def unmapped_oss_rate() -> Order:
    order = german_order()
    order["tax_lines"] = [{**DE_TAX_LINES[0], "rate_percent": 16.0}, DE_TAX_LINES[1]]
    return order


def nl(**changes: str) -> dict[str, str]:
    return address("NL", **changes)


CASES = [
    Case("a normal order, for comparison", fields(), booked_total="12.10"),
    Case("total missing", fields(total=None), reason="order.total is missing"),
    Case("total is a list", fields(total=["12.10"]), reason="is not an amount"),
    Case("total is a word", fields(total="twelve"), reason="'twelve' is not an amount"),
    Case("total is NaN", fields(total="NaN"), reason="not a finite amount"),
    Case("total absurdly large", fields(total="1e30"), reason="out of range"),
    Case("negative total", fields(total="-12.10"), reason="is negative"),
    Case("total_tax is a boolean", fields(total_tax=True), reason="is not an amount"),
    Case("currency not a code", fields(currency="EURO"), reason="three-letter ISO code"),
    Case("currency missing", fields(currency=None), reason="three-letter ISO code"),
    Case("tax rate id not a number", fields(tax_lines=[{"rate_id": "x"}]), reason="rate_id"),
    Case(
        "negative quantity",
        line(quantity=-1, total="-10.00", total_tax="-2.10"),
        reason="quantity -1",
    ),
    Case("zero quantity with an amount", zero_quantity_with_amount, reason="quantity 0"),
    Case(
        "unknown country",
        fields(billing={**address("XX"), "email": "xx@example.nl"}, shipping=address("XX")),
        reason="'XX' is not a known two-letter country code",
    ),
    Case(
        "country written out",
        fields(
            billing={**address("Netherlands"), "email": "nl@example.nl"},
            shipping=address("Netherlands"),
        ),
        reason="'Netherlands' is not a known two-letter country code",
    ),
    Case(
        "no country at all",
        fields(billing={**address(""), "email": "none@example.nl"}, shipping=address("")),
        reason="no country",
    ),
    Case("lowercase country", fields(shipping=address("nl")), booked_total="12.10"),
    Case(
        "unmapped domestic tax rate",
        fields(tax_lines=[{**NL_TAX_LINES[0], "rate_percent": "13.5"}]),
        reason="add one under exact.vat_mapping.domestic",
    ),
    Case(
        "unmapped OSS tax rate",
        whole(unmapped_oss_rate),
        reason="add one under exact.vat_mapping.oss.DE",
    ),
    Case("two tax rates on one line", compound_taxes, reason="2 tax rates at once"),
    Case("tax rate without its percentage", no_rate_percent, reason="did not report rate_percent"),
    Case("VAT without a tax rate", line(taxes=[]), reason="no tax rate"),
    Case("zero total", zero_total, booked_total="0.00"),
    Case("100% coupon", whole(hundred_percent_coupon), booked_total="0.00"),
    Case("other currency", fields(currency="CHF"), reason="does not book in"),
    Case("duplicate SKUs", duplicate_skus, booked_total="24.20"),
    Case("500 lines", many_lines, booked_total="6050.00"),
    Case("emoji and right-to-left text", emoji_and_right_to_left, booked_total="12.10"),
    Case(
        "overlong names",
        fields(billing={**nl(first_name="A" * 300, company="B" * 300), "email": "l@example.nl"}),
        booked_total="12.10",
    ),
    Case("overlong order number", fields(number="W" * 31), reason="longer than Exact's 30"),
    Case(
        "HTML in a product name",
        line(name="<script>alert('x')</script><b>Mok</b> &amp; schotel"),
        booked_total="12.10",
    ),
    Case(
        "no e-mail to recognise the customer by",
        fields(billing={**nl(), "email": ""}),
        reason="no e-mail address",
    ),
    Case("German consumer (OSS)", whole(german_order), booked_total="67.40"),
    Case("EU business, reverse charge", whole(lambda: business_order("BE")), booked_total="211.94"),
    Case("export outside the EU", whole(lambda: business_order("US")), booked_total="211.94"),
    Case(
        "lines and total disagree by 5 euro",
        fields(total="17.10"),
        reason="17.10",
    ),
]


def catalogue_orders(day: date) -> list[Order]:
    noon = datetime.combine(day, datetime.min.time()) + timedelta(hours=12)
    gmt = noon.replace(tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(ZoneInfo("UTC"))
    stamps = {
        "date_created": noon.isoformat(),
        "date_modified": noon.isoformat(),
        "date_paid": noon.isoformat(),
        "date_created_gmt": gmt.replace(tzinfo=None).isoformat(),
        "date_modified_gmt": gmt.replace(tzinfo=None).isoformat(),
        "date_paid_gmt": gmt.replace(tzinfo=None).isoformat(),
    }
    orders = []
    for order_id, case in enumerate(CASES, start=FIRST_ID):
        base = simple_order(
            order_id, billing={**address("NL"), "email": f"klant{order_id}@example.nl"}, **stamps
        )
        orders.append(case.change(copy.deepcopy(base)))
    return orders


@pytest.mark.chaos
def test_a_catalogue_of_bad_and_unusual_orders_is_booked_or_held_with_a_reason(
    tmp_path: Path,
) -> None:
    assert len(CASES) >= 30
    with deployment(tmp_path, days=3, orders_per_day=15, seed=5) as world:
        shop = world.sandboxes.woocommerce.shop
        with shop.lock:
            day = min(date.fromisoformat(o.created_local[:10]) for o in shop.orders.values())
            paid = [
                o.document()
                for o in shop.orders.values()
                if o.status in BOOKED_STATUSES and o.created_local.startswith(day.isoformat())
            ]
            normal = {str(order["number"]) for order in paid if order["currency"] == "EUR"}
        for order in catalogue_orders(day):
            shop.put_order(order)
        # The first answers: a firewall's page (fails the run; retried), then JSON cut off.
        world.sandboxes.woocommerce.faults.queue("waf", "truncated")

        run = world.run_pipeline(attempts=3)

        assert run.returncode == 0, run.outcome
        assert run.outcome["failed_runs"] >= 1
        assert "web page instead of data" in world.log_file.read_text(encoding="utf-8")
        in_exact = {entry["YourRef"]: entry for entry in world.sandboxes.exact.sales_entries()}
        with world.engine() as engine, engine.connect() as connection:
            problems = {
                row.order_number: row.reason for row in connection.execute(select(order_problems))
            }
            refused = {
                row.order_number: row.error
                for row in connection.execute(select(bookings).where(bookings.c.status != "booked"))
            }
        outcomes = {}
        for order_id, case in enumerate(CASES, start=FIRST_ID):
            number = "W" * 31 if case.name == "overlong order number" else str(order_id)
            if case.booked_total is not None:
                entry = in_exact.get(number)
                outcomes[case.name] = entry and Decimal(str(entry["AmountFC"]))
                assert outcomes[case.name] == Decimal(case.booked_total), case.name
            else:
                assert case.reason is not None
                reason = problems.get(number) or refused.get(number) or ""
                assert case.reason in reason, (case.name, reason)
                assert number not in in_exact, case.name
        # The rest of the day books normally: every paid order of the shop's own.
        assert len(normal) >= 5
        assert normal <= set(in_exact), normal - set(in_exact)
