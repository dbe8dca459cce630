"""Delimiter, decimal separator, header and column types of a CSV file, from its first lines.

The types are chosen by plain rules that a publisher can predict: a column is BIGINT when
every sampled value is a whole number without a leading zero (so codes like ``0301`` stay
text, and
neither are whole numbers in a column named like an identifier: ``*_code``, ``kode``, ``kod``,
``*_id``, ``nummer``, ``nr``, ``teryt``), DOUBLE when every value is a number (with ``,`` as the decimal separator when the
delimiter is not a comma and the file writes decimals that way), BOOLEAN for true/false,
DATE for ``YYYY-MM-DD``, TIMESTAMP (WITH TIME ZONE when an offset or Z is given) for ISO
date-times, and VARCHAR otherwise or when the sample has no value at all. A column where
most values are numbers but some are not becomes VARCHAR with a warning naming the first line
that is not a number (see ``csv_reader`` for the same case further down the file).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field

from bylab.catalog.ingest.column_names import checked_column_names
from bylab.errors import InvalidInput

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_LINES = 2000

_INTEGER = re.compile(r"[+-]?(0|[1-9]\d{0,17})")
_NUMBER = {
    ".": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"),
    ",": re.compile(r"[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?"),
}
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_DOT_DECIMAL = re.compile(r"[+-]?\d+\.\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_TIMESTAMP_TZ = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)")
_BOOLEANS = {"true", "false"}
_IDENTIFIER_NAME = re.compile(
    r"(^|[_\s-])(code|id|teryt)$|(kode|kod|nummer|nr)$", re.IGNORECASE)


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    decimal_separator: str
    column_names: list[str]
    column_types: list[str]
    warnings: dict[str, str] = field(default_factory=dict)  # by column name


def sniff_csv(sample_text: str, filename: str, max_columns: int) -> CsvDialect:
    """The dialect of a CSV file from its first lines (``sample_text``, decoded)."""
    lines = sample_text.lstrip("\ufeff").splitlines()[:SAMPLE_LINES]
    if not lines or not lines[0].strip():
        raise InvalidInput("the file is empty (no header row)", file=filename, row=1)
    delimiter = _best_delimiter(lines)
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    names = checked_column_names(next(reader), filename, max_columns)
    numbered_rows = [(reader.line_num, row) for row in reader
                     if any(value.strip() for value in row)]
    if not numbered_rows:
        raise InvalidInput("the file has a header row but no data rows", file=filename, row=2)
    columns = [[row[index].strip() for _line, row in numbered_rows if index < len(row)]
               for index in range(len(names))]
    line_numbers = [line for line, _row in numbered_rows]
    decimal_separator = _decimal_separator(columns, delimiter)
    types = [_column_type(values, decimal_separator) for values in columns]
    types = ["VARCHAR" if column_type == "BIGINT" and _IDENTIFIER_NAME.search(name)
             else column_type for name, column_type in zip(names, types, strict=True)]
    warnings = {}
    for name, column_type, values in zip(names, types, columns, strict=True):
        warning = _mixed_warning(values, line_numbers, decimal_separator)
        if column_type == "VARCHAR" and warning:
            warnings[name] = warning
    return CsvDialect(delimiter, decimal_separator, names, types, warnings)


def _mixed_warning(values: list[str], line_numbers: list[int],
                   decimal_separator: str) -> str | None:
    """A warning when most values are numbers but some are not."""
    number = _NUMBER[decimal_separator]
    present = [(value, line) for value, line in zip(values, line_numbers, strict=False)
               if value]
    not_numbers = [(value, line) for value, line in present if not number.fullmatch(value)]
    if not not_numbers or len(not_numbers) * 2 >= len(present):
        return None
    value, line = not_numbers[0]
    return (f"stored as text: line {line} holds {value!r}, which is not a number like "
            "the other values")


def _best_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most lines into the same number (>1) of fields."""
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        field_counts = Counter(len(row) for row in csv.reader(lines[:200], delimiter=delimiter))
        fields, lines_agreeing = field_counts.most_common(1)[0]
        score = lines_agreeing * 1000 + fields if fields > 1 else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _decimal_separator(columns: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    comma = sum(1 for values in columns for value in values if _COMMA_DECIMAL.fullmatch(value))
    dot = sum(1 for values in columns for value in values if _DOT_DECIMAL.fullmatch(value))
    return "," if comma > 0 and dot == 0 else "."


def _column_type(values: list[str], decimal_separator: str) -> str:
    present = [value for value in values if value]
    if not present:
        return "VARCHAR"
    if all(value.lower() in _BOOLEANS for value in present):
        return "BOOLEAN"
    if all(_INTEGER.fullmatch(value) for value in present):
        return "BIGINT"
    number = _NUMBER[decimal_separator]
    if all(number.fullmatch(value) for value in present) and not _has_leading_zero(present):
        return "DOUBLE"
    if all(_DATE.fullmatch(value) for value in present):
        return "DATE"
    if all(_TIMESTAMP_TZ.fullmatch(value) for value in present):
        return "TIMESTAMPTZ"
    if all(_TIMESTAMP.fullmatch(value) for value in present):
        return "TIMESTAMP"
    return "VARCHAR"


def _has_leading_zero(values: list[str]) -> bool:
    """Whole numbers written with a leading zero are codes (``0301``), not quantities."""
    return any(len(digits) > 1 and digits[0] == "0" and digits.isdigit()
               for digits in (value.lstrip("+-") for value in values))
