"""Parquet → stored Parquet: validated with pyarrow, rewritten with DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bylab.catalog.ingest.column_names import checked_column_names
from bylab.catalog.ingest.progress import ByteProgress
from bylab.errors import InvalidInput
from bylab.settings import Settings
from bylab.storage.tables import sql_string


def parquet_to_parquet(connection: duckdb.DuckDBPyConnection, source: Path, target: Path,
                       filename: str, settings: Settings, progress: ByteProgress) -> None:
    """Check ``source`` and rewrite it to ``target`` (one file, DuckDB's layout)."""
    try:
        metadata = pq.ParquetFile(source).metadata
    except (pa.ArrowException, OSError) as error:
        raise InvalidInput("not a valid Parquet file ({error})", file=filename,
                           error=error) from None
    names = [metadata.schema.column(index).path.split(".")[0]
             for index in range(metadata.num_columns)]
    checked_column_names(list(dict.fromkeys(names)), filename, settings.max_columns)
    if metadata.num_rows == 0:
        raise InvalidInput("the Parquet file has no rows", file=filename, row=1)
    try:
        with progress.watching(connection):
            connection.execute(f"COPY (SELECT * FROM read_parquet({sql_string(str(source))})) "
                               f"TO {sql_string(str(target))} (FORMAT parquet)")
    except duckdb.Error as error:
        raise InvalidInput("the Parquet file could not be read: {error}",
                           file=filename, error=error) from None
