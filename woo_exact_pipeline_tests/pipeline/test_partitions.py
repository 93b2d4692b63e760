"""Days in the shop's time zone: every moment belongs to exactly one partition, DST included."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_exact_pipeline.config import ConfigError, parse_config
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline_tests.support.settings import suite_shop

REPO = Path(__file__).resolve().parents[2]

#: The shop of the suite's sync.test.yaml: Europe/Amsterdam, orders exported from 2025-01-01.
SHOP = suite_shop()


def test_a_winter_day_in_amsterdam_starts_at_23_00_gmt_the_day_before() -> None:
    assert SHOP.day_bounds_gmt("2026-01-15") == (
        datetime(2026, 1, 14, 23, 0, tzinfo=UTC),
        datetime(2026, 1, 15, 23, 0, tzinfo=UTC),
    )


def test_the_spring_dst_day_has_23_hours_and_the_autumn_one_25() -> None:
    spring_start, spring_end = SHOP.day_bounds_gmt("2026-03-29")
    autumn_start, autumn_end = SHOP.day_bounds_gmt("2025-10-26")
    assert spring_end - spring_start == timedelta(hours=23)
    assert autumn_end - autumn_start == timedelta(hours=25)
    assert spring_start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert spring_end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_an_order_at_local_midnight_belongs_to_the_new_day() -> None:
    # 2026-03-29 00:00:00 Amsterdam (CET) is 2026-03-28 23:00:00 GMT.
    assert SHOP.partition_key_of(datetime(2026, 3, 28, 23, 0, 0)) == "2026-03-29"
    assert SHOP.partition_key_of(datetime(2026, 3, 28, 22, 59, 59)) == "2026-03-28"


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 18, 9, 30, tzinfo=UTC),
        datetime(2026, 10, 24, 22, 15, tzinfo=UTC),  # 00:15 on the 25-hour day, shop time
        datetime(2026, 12, 31, 23, 5, tzinfo=UTC),  # already New Year's Day in Amsterdam
    ],
)
def test_today_is_a_partition_so_intraday_changes_are_processed(now: datetime) -> None:
    assert SHOP.order_days.get_partition_keys(current_time=now)[-1] == SHOP.partition_key_of(now)


@given(st.datetimes(min_value=datetime(2025, 1, 2), max_value=datetime(2027, 12, 30)))
def test_every_moment_lies_in_exactly_one_day_and_the_days_touch(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    key = SHOP.partition_key_of(moment)
    start, end = SHOP.day_bounds_gmt(key)
    assert start <= moment < end
    day = date.fromisoformat(key)
    previous_end = SHOP.day_bounds_gmt((day - timedelta(days=1)).isoformat())[1]
    next_start = SHOP.day_bounds_gmt((day + timedelta(days=1)).isoformat())[0]
    assert previous_end == start and next_start == end


def test_the_days_the_extraction_fetches_are_dagsters_partitions() -> None:
    # The extraction asks WooCommerce for calendar.day_bounds_gmt; Dagster cuts the
    # partitions itself. Over three years with six DST changes they must agree.
    for key in SHOP.order_days.get_partition_keys(current_time=datetime(2027, 12, 31, tzinfo=UTC)):
        window = SHOP.order_days.time_window_for_partition_key(key)
        assert SHOP.day_bounds_gmt(key) == (
            window.start.astimezone(UTC),
            window.end.astimezone(UTC),
        )


def test_a_shop_exported_until_a_day_has_no_partitions_after_it_whatever_day_it_is() -> None:
    woocommerce = SHOP.settings.woocommerce.model_copy(
        update={"export_orders_from": date(2026, 11, 16), "export_orders_until": date(2026, 11, 18)}
    )
    shop = Shop(SHOP.settings.model_copy(update={"woocommerce": woocommerce}))
    three_days = ["2026-11-16", "2026-11-17", "2026-11-18"]
    assert shop.order_days.get_partition_keys(current_time=datetime(2027, 5, 1, tzinfo=UTC)) == (
        three_days
    )
    # Before its last day has come, today is the newest day, as without an end.
    midday = datetime(2026, 11, 17, 12, tzinfo=UTC)
    assert shop.order_days.get_partition_keys(current_time=midday) == three_days[:2]


def test_an_export_that_ends_before_it_starts_is_refused() -> None:
    text = (
        (REPO / "sync.example.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "  export_orders_from: 2026-01-01",
            "  export_orders_from: 2026-01-01\n  export_orders_until: 2025-12-31",
        )
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert raised.value.problems == [
        "woocommerce: export_orders_until 2025-12-31 is before export_orders_from 2026-01-01"
    ]
