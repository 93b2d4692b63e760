"""The shop's calendar: a moment's shop-local day and a day's GMT bounds, DST days included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woo_exact_pipeline.bookkeeping.calendar import day_bounds_gmt, shop_day

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def gmt(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_a_winter_day_in_amsterdam_runs_from_23_00_gmt_the_day_before() -> None:
    assert day_bounds_gmt(date(2026, 1, 15), AMSTERDAM) == (
        gmt(2026, 1, 14, 23, 0),
        gmt(2026, 1, 15, 23, 0),
    )


def test_a_summer_day_in_amsterdam_runs_from_22_00_gmt_the_day_before() -> None:
    assert day_bounds_gmt(date(2026, 7, 1), AMSTERDAM) == (
        gmt(2026, 6, 30, 22, 0),
        gmt(2026, 7, 1, 22, 0),
    )


def test_the_spring_dst_day_has_23_hours() -> None:
    # 29 March 2026: at 02:00 CET the clocks jump to 03:00 CEST.
    start, end = day_bounds_gmt(date(2026, 3, 29), AMSTERDAM)
    assert (start, end) == (gmt(2026, 3, 28, 23, 0), gmt(2026, 3, 29, 22, 0))
    assert end - start == timedelta(hours=23)


def test_the_autumn_dst_day_has_25_hours() -> None:
    # 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET.
    start, end = day_bounds_gmt(date(2026, 10, 25), AMSTERDAM)
    assert (start, end) == (gmt(2026, 10, 24, 22, 0), gmt(2026, 10, 25, 23, 0))
    assert end - start == timedelta(hours=25)


def test_an_order_at_23_30_gmt_belongs_to_the_next_day_in_amsterdam() -> None:
    assert shop_day(gmt(2026, 1, 14, 23, 30), AMSTERDAM) == date(2026, 1, 15)
    assert shop_day(gmt(2026, 1, 14, 22, 59, 59), AMSTERDAM) == date(2026, 1, 14)
    # In summer (CEST, GMT+2) the local day already turned at 22:00 GMT.
    assert shop_day(gmt(2026, 7, 1, 22, 0), AMSTERDAM) == date(2026, 7, 2)
    assert shop_day(gmt(2026, 7, 1, 21, 59, 59), AMSTERDAM) == date(2026, 7, 1)


def test_a_naive_moment_is_gmt_as_woocommerces_gmt_dates() -> None:
    assert shop_day(datetime(2026, 1, 14, 23, 30), AMSTERDAM) == date(2026, 1, 15)
    assert shop_day(datetime(2026, 1, 14, 22, 30), AMSTERDAM) == date(2026, 1, 14)


def test_a_moment_with_another_offset_is_converted_not_read_as_local() -> None:
    # 00:30 at GMT+1 is 23:30 GMT the day before: 00:30 in Amsterdam in winter.
    plus_one = datetime(2026, 1, 15, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert shop_day(plus_one, AMSTERDAM) == date(2026, 1, 15)
    # 23:30 at GMT-5 (New York in winter) is 05:30 the next day in Amsterdam.
    minus_five = datetime(2026, 1, 15, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert shop_day(minus_five, AMSTERDAM) == date(2026, 1, 16)


def test_both_passes_through_the_repeated_autumn_hour_are_the_same_day() -> None:
    # 00:30 and 01:30 GMT on 25 October 2026 both read 02:30 on Amsterdam's clocks.
    assert shop_day(gmt(2026, 10, 25, 0, 30), AMSTERDAM) == date(2026, 10, 25)
    assert shop_day(gmt(2026, 10, 25, 1, 30), AMSTERDAM) == date(2026, 10, 25)


def test_a_shop_west_of_gmt_has_days_that_start_after_gmt_midnight() -> None:
    curacao = ZoneInfo("America/Curacao")  # UTC-4 all year
    assert day_bounds_gmt(date(2026, 1, 15), curacao) == (
        gmt(2026, 1, 15, 4, 0),
        gmt(2026, 1, 16, 4, 0),
    )
    assert shop_day(gmt(2026, 1, 15, 3, 59), curacao) == date(2026, 1, 14)


def test_a_midnight_the_clocks_skip_starts_the_day_at_the_change() -> None:
    # Chile: on 6 September 2026 the clocks jump from 00:00 (UTC-4) to 01:00 (UTC-3).
    santiago = ZoneInfo("America/Santiago")
    start, end = day_bounds_gmt(date(2026, 9, 6), santiago)
    assert (start, end) == (gmt(2026, 9, 6, 4, 0), gmt(2026, 9, 7, 3, 0))
    assert day_bounds_gmt(date(2026, 9, 5), santiago)[1] == start


def test_an_hour_repeated_before_midnight_stays_with_the_day_before() -> None:
    # Brazil, 17 February 2018: at 24:00 (UTC-2) the clocks went back to 23:00 (UTC-3).
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    start, end = day_bounds_gmt(date(2018, 2, 17), sao_paulo)
    assert (start, end) == (gmt(2018, 2, 17, 2, 0), gmt(2018, 2, 18, 3, 0))
    assert shop_day(gmt(2018, 2, 18, 2, 30), sao_paulo) == date(2018, 2, 17)


def test_a_day_the_shops_country_skipped_has_no_moments() -> None:
    # Samoa went from 29 to 31 December 2011 across the date line.
    start, end = day_bounds_gmt(date(2011, 12, 30), ZoneInfo("Pacific/Apia"))
    assert start == end == gmt(2011, 12, 30, 10, 0)


ZONES = [
    "Europe/Amsterdam",
    "Europe/London",
    "America/Curacao",
    "America/Santiago",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",  # DST of half an hour
    "Asia/Kathmandu",  # UTC+5:45
]


@given(
    moment=st.datetimes(min_value=datetime(2016, 1, 2), max_value=datetime(2027, 12, 30)),
    zone_name=st.sampled_from(ZONES),
)
def test_every_moment_lies_in_the_bounds_of_its_own_day_and_no_other(
    moment: datetime, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    moment = moment.replace(tzinfo=UTC)
    day = shop_day(moment, zone)
    start, end = day_bounds_gmt(day, zone)
    assert start <= moment < end
    # The neighbouring days touch this one, so no moment lies in two days or in none.
    assert day_bounds_gmt(day - timedelta(days=1), zone)[1] == start
    assert day_bounds_gmt(day + timedelta(days=1), zone)[0] == end


@pytest.mark.parametrize("zone_name", ZONES)
def test_every_day_of_a_year_starts_and_ends_on_its_own_local_day(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    day = date(2026, 1, 1)
    while day.year == 2026:
        start, end = day_bounds_gmt(day, zone)
        assert shop_day(start, zone) == day
        assert shop_day(end - timedelta(microseconds=1), zone) == day
        assert shop_day(end, zone) == day + timedelta(days=1)
        assert timedelta(hours=23) <= end - start <= timedelta(hours=25)
        day += timedelta(days=1)
