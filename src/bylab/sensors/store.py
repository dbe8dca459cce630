"""The observation store: columnar Parquet, hive-partitioned by day, queried with DuckDB.

``<data_dir>/sensors/observations/day=YYYY-MM-DD/part-<uuid>.parquet``. Within a file rows are
sorted by datastream and time, so Parquet row-group statistics skip other datastreams; the
day folders let a query or a write touch only the days it needs.

Every observation's id is derived from what identifies it, ``datastream_id << 42 | epoch
milliseconds``, so a redelivered or re-imported observation has the id of the stored one and
an anti-join drops it: (datastream, phenomenonTime) is stored once. Files are written to a
temporary name, fsynced and renamed into place (``TableStore.atomic_path``), under an
exclusive file lock shared by every process, so two writers never both store the same
observation and a reader never sees half a file.

Closed months are compacted into one file each (``month=YYYY-MM/part-<uuid>.parquet``), so a
query over years opens dozens of files rather than thousands. A month's
``month=YYYY-MM/manifest.json`` names its current file and the day files merged into it; it
is replaced atomically, which is the moment the compaction takes effect: readers list the day
files first and read the manifest after, so they see each observation exactly once, before,
during and after a compaction. Day files of a month that is compacted already keep being
written as usual (late observations) and are merged at the next compaction.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bylab.storage.tables import TableStore, sql_string

ID_TIME_BITS = 42  # epoch milliseconds fit 42 bits until the year 2109
OBSERVATION_SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("datastream_id", pa.int32(), nullable=False),
    pa.field("phenomenon_time", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("result", pa.float64(), nullable=False),
    pa.field("result_time", pa.timestamp("ms", tz="UTC")),
    pa.field("feature_id", pa.int32()),
])
INPUT_COLUMNS = ("datastream_id", "phenomenon_time", "result", "result_time", "feature_id")
ROW_GROUP_SIZE = 128 * 1024
WRITE_THREADS = 8
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class MonthManifest:
    file: str  # relative to the store root
    replaces: tuple[str, ...]  # day files (relative) merged into ``file``


def _column(values: Any, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    return pa.array(values, type_) if isinstance(values, list) else pc.cast(values, type_)


def observation_table(datastream_ids: Any, times: Any, results: Any,
                      feature_ids: Any = None) -> pa.Table:
    """A batch to append, from arrow arrays or plain lists (times as epoch milliseconds)."""
    count = len(datastream_ids)
    if isinstance(times, list):
        times = pa.array(times, pa.int64())
    time_type = pa.timestamp("ms", tz="UTC")
    return pa.table({
        "datastream_id": _column(datastream_ids, pa.int32()),
        "phenomenon_time": pc.cast(times, time_type),
        "result": _column(results, pa.float64()),
        "result_time": pa.nulls(count, time_type),
        "feature_id": _column(feature_ids, pa.int32()) if feature_ids is not None
        else pa.nulls(count, pa.int32()),
    })


def with_ids(batch: pa.Table) -> pa.Table:
    """The batch with its deterministic observation ids in front."""
    times = pc.cast(batch["phenomenon_time"].cast(pa.timestamp("ms", tz="UTC")), pa.int64())
    ids = pc.add(pc.shift_left(pc.cast(batch["datastream_id"], pa.int64()), ID_TIME_BITS), times)
    columns = [batch[name] for name in INPUT_COLUMNS]
    return pa.Table.from_arrays([ids, *columns], schema=OBSERVATION_SCHEMA)


class ObservationStore:
    def __init__(self, root: Path, tables: TableStore) -> None:
        self.root = root
        self._tables = tables

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def files(self, first: date | None = None, last: date | None = None) -> list[str]:
        """The stored files holding the days from ``first`` to ``last`` (both included); a
        compacted month's file holds the whole month."""
        if not self.root.exists():
            return []
        found = []
        for folder in sorted(self.root.glob("day=*")):
            day = folder.name.removeprefix("day=")
            if (first and day < first.isoformat()) or (last and day > last.isoformat()):
                continue
            found.extend(str(path) for path in sorted(folder.glob("part-*.parquet")))
        # Read after listing the days: see the module docstring.
        manifests = self._manifests(first, last).values()
        replaced = {str(self.root / name) for manifest in manifests
                    for name in manifest.replaces}
        return [path for path in found if path not in replaced] + [
            str(self.root / manifest.file) for manifest in manifests]

    def _manifests(self, first: date | None = None, last: date | None = None
                   ) -> dict[str, MonthManifest]:
        """The manifests of the compacted months overlapping ``first``..``last``, by month."""
        manifests = {}
        for folder in sorted(self.root.glob("month=*")):
            month = folder.name.removeprefix("month=")
            if (first and month < first.isoformat()[:7]) or (last and month > last.isoformat()[:7]):
                continue
            try:
                written = json.loads((folder / MANIFEST).read_text())
            except FileNotFoundError:
                continue  # a first compaction of this month that did not finish
            manifests[month] = MonthManifest(written["file"], tuple(written["replaces"]))
        return manifests

    def scan(self, first: date | None = None, last: date | None = None) -> str | None:
        """A FROM-clause expression over the observations of those days; None if there are none."""
        files = self.files(first, last)
        if not files:
            return None
        paths = ", ".join(sql_string(path) for path in files)
        return f"read_parquet([{paths}], hive_partitioning = false)"

    def append(self, batch: pa.Table) -> pa.Table:
        """Store the observations of ``batch`` not stored before (the first of duplicates
        within the batch wins); returns the rows that were new."""
        rows = with_ids(batch)
        if rows.num_rows == 0:
            return rows
        with self._write_lock():
            new_rows = self._new_rows(rows)
            self._write_days(new_rows)
        return new_rows

    def _new_rows(self, rows: pa.Table) -> pa.Table:
        times = rows["phenomenon_time"]
        stored = self.scan(pc.min(times).as_py().date(), pc.max(times).as_py().date())
        if stored is None:
            ordered = _sorted_for_writing(rows)
            if not _has_repeats(ordered["id"]):
                return ordered  # nothing stored to compare with and no repeats: no join
        connection = self._tables.connection()
        name = f"batch_{uuid.uuid4().hex}"
        ordinal = pa.array(numpy.arange(rows.num_rows, dtype=numpy.int64))
        connection.register(name, rows.append_column("ordinal", ordinal))
        try:
            unseen = f"WHERE id NOT IN (SELECT id FROM {stored})" if stored else ""
            first_of_each = f"SELECT DISTINCT ON (id) * FROM {name} ORDER BY id, ordinal"
            fresh = connection.sql(
                f"SELECT * EXCLUDE (ordinal) FROM ({first_of_each}) {unseen}").to_arrow_table()
        finally:
            connection.unregister(name)
        return _sorted_for_writing(fresh.cast(OBSERVATION_SCHEMA))

    def _write_days(self, rows: pa.Table) -> None:
        """Write sorted rows as one new file per day. Days are written by a few threads at
        once: most of the time goes to fsync, which the file system then groups."""
        if rows.num_rows == 0:
            return
        runs = pc.run_end_encode(_days(rows))
        starts = [0, *runs.run_ends.to_pylist()[:-1]]
        slices = [(day, rows.slice(start, end - start)) for day, start, end in zip(
            runs.values.to_pylist(), starts, runs.run_ends.to_pylist(), strict=True)]
        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            list(pool.map(lambda item: self._write_day(*item), slices))

    def _write_day(self, day: date, rows: pa.Table) -> None:
        folder = self.root / f"day={day.isoformat()}"
        with self._tables.atomic_path(folder / f"part-{uuid.uuid4().hex}.parquet") as temporary:
            pq.write_table(rows, temporary, row_group_size=ROW_GROUP_SIZE, compression="zstd",
                           compression_level=1)
        _fsync_directory(folder)

    def compact(self) -> int:
        """Merge each day's files into one; returns the number of days compacted."""
        compacted = 0
        with self._write_lock():
            self._remove_replaced()
            for folder in sorted(self.root.glob("day=*")):
                parts = sorted(folder.glob("part-*.parquet"))
                if len(parts) < 2:
                    continue
                self._merge(parts, folder / f"part-{uuid.uuid4().hex}.parquet")
                for part in parts:
                    part.unlink()
                _fsync_directory(folder)
                compacted += 1
        return compacted

    def compact_months(self, before: date | None = None) -> int:
        """Merge the day files of every month before ``before`` (default: the current month,
        UTC) into one file per month; returns the number of months compacted."""
        limit = (before or datetime.now(UTC).date()).isoformat()[:7]
        with self._write_lock():
            self._remove_replaced()
            days: dict[str, list[Path]] = {}
            for folder in sorted(self.root.glob("day=*")):
                month = folder.name.removeprefix("day=")[:7]
                if month < limit:
                    days.setdefault(month, []).extend(sorted(folder.glob("part-*.parquet")))
            previous = self._manifests()
            work = [(month, parts, previous.get(month)) for month, parts in days.items() if parts]
            with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
                list(pool.map(lambda item: self._compact_month(*item), work))
        return len(work)

    def _compact_month(self, month: str, parts: list[Path], previous: MonthManifest | None
                       ) -> None:
        folder = self.root / f"month={month}"
        inputs = [*parts, self.root / previous.file] if previous else parts
        target = folder / f"part-{uuid.uuid4().hex}.parquet"
        self._merge(inputs, target)
        manifest = {"file": str(target.relative_to(self.root)),
                    "replaces": [str(part.relative_to(self.root)) for part in parts]}
        with self._tables.atomic_path(folder / MANIFEST) as temporary:
            temporary.write_text(json.dumps(manifest))
        _fsync_directory(folder)
        for stale in inputs:
            stale.unlink()
        for part in parts:
            _remove_if_empty(part.parent)

    def _remove_replaced(self) -> None:
        """Day files a crash left behind after their month's manifest took them over."""
        for manifest in self._manifests().values():
            for name in manifest.replaces:
                (self.root / name).unlink(missing_ok=True)
                _remove_if_empty((self.root / name).parent)

    def _merge(self, inputs: list[Path], target: Path) -> None:
        merged = pq.read_table(inputs, schema=OBSERVATION_SCHEMA).sort_by(
            [("datastream_id", "ascending"), ("phenomenon_time", "ascending")])
        with self._tables.atomic_path(target) as temporary:
            pq.write_table(merged, temporary, row_group_size=ROW_GROUP_SIZE, compression="zstd")


def _days(rows: pa.Table) -> pa.Array:
    return pc.cast(pc.cast(rows["phenomenon_time"].combine_chunks(), pa.timestamp("ms")),
                   pa.date32())


def _sorted_for_writing(rows: pa.Table) -> pa.Table:
    """By day, then datastream and time (the id orders both)."""
    keyed = rows.append_column("day", _days(rows))
    order = pc.sort_indices(keyed, sort_keys=[("day", "ascending"), ("id", "ascending")])
    return rows.take(order)


def _has_repeats(sorted_ids: pa.ChunkedArray) -> bool:
    """Whether a column sorted so that equal ids are neighbours holds an id twice."""
    values = sorted_ids.to_numpy()
    return bool((values[1:] == values[:-1]).any())


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (or gone)


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
