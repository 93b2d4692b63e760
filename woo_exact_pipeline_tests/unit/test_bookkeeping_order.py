"""The order and refund headers: the wc/v3 fields staging, the change sensor, the balance check
and the transform share, read one way; an unreadable field holds the problem naming it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.bookkeeping.order import (
    known,
    read_order,
    read_refund,
)
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline_tests.fixtures.bookkeeping import wc_order

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def reason(value: object) -> str:
    """The reason of the problem a field holds (failing when it holds a value)."""
    with pytest.raises(BookingProblem) as raised:
        known(value)
    return raised.value.reason


def test_a_complete_order_reads_into_its_header() -> None:
    raw = wc_order(
        4711,
        number="W-4711",
        status="completed",
        currency="eur",
        total="36.30",
        total_tax="6.30",
        customer_id=12,
        created_via="checkout",
        billing={"first_name": "Jan", "country": "NL", "email": "  Jan@Example.NL "},
        date_created_gmt="2026-03-02T09:15:00",
        date_modified_gmt="2026-03-03T14:00:05",
        date_completed="2026-03-03T15:00:05",
        refunds=[{"id": 81, "reason": "", "total": "-5.00"}, {"id": 82, "total": "-1.00"}],
    )
    order = read_order(raw)
    assert order.raw is raw
    assert (order.order_id, order.number, order.status) == (4711, "W-4711", "completed")
    assert order.currency == "EUR"
    assert order.total == Decimal("36.30") and order.total_tax == Decimal("6.30")
    assert order.created.gmt == datetime(2026, 3, 2, 9, 15)
    assert order.created_gmt() == datetime(2026, 3, 2, 9, 15)
    assert order.modified_gmt == datetime(2026, 3, 3, 14, 0, 5)
    assert order.paid and order.completed
    assert (order.customer_id, order.created_via) == (12, "checkout")
    assert order.billing["first_name"] == "Jan"
    assert order.email == "jan@example.nl"
    assert order.refund_ids == (81, 82)


def test_the_number_is_cleaned_and_falls_back_to_the_id() -> None:
    assert read_order(wc_order(12, number="  W&amp;12 ")).number == "W&12"
    assert read_order(wc_order(12, number=None)).number == "12"
    assert read_order(wc_order(12, number=1012)).number == "1012"


@pytest.mark.parametrize("order_id", ["abc", "12", True, None, 1.5])
def test_an_order_without_a_whole_number_for_an_id_is_refused(order_id: object) -> None:
    with pytest.raises(BookingProblem) as raised:
        read_order({"id": order_id, "total": "1.00"})
    assert raised.value.reason == f"the order id {order_id!r} is not a number"


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"total": None}, "total", "order.total is missing"),
        ({"total": "twelve"}, "total", "order.total: 'twelve' is not an amount"),
        ({"total": "NaN"}, "total", "order.total: 'NaN' is not a finite amount"),
        ({"total_tax": True}, "total_tax", "order.total_tax: True is not an amount"),
        ({"currency": "EURO"}, "currency", "currency 'EURO' is not a three-letter ISO code"),
        ({"currency": None}, "currency", "currency None is not a three-letter ISO code"),
        ({"currency": "E1R"}, "currency", "currency 'E1R' is not a three-letter ISO code"),
    ],
)
def test_an_unreadable_field_holds_the_problem_naming_it(
    fields: dict[str, Any], field: str, expected: str
) -> None:
    # The header is still made: a reader that never needs the field never sees the problem.
    order = read_order(wc_order(5, **fields))
    assert reason(getattr(order, field)) == expected
    assert order.order_id == 5 and order.created.gmt == datetime(2026, 3, 2, 9, 15)


def test_a_problem_is_raised_afresh_for_each_reader() -> None:
    order = read_order(wc_order(5, total="twelve"))
    with pytest.raises(BookingProblem) as first:
        known(order.total)
    with pytest.raises(BookingProblem) as second:
        known(order.total)
    assert first.value is not second.value
    assert first.value.details == second.value.details == {"field": "order.total"}


def test_the_creation_day_is_the_gmt_moments_day_in_the_shops_time_zone() -> None:
    # 23:30 GMT on 28 March 2026 is 00:30 on the 29th in Amsterdam (CET, GMT+1).
    order = read_order(wc_order(5, date_created_gmt="2026-03-28T23:30:00"))
    assert order.created.day(AMSTERDAM) == date(2026, 3, 29)
    assert order.created.day(ZoneInfo("America/Curacao")) == date(2026, 3, 28)


def test_a_gmt_date_with_a_zone_designator_is_converted_to_gmt() -> None:
    assert read_order(wc_order(5, date_created_gmt="2026-01-14T23:30:00Z")).created_gmt() == (
        datetime(2026, 1, 14, 23, 30)
    )
    plus_one = read_order(wc_order(5, date_created_gmt="2026-01-15T00:30:00+01:00"))
    assert plus_one.created_gmt() == datetime(2026, 1, 14, 23, 30)


def test_an_older_shop_sending_only_the_local_date_is_dated_by_it() -> None:
    order = read_order(wc_order(5, date_created_gmt=None, date_created="2026-03-29T00:30:00"))
    assert order.created.day(AMSTERDAM) == date(2026, 3, 29)
    # Staging and the change sensor cannot file it under a GMT day, and say which order.
    with pytest.raises(BookingProblem) as raised:
        order.created_gmt()
    assert raised.value.reason == "order 5 has no readable date_created_gmt"


def test_an_unreadable_creation_date_is_named_as_the_shop_shows_it() -> None:
    order = read_order(wc_order(5, date_created_gmt="2026-02-30T10:00:00"))
    with pytest.raises(BookingProblem) as raised:
        order.created.day(AMSTERDAM)
    assert raised.value.reason == "order.date_created is not a date"
    assert raised.value.details == {"value": "2026-03-02T10:15:00"}
    local_only = read_order(wc_order(5, date_created_gmt="", date_created="yesterday"))
    with pytest.raises(BookingProblem) as raised:
        local_only.created.day(AMSTERDAM)
    assert raised.value.reason == "order.date_created is not a date"
    assert raised.value.details == {"value": "yesterday"}


def test_an_order_without_any_creation_date_has_no_day() -> None:
    order = read_order(wc_order(5, date_created=None, date_created_gmt=None))
    assert order.created.day(AMSTERDAM) is None


def test_the_last_change_is_the_modification_else_the_creation() -> None:
    assert read_order(wc_order(5)).last_change_gmt() == datetime(2026, 3, 2, 9, 16)
    for modified in (None, "", "not a date"):
        order = read_order(wc_order(5, date_modified_gmt=modified))
        assert order.last_change_gmt() == datetime(2026, 3, 2, 9, 15)
    assert reason(read_order(wc_order(5, date_modified_gmt="soon")).modified_gmt) == (
        "order.date_modified_gmt is not a date"
    )


@pytest.mark.parametrize(
    ("dates", "paid", "completed"),
    [
        ({}, False, False),
        ({"date_paid": "2026-03-02T10:16:00"}, True, False),
        ({"date_paid_gmt": "2026-03-02T09:16:00"}, True, False),
        ({"date_completed_gmt": "2026-03-04T09:00:00"}, False, True),
        ({"date_paid": "", "date_completed": None}, False, False),
    ],
)
def test_paid_and_completed_come_from_either_date_twin(
    dates: dict[str, Any], paid: bool, completed: bool
) -> None:
    undated = {"date_paid": None, "date_paid_gmt": None}
    order = read_order(wc_order(5, **{**undated, **dates}))
    assert (order.paid, order.completed) == (paid, completed)


@pytest.mark.parametrize(
    ("value", "expected"), [(12, 12), ("12", 12), (None, 0), ("", 0), ("abc", 0), (True, 0)]
)
def test_a_customer_id_that_is_no_whole_number_is_a_guest(value: object, expected: int) -> None:
    assert read_order(wc_order(5, customer_id=value)).customer_id == expected


def test_only_listed_refunds_with_an_id_count() -> None:
    listed = [{"id": 81}, {"reason": "no id"}, "junk", {"id": "82"}, {"id": 83}]
    assert read_order(wc_order(5, refunds=listed)).refund_ids == (81, 83)
    assert read_order(wc_order(5, refunds={"81": {}})).refund_ids == ()
    assert read_order(wc_order(5, refunds=None)).refund_ids == ()


def test_billing_that_is_no_object_reads_as_empty() -> None:
    order = read_order({**wc_order(5), "billing": "Kerkstraat 1"})
    assert dict(order.billing) == {} and order.email is None
    no_address = {"country": "NL", "email": "no address"}
    assert read_order(wc_order(5, billing=no_address)).email is None


def test_a_refund_reads_into_its_header() -> None:
    raw = {"id": 71, "parent_id": 5, "amount": "12.10", "date_created_gmt": "2026-03-05T23:15:00"}
    refund = read_refund(raw)
    assert (refund.raw, refund.refund_id, refund.order_id) == (raw, 71, 5)
    assert refund.amount == Decimal("12.10")
    assert refund.created_gmt() == datetime(2026, 3, 5, 23, 15)
    assert refund.created.day(AMSTERDAM) == date(2026, 3, 6)


def test_an_unreadable_refund_field_is_named_with_the_refund() -> None:
    refund = read_refund({"id": 71, "parent_id": "5", "amount": "five"})
    assert refund.order_id is None
    assert reason(refund.amount) == "refund 71.amount: 'five' is not an amount"
    assert refund.created.day(AMSTERDAM) is None
    with pytest.raises(BookingProblem, match="refund 71 has no readable date_created_gmt"):
        refund.created_gmt()
    with pytest.raises(BookingProblem, match="the refund id 'x' is not a number"):
        read_refund({"id": "x"})


@given(
    moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    zone=st.sampled_from(["Europe/Amsterdam", "America/Curacao", "Australia/Lord_Howe"]),
)
def test_staging_files_an_order_under_the_day_the_transform_dates_its_sale(
    moment: datetime, zone: str
) -> None:
    moment = moment.replace(microsecond=0)
    order = read_order(wc_order(5, date_created_gmt=moment.isoformat()))
    time_zone = ZoneInfo(zone)
    # Staging: shop_day of the GMT moment; the transform: the header's creation day.
    assert shop_day(order.created_gmt(), time_zone) == order.created.day(time_zone)
    assert order.created.day(time_zone) == moment.replace(tzinfo=UTC).astimezone(time_zone).date()
