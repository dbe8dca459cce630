"""CSV → Parquet with DuckDB, with the delimiter, decimal separator and types from the sniff.

This reader takes every file that the faster ``csv_arrow_reader`` declines (quoted values,
and any file with a problem), so its messages are the ones publishers see.

Mixed types: when a column sniffed as a number (or date, or boolean) holds a value that is
not one further down the file, the column is stored as text rather than refused, and a
warning naming the column and the first such row is returned (and kept in the column's
schema). Data is not lost, and the publisher learns which row to fix. Every other
problem (ragged rows, bad bytes, broken quoting) refuses the file, naming the row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from bylab.catalog.ingest.csv_sniff import CsvDialect
from bylab.catalog.ingest.progress import ByteProgress
from bylab.catalog.ingest.text_encoding import first_bad_utf8_byte, undecodable
from bylab.errors import InvalidInput
from bylab.storage.tables import sql_string


@dataclass(frozen=True)
class CsvProblem:
    """One row DuckDB rejected (from its ``reject_errors`` table)."""

    line: int
    line_byte_position: int
    column_name: str | None
    error_type: str
    csv_line: str
    message: str


def csv_to_parquet(connection: duckdb.DuckDBPyConnection, source: Path, dialect: CsvDialect,
                   target: Path, filename: str, progress: ByteProgress) -> dict[str, str]:
    """Write ``source`` (UTF-8) to ``target`` as Parquet. Returns warnings by column name."""
    warnings = dict(dialect.warnings)
    while True:
        try:
            with progress.watching(connection):
                connection.execute(f"COPY (SELECT * FROM {_read_csv(source, dialect)}) "
                                   f"TO {sql_string(str(target))} (FORMAT parquet)")
            return warnings
        except duckdb.Error as error:
            problem = _first_problem(connection, source, dialect)
            if problem is None:
                raise InvalidInput("the file could not be read as CSV: {problem}",
                                   file=filename, problem=_first_line(error)) from None
            if (problem.error_type != "CAST" or problem.column_name is None
                    or problem.column_name in warnings):
                raise _refusal(problem, source, filename) from None
            warnings[problem.column_name] = _mixed_type_warning(problem, dialect)
            dialect = _as_text(dialect, problem.column_name)


def _read_csv(source: Path, dialect: CsvDialect, store_rejects: bool = False) -> str:
    columns = ", ".join(f"{sql_string(name)}: {sql_string(column_type)}"
                        for name, column_type in zip(dialect.column_names,
                                                     dialect.column_types, strict=True))
    options = [
        "header = true", "auto_detect = false", "quote = '\"'", "escape = '\"'",
        f"delim = {sql_string(dialect.delimiter)}",
        f"decimal_separator = {sql_string(dialect.decimal_separator)}",
        f"columns = {{{columns}}}",
        "strict_mode = true", "null_padding = false",
    ]
    if store_rejects:
        options.append("store_rejects = true")
    return f"read_csv({sql_string(str(source))}, {', '.join(options)})"


def _first_problem(connection: duckdb.DuckDBPyConnection, source: Path,
                   dialect: CsvDialect) -> CsvProblem | None:
    """Read the file again, keeping DuckDB's structured record of rejected rows."""
    try:
        # count(COLUMNS(*)) converts every column; count(*) would skip the conversions
        connection.execute(f"SELECT count(COLUMNS(*)) FROM {_read_csv(source, dialect, True)}"
                           ).fetchall()
        row = connection.execute(
            "SELECT line, line_byte_position, column_name, error_type, csv_line, error_message "
            "FROM reject_errors ORDER BY line, error_type = 'CAST' LIMIT 1").fetchone()
        connection.execute("DROP TABLE IF EXISTS reject_errors; "
                           "DROP TABLE IF EXISTS reject_scans")
    except duckdb.Error:
        return None
    return CsvProblem(*row) if row else None


def _refusal(problem: CsvProblem, source: Path, filename: str) -> InvalidInput:
    line = int(problem.line)
    if problem.error_type == "INVALID ENCODING":
        offset = first_bad_utf8_byte(source, int(problem.line_byte_position))
        return undecodable(filename, offset, line, "UTF-8")
    if problem.error_type in {"TOO MANY COLUMNS", "MISSING COLUMNS"}:
        return InvalidInput("line {line} has a different number of fields than the header "
                            "({problem}): {text!r}", file=filename, row=line, line=line,
                            problem=problem.message, text=problem.csv_line[:200])
    return InvalidInput("line {line}: {problem}", file=filename, row=line,
                        field=problem.column_name, line=line, problem=problem.message)


def _mixed_type_warning(problem: CsvProblem, dialect: CsvDialect) -> str:
    index = dialect.column_names.index(problem.column_name or "")
    expected = dialect.column_types[index].lower()
    value = _field_value(problem, dialect, index)
    return (f"stored as text: line {problem.line} holds {value!r}, which is not {expected} "
            "like the values above it")


def _field_value(problem: CsvProblem, dialect: CsvDialect, index: int) -> str:
    fields = next(csv.reader([problem.csv_line], delimiter=dialect.delimiter), [])
    return fields[index] if index < len(fields) else problem.csv_line


def _as_text(dialect: CsvDialect, column_name: str) -> CsvDialect:
    types = [
        "VARCHAR" if name == column_name else column_type
        for name, column_type in zip(dialect.column_names, dialect.column_types, strict=True)
    ]
    return replace(dialect, column_types=types)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
