"""What a stored table holds: its columns (name, type, nullable, examples), rows and checksum."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import duckdb

from bylab.storage.tables import sql_string

EXAMPLES_PER_COLUMN = 3
EXAMPLE_ROWS = 200
EXAMPLE_TEXT_CHARS = 80


def python_safe_columns(described: list[tuple]) -> str:
    """A SELECT list for ``DESCRIBE`` rows that Python can fetch without pytz: values with a
    time zone come as ISO text in UTC (the connection's TimeZone must be 'UTC')."""
    selected = []
    for name, column_type, *_rest in described:
        quoted = f'"{_quoted(name)}"'
        if "WITH TIME ZONE" in str(column_type).upper():
            selected.append(f"CAST({quoted} AS VARCHAR) AS {quoted}")
        else:
            selected.append(quoted)
    return ", ".join(selected)


def describe_table(connection: duckdb.DuckDBPyConnection, path: Path,
                   warnings: dict[str, str]) -> tuple[list[dict[str, object]], int]:
    """The column schema of a stored Parquet file and its row count."""
    scan = f"read_parquet({sql_string(str(path))})"
    described = connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    names = [row[0] for row in described]
    counts_sql = ", ".join(["count(*)", *(f'count("{_quoted(name)}")' for name in names)])
    row_count, *present_counts = connection.execute(f"SELECT {counts_sql} FROM {scan}").fetchone()
    connection.execute("SET TimeZone = 'UTC'")
    sample = connection.execute(f"SELECT {python_safe_columns(described)} FROM {scan} "
                                f"LIMIT {EXAMPLE_ROWS}").fetchall()
    columns: list[dict[str, object]] = []
    for index, (name, column_type, *_rest) in enumerate(described):
        column: dict[str, object] = {
            "name": name,
            "type": column_type,
            "nullable": present_counts[index] < row_count,
            "examples": _examples(row[index] for row in sample),
        }
        if name in warnings:
            column["warning"] = warnings[name]
        columns.append(column)
    return columns, int(row_count)


def _quoted(name: str) -> str:
    return name.replace('"', '""')


def _examples(values) -> list[object]:  # noqa: ANN001
    examples: list[object] = []
    for value in values:
        if value is None:
            continue
        example = json_value(value)
        if isinstance(example, str) and len(example) > EXAMPLE_TEXT_CHARS:
            example = example[:EXAMPLE_TEXT_CHARS] + "…"
        if example not in examples:
            examples.append(example)
        if len(examples) == EXAMPLES_PER_COLUMN:
            break
    return examples


def json_value(value: object) -> object:
    """A value as JSON can hold it (dates and times as ISO text)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stored:
        while chunk := stored.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
