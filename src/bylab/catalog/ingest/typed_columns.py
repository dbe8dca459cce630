"""Columns built from Python values (Excel cells, GeoJSON properties) into Arrow arrays.

Same rule as for CSV: a column whose values are all numbers (or all dates, booleans) gets
that type; a column mixing numbers with text is stored as text, with a warning naming the
column and the first row that is not a number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pyarrow as pa


@dataclass
class ColumnValues:
    """The values of one column and, for messages, the row each came from."""

    name: str
    values: list[object] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, datetime):
        return "date" if value.time() == time(0) and value.tzinfo is None else "timestamp"
    if isinstance(value, date):
        return "date"
    return "text"


_NUMERIC = {"integer", "number"}


def column_array(column: ColumnValues) -> tuple[pa.Array, str | None]:
    """The column as an Arrow array, and a warning when it had to be stored as text."""
    kinds = {_kind(value) for value in column.values if value is not None}
    if not kinds:
        return pa.array([None] * len(column.values), pa.string()), None
    if kinds == {"integer"}:
        return pa.array(column.values, pa.int64()), None
    if kinds <= _NUMERIC:
        return pa.array([None if v is None else float(v) for v in column.values],
                        pa.float64()), None
    if kinds == {"boolean"}:
        return pa.array(column.values, pa.bool_()), None
    if kinds == {"date"}:
        return pa.array([_as_date(v) for v in column.values], pa.date32()), None
    if kinds <= {"date", "timestamp"}:
        return pa.array(column.values, pa.timestamp("us")), None
    text = pa.array([None if v is None else _as_text(v) for v in column.values], pa.string())
    return text, _mixed_warning(column, kinds)


def _mixed_warning(column: ColumnValues, kinds: set[str]) -> str | None:
    typed = kinds - {"text"}
    if not typed:
        return None
    counts = {kind: sum(1 for v in column.values if v is not None and _kind(v) == kind)
              for kind in typed}
    majority = max(counts, key=lambda kind: counts[kind])
    expected = _NUMERIC if majority in _NUMERIC else {majority}
    for value, row in zip(column.values, column.rows, strict=True):
        if value is not None and _kind(value) not in expected:
            return (f"stored as text: row {row} holds {_as_text(value)!r}, which is not "
                    f"{'a number' if majority in _NUMERIC else majority} like the other "
                    "values")
    return None


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def columns_table(columns: list[ColumnValues]) -> tuple[pa.Table, dict[str, str]]:
    """An Arrow table of the columns, and warnings by column name."""
    arrays, warnings = [], {}
    for column in columns:
        array, warning = column_array(column)
        arrays.append(array)
        if warning:
            warnings[column.name] = warning
    return pa.table(arrays, names=[column.name for column in columns]), warnings
