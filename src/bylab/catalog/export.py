"""Downloads and previews of a dataset version: CSV, Parquet, JSON (array of records) and
GeoJSON (spatial datasets). Every read goes through ``queries.dataset_get`` (access checked).

Versions are immutable, so each converted download is made once, next to the stored table
(``v3.csv``), and served as a file from then on; large tables are converted by DuckDB
straight to disk, never held in memory.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import duckdb

from bylab.catalog.ingest.geojson_reader import GEOMETRY_COLUMN
from bylab.catalog.ingest.table_schema import json_value, python_safe_columns
from bylab.catalog.models import Dataset, DatasetVersion
from bylab.catalog.queries import dataset_get, dataset_version
from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.storage.tables import sql_string

MAX_PREVIEW_ROWS = 1000
# Previews kept in memory per process (a page of up to MAX_PREVIEW_ROWS rows each; the
# dataset page asks for 50), so a warm dataset page needs no DuckDB work.
PREVIEW_CACHE_ENTRIES = 256
GEOJSON_BATCH_ROWS = 10_000


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"
    GEOJSON = "geojson"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
    ExportFormat.JSON: "application/json",
    ExportFormat.GEOJSON: "application/geo+json",
}


@dataclass(frozen=True)
class ExportFile:
    """A finished download on disk (kept: do not delete it)."""

    path: Path
    media_type: str
    download_name: str


@dataclass(frozen=True)
class Preview:
    dataset_name: str
    version: int
    columns: list[dict[str, object]]
    rows: list[list[object]]
    total_rows: int
    limit: int
    offset: int


def dataset_export(ctx: Context, name_or_id: str, fmt: str,
                   version: int | None = None) -> ExportFile:
    """The dataset's data (latest version unless ``version``) as a file in ``fmt``."""
    export_format = _export_format(fmt)
    dataset, stored = _readable_version(ctx, name_or_id, version)
    if export_format == ExportFormat.GEOJSON and stored.source_format != "geojson":
        raise InvalidInput("dataset '{name}' has no geometries; GeoJSON is offered for "
                           "spatial datasets only", field="format", name=dataset.name)
    table = ctx.tables.resolve(stored.table_path)
    download_name = f"{dataset.name}-v{stored.version}.{export_format}"
    if export_format == ExportFormat.PARQUET:
        return ExportFile(table, MEDIA_TYPES[export_format], download_name)
    converted = table.with_name(f"{table.stem}.{export_format}")
    with _conversion_lock:
        if not converted.exists():
            with ctx.tables.atomic_path(converted) as temporary:
                _WRITERS[export_format](table, temporary)
    return ExportFile(converted, MEDIA_TYPES[export_format], download_name)


def dataset_preview(ctx: Context, name_or_id: str, version: int | None = None,
                    limit: int = 50, offset: int = 0) -> Preview:
    """Columns and up to ``limit`` rows from ``offset`` of a dataset version."""
    _check_preview_window(limit, offset)
    dataset, stored = _readable_version(ctx, name_or_id, version)
    return version_preview(ctx, dataset, stored, limit, offset)


def version_preview(ctx: Context, dataset: Dataset, stored: DatasetVersion, limit: int = 50,
                    offset: int = 0) -> Preview:
    """The preview of a version of a dataset the caller has read through
    ``queries.dataset_get`` (which checked access), without reading it again."""
    _check_preview_window(limit, offset)
    rows = _preview_rows(stored.id, str(ctx.tables.resolve(stored.table_path)), limit, offset)
    return Preview(
        dataset_name=dataset.name, version=stored.version, columns=stored.columns,
        rows=[list(row) for row in rows], total_rows=stored.row_count, limit=limit,
        offset=offset,
    )


def _check_preview_window(limit: int, offset: int) -> None:
    if not 0 <= limit <= MAX_PREVIEW_ROWS:
        raise InvalidInput("must be between 0 and {limit}", field="limit", limit=MAX_PREVIEW_ROWS)
    if offset < 0:
        raise InvalidInput("must not be negative", field="offset")


@functools.lru_cache(maxsize=PREVIEW_CACHE_ENTRIES)
def _preview_rows(version_id: str, table: str, limit: int, offset: int
                  ) -> tuple[tuple[object, ...], ...]:
    """Rows of a stored table as JSON values. Kept per process by version id: a version's
    table never changes, and a new version has a new id. Callers check access first."""
    scan = f"read_parquet({sql_string(table)})"
    with _preview_cursor() as connection:
        described = connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        rows = connection.execute(
            f"SELECT {python_safe_columns(described)} FROM {scan} LIMIT ? OFFSET ?",
            [limit, offset]).fetchall()
    return tuple(tuple(json_value(value) for value in row) for row in rows)


@functools.cache
def _preview_database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB database for this process's previews: opening a database costs
    about 17 ms, a cursor on an open one well under 1 ms."""
    return duckdb.connect(":memory:")


def _preview_cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own (safe to use in this thread) to the preview database."""
    cursor = _preview_database().cursor()
    cursor.execute("SET enable_progress_bar_print = false")
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor


def _export_format(fmt: str) -> ExportFormat:
    try:
        return ExportFormat(fmt.lower())
    except ValueError:
        raise InvalidInput("unknown format '{fmt}'; use {formats}",
                           field="format", fmt=fmt, formats=", ".join(ExportFormat)) from None


def _readable_version(ctx: Context, name_or_id: str,
                      version: int | None) -> tuple[Dataset, DatasetVersion]:
    with ctx.db.session() as session:
        dataset = dataset_get(session, ctx, name_or_id)
        return dataset, dataset_version(dataset, version)


_conversion_lock = threading.Lock()  # one conversion at a time: temp names are per process


def _connection() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    connection.execute("SET enable_progress_bar_print = false")
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def _copy(table: Path, target: Path, options: str) -> None:
    with _connection() as connection:
        connection.execute(f"COPY (SELECT * FROM read_parquet({sql_string(str(table))})) "
                           f"TO {sql_string(str(target))} ({options})")


def _write_csv(table: Path, target: Path) -> None:
    _copy(table, target, "FORMAT csv, HEADER true")


def _write_json(table: Path, target: Path) -> None:
    _copy(table, target, "FORMAT json, ARRAY true")


def _write_geojson(table: Path, target: Path) -> None:
    """A FeatureCollection written feature by feature, in batches."""
    with _connection() as connection, open(target, "w", encoding="utf-8") as output:
        scan = f"read_parquet({sql_string(str(table))})"
        described = connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        result = connection.execute(f"SELECT {python_safe_columns(described)} FROM {scan}")
        names = [row[0] for row in described]
        geometry_index = names.index(GEOMETRY_COLUMN)
        output.write('{"type":"FeatureCollection","features":[')
        separator = ""
        while batch := result.fetchmany(GEOJSON_BATCH_ROWS):
            for row in batch:
                properties = {name: json_value(value) for index, (name, value)
                              in enumerate(zip(names, row, strict=True))
                              if index != geometry_index}
                output.write(f'{separator}{{"type":"Feature","properties":'
                             f'{json.dumps(properties, ensure_ascii=False)},'
                             f'"geometry":{row[geometry_index]}}}')
                separator = ","
        output.write("]}\n")


_WRITERS: dict[ExportFormat, Callable[[Path, Path], None]] = {
    ExportFormat.CSV: _write_csv,
    ExportFormat.JSON: _write_json,
    ExportFormat.GEOJSON: _write_geojson,
}
