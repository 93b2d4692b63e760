"""The shop's calendar: the one rule for which day a moment belongs to.

A day is a calendar day in the shop's time zone (`woocommerce.time_zone`), so 23 or 25 hours
long when the clocks change. Staging stores an order under the day it was created, the
extraction asks WooCommerce for a day's GMT bounds, the change sensor re-processes the days
that own changed orders, and the transform dates a sale or credit by it: all through here,
so an order is never staged under one day and dated or fetched under another.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def shop_day(moment: datetime, time_zone: ZoneInfo) -> date:
    """The shop-local day of a moment. A naive moment is GMT, as WooCommerce's `*_gmt` dates."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(time_zone).date()


def day_bounds_gmt(day: date, time_zone: ZoneInfo) -> tuple[datetime, datetime]:
    """GMT start (inclusive) and end (exclusive) of a shop-local day, both aware in UTC.

    Each bound is the day's local midnight; a midnight the clocks skip (zones that change at
    00:00) resolves to the moment of the change, so consecutive days still touch.
    """
    return _midnight_gmt(day, time_zone), _midnight_gmt(day + timedelta(days=1), time_zone)


def _midnight_gmt(day: date, time_zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=time_zone).astimezone(UTC)
