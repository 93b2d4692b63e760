"""One markdown renderer: whatever a customer typed or Exact answered, a row stays a row and an
item an item."""

import re

from hypothesis import given
from hypothesis import strategies as st

from woo_exact_pipeline.markdown import markdown_list, markdown_table

# A cell ends at a pipe that no backslash escapes (an escaped backslash does not escape it).
_UNESCAPED_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


def cells_of(line: str) -> list[str]:
    """The cells of a rendered row, as a markdown reader splits it."""
    inner = line.removeprefix("| ").removesuffix(" |")
    cells, start = [], 0
    for match in _UNESCAPED_PIPE.finditer(inner):
        end = match.end() - 1
        cells.append(inner[start:end].strip())
        start = match.end()
    cells.append(inner[start:].strip())
    return cells


def test_a_table_has_its_header_a_rule_and_a_row_per_record() -> None:
    table = markdown_table(("order", "total"), [("1042", "€ 12.10"), ("1043", None)], right=[1])
    assert table.splitlines() == [
        "| order | total |",
        "| --- | --: |",
        "| 1042 | € 12.10 |",
        "| 1043 |  |",
    ]


def test_a_pipe_a_line_break_and_a_backslash_in_a_cell_are_escaped() -> None:
    table = markdown_table(
        ("customer", "reason"),
        [("Jansen | B.V.", "Verplicht: Besteld door\r\nInvalid: G/L account"), ("C:\\shop", "x")],
    )
    assert table.splitlines()[2:] == [
        "| Jansen \\| B.V. | Verplicht: Besteld door Invalid: G/L account |",
        "| C:\\\\shop | x |",
    ]


@given(st.lists(st.lists(st.text(), min_size=3, max_size=3), max_size=5))
def test_any_text_keeps_every_row_at_its_column_count(rows: list[list[str]]) -> None:
    lines = markdown_table(("a", "b", "c"), rows).splitlines()
    assert len(lines) == 2 + len(rows)  # no cell breaks a line
    assert all(len(cells_of(line)) == 3 for line in lines)


def test_a_list_item_with_a_line_break_stays_one_item_and_no_items_read_none() -> None:
    listed = markdown_list(["order 1042: Verplicht: Besteld door\n# Invalid", "order 1043: ok"])
    assert listed.splitlines() == [
        "- order 1042: Verplicht: Besteld door # Invalid",
        "- order 1043: ok",
    ]
    assert markdown_list([]) == "none"


@given(st.lists(st.text(), max_size=5))
def test_any_text_keeps_one_line_per_item(items: list[str]) -> None:
    lines = markdown_list(items).splitlines()
    assert len(lines) == max(len(items), 1)
    assert all(line.startswith("- ") for line in lines) or lines == ["none"]
