"""``ingest_file``: detect, check limits, stage (decompress, transcode), convert, describe."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bylab.catalog.ingest.csv_arrow_reader import arrow_csv_to_parquet
from bylab.catalog.ingest.csv_reader import csv_to_parquet
from bylab.catalog.ingest.csv_sniff import sniff_csv
from bylab.catalog.ingest.excel_reader import xlsx_to_parquet
from bylab.catalog.ingest.formats import SourceFormat, detect_format, inner_name, is_gzip
from bylab.catalog.ingest.geojson_reader import geojson_to_parquet
from bylab.catalog.ingest.limits import check_file_size, gunzip_guarded
from bylab.catalog.ingest.parquet_reader import parquet_to_parquet
from bylab.catalog.ingest.progress import ByteProgress, ProgressCallback
from bylab.catalog.ingest.table_schema import describe_table, file_sha256
from bylab.catalog.ingest.text_encoding import UTF8, detect_encoding, transcode_to_utf8
from bylab.errors import InvalidInput
from bylab.settings import Settings

SNIFF_BYTES = 1024 * 1024


@dataclass
class IngestedTable:
    """What was stored. ``sha256`` and ``byte_size`` are of the stored Parquet file (what is
    kept and served); ``warnings`` are by column name (also kept in ``columns``)."""

    source_format: SourceFormat
    row_count: int
    byte_size: int
    sha256: str
    columns: list[dict[str, object]]
    is_spatial: bool = False
    warnings: dict[str, str] = field(default_factory=dict)


def ingest_file(source: Path, filename: str, target: Path, settings: Settings,
                progress: ProgressCallback | None = None,
                sheet: str | None = None) -> IngestedTable:
    """Read ``source`` (named ``filename`` by its publisher) and write it to ``target`` as
    Parquet. Raises InvalidInput/TooLarge naming the file and, where it applies, the row and
    field. Writes nothing else that outlives the call."""
    if not source.is_file():
        raise InvalidInput("no such file", file=filename)
    size = check_file_size(source, filename, settings)
    if size == 0:
        raise InvalidInput("the file is empty", file=filename, row=1)
    tracker = ByteProgress(progress, size)
    with _staging(settings) as (staging, connection):
        if is_gzip(source, filename):
            tracker.split_passes()
            unpacked = staging / "unpacked"
            gunzip_guarded(source, unpacked, filename, settings, tracker)
            tracker.next_pass()
            source = unpacked
        source_format = detect_format(source, inner_name(filename))
        warnings = _convert(connection, source_format, source, filename, target, settings,
                            tracker, staging, sheet)
        columns, row_count = describe_table(connection, target, warnings)
    tracker.finish()
    return IngestedTable(
        source_format=source_format, row_count=row_count, byte_size=target.stat().st_size,
        sha256=file_sha256(target), columns=columns,
        is_spatial=source_format == SourceFormat.GEOJSON, warnings=warnings,
    )


@contextmanager
def _staging(settings: Settings) -> Iterator[tuple[Path, duckdb.DuckDBPyConnection]]:
    """A private folder for intermediate files, and a DuckDB connection spilling into it."""
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.uploads_dir, prefix="ingest-") as folder:
        connection = duckdb.connect(":memory:")
        try:
            connection.execute(f"SET temp_directory = '{folder}/duckdb'")
            connection.execute("SET enable_progress_bar = true")
            connection.execute("SET enable_progress_bar_print = false")
            connection.execute("SET TimeZone = 'UTC'")
            yield Path(folder), connection
        finally:
            connection.close()


def _convert(connection: duckdb.DuckDBPyConnection, source_format: SourceFormat, source: Path,
             filename: str, target: Path, settings: Settings, tracker: ByteProgress,
             staging: Path, sheet: str | None) -> dict[str, str]:
    if source_format == SourceFormat.CSV:
        return _csv(connection, source, filename, target, settings, tracker, staging)
    if source_format == SourceFormat.XLSX:
        return xlsx_to_parquet(connection, source, target, filename, settings, sheet)
    if source_format == SourceFormat.GEOJSON:
        return geojson_to_parquet(connection, source, target, filename, settings)
    parquet_to_parquet(connection, source, target, filename, settings, tracker)
    return {}


def _csv(connection: duckdb.DuckDBPyConnection, source: Path, filename: str, target: Path,
         settings: Settings, tracker: ByteProgress, staging: Path) -> dict[str, str]:
    with open(source, "rb") as raw:
        sample = raw.read(SNIFF_BYTES)
        complete = not raw.read(1)
    if not sample.strip(b"\xef\xbb\xbf \t\r\n"):
        raise InvalidInput("the file is empty", file=filename, row=1)
    encoding = detect_encoding(sample, complete)
    if encoding != UTF8:
        tracker.split_passes()
        transcoded = staging / "utf8.csv"
        transcode_to_utf8(source, transcoded, encoding, filename, tracker)
        tracker.next_pass()
        source = transcoded
    sample_text = sample.decode(encoding, errors="replace")
    if not complete:
        sample_text = sample_text[: sample_text.rfind("\n") + 1] or sample_text
    dialect = sniff_csv(sample_text, filename, settings.max_columns)
    if arrow_csv_to_parquet(source, dialect, target, tracker):
        return dict(dialect.warnings)
    # DuckDB's reader: slower, but turns mixed columns into text and names bad rows
    return csv_to_parquet(connection, source, dialect, target, filename, tracker)
