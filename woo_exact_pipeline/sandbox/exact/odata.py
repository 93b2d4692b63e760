"""OData v2 as Exact speaks it: `$filter` parsing, literals, dates and GUIDs on the wire.

`$filter` is parsed into a small AST and compiled to a predicate over stored records. Type
mismatches (a GUID field compared with a plain string, a date with a number) are refused with
a 400 as a real OData service does, rather than silently matching nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from woo_exact_pipeline.sandbox.exact.errors import ODataError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Kind:
    """Edm types of stored fields; strings so they read well in the entity definitions."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    BYTE = "Edm.Byte"
    INT16 = "Edm.Int16"
    INT = "Edm.Int32"
    INT64 = "Edm.Int64"
    DOUBLE = "Edm.Double"
    BOOL = "Edm.Boolean"
    DATETIME = "Edm.DateTime"
    BINARY = "Edm.Binary"  # base64 text in JSON


def local_wall_clock(instant: datetime) -> datetime:
    """Exact stores and returns Amsterdam wall-clock time, without a zone."""
    return instant.astimezone(AMSTERDAM).replace(tzinfo=None)


def exact_date(value: datetime | date) -> str:
    """`/Date(ms)/` with the CET wall-clock read as if it were UTC (Exact's REST FAQ)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    millis = int(value.replace(tzinfo=UTC).timestamp() * 1000)
    return f"/Date({millis})/"


def parse_datetime_in(text: str) -> datetime:
    """An ISO 8601 date from a body or a `datetime'...'` literal, as wall-clock time.

    A zone suffix is dropped, not converted: integrators report that a `Z` value built from
    local midnight lands on the previous day in Exact, so the stricter reading keeps the digits.
    """
    cleaned = text.strip()
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1]
    parsed = datetime.fromisoformat(cleaned)
    return parsed.replace(tzinfo=None)


def parse_guid(text: str) -> str:
    return str(uuid.UUID(text.strip().strip("{}")))


def parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidOperation(str(value))
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise InvalidOperation(str(value))
    return number


# ---------------------------------------------------------------------------------------------
# $filter

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<typed>(?:guid|datetime|datetimeoffset|time|X|binary)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[LlMmDdFf]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_/]*)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)

_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ODataError(f"Syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


# AST nodes are tuples: ("field", name), ("literal", value, edm), ("call", fn, args),
# ("compare", op, left, right), ("and", a, b), ("or", a, b), ("not", a).
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, str], type_name: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.fields = fields
        self.type_name = type_name
        self.referenced: set[str] = set()

    def parse(self) -> Node:
        if not self.tokens:
            raise ODataError("Expression expected at position 0 in ''.")
        node = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise ODataError(
                f"Syntax error '{token.text}' at position {token.position} in '{self.text}'."
            )
        return node

    def _peek_word(self) -> str | None:
        if self.index < len(self.tokens) and self.tokens[self.index].kind == "name":
            return self.tokens[self.index].text
        return None

    def _expect(self, text: str) -> None:
        if self.index >= len(self.tokens) or self.tokens[self.index].text != text:
            position = (
                self.tokens[self.index].position
                if self.index < len(self.tokens)
                else len(self.text)
            )
            raise ODataError(f"'{text}' expected at position {position} in '{self.text}'.")
        self.index += 1

    def _or(self) -> Node:
        node = self._and()
        while self._peek_word() == "or":
            self.index += 1
            node = ("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._peek_word() == "and":
            self.index += 1
            node = ("and", node, self._not())
        return node

    def _not(self) -> Node:
        if self._peek_word() == "not":
            self.index += 1
            return ("not", self._not())
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._operand()
        word = self._peek_word()
        if word in _COMPARISONS:
            self.index += 1
            right = self._operand()
            _check_comparable(left, right, self.text)
            return ("compare", word, left, right)
        return left

    def _operand(self) -> Node:
        if self.index >= len(self.tokens):
            raise ODataError(f"Expression expected at position {len(self.text)} in '{self.text}'.")
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "punct" and token.text == "(":
            node = self._or()
            self._expect(")")
            return node
        if token.kind == "string":
            return ("literal", token.text[1:-1].replace("''", "'"), Kind.STRING)
        if token.kind == "typed":
            return _typed_literal(token, self.text)
        if token.kind == "number":
            return _number_literal(token, self.text)
        if token.kind == "name":
            if token.text in ("true", "false"):
                return ("literal", token.text == "true", Kind.BOOL)
            if token.text == "null":
                return ("literal", None, None)
            if self.index < len(self.tokens) and self.tokens[self.index].text == "(":
                return self._call(token)
            if token.text not in self.fields:
                raise ODataError(
                    f"No property '{token.text}' exists in type '{self.type_name}' "
                    f"at position {token.position}."
                )
            self.referenced.add(token.text)
            return ("field", token.text, self.fields[token.text])
        raise ODataError(f"Syntax error at position {token.position} in '{self.text}'.")

    def _call(self, name: Token) -> Node:
        signature = _FUNCTIONS.get(name.text)
        if signature is None:
            raise ODataError(f"Unknown function '{name.text}' at position {name.position}.")
        self._expect("(")
        args: list[Node] = []
        if not (self.index < len(self.tokens) and self.tokens[self.index].text == ")"):
            args.append(self._or())
            while self.index < len(self.tokens) and self.tokens[self.index].text == ",":
                self.index += 1
                args.append(self._or())
        self._expect(")")
        arg_kinds, result_kind = signature
        if len(args) != len(arg_kinds):
            raise ODataError(
                f"No function signature for the function '{name.text}' matches the arguments."
            )
        for arg, expected in zip(args, arg_kinds, strict=True):
            if _node_kind(arg) not in (expected, None):
                raise ODataError(
                    f"No function signature for the function '{name.text}' matches the arguments."
                )
        return ("call", name.text, tuple(args), result_kind)


def _typed_literal(token: Token, text: str) -> Node:
    prefix, _, quoted = token.text.partition("'")
    body = quoted[:-1].replace("''", "'")
    try:
        if prefix == "guid":
            return ("literal", parse_guid(body), Kind.GUID)
        if prefix in ("datetime", "datetimeoffset"):
            return ("literal", parse_datetime_in(body), Kind.DATETIME)
    except ValueError as error:
        raise ODataError(
            f"Unrecognized '{prefix}' literal '{token.text}' at '{token.position}' in '{text}'."
        ) from error
    raise ODataError(f"Unsupported literal '{token.text}' at position {token.position}.")


def _number_literal(token: Token, text: str) -> Node:
    body = token.text
    suffix = body[-1].upper() if body[-1].isalpha() else ""
    digits = body[:-1] if suffix else body
    if suffix == "L" or (not suffix and re.fullmatch(r"-?\d+", digits)):
        value = int(digits)
        if not suffix and not -(2**31) <= value < 2**31:
            # OData v2: an Int32 literal out of range needs the L suffix (Int64).
            raise ODataError(f"Unrecognized 'Edm.Int32' literal '{body}' in '{text}'.")
        return ("literal", value, Kind.INT64 if suffix == "L" else Kind.INT)
    return ("literal", Decimal(digits), Kind.DOUBLE)


_NUMERIC = {Kind.BYTE, Kind.INT16, Kind.INT, Kind.INT64, Kind.DOUBLE}

_FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "trim": ((Kind.STRING,), Kind.STRING),
    "tolower": ((Kind.STRING,), Kind.STRING),
    "toupper": ((Kind.STRING,), Kind.STRING),
    "length": ((Kind.STRING,), Kind.INT),
    "substringof": ((Kind.STRING, Kind.STRING), Kind.BOOL),
    "startswith": ((Kind.STRING, Kind.STRING), Kind.BOOL),
    "endswith": ((Kind.STRING, Kind.STRING), Kind.BOOL),
    "year": ((Kind.DATETIME,), Kind.INT),
    "month": ((Kind.DATETIME,), Kind.INT),
    "day": ((Kind.DATETIME,), Kind.INT),
}


def _node_kind(node: Node) -> str | None:
    if node[0] == "field" or node[0] == "literal":
        return node[2]
    if node[0] == "call":
        return node[3]
    return Kind.BOOL


def _check_comparable(left: Node, right: Node, text: str) -> None:
    left_kind, right_kind = _node_kind(left), _node_kind(right)
    if left_kind is None or right_kind is None or left_kind == right_kind:
        return
    if left_kind in _NUMERIC and right_kind in _NUMERIC:
        return
    raise ODataError(
        f"Operator incompatible with operand types '{left_kind}' and '{right_kind}' in '{text}'."
    )


Record = Mapping[str, Any]
Evaluator = Callable[[Record], Any]


def _compile(node: Node) -> Evaluator:
    tag = node[0]
    if tag == "literal":
        value = node[1]
        return lambda record: value
    if tag == "field":
        name = node[1]
        return lambda record: record.get(name)
    if tag == "not":
        inner = _compile(node[1])
        return lambda record: not inner(record)
    if tag in ("and", "or"):
        first, second = _compile(node[1]), _compile(node[2])
        if tag == "and":
            return lambda record: bool(first(record)) and bool(second(record))
        return lambda record: bool(first(record)) or bool(second(record))
    if tag == "compare":
        return _compile_comparison(node[1], _compile(node[2]), _compile(node[3]))
    return _compile_call(node[1], [_compile(arg) for arg in node[2]])


def _compile_comparison(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    # Strings compare exactly (case and padding count): stricter than SQL Server, which
    # ignores trailing spaces, and it is what the padded-code advice in Exact's docs implies.
    if op == "eq":
        return lambda record: left(record) == right(record)
    if op == "ne":
        return lambda record: left(record) != right(record)
    order: Callable[[Any, Any], bool] = {
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }[op]

    def ordered(record: Record) -> bool:
        a, b = left(record), right(record)
        return a is not None and b is not None and order(a, b)

    return ordered


def _compile_call(name: str, args: list[Evaluator]) -> Evaluator:
    def text(evaluator: Evaluator, record: Record) -> str | None:
        value = evaluator(record)
        return None if value is None else str(value)

    if name == "trim":
        return lambda r: t.strip() if (t := text(args[0], r)) is not None else None
    if name == "tolower":
        return lambda r: t.lower() if (t := text(args[0], r)) is not None else None
    if name == "toupper":
        return lambda r: t.upper() if (t := text(args[0], r)) is not None else None
    if name == "length":
        return lambda r: len(t) if (t := text(args[0], r)) is not None else None
    if name == "substringof":
        return lambda r: (text(args[0], r) or "") in (text(args[1], r) or "")
    if name == "startswith":
        return lambda r: (text(args[0], r) or "").startswith(text(args[1], r) or "")
    if name == "endswith":
        return lambda r: (text(args[0], r) or "").endswith(text(args[1], r) or "")
    part = {"year": "year", "month": "month", "day": "day"}[name]
    return lambda r: getattr(v, part) if (v := args[0](r)) is not None else None


@dataclass(frozen=True)
class Filter:
    predicate: Evaluator
    referenced_fields: frozenset[str]
    # `Field eq literal` terms joined by `and` at the top: usable as index look-ups.
    equalities: Mapping[str, Any]


def parse_filter(text: str, fields: Mapping[str, str], type_name: str) -> Filter:
    parser = _Parser(text, fields, type_name)
    ast = parser.parse()
    if _node_kind(ast) != Kind.BOOL:
        raise ODataError(f"The $filter expression must evaluate to a single boolean: '{text}'.")
    return Filter(_compile(ast), frozenset(parser.referenced), _top_level_equalities(ast))


def _top_level_equalities(node: Node) -> dict[str, Any]:
    if node[0] == "and":
        return {**_top_level_equalities(node[1]), **_top_level_equalities(node[2])}
    if node[0] == "compare" and node[1] == "eq":
        left, right = node[2], node[3]
        if left[0] == "field" and right[0] == "literal":
            return {left[1]: right[1]}
        if right[0] == "field" and left[0] == "literal":
            return {right[1]: left[1]}
    return {}
