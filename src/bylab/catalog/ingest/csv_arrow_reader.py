"""The fast way from CSV to Parquet: pyarrow's streaming reader and Parquet writer, overlapped.

It reads a UTF-8 file with the delimiter, decimal separator, names and types from the sniff
and writes one Parquet file, keeping the rows in file order. It takes only files without any
quote character (most large machine-written files, such as sensor exports), where reading
CSV is splitting on delimiters and line ends, so it reads them exactly as DuckDB's reader
(``csv_reader``) does. On anything else (a quote, a row with the wrong number of fields, a
value that is not of its column's type, bad UTF-8) it declines, and DuckDB's reader converts
the file or explains what is wrong with it, naming the row. Declining costs the part of one
pass read so far.

Two differences are kept on purpose, both where DuckDB's reader does worse: an ISO 8601
date-time written to the hour only (``2024-01-05T10``) further down a column of date-times
is read as that hour, where DuckDB would store the column as text; and a file ending in a
stray carriage return after its last line is read, where DuckDB refuses it.

Why two readers: on 2 cores this one converts the 5-million-row benchmark file in about 60%
of DuckDB's time, with about half its CPU time (bench/import_csv.py), and memory stays
bounded (a few blocks and one row group).
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bylab.catalog.ingest.csv_sniff import CsvDialect
from bylab.catalog.ingest.progress import ByteProgress

BLOCK_BYTES = 4 * 1024 * 1024
# A row group is written once this many rows or bytes (in memory) are waiting: large enough
# for good compression (-10% size against DuckDB's 122,880 rows), small enough to bound memory.
ROW_GROUP_ROWS = 500_000
ROW_GROUP_BYTES = 64 * 1024 * 1024
PARQUET_COMPRESSION = "snappy"

ARROW_TYPES = {
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "VARCHAR": pa.string(),
}
# A subset of what DuckDB reads as booleans; other spellings go to DuckDB.
TRUE_VALUES = ["true", "True", "TRUE"]
FALSE_VALUES = ["false", "False", "FALSE"]


class Declined(Exception):
    """The file holds a quote character, which this reader leaves to DuckDB's."""


def arrow_csv_to_parquet(source: Path, dialect: CsvDialect, target: Path,
                         progress: ByteProgress) -> bool:
    """Write ``source`` (UTF-8) to ``target`` as Parquet. False when declined (``target``
    may then hold a partial file, which the caller overwrites)."""
    if any(column_type not in ARROW_TYPES for column_type in dialect.column_types):
        return False
    try:
        with _WatchedFile(source, progress) as raw:
            reader = pa_csv.open_csv(raw, read_options=_read_options(dialect),
                                     parse_options=_parse_options(dialect),
                                     convert_options=_convert_options(dialect))
            with pq.ParquetWriter(target, reader.schema, compression=PARQUET_COMPRESSION,
                                  store_schema=False) as writer:
                _copy_overlapped(reader, writer)
    except (pa.ArrowException, Declined):  # not OSError: a full disk fails DuckDB's reader too
        return False
    return True


def _read_options(dialect: CsvDialect) -> pa_csv.ReadOptions:
    return pa_csv.ReadOptions(column_names=dialect.column_names, skip_rows=1,
                              block_size=BLOCK_BYTES, encoding="utf8")


def _parse_options(dialect: CsvDialect) -> pa_csv.ParseOptions:
    # DuckDB skips blank lines, except in a one-column file, where one is an empty value.
    return pa_csv.ParseOptions(delimiter=dialect.delimiter, quote_char=False,
                               escape_char=False, newlines_in_values=False,
                               ignore_empty_lines=len(dialect.column_names) > 1)


def _convert_options(dialect: CsvDialect) -> pa_csv.ConvertOptions:
    column_types = {name: ARROW_TYPES[column_type] for name, column_type
                    in zip(dialect.column_names, dialect.column_types, strict=True)}
    return pa_csv.ConvertOptions(
        column_types=column_types, check_utf8=True, null_values=[""], strings_can_be_null=True,
        true_values=TRUE_VALUES, false_values=FALSE_VALUES,
        decimal_point=dialect.decimal_separator,
    )


def _copy_overlapped(reader: pa_csv.CSVStreamingReader, writer: pq.ParquetWriter) -> None:
    """Parse in this thread while another writes: both release the GIL, so they run on
    separate cores. Row order is kept (one queue, one writer)."""
    batches: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=4)
    failures: list[BaseException] = []
    abandoned = threading.Event()
    thread = threading.Thread(target=_write_batches, daemon=True,
                              args=(batches, writer, failures, abandoned))
    thread.start()
    try:
        for batch in reader:
            if failures:
                break
            batches.put(batch)
    except BaseException:
        abandoned.set()  # the file is declined or broken: write nothing more
        raise
    finally:
        batches.put(None)
        thread.join()
    if failures:
        raise failures[0]


def _write_batches(batches: queue.Queue[pa.RecordBatch | None], writer: pq.ParquetWriter,
                   failures: list[BaseException], abandoned: threading.Event) -> None:
    """Write the batches as row groups of about ROW_GROUP_ROWS rows, until None."""
    pending: list[pa.RecordBatch] = []
    pending_rows = pending_bytes = 0
    while (batch := batches.get()) is not None:
        if failures or abandoned.is_set():
            continue  # drain, so the reader never blocks on a full queue
        pending.append(batch)
        pending_rows += batch.num_rows
        pending_bytes += batch.nbytes
        if pending_rows >= ROW_GROUP_ROWS or pending_bytes >= ROW_GROUP_BYTES:
            failures.extend(_write(writer, pending))
            pending, pending_rows, pending_bytes = [], 0, 0
    if pending and not failures and not abandoned.is_set():
        failures.extend(_write(writer, pending))


def _write(writer: pq.ParquetWriter, batches: list[pa.RecordBatch]) -> list[BaseException]:
    try:
        table = pa.Table.from_batches(batches)
        writer.write_table(table, row_group_size=table.num_rows)  # one row group
    except BaseException as error:  # noqa: BLE001 - handed to the reading thread
        return [error]
    return []


class _WatchedFile:
    """The source file as pyarrow reads it, block by block: reports progress, and declines
    the file at the first block holding a quote character (one memchr scan per block)."""

    def __init__(self, path: Path, progress: ByteProgress) -> None:
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in __exit__/close
        self._total = max(path.stat().st_size, 1)
        self._progress = progress
        self._offset = 0
        self.closed = False

    def __enter__(self) -> _WatchedFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        if b'"' in chunk:
            raise Declined(f"a quote character in bytes {self._offset}-{self._offset + len(chunk)}")
        self._offset += len(chunk)
        self._progress.report(self._offset / self._total)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._file.close()
        self.closed = True
