"""The columnar table store: one Parquet file per dataset version, queried with DuckDB.

Files are immutable once written. A new version is written to a temporary file in the same
folder and renamed into place, so a crash or a bad file midway never touches an existing
version. Each process queries through its own in-memory DuckDB connection, so readers and
writers in different processes never contend for a database lock.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb


def sql_string(value: str) -> str:
    """A SQL string literal (for file paths in DuckDB statements)."""
    return "'" + value.replace("'", "''") + "'"


class TableStore:
    """Parquet files under ``root``: ``<root>/<dataset_id>/v<version>.parquet``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._local = threading.local()
        self._connections: list[duckdb.DuckDBPyConnection] = []
        self._connections_lock = threading.Lock()
        # Close every thread's connection in an orderly way; DuckDB can abort when
        # connections of finished threads are torn down during interpreter shutdown.
        atexit.register(self.close)

    def path_for(self, dataset_id: str, version: int) -> Path:
        return self.root / dataset_id / f"v{version}.parquet"

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def resolve(self, relative_path: str) -> Path:
        return self.root / relative_path

    @contextmanager
    def atomic_path(self, final_path: Path) -> Iterator[Path]:
        """Yield a temporary path; rename it to ``final_path`` only if the block succeeds."""
        final_path.parent.mkdir(parents=True, exist_ok=True)
        unique = f"{os.getpid()}-{threading.get_ident()}"
        temporary = final_path.with_name(f".{final_path.name}.{unique}.tmp")
        try:
            yield temporary
            with open(temporary, "rb") as written:
                os.fsync(written.fileno())
            os.replace(temporary, final_path)
        finally:
            temporary.unlink(missing_ok=True)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """This thread's in-memory DuckDB connection."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = duckdb.connect(":memory:")
            connection.execute("SET enable_progress_bar_print=false")
            connection.execute("SET TimeZone='UTC'")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def query(self, sql: str, parameters: list[Any] | None = None) -> duckdb.DuckDBPyRelation:
        return self.connection().execute(sql, parameters or [])

    def scan(self, path: Path) -> str:
        """A FROM-clause expression reading one stored table."""
        return f"read_parquet({sql_string(str(path))})"

    def preview(self, path: Path, limit: int = 50, offset: int = 0) -> tuple[list[str], list[tuple]]:
        """Column names and up to ``limit`` rows from ``offset``."""
        result = self.query(f"SELECT * FROM {self.scan(path)} LIMIT ? OFFSET ?", [limit, offset])
        columns = [description[0] for description in result.description]
        return columns, result.fetchall()

    def row_count(self, path: Path) -> int:
        row = self.query(f"SELECT count(*) FROM {self.scan(path)}").fetchone()
        return int(row[0]) if row else 0

    def delete_dataset(self, dataset_id: str) -> None:
        folder = self.root / dataset_id
        if folder.exists():
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
