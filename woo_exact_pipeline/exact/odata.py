"""Exact's OData dialect: literals in `$filter`, padded codes, dates and amounts on the wire.

Exact stores some codes fixed-width: account codes are right-aligned in 18 characters (left-
padded with spaces), VAT codes left-aligned in 3 (right-padded). We read them trimmed and send
VAT codes padded, where Exact matches the stored value.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

VAT_CODE_WIDTH = 3

_EXACT_DATE = re.compile(r"^/Date\((-?\d+)\)/$")
_EPOCH = datetime(1970, 1, 1)


def vat_code(code: str | int) -> str:
    """A VAT code as Exact stores it: left-aligned in 3 characters."""
    text = str(code).strip()
    if len(text) > VAT_CODE_WIDTH:
        raise ValueError(f"VAT code {text!r} is longer than {VAT_CODE_WIDTH} characters")
    return text.ljust(VAT_CODE_WIDTH)


def string_literal(value: str) -> str:
    """A `$filter` string literal; a quote inside is doubled."""
    return "'" + value.replace("'", "''") + "'"


def guid_literal(value: str) -> str:
    return f"guid'{value}'"


def parse_date(value: str | None) -> datetime | None:
    """`/Date(ms)/` as the wall-clock time it encodes (Exact sends CET wall-clock, not UTC)."""
    if value is None:
        return None
    match = _EXACT_DATE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not an Exact date (/Date(milliseconds)/)")
    return _EPOCH + timedelta(milliseconds=int(match.group(1)))


def parse_decimal(value: Any) -> Decimal | None:
    """A number from Exact, exactly: it sends doubles, whose shortest text (repr) is the
    amount as it was booked."""
    if value is None:
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def wire_value(value: Any) -> Any:
    """JSON for a POST body: amounts as decimal strings (no float artefacts), zone-less dates.

    A `Z` or an offset makes Exact move a local midnight to the previous day, so dates and
    datetimes go out as plain `YYYY-MM-DDTHH:MM:SS`.
    """
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    raise TypeError(f"{type(value).__name__} cannot be sent to Exact")
