"""Reading fields of WooCommerce JSON defensively: a bad field becomes a `BookingProblem`
naming the field and the value, never a KeyError deep inside the bookkeeping."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.bookkeeping.money import MAX_AMOUNT_DIGITS, InvalidAmount, parse_amount
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import clean_text


def record(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BookingProblem("invalid_data", f"{where} is not a JSON object", value=value)
    return value


def records(parent: Mapping[str, Any], key: str, where: str) -> Sequence[Mapping[str, Any]]:
    """A list of objects; a missing or null list is empty (older WooCommerce omits some)."""
    value = parent.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BookingProblem("invalid_data", f"{where}.{key} is not a list", value=value)
    if value and set(map(type, value)) != {dict}:  # one C-level pass for the usual case
        for index, item in enumerate(value):
            record(item, f"{where}.{key}[{index}]")
    return value


def amount(parent: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = parent.get(key)
    if type(value) is str:
        # Fast path for the usual non-zero amount string; everything else (zero, odd types,
        # errors) takes parse_amount's full checks. Profiled: amounts are the hottest call.
        try:
            fast = Decimal(value)
        except InvalidOperation:
            fast = None
        if (
            fast is not None
            and fast.is_finite()
            and not fast.is_zero()
            and fast.adjusted() < MAX_AMOUNT_DIGITS
        ):
            return fast
    try:
        return parse_amount(value)
    except InvalidAmount as error:
        problem = f"{where}.{key} is missing" if value is None else f"{where}.{key}: {error}"
        raise BookingProblem("invalid_data", problem, field=f"{where}.{key}") from None


def optional_amount(parent: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    """An amount that WooCommerce may leave empty ("" or null), e.g. raw per-rate taxes."""
    value = parent.get(key)
    if value is None or value == "":
        return None
    return amount(parent, key, where)


def integer(value: object, where: str) -> int:
    if isinstance(value, bool):
        raise BookingProblem("invalid_data", f"{where} is {value!r}, not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    shown = "missing" if value is None else repr(value)
    raise BookingProblem("invalid_data", f"{where} is {shown}, not a whole number")


def meta_values(parent: Mapping[str, Any], wanted: Collection[str]) -> dict[str, object]:
    """The `wanted` keys of meta_data; the first entry of a key wins, as WooCommerce's get_meta.

    Only the wanted keys are kept: orders carry many plugin keys the bookkeeping never reads.
    """
    values: dict[str, object] = {}
    entries = parent.get("meta_data")
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, Mapping):
                key = entry.get("key")
                if type(key) is str and key in wanted and key not in values:
                    values[key] = entry.get("value")
    return values


def text(parent: Mapping[str, Any], key: str) -> str:
    value = parent.get(key)
    if (
        type(value) is str
        and value.isascii()
        and value.isprintable()
        and "&" not in value
        and "  " not in value
    ):
        return value.strip()  # plain ASCII without entities or controls: nothing to clean
    return clean_text(value)


def parse_gmt(value: str) -> datetime:
    """A WooCommerce `*_gmt` date as a naive GMT moment (an offset, if one is sent, applied).

    Raises ValueError when it is no ISO date and time (OverflowError at the ends of time).
    """
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def unix_date(value: object, where: str, zone: ZoneInfo) -> date | None:
    """A Unix timestamp (the PDF plugin's `_wcpdf_invoice_date`) as a day in the shop's zone."""
    if value is None or value == "":
        return None
    try:
        return shop_day(datetime.fromtimestamp(int(str(value).strip()), tz=UTC), zone)
    except (ValueError, OverflowError, OSError):
        raise BookingProblem(
            "invalid_data", f"{where} is {value!r}, not a Unix timestamp"
        ) from None
