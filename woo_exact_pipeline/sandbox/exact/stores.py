"""In-memory, append-only entity stores with key and equality indexes.

Nothing is ever deleted (the sandbox offers GET and POST only), so a record's position is
stable and a `$skiptoken` naming a key resumes at that key's position.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from woo_exact_pipeline.sandbox.exact.ids import parent_and_number
from woo_exact_pipeline.sandbox.exact.model import EntityType, Record


class EntityStore:
    def __init__(self, entity_type: EntityType, indexed: Iterable[str] = ()) -> None:
        self.entity_type = entity_type
        self.records: list[Record] = []
        self._positions: dict[Any, int] = {}
        self._indexes: dict[str, dict[Any, list[int]]] = {name: {} for name in indexed}

    def __len__(self) -> int:
        return len(self.records)

    def add(self, record: Record) -> Record:
        position = len(self.records)
        self.records.append(record)
        self._positions[record[self.entity_type.key]] = position
        for name, index in self._indexes.items():
            index.setdefault(record.get(name), []).append(position)
        return record

    def get(self, key: Any) -> Record | None:
        position = self._positions.get(key)
        return None if position is None else self.records[position]

    def find(self, name: str, value: Any) -> list[Record]:
        return [self.records[position] for position in self._indexes[name].get(value, [])]

    def scan(self, after_key: Any | None, equalities: Mapping[str, Any]) -> Iterator[Record]:
        """Records in booking order after `after_key`, narrowed by an index when one applies."""
        start = 0
        if after_key is not None:
            position = self._positions.get(after_key)
            start = 0 if position is None else position + 1
        for name, value in equalities.items():
            if name in self._indexes:
                positions = self._indexes[name].get(value, [])
                return (self.records[p] for p in positions if p >= start)
            if name == self.entity_type.key:
                position = self._positions.get(value)
                hit = position is not None and position >= start
                return iter([self.records[position]] if hit and position is not None else [])
        return (self.records[p] for p in range(start, len(self.records)))


class LineStore:
    """The lines of every header in a store, as their own entity set (e.g. SalesEntryLines).

    Line IDs derive from their header's ID, so a line key leads back to its header.
    """

    def __init__(self, headers: EntityStore, parent_field: str) -> None:
        header_type = headers.entity_type
        assert header_type.lines_property is not None and header_type.line_type is not None
        self.entity_type = header_type.line_type
        self._headers = headers
        self._lines_property = header_type.lines_property
        self._parent_field = parent_field

    def get(self, key: str) -> Record | None:
        parent, number = parent_and_number(key)
        header = self._headers.get(parent)
        if header is None:
            return None
        lines = header[self._lines_property]
        return lines[number - 1] if 0 < number <= len(lines) else None

    def scan(self, after_key: str | None, equalities: Mapping[str, Any]) -> Iterator[Record]:
        header_after: str | None = None
        if after_key is not None:
            parent, number = parent_and_number(after_key)
            if self._headers.get(parent) is not None:
                # Finish the header the last page stopped in, then go on after it.
                yield from self._header_lines(parent, number)
                header_after = parent
        header_filter = {}
        if self._parent_field in equalities:
            header_filter = {self._headers.entity_type.key: equalities[self._parent_field]}
        for header in self._headers.scan(header_after, header_filter):
            yield from header[self._lines_property]

    def _header_lines(self, parent: str, skip: int) -> Iterator[Record]:
        header = self._headers.get(parent)
        if header is not None:
            yield from header[self._lines_property][skip:]
