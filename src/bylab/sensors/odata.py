"""The OData query options SensorThings uses: ``$filter`` parsed to a small expression tree,
evaluated in Python (metadata entities) or compiled to DuckDB SQL (observations), and the
``$orderby``, ``$select`` and ``$expand`` lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from bylab.errors import InvalidInput
from bylab.sensors.odata_geo import (
    GEO_FUNCTIONS,
    GEOGRAPHY_PREFIXES,
    check_geo_call,
    geography_literal,
)

COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
TOKEN = re.compile(r"""
    \s*(?:
      (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
     |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
     |(?P<string>'(?:[^']|'')*')
     |(?P<paren>[(),])
     |(?P<name>[A-Za-z@$][\w@.$]*(?:/[A-Za-z@$][\w@.$]*)*)
    )""", re.VERBOSE)

Node = tuple[Any, ...]  # ("or"|"and", a, b) ("not", a) ("cmp", op, a, b) ("prop", path)
                        # ("lit", value) ("call", name, [args]) ("math", op, a, b)
                        # ("in", path, frozenset of ids), made by bind_related


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None:
            raise InvalidInput("cannot read $filter at '{text}'", field="$filter",
                               text=text[position:position + 20])
        kind = match.lastgroup or ""
        raw = match.group(kind)
        value: Any = raw
        if kind == "datetime":
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        elif kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        elif kind == "string":
            value = raw[1:-1].replace("''", "'")
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise InvalidInput("$filter ends too early", field="$filter")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        kind, found = self.take()
        if found != value:
            raise InvalidInput("expected '{expected}' in $filter, found '{found}'",
                               field="$filter", expected=value, found=found)

    def word(self, *words: str) -> str | None:
        token = self.peek()
        if token and token[0] == "name" and str(token[1]).lower() in words:
            self.position += 1
            return str(token[1]).lower()
        return None

    def parse(self) -> Node:
        node = self.or_()
        left_over = self.peek()
        if left_over is not None:
            raise InvalidInput("unexpected '{token}' in $filter", field="$filter",
                               token=left_over[1])
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.word("or"):
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.word("and"):
            node = ("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.word("not"):
            return ("not", self.not_())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if operator := self.word(*COMPARISONS):
            return ("cmp", operator, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while operator := self.word("add", "sub"):
            node = ("math", operator, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.primary()
        while operator := self.word("mul", "div", "mod"):
            node = ("math", operator, node, self.primary())
        return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "paren" and value == "(":
            node = self.or_()
            self.expect(")")
            return node
        if kind in {"datetime", "number", "string"}:
            return ("lit", value)
        if kind != "name":
            raise InvalidInput("unexpected '{token}' in $filter", field="$filter", token=value)
        lowered = str(value).lower()
        if lowered in {"true", "false"}:
            return ("lit", lowered == "true")
        if lowered == "null":
            return ("lit", None)
        following = self.peek()
        if lowered in GEOGRAPHY_PREFIXES and following and following[0] == "string":
            self.take()
            return ("lit", geography_literal(following[1]))
        if following == ("paren", "("):
            self.take()
            arguments = [] if self.peek() == ("paren", ")") else [self.or_()]
            while self.peek() == ("paren", ","):
                self.take()
                arguments.append(self.or_())
            self.expect(")")
            if lowered not in FUNCTIONS:
                raise InvalidInput("unknown function '{function}' in $filter", field="$filter",
                                   function=value)
            if lowered in GEO_FUNCTIONS:
                check_geo_call(lowered, arguments)
            return ("call", lowered, arguments)
        return ("prop", str(value))


def parse_filter(text: str) -> Node:
    return _Parser(text).parse()


# --- evaluation in Python ----------------------------------------------------------------

def _text(value: Any) -> str:
    return "" if value is None else str(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "substringof": lambda needle, haystack: _text(needle) in _text(haystack),
    "contains": lambda haystack, needle: _text(needle) in _text(haystack),
    "startswith": lambda text, prefix: _text(text).startswith(_text(prefix)),
    "endswith": lambda text, suffix: _text(text).endswith(_text(suffix)),
    "tolower": lambda text: _text(text).lower(),
    "toupper": lambda text: _text(text).upper(),
    "trim": lambda text: _text(text).strip(),
    "length": lambda text: len(_text(text)),
    "indexof": lambda text, part: _text(text).find(_text(part)),
    "concat": lambda first, second: _text(first) + _text(second),
    "year": lambda moment: moment.year,
    "month": lambda moment: moment.month,
    "day": lambda moment: moment.day,
    "hour": lambda moment: moment.hour,
    "minute": lambda moment: moment.minute,
    "second": lambda moment: moment.second,
    **GEO_FUNCTIONS,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}
_MATH: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "mod": lambda a, b: a % b,
}


def _lookup(entity: dict[str, Any], path: str) -> Any:
    value: Any = entity
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get("@iot.id" if part == "id" else part)
    return value


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Compare a stored ISO time with a datetime literal as datetimes."""
    if isinstance(b, datetime) and isinstance(a, str):
        a = _as_datetime(a)
    if isinstance(a, datetime) and isinstance(b, str):
        b = _as_datetime(b)
    return a, b


def _as_datetime(text: str) -> datetime | str:
    try:
        return datetime.fromisoformat(text.split("/")[0].replace("Z", "+00:00"))
    except ValueError:
        return text


def evaluate(node: Node, entity: dict[str, Any]) -> Any:
    """The value of a filter expression for one entity (SensorThings property names)."""
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "prop":
        return _lookup(entity, node[1])
    if kind == "in":
        return _lookup(entity, node[1]) in node[2]
    if kind == "not":
        return not evaluate(node[1], entity)
    if kind == "and":
        return bool(evaluate(node[1], entity)) and bool(evaluate(node[2], entity))
    if kind == "or":
        return bool(evaluate(node[1], entity)) or bool(evaluate(node[2], entity))
    if kind == "call":
        arguments = [evaluate(argument, entity) for argument in node[2]]
        if node[1] in {"year", "month", "day", "hour", "minute", "second"}:
            arguments = [_as_datetime(a) if isinstance(a, str) else a for a in arguments]
        try:
            return FUNCTIONS[node[1]](*arguments)
        except (TypeError, AttributeError):
            raise InvalidInput("wrong arguments to {function}()", field="$filter",
                               function=node[1]) from None
    a, b = _comparable(evaluate(node[2], entity), evaluate(node[3], entity))
    if kind == "math":
        return None if a is None or b is None else _MATH[node[1]](a, b)
    if a is None or b is None:
        return _COMPARE[node[1]](a, b) if node[1] in {"eq", "ne"} else False
    try:
        return _COMPARE[node[1]](a, b)
    except TypeError:
        return False


# --- compilation to SQL --------------------------------------------------------------------

_SQL_FUNCTIONS = {
    "substringof": "contains({1}, {0})", "contains": "contains({0}, {1})",
    "startswith": "starts_with({0}, {1})", "endswith": "suffix({0}, {1})",
    "tolower": "lower({0})", "toupper": "upper({0})", "trim": "trim({0})",
    "length": "length({0})", "indexof": "(instr({0}, {1}) - 1)", "concat": "concat({0}, {1})",
    "year": "year({0})", "month": "month({0})", "day": "day({0})", "hour": "hour({0})",
    "minute": "minute({0})", "second": "second({0})",
}
_SQL_COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
# A result that is not a number is JSON text in result_json (the store's docstring); compared
# with a text literal, a JSON string reads unquoted, and a number as text with 2.0 reading '2'.
RESULT_AS_TEXT = ("coalesce(json_extract_string(result_json, '$'), "
                  "regexp_replace(CAST(result AS VARCHAR), '\\.0$', ''))")
RESULT_AS_BOOLEAN = "CASE result_json WHEN 'true' THEN true WHEN 'false' THEN false END"
RESULT_OR_JSON = "coalesce(CAST(result AS VARCHAR), result_json)"  # null only when absent


def to_sql(node: Node, columns: dict[str, str], parameters: list[Any]) -> str:
    """SQL for a filter over the given property → column names; literals become parameters."""
    kind = node[0]
    if kind == "lit":
        if node[1] is None:
            return "NULL"
        if isinstance(node[1], BaseGeometry):
            raise InvalidInput("Observations' own properties hold no geography to compare "
                               "with a geography literal", field="$filter")
        parameters.append(node[1])
        return "?"
    if kind == "prop":
        column = columns.get(node[1])
        if column is None:
            raise InvalidInput("cannot filter on '{name}' here (use one of {names})",
                               field="$filter", name=node[1], names=", ".join(sorted(columns)))
        return column
    if kind == "not":
        return f"(NOT {to_sql(node[1], columns, parameters)})"
    if kind in {"and", "or"}:
        return (f"({to_sql(node[1], columns, parameters)} {kind.upper()} "
                f"{to_sql(node[2], columns, parameters)})")
    if kind == "in":
        column = to_sql(("prop", node[1]), columns, parameters)
        ids = ", ".join(str(int(identifier)) for identifier in sorted(node[2]))
        return f"({column} IN ({ids}))" if ids else "FALSE"
    if kind == "call":
        if node[1] not in _SQL_FUNCTIONS:
            raise InvalidInput("{function}() on Observations must stand in a condition on "
                               "the FeatureOfInterest alone", field="$filter",
                               function=node[1])
        arguments = [to_sql(argument, columns, parameters) for argument in node[2]]
        # The functions on a result are text functions: startswith(result, 'four').
        arguments = [RESULT_AS_TEXT if sql == "result" else sql for sql in arguments]
        return _SQL_FUNCTIONS[node[1]].format(*arguments)
    if kind == "math":
        left = to_sql(node[2], columns, parameters)
        return f"({left} {ARITHMETIC[node[1]]} {to_sql(node[3], columns, parameters)})"
    left = _operand(node[2], node[3], columns, parameters)
    right = _operand(node[3], node[2], columns, parameters)
    if node[3] == ("lit", None):
        return f"({left} IS {'NOT ' if node[1] == 'ne' else ''}NULL)"
    return f"({left} {_SQL_COMPARE[node[1]]} {right})"


def _operand(node: Node, other: Node, columns: dict[str, str], parameters: list[Any]) -> str:
    """One side of a comparison. The result compares as the literal's type: as text with a
    text literal (2.0 reading '2', as the OGC test suite, ets-sta10, expects of ``result gt
    '3'``), as a boolean with true or false, as a number otherwise (a result that is not one
    then never matches)."""
    sql = to_sql(node, columns, parameters)
    if sql != "result" or other[0] != "lit":
        return sql
    literal = other[1]
    if isinstance(literal, bool):
        return RESULT_AS_BOOLEAN
    if isinstance(literal, str):
        return RESULT_AS_TEXT
    return RESULT_OR_JSON if literal is None else sql


def time_bounds(node: Node | None, prop: str) -> tuple[datetime | None, datetime | None]:
    """Bounds on ``prop`` that every match must meet (from top-level and-ed comparisons)."""
    if node is None:
        return None, None
    if node[0] == "and":
        low_a, high_a = time_bounds(node[1], prop)
        low_b, high_b = time_bounds(node[2], prop)
        lows = [low for low in (low_a, low_b) if low]
        highs = [high for high in (high_a, high_b) if high]
        return (max(lows) if lows else None), (min(highs) if highs else None)
    if node[0] == "cmp" and node[2] == ("prop", prop) and node[3][0] == "lit" \
            and isinstance(node[3][1], datetime):
        moment = node[3][1]
        return {"gt": (moment, None), "ge": (moment, None), "lt": (None, moment),
                "le": (None, moment), "eq": (moment, moment)}.get(node[1], (None, None))
    return None, None


# --- conditions on related entities ------------------------------------------------------

def paths_of(node: Node) -> set[str]:
    """The property paths a filter expression reads."""
    if node[0] == "prop":
        return {node[1]}
    if node[0] == "call":
        return set().union(*(paths_of(argument) for argument in node[2]))
    return set().union(*(paths_of(part) for part in node[1:] if isinstance(part, tuple)))


def bind_related(node: Node, resolve: Callable[[str, Node], Node | None]) -> Node:
    """The filter with each condition (a comparison or function call under and/or/not) that
    reads only through one navigation property, ``FeatureOfInterest/feature`` or
    ``Locations/location``, replaced by ``resolve(navigation, condition)`` (kept when that is
    None): the caller decides it on the related entities and answers with an ``in`` node."""
    kind = node[0]
    if kind in {"and", "or"}:
        return (kind, bind_related(node[1], resolve), bind_related(node[2], resolve))
    if kind == "not":
        return ("not", bind_related(node[1], resolve))
    if kind not in {"cmp", "call"}:
        return node
    paths = paths_of(node)
    navigations = {path.split("/")[0] for path in paths}
    if len(navigations) != 1 or not all("/" in path for path in paths):
        return node
    return resolve(navigations.pop(), node) or node


# --- lists -------------------------------------------------------------------------------

def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split at separators outside parentheses and quotes."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def parse_orderby(text: str) -> list[tuple[str, bool]]:
    """(property, descending) pairs."""
    order = []
    for part in split_top_level(text):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in {"asc", "desc"}):
            raise InvalidInput("cannot read $orderby '{part}'", field="$orderby", part=part)
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


@dataclass
class Expand:
    navigation: str
    options: dict[str, str] = field(default_factory=dict)


def parse_expand(text: str) -> list[Expand]:
    expands = []
    for part in split_top_level(text):
        name, _, rest = part.partition("(")
        options: dict[str, str] = {}
        if rest:
            if not rest.endswith(")"):
                raise InvalidInput("cannot read $expand '{part}'", field="$expand", part=part)
            for option in split_top_level(rest[:-1], ";"):
                key, _, value = option.partition("=")
                options[key.strip()] = value.strip()
        expands.append(Expand(name.strip(), options))
    return expands
