"""The fast order query (bisection on sorted indexes) answers exactly what a full scan would."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.sandbox.woocommerce.params import ORDERS, validate
from woo_exact_pipeline.sandbox.woocommerce.shop import CHECKOUT_DRAFT, TRASH

# Bounds around the sandbox history, including the night of the DST change (25 October 2026).
moments = st.one_of(
    st.datetimes(min_value=datetime(2026, 10, 24, 22), max_value=datetime(2026, 10, 25, 4)),
    st.datetimes(min_value=datetime(2026, 10, 8), max_value=datetime(2026, 11, 12)),
).map(lambda moment: moment.replace(microsecond=0).isoformat())
optional_moments = st.none() | moments


@settings(max_examples=150, deadline=None)
@given(
    after=optional_moments,
    before=optional_moments,
    modified_after=optional_moments,
    modified_before=optional_moments,
    gmt=st.booleans(),
    orderby=st.sampled_from(["date", "modified", "id"]),
    order=st.sampled_from(["asc", "desc"]),
    status=st.sampled_from([None, "any", "completed,refunded", "processing"]),
    zulu=st.booleans(),
)
def test_the_order_query_matches_a_brute_force_scan(
    woocommerce_sandbox: WooSandbox,
    after: str | None,
    before: str | None,
    modified_after: str | None,
    modified_before: str | None,
    gmt: bool,
    orderby: str,
    order: str,
    status: str | None,
    zulu: bool,
) -> None:
    raw: dict[str, str | list[str]] = {"orderby": orderby, "order": order}
    for name, value in (
        ("after", after),
        ("before", before),
        ("modified_after", modified_after),
        ("modified_before", modified_before),
    ):
        if value is not None:
            raw[name] = value
    if gmt:
        raw["dates_are_gmt"] = "true"
    if status:
        raw["status"] = status
    if zulu and after is not None:
        raw["after"] = after + "Z"  # converted to site time first, as WordPress does
    values = validate(raw, ORDERS)
    answer = [record.id for record in woocommerce_sandbox.api._order_query(values)]

    suffix = "gmt" if gmt else "local"
    site_after = after
    if zulu and after is not None:
        utc = datetime.fromisoformat(after + "+00:00")
        site_after = utc.astimezone(woocommerce_sandbox.shop.settings.zone).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
    statuses = set((status or "any").split(","))
    expected = [
        record
        for record in woocommerce_sandbox.shop.orders.values()
        # "any" leaves out trashed orders and checkout drafts, as WooCommerce does.
        if (
            ("any" in statuses and record.status not in (TRASH, CHECKOUT_DRAFT))
            or record.status in statuses
        )
        and (site_after is None or getattr(record, f"created_{suffix}") > site_after)
        and (before is None or getattr(record, f"created_{suffix}") < before)
        and (modified_after is None or getattr(record, f"modified_{suffix}") > modified_after)
        and (modified_before is None or getattr(record, f"modified_{suffix}") < modified_before)
    ]
    column = {"date": "created_local", "modified": "modified_local"}.get(orderby)
    expected.sort(
        key=lambda record: (getattr(record, column) if column else "", record.id),
        reverse=order == "desc",
    )
    assert answer == [record.id for record in expected]


def test_gmt_bounds_tell_the_two_runs_of_the_repeated_dst_hour_apart(
    fresh_woocommerce_sandbox: WooSandbox,
) -> None:
    """02:30 happens twice on 25 October 2026: at 00:30 and at 01:30 GMT."""
    shop = fresh_woocommerce_sandbox.shop
    template = next(iter(shop.orders.values())).document()
    for order_id, gmt in ((900001, "2026-10-25T00:30:00"), (900002, "2026-10-25T01:30:00")):
        shop.put_order(
            {
                **template,
                "id": order_id,
                "number": str(order_id),
                "date_created": "2026-10-25T02:30:00",
                "date_created_gmt": gmt,
                "date_modified": "2026-10-25T02:30:00",
                "date_modified_gmt": gmt,
            }
        )

    def found(**params: str) -> list[int]:
        values = validate({"orderby": "date", "order": "asc", **params}, ORDERS)
        return [
            record.id
            for record in fresh_woocommerce_sandbox.api._order_query(values)
            if record.id >= 900001
        ]

    first_run = {"after": "2026-10-25T00:00:00", "before": "2026-10-25T01:00:00"}
    second_run = {"after": "2026-10-25T01:00:00", "before": "2026-10-25T02:00:00"}
    assert found(**first_run, dates_are_gmt="true") == [900001]
    assert found(**second_run, dates_are_gmt="true") == [900002]
    # Local bounds resolve the repeated hour to its second pass, as the recorded real shop did
    # (shared/woocommerce-recorded/orders/dates_after_before_local_dst_hour.json).
    assert found(after="2026-10-25T02:00:00", before="2026-10-25T03:00:00") == [900002]
