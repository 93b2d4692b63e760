"""Markdown tables and lists for Dagster metadata, reports and the README, one way: every cell
and item escaped."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

_LINE_BREAKS_AND_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, right: Collection[int] = ()
) -> str:
    """A markdown table with every cell escaped: a `|`, a line break or a backslash in a
    customer's name or Exact's message can never break a row. Columns in `right` (by index)
    are right-aligned, for amounts."""
    rule = ["--:" if index in right else "---" for index in range(len(header))]
    lines = [_row(header), _row(rule, escape=False)]
    lines += [_row(["" if cell is None else str(cell) for cell in row]) for row in rows]
    return "\n".join(lines)


def _row(cells: Iterable[str], *, escape: bool = True) -> str:
    return "| " + " | ".join(_cell(cell) if escape else cell for cell in cells) + " |"


def _cell(text: str) -> str:
    # A backslash first, so the escapes added after it stay escapes.
    escaped = text.replace("\\", "\\\\").replace("|", "\\|")
    return _LINE_BREAKS_AND_SPACE.sub(" ", escaped).strip()


def amount_text(value: Decimal) -> str:
    """Cents as people write them (10.00, not 10.0 or 10.000000); finer amounts in full."""
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value.normalize())


def markdown_list(items: Iterable[object]) -> str:
    """A bullet list, one line an item whatever the item holds (a line break in Exact's
    message must not start a heading or a new item); "none" when there are no items."""
    return "\n".join(f"- {_cell(str(item))}" for item in items) or "none"
