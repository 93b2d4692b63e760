"""The settings this code location runs with, and the partitions they imply.

sync.yaml is read once when the code location loads ($WOO_EXACT_CONFIG, default ./sync.yaml):
a broken file stops the location from loading and the UI shows every problem in it.
"""

from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import dagster as dg

from woo_exact_pipeline.config import SyncConfig, load_config
from woo_exact_pipeline.store.staging import shop_day

SETTINGS: SyncConfig = load_config()

#: The shop's key in the sync database's tables.
SHOP = urlsplit(SETTINGS.woocommerce.shop_url).netloc
SHOP_TIME_ZONE = ZoneInfo(SETTINGS.woocommerce.time_zone)

#: One partition per day in the shop's time zone, from the export start, today included
#: (end_offset=1) so intra-day changes are booked the same day.
order_days = dg.DailyPartitionsDefinition(
    start_date=SETTINGS.woocommerce.export_orders_from.isoformat(),
    timezone=SETTINGS.woocommerce.time_zone,
    end_offset=1,
)


def day_bounds_gmt(partition_key: str) -> tuple[datetime, datetime]:
    """GMT start (inclusive) and end (exclusive) of a shop-local day; 23 or 25 h on DST days."""
    window = order_days.time_window_for_partition_key(partition_key)
    return window.start.astimezone(UTC), window.end.astimezone(UTC)


def partition_key_of(created_gmt: datetime) -> str:
    """The partition (shop-local creation day) that owns an order created at this GMT time."""
    return shop_day(created_gmt, SHOP_TIME_ZONE).isoformat()
