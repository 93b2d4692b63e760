"""List queries over a record source: `$select`, `$filter`, `$orderby`, `$top`, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol
from urllib.parse import quote

from woo_exact_pipeline.sandbox.exact.errors import ODataError
from woo_exact_pipeline.sandbox.exact.model import (
    EntityType,
    Lookups,
    Record,
    RecordView,
    key_literal,
    to_wire,
)
from woo_exact_pipeline.sandbox.exact.odata import Filter, parse_filter, parse_guid

REGULAR_PAGE_SIZE = 60
BULK_PAGE_SIZE = 1000
SELECT_REQUIRED = "Please add a $select or a $top=1 statement to the query string."
_SUPPORTED_OPTIONS = {
    "$select",
    "$filter",
    "$top",
    "$orderby",
    "$inlinecount",
    "$skiptoken",
    "$expand",
    "$format",
}


class Source(Protocol):
    entity_type: EntityType

    def scan(self, after_key: Any | None, equalities: Mapping[str, Any]) -> Iterator[Record]: ...


@dataclass(frozen=True)
class Options:
    select: tuple[str, ...] | None
    filter: Filter | None
    orderby: tuple[tuple[str, bool], ...]
    top: int | None
    skiptoken: Any | None
    inlinecount: bool
    expand: frozenset[str]


def parse_options(
    params: Mapping[str, str], entity_type: EntityType, *, select_required: bool
) -> Options:
    for name in params:
        if name.startswith("$") and name not in _SUPPORTED_OPTIONS:
            raise ODataError(f"The query parameter '{name}' is not supported.")
    fields = entity_type.filterable
    select = _parse_select(params.get("$select"), entity_type)
    top = _parse_top(params.get("$top"))
    if select_required and select is None and top != 1:
        raise ODataError(SELECT_REQUIRED)
    filter_text = params.get("$filter")
    parsed_filter = (
        parse_filter(filter_text, fields, entity_type.model_type) if filter_text else None
    )
    orderby: list[tuple[str, bool]] = []
    for part in (params.get("$orderby") or "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in fields or len(words) > 2 or words[1:] not in ([], ["asc"], ["desc"]):
            raise ODataError(f"Invalid $orderby expression '{part.strip()}'.")
        orderby.append((words[0], words[1:] == ["desc"]))
    inlinecount = params.get("$inlinecount", "none")
    if inlinecount not in ("none", "allpages"):
        raise ODataError(f"Invalid $inlinecount value '{inlinecount}'.")
    expand = frozenset(e.strip() for e in (params.get("$expand") or "").split(",") if e.strip())
    if expand - {entity_type.lines_property}:
        raise ODataError(f"Cannot expand '{','.join(sorted(expand))}'.")
    return Options(
        select,
        parsed_filter,
        tuple(orderby),
        top,
        _parse_skiptoken(params.get("$skiptoken")),
        inlinecount == "allpages",
        expand,
    )


def _parse_select(text: str | None, entity_type: EntityType) -> tuple[str, ...] | None:
    if text is None or text.strip() in ("", "*"):
        return None
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        head = name.split("/", 1)[0]
        if head not in entity_type.by_name:
            raise ODataError(f"No property '{head}' exists in type '{entity_type.model_type}'.")
    return names


def _parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise ODataError(f"Invalid $top value '{text}'.")
    return int(text)


def _parse_skiptoken(text: str | None) -> Any | None:
    if text is None:
        return None
    try:
        if text.startswith("guid'") and text.endswith("'"):
            return parse_guid(text[5:-1])
        if text.endswith("L") and text[:-1].isdigit():
            return int(text[:-1])
    except ValueError:
        pass
    raise ODataError(f"Invalid $skiptoken value '{text}'.")


@dataclass(frozen=True)
class Page:
    records: list[Record]
    next_params: dict[str, str] | None
    count: int | None


def run_query(
    source: Source, options: Options, lookups: Lookups, params: Mapping[str, str], page_size: int
) -> Page:
    entity_type = source.entity_type
    limit = page_size if options.top is None else min(page_size, options.top)
    equalities = options.filter.equalities if options.filter else {}
    matches = _matching(source, options, lookups, equalities)
    if options.orderby:
        ordered = _sorted(source, options, lookups, equalities)
        start = 0
        if options.skiptoken is not None:
            keys = [record[entity_type.key] for record in ordered]
            start = keys.index(options.skiptoken) + 1 if options.skiptoken in keys else 0
        window = ordered[start : start + limit + 1]
    else:
        window = list(islice(matches(options.skiptoken), limit + 1))
    records = window[:limit]
    next_params = None
    more_allowed = options.top is None or options.top > limit
    if len(window) > limit and more_allowed and records:
        next_params = {k: v for k, v in params.items() if k != "$skiptoken"}
        if options.top is not None:
            next_params["$top"] = str(options.top - limit)
        next_params["$skiptoken"] = key_literal(entity_type, records[-1][entity_type.key])
    count = sum(1 for _ in matches(None)) if options.inlinecount else None
    return Page(records, next_params, count)


def _matching(
    source: Source, options: Options, lookups: Lookups, equalities: Mapping[str, Any]
) -> Callable[[Any | None], Iterator[Record]]:
    entity_type = source.entity_type
    query_filter = options.filter

    def matches(after_key: Any | None) -> Iterator[Record]:
        records = source.scan(after_key, equalities)
        if query_filter is None:
            return records
        predicate = query_filter.predicate
        if entity_type.needs_view(query_filter.referenced_fields):
            return (r for r in records if predicate(RecordView(entity_type, r, lookups)))
        return (r for r in records if predicate(r))

    return matches


def _sorted(
    source: Source, options: Options, lookups: Lookups, equalities: Mapping[str, Any]
) -> list[Record]:
    entity_type = source.entity_type
    records = list(_matching(source, options, lookups, equalities)(None))
    for name, descending in reversed(options.orderby):
        # None sorts first ascending, as SQL Server sorts NULL.
        def sort_key(record: Record, name: str = name) -> tuple[bool, Any]:
            value = entity_type.value(record, name, lookups)
            return (value is not None, value)

        records.sort(key=sort_key, reverse=descending)
    return records


def next_url(base: str, path: str, params: Mapping[str, str]) -> str:
    query = "&".join(
        f"{name}={quote(value, safe=chr(39) + '(),:$')}" for name, value in params.items()
    )
    return f"{base}/{path}?{query}"


def serialize(
    entity_type: EntityType,
    record: Record,
    lookups: Lookups,
    *,
    set_url: str,
    select: Iterable[str] | None = None,
    expand: frozenset[str] = frozenset(),
    lines_set_url: str | None = None,
) -> dict[str, Any]:
    uri = f"{set_url}({key_literal(entity_type, record[entity_type.key])})"
    result: dict[str, Any] = {"__metadata": {"uri": uri, "type": entity_type.model_type}}
    selected = list(select) if select is not None else [f.name for f in entity_type.fields]
    line_select = [name.split("/", 1)[1] for name in selected if "/" in name]
    for name in dict.fromkeys(name.split("/", 1)[0] for name in selected):
        definition = entity_type.by_name[name]
        if definition.kind != "lines":
            result[name] = to_wire(definition.kind, entity_type.value(record, name, lookups))
        elif name in expand and entity_type.line_type is not None and lines_set_url:
            result[name] = {
                "results": [
                    serialize(
                        entity_type.line_type,
                        line,
                        lookups,
                        set_url=lines_set_url,
                        select=line_select or None,
                    )
                    for line in record.get(name, [])
                ]
            }
        else:
            result[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
    return result
