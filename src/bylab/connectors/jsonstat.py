"""Statistical API responses → one tidy table (one row per cell).

Reads JSON-stat 2.0 datasets (SCB PxWebApi 2.0, SSB ``json-stat2``), JSON-stat 1.x
``dataset`` / bundle responses (SSB and SCB PxWeb API v1 ``json-stat``) and the PxWeb API v1
``json`` format (``columns`` / ``data`` / ``metadata``). Every dimension becomes two columns,
``<name>_code`` and ``<name>`` (its label); the time dimension adds ``period`` (the first day
of the period) and ``period_type``; suppressed or missing cells keep a NULL ``value`` and
their marker in ``status``. Malformed input raises ``InvalidInput`` naming the file and the
JSON path (``field="dimension.Tid"``).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from bylab.errors import InvalidInput

__all__ = ["Cell", "Dimension", "ParsedTable", "RejectedCell", "parse_document", "parse_file",
           "parse_period", "tidy_table"]

# Dimension ids that hold regions when the dataset gives no "geo" role (SCB, SSB).
REGION_DIMENSION_IDS = {"region", "kommune", "kommunenr", "kommun", "fylke", "lan", "län"}
TIME_DIMENSION_IDS = {"tid", "time", "year", "år"}
# What statistics offices put in a cell instead of a number (SSB, SCB, Statistics Finland and
# the PX format): a missing, confidential, not applicable or too uncertain value.
SUPPRESSION_MARKERS = {".", "..", "...", "....", ".....", "......", ":", "-", "x", "X", "…",
                       "–", "—"}


@dataclass(frozen=True)
class Dimension:
    """One dimension: its categories' codes and labels in cube order, and the unit of each
    category when it is the metric (contents) dimension."""

    id: str
    label: str
    codes: list[str]
    labels: list[str]
    role: str | None = None  # "time", "geo" or "metric"
    units: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One value with its category position in each dimension."""

    positions: tuple[int, ...]
    value: Any
    status: str | None = None


@dataclass(frozen=True)
class RejectedCell:
    """A cell that cannot be stored (neither a number nor a suppression marker)."""

    position: int  # in cube order
    codes: dict[str, str]  # dimension id -> category code
    value: str  # what the cell held, as text
    reason: str

    @property
    def location(self) -> str:
        codes = ", ".join(f"{dimension}={code}" for dimension, code in self.codes.items())
        return f"cell {self.position} ({codes})"


@dataclass
class ParsedTable:
    """A parsed response: its tidy table and what the harvest report needs. Rejected cells
    are left out of the table; every other cell is in it."""

    label: str
    source: str
    updated: str | None
    table: pa.Table
    region_column: str | None  # the column holding region codes, if any
    suppressed_cells: int
    dimension_ids: list[str] = field(default_factory=list)
    rejected: list[RejectedCell] = field(default_factory=list)
    # What built the table: a corrected cell is tidied with them (connectors.cell_correction).
    dimensions: list[Dimension] = field(default_factory=list)
    dataset_unit: str | None = None

    @property
    def cells_read(self) -> int:
        return self.table.num_rows + len(self.rejected)


def parse_file(path: Path, filename: str | None = None) -> ParsedTable:
    """Parse a saved response file (JSON-stat 1.x/2.0 or PxWeb v1 ``json``)."""
    filename = filename or path.name
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput("not a readable JSON document ({error})", file=filename,
                           error=error) from None
    return parse_document(document, filename)


def parse_document(document: Any, filename: str) -> ParsedTable:
    """Parse a decoded response; ``filename`` (or the URL) names it in error messages."""
    if not isinstance(document, dict):
        raise InvalidInput("expected a JSON object", file=filename)
    if "columns" in document and "data" in document:
        return _parse_pxweb_json(document, filename)
    if document.get("class") == "dataset" or "id" in document and "dimension" in document:
        return _parse_cube(document, filename, path="", ids_inside_dimension=False)
    if isinstance(document.get("dimension"), dict):  # a JSON-stat 1.x dataset, unwrapped
        return _parse_cube(document, filename, path="", ids_inside_dimension=True)
    return _parse_jsonstat1(document, filename)


# --- JSON-stat ---------------------------------------------------------------------------

def _parse_jsonstat1(document: dict[str, Any], filename: str) -> ParsedTable:
    """JSON-stat 1.x: a bundle of named datasets, ids and sizes inside ``dimension``. The
    first dataset is read (PxWeb answers with one, named ``dataset``)."""
    for name, dataset in document.items():
        if isinstance(dataset, dict) and "dimension" in dataset:
            return _parse_cube(dataset, filename, path=f"{name}.", ids_inside_dimension=True)
    raise InvalidInput("no JSON-stat dataset, PxWeb 'columns'/'data' or 'dimension' found",
                       file=filename)


def _parse_cube(dataset: dict[str, Any], filename: str, path: str,
                ids_inside_dimension: bool) -> ParsedTable:
    dimension_block = _required(dataset, "dimension", dict, filename, path)
    holder, holder_path = ((dimension_block, f"{path}dimension.") if ids_inside_dimension
                           else (dataset, path))
    ids = [str(dimension_id) for dimension_id in
           _required(holder, "id", list, filename, holder_path)]
    sizes = _required(holder, "size", list, filename, holder_path)
    if len(sizes) != len(ids) or not all(isinstance(size, int) for size in sizes):
        raise InvalidInput("'size' must hold one whole number per id ({count})",
                           file=filename, field=f"{holder_path}size", count=len(ids))
    roles = _roles(holder.get("role") or dataset.get("role") or {})
    dimensions = [
        _dimension(dimension_id, dimension_block.get(dimension_id), size, roles, filename,
                   f"{path}dimension.{dimension_id}")
        for dimension_id, size in zip(ids, sizes, strict=True)
    ]
    cell_count = math.prod(sizes)
    values = _values(dataset, cell_count, filename, path)
    statuses = _statuses(dataset.get("status"), cell_count, filename, f"{path}status")
    cells = (Cell(positions, values[index], statuses[index]) for index, positions in
             enumerate(itertools.product(*(range(size) for size in sizes))))
    return tidy_table(dataset, dimensions, cells, _dataset_unit(dataset))


def _required(holder: dict[str, Any], key: str, kind: type, filename: str, path: str) -> Any:
    value = holder.get(key)
    if not isinstance(value, kind):
        if kind is dict:
            raise InvalidInput("'{key}' is missing or not an object", file=filename,
                               field=f"{path}{key}", key=key)
        raise InvalidInput("'{key}' is missing or not a list", file=filename,
                           field=f"{path}{key}", key=key)
    return value


def _roles(role_block: Mapping[str, Any]) -> dict[str, str]:
    """Dimension id → role ("time", "geo", "metric")."""
    return {str(dimension_id): role for role, ids in role_block.items()
            if isinstance(ids, list) for dimension_id in ids}


def _dimension(dimension_id: str, block: Any, size: int, roles: dict[str, str], filename: str,
               path: str) -> Dimension:
    if not isinstance(block, dict) or not isinstance(block.get("category"), dict):
        raise InvalidInput("dimension '{dimension}' is missing or has no 'category'",
                           file=filename, field=path, dimension=dimension_id)
    category = block["category"]
    codes = _category_codes(category, filename, f"{path}.category")
    if len(codes) != size:
        raise InvalidInput("{count} categories but size {size}", file=filename,
                           field=f"{path}.category", count=len(codes), size=size)
    labels_by_code = category.get("label") or {}
    units = {str(code): str(unit.get("base") or unit.get("label") or "")
             for code, unit in (category.get("unit") or {}).items() if isinstance(unit, dict)}
    return Dimension(
        id=dimension_id, label=str(block.get("label") or dimension_id), codes=codes,
        labels=[str(labels_by_code.get(code, code)) for code in codes],
        role=roles.get(dimension_id), units={code: unit for code, unit in units.items() if unit},
    )


def _category_codes(category: dict[str, Any], filename: str, path: str) -> list[str]:
    """Codes in cube order: ``index`` is a list, or an object code → position; a single
    category may give only ``label``."""
    index = category.get("index")
    if isinstance(index, list):
        return [str(code) for code in index]
    if isinstance(index, dict):
        ordered = sorted(index.items(), key=lambda item: item[1])
        if [position for _, position in ordered] != list(range(len(ordered))):
            raise InvalidInput("category positions must run 0, 1, 2, … without gaps",
                               file=filename, field=f"{path}.index")
        return [str(code) for code, _ in ordered]
    labels = category.get("label")
    if isinstance(labels, dict) and len(labels) == 1:
        return [str(code) for code in labels]
    raise InvalidInput("the category has no 'index'", file=filename, field=f"{path}.index")


def _values(dataset: dict[str, Any], cell_count: int, filename: str, path: str) -> list[Any]:
    raw = dataset.get("value")
    if isinstance(raw, list):
        if len(raw) != cell_count:
            raise InvalidInput("the sizes make {cells:,} cells but there are {values:,} "
                               "values", file=filename, field=f"{path}value",
                               cells=cell_count, values=len(raw))
        return raw
    if isinstance(raw, dict):  # sparse: position → value
        values: list[Any] = [None] * cell_count
        for key, value in raw.items():
            values[_position(key, cell_count, filename, f"{path}value")] = value
        return values
    raise InvalidInput("'value' is missing or not a list/object", file=filename,
                       field=f"{path}value")


def _statuses(raw: Any, cell_count: int, filename: str, path: str) -> list[str | None]:
    if raw is None:
        return [None] * cell_count
    if isinstance(raw, str):  # one status for every cell
        return [raw] * cell_count
    if isinstance(raw, list):
        if len(raw) != cell_count:
            raise InvalidInput("{statuses:,} statuses for {cells:,} cells",
                               file=filename, field=path, statuses=len(raw), cells=cell_count)
        return [None if status is None else str(status) for status in raw]
    if isinstance(raw, dict):
        statuses: list[str | None] = [None] * cell_count
        for key, status in raw.items():
            statuses[_position(key, cell_count, filename, path)] = str(status)
        return statuses
    raise InvalidInput("'status' must be a string, list or object", file=filename, field=path)


def _position(key: Any, cell_count: int, filename: str, path: str) -> int:
    try:
        position = int(key)
    except (TypeError, ValueError):
        position = -1
    if not 0 <= position < cell_count:
        raise InvalidInput("cell position {key!r} is outside 0–{last}",
                           file=filename, field=f"{path}.{key}", key=key, last=cell_count - 1)
    return position


def _dataset_unit(dataset: dict[str, Any]) -> str | None:
    """A dataset-wide unit from the PX extension (``extension.px.units``), if declared."""
    px = (dataset.get("extension") or {}).get("px") or {}
    unit = px.get("units") if isinstance(px, dict) else None
    return str(unit) if unit else None


# --- PxWeb API v1 "json" -------------------------------------------------------------------

def _parse_pxweb_json(document: dict[str, Any], filename: str) -> ParsedTable:
    """``columns`` (type d/t: dimensions, c: contents) and ``data`` rows of ``key`` codes and
    one value per contents column. The format gives codes only, so labels repeat the codes."""
    columns = _required(document, "columns", list, filename, "")
    key_columns = [column for column in columns if column.get("type") in ("d", "t")]
    contents_columns = [column for column in columns if column.get("type") == "c"]
    if not contents_columns:
        raise InvalidInput("no contents column (type 'c')", file=filename, field="columns")
    rows = _required(document, "data", list, filename, "")
    codes_seen: list[dict[str, int]] = [{} for _ in key_columns]
    cells = list(_pxweb_cells(rows, codes_seen, len(key_columns), len(contents_columns),
                              filename))
    dimensions = [
        Dimension(id=str(column["code"]), label=str(column.get("text") or column["code"]),
                  codes=list(seen), labels=list(seen),
                  role="time" if column.get("type") == "t" else None)
        for column, seen in zip(key_columns, codes_seen, strict=True)
    ]
    dimensions.append(Dimension(
        id="ContentsCode", label="contents", role="metric",
        codes=[str(column["code"]) for column in contents_columns],
        labels=[str(column.get("text") or column["code"]) for column in contents_columns]))
    metadata = (document.get("metadata") or [{}])[0]
    return tidy_table(metadata, dimensions, iter(cells), None)


def _pxweb_cells(rows: list[Any], codes_seen: list[dict[str, int]], key_count: int,
                 contents_count: int, filename: str) -> Iterator[Cell]:
    for row_number, row in enumerate(rows):
        path = f"data.{row_number}"
        key, values = row.get("key"), row.get("values")
        if not isinstance(key, list) or len(key) != key_count:
            raise InvalidInput("'key' must hold {count} codes", file=filename,
                               field=f"{path}.key", count=key_count)
        if not isinstance(values, list) or len(values) != contents_count:
            raise InvalidInput("'values' must hold {count} values", file=filename,
                               field=f"{path}.values", count=contents_count)
        positions = tuple(seen.setdefault(str(code), len(seen))
                          for seen, code in zip(codes_seen, key, strict=True))
        for contents_position, value in enumerate(values):
            yield Cell((*positions, contents_position), value)


# --- the tidy table ------------------------------------------------------------------------

def tidy_table(described: dict[str, Any], dimensions: list[Dimension], cells: Iterator[Cell],
               dataset_unit: str | None) -> ParsedTable:
    """The tidy table of ``cells``: the loop keeps only category positions, values and
    statuses; codes, labels, periods and units are looked up per category, column by column."""
    positions: list[list[int]] = [[] for _ in dimensions]
    values: list[Any] = []
    statuses: list[str | None] = []
    rejected: list[RejectedCell] = []
    for number, cell in enumerate(cells):
        value, status, problem = _value_and_status(cell.value, cell.status)
        if problem:
            rejected.append(_rejected(number, cell, dimensions, problem))
            continue
        for column, position in zip(positions, cell.positions, strict=True):
            column.append(position)
        values.append(value)
        statuses.append(status)
    names = _column_names(dimensions)
    columns: dict[str, pa.Array] = {}
    for dimension, name, column in zip(dimensions, names, positions, strict=True):
        indices = pa.array(column, pa.int32())
        columns[f"{name}_code"] = pa.array(dimension.codes, pa.string()).take(indices)
        columns[name] = pa.array(dimension.labels, pa.string()).take(indices)
        if dimension.role == "time":
            periods = [parse_period(code) for code in dimension.codes]
            columns["period"] = pa.array([period for period, _ in periods],
                                         pa.date32()).take(indices)
            columns["period_type"] = pa.array([kind for _, kind in periods],
                                              pa.string()).take(indices)
    unit = _unit_column(dimensions, positions, dataset_unit, len(values))
    if unit is not None:
        columns["unit"] = unit
    all_whole = all(isinstance(value, int) for value in values if value is not None)
    columns["value"] = pa.array(values, pa.int64() if all_whole else pa.float64())
    columns["status"] = pa.array(statuses, pa.string())
    return ParsedTable(
        label=str(described.get("label") or ""), source=str(described.get("source") or ""),
        updated=described.get("updated"), table=pa.table(columns),
        region_column=next((f"{name}_code" for name in names if name == "region"), None),
        suppressed_cells=sum(1 for value in values if value is None),
        dimension_ids=[dimension.id for dimension in dimensions], rejected=rejected,
        dimensions=dimensions, dataset_unit=dataset_unit,
    )


def _rejected(number: int, cell: Cell, dimensions: list[Dimension], reason: str) -> RejectedCell:
    codes = {dimension.id: dimension.codes[position]
             for dimension, position in zip(dimensions, cell.positions, strict=True)}
    return RejectedCell(position=number, codes=codes, value=str(cell.value)[:200], reason=reason)


def _column_names(dimensions: list[Dimension]) -> list[str]:
    """``time``, ``region`` and ``contents`` for those roles; otherwise the id in lowercase
    with non-alphanumerics as ``_``; a repeated name gets ``_2``, ``_3``."""
    names: list[str] = []
    for dimension in dimensions:
        folded = dimension.id.casefold()
        if dimension.role == "time" or folded in TIME_DIMENSION_IDS:
            base = "time"
        elif dimension.role == "geo" or folded in REGION_DIMENSION_IDS:
            base = "region"
        elif dimension.role == "metric":
            base = "contents"
        else:
            base = re.sub(r"[^0-9a-z]+", "_", folded).strip("_") or "dimension"
        name, suffix = base, 2
        while name in names or name in ("value", "status", "unit", "period", "period_type"):
            name, suffix = f"{base}_{suffix}", suffix + 1
        names.append(name)
    return names


def _unit_column(dimensions: list[Dimension], positions: list[list[int]],
                 dataset_unit: str | None, rows: int) -> pa.Array | None:
    """Each cell's unit: its metric category's, else the dataset's; None when neither is
    declared."""
    metric = next((index for index, dimension in enumerate(dimensions)
                   if dimension.role == "metric" and dimension.units), None)
    if metric is not None:
        units = [dimensions[metric].units.get(code, dataset_unit)
                 for code in dimensions[metric].codes]
        return pa.array(units, pa.string()).take(pa.array(positions[metric], pa.int32()))
    if dataset_unit:
        return pa.array([dataset_unit] * rows, pa.string())
    return None


def _value_and_status(raw: Any, status: str | None
                      ) -> tuple[int | float | None, str | None, str | None]:
    """A number, or NULL with the marker (SSB/SCB "..", ":", "." or the JSON-stat status),
    or a reason the cell cannot be stored (text that is no marker, NaN, infinity, a list)."""
    if raw is None:
        return None, status, None
    if isinstance(raw, bool) or isinstance(raw, (list, dict)):
        return None, status, f"not a number: {type(raw).__name__}"
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            return None, status, f"not a finite number: {raw}"
        return raw, status, None
    text = str(raw).strip()
    if text in SUPPRESSION_MARKERS or not text:
        return None, status or text or None, None
    try:
        number = int(text) if text.removeprefix("-").isdigit() else float(text)
    except ValueError:
        return None, status, f"neither a number nor a suppression marker: {text[:40]!r}"
    if isinstance(number, float) and not math.isfinite(number):
        return None, status, f"not a finite number: {text}"
    return number, status, None


# --- time codes ----------------------------------------------------------------------------

PERIOD_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})"), "year"),
    (re.compile(r"(\d{4})[KQ]([1-4])"), "quarter"),
    (re.compile(r"(\d{4})M(0[1-9]|1[0-2])"), "month"),
    (re.compile(r"(\d{4})H([12])"), "half_year"),
    (re.compile(r"(\d{4})[UW](0[1-9]|[1-4]\d|5[0-3])"), "week"),
]


def parse_period(code: str) -> tuple[date | None, str | None]:
    """The first day of a PxWeb time code and its kind: 2023 → year, 2023K1 / 2023Q1 →
    quarter, 2023M01 → month, 2023H1 → half_year, 2023U01 / 2023W01 → ISO week.
    Anything else (e.g. 2016-2018) gives (None, None)."""
    for pattern, period_type in PERIOD_PATTERNS:
        match = pattern.fullmatch(code.strip())
        if match is None:
            continue
        year = int(match.group(1))
        part = int(match.group(2)) if match.lastindex and match.lastindex > 1 else 1
        if period_type == "week":
            try:
                return date.fromisocalendar(year, part, 1), period_type
            except ValueError:
                return None, None
        month = {"year": 1, "quarter": 3 * part - 2, "month": part,
                 "half_year": 6 * part - 5}[period_type]
        return date(year, month, 1), period_type
    return None, None
