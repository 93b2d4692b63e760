"""Request parameters the way WordPress reads and validates them.

The query string is parsed like PHP's $_GET (last value wins, `key[]` makes a list) and every
known parameter is checked against its schema; failures produce WordPress's `rest_invalid_param`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

RawParams = dict[str, str | list[str]]

# rest_parse_date's pattern: a full date-time, optional fraction and offset; no bare dates.
REST_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$"
)


def php_query(query_string: str) -> RawParams:
    params: RawParams = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        array_key = re.match(r"^([^\[]+)\[[^\]]*\]$", key)
        if array_key:
            existing = params.get(array_key.group(1))
            if isinstance(existing, list):
                existing.append(value)
            else:
                params[array_key.group(1)] = [value]
        else:
            params[key] = value
    return params


class InvalidParams(Exception):
    def __init__(self, problems: dict[str, tuple[str, str, Any]]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems  # name -> (code, message, data)

    def body(self) -> dict[str, Any]:
        return {
            "code": "rest_invalid_param",
            "message": "Invalid parameter(s): " + ", ".join(self.problems),
            "data": {
                "status": 400,
                "params": {name: message for name, (_, message, _) in self.problems.items()},
                "details": {
                    name: {"code": code, "message": message, "data": data}
                    for name, (code, message, data) in self.problems.items()
                },
            },
        }


def _wrong_type(name: str, kind: str) -> ValueError:
    # rest_validate_value_from_schema names the parameter in the type error's data.
    return ValueError("rest_invalid_type", f"{name} is not of type {kind}.", {"param": name})


def _list_phrase(values: tuple[str, ...]) -> str:
    """wp_sprintf_l: "a, b, and c"."""
    if len(values) <= 2:
        return " and ".join(values)
    return ", ".join(values[:-1]) + ", and " + values[-1]


@dataclass(frozen=True)
class Param:
    kind: str  # integer | boolean | date | enum | enum_list | id_list | string | string_list
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


def _as_list(value: str | list[str]) -> list[str]:
    """wp_parse_list: arrays stay arrays, strings are split on commas and spaces."""
    if isinstance(value, list):
        return [item for item in value if item != ""]
    return [item for item in re.split(r"[\s,]+", value) if item != ""]


def _check(name: str, param: Param, raw: str | list[str]) -> Any:
    if param.kind == "integer":
        text = raw if isinstance(raw, str) else ""
        if not re.fullmatch(r"-?\d+", text.strip()):
            raise _wrong_type(name, "integer")
        number = int(text)
        if (
            param.minimum is not None
            and param.maximum is not None
            and not (param.minimum <= number <= param.maximum)
        ):
            raise ValueError(
                "rest_out_of_bounds",
                f"{name} must be between {param.minimum} (inclusive) and "
                f"{param.maximum} (inclusive)",
            )
        if param.minimum is not None and number < param.minimum:
            raise ValueError(
                "rest_out_of_bounds", f"{name} must be greater than or equal to {param.minimum}"
            )
        return number
    if param.kind == "boolean":
        text = raw.lower() if isinstance(raw, str) else ""
        if text in ("1", "true"):
            return True
        if text in ("0", "false", ""):
            return False
        raise _wrong_type(name, "boolean")
    if param.kind == "date":
        if not isinstance(raw, str) or not REST_DATE.match(raw) or not _is_a_moment(raw):
            raise ValueError("rest_invalid_date", "Invalid date.")
        return raw
    if param.kind == "enum":
        if raw not in param.choices:
            raise ValueError(
                "rest_not_in_enum", f"{name} is not one of {_list_phrase(param.choices)}."
            )
        return raw
    if param.kind == "enum_list":
        values = _as_list(raw)
        for index, value in enumerate(values):
            if value not in param.choices:
                raise ValueError(
                    "rest_not_in_enum",
                    f"{name}[{index}] is not one of {_list_phrase(param.choices)}.",
                )
        return values
    if param.kind == "id_list":
        values = _as_list(raw)
        for index, value in enumerate(values):
            if not value.isdigit():
                raise _wrong_type(f"{name}[{index}]", "integer")
        return [int(value) for value in values]
    if param.kind == "string_list":
        return _as_list(raw)
    return raw if isinstance(raw, str) else ",".join(raw)


def validate(raw: RawParams, schema: dict[str, Param]) -> dict[str, Any]:
    """Known parameters checked and converted, defaults filled in, unknown ones ignored."""
    problems: dict[str, tuple[str, str, Any]] = {}
    values: dict[str, Any] = {}
    for name, param in schema.items():
        if name not in raw:
            values[name] = param.default
            continue
        try:
            values[name] = _check(name, param, raw[name])
        except ValueError as error:
            code, message, *data = error.args
            problems[name] = (code, message, data[0] if data else None)
    if problems:
        raise InvalidParams(problems)
    return values


def _parsed(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("t", "T").replace(" ", "T").replace("Z", "+00:00"))


def _is_a_moment(value: str) -> bool:
    """Month 13 or hour 25 match the pattern but are no date (rest_parse_date says so too)."""
    try:
        _parsed(value)
    except ValueError:
        return False
    return True


def order_filter_value(value: str, zone: ZoneInfo, dates_are_gmt: bool) -> str:
    """The GMT moment an order date filter compares with: the HPOS order query converts a
    site-local bound to GMT, and a wall time the clock shows twice (the hour repeated when
    summer time ends) is taken at its second pass. An offset or `Z` is honoured."""
    parsed = _parsed(value)
    if parsed.tzinfo is not None:
        if dates_are_gmt:
            return site_local_filter_value(value, zone)
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if dates_are_gmt:
        return parsed.strftime("%Y-%m-%dT%H:%M:%S")
    local = parsed.replace(tzinfo=zone, fold=1)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def site_local_filter_value(value: str, zone: ZoneInfo) -> str:
    """WP_Date_Query turns a date with an offset into site-local wall time, even when the
    comparison is against a GMT column (the real quirk); naive values are taken as given."""
    normalized = value.replace("t", "T").replace(" ", "T").replace("Z", "+00:00")
    parsed = datetime.fromisoformat(normalized)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(zone)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


PAGING: dict[str, Param] = {
    "page": Param("integer", 1, minimum=1),
    "per_page": Param("integer", 10, minimum=1, maximum=100),
    "offset": Param("integer", None),
    "include": Param("id_list", []),
    "exclude": Param("id_list", []),
    "order": Param("enum", "desc", choices=("asc", "desc")),
    "_fields": Param("string_list", None),
}
SEARCH: dict[str, Param] = {"search": Param("string", None)}
DATE_FILTERS: dict[str, Param] = {
    "after": Param("date"),
    "before": Param("date"),
    "modified_after": Param("date"),
    "modified_before": Param("date"),
    "dates_are_gmt": Param("boolean", False),
}
CRUD_ORDERBY = ("date", "id", "include", "title", "slug", "modified")
ORDER_STATUS_CHOICES = (
    "any",
    "trash",
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)

ORDERS: dict[str, Param] = {
    **PAGING,
    **SEARCH,
    **DATE_FILTERS,
    "orderby": Param("enum", "date", choices=CRUD_ORDERBY),
    "status": Param("enum_list", ["any"], choices=ORDER_STATUS_CHOICES),
    "customer": Param("integer", None),
    "product": Param("integer", None),
    "created_via": Param("string_list", None),
}
REFUNDS: dict[str, Param] = {
    **PAGING,
    **DATE_FILTERS,
    "orderby": Param("enum", "date", choices=CRUD_ORDERBY),
    "parent": Param("id_list", []),
}
CUSTOMERS: dict[str, Param] = {
    **PAGING,
    **SEARCH,
    "order": Param("enum", "asc", choices=("asc", "desc")),
    "orderby": Param("enum", "name", choices=("id", "include", "name", "registered_date")),
    "email": Param("string", None),
    "role": Param("enum", "customer", choices=("all", "administrator", "customer", "shop_manager")),
}
PRODUCTS: dict[str, Param] = {
    **PAGING,
    **SEARCH,
    **DATE_FILTERS,
    "orderby": Param(
        "enum",
        "date",
        choices=("date", "id", "include", "title", "slug", "modified", "price", "popularity"),
    ),
    "type": Param("enum", None, choices=("simple", "grouped", "external", "variable")),
    "sku": Param("string_list", None),
    "status": Param("enum", "any", choices=("any", "draft", "pending", "private", "publish")),
}
VARIATIONS: dict[str, Param] = {
    **PAGING,
    **SEARCH,
    **DATE_FILTERS,
    "orderby": Param("enum", "date", choices=CRUD_ORDERBY),
    "sku": Param("string_list", None),
}
TAXES: dict[str, Param] = {
    **PAGING,
    "order": Param("enum", "asc", choices=("asc", "desc")),
    "orderby": Param("enum", "order", choices=("id", "order", "priority")),
    "class": Param("string", None),
}
