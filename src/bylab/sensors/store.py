"""The observation store: columnar Parquet, hive-partitioned by day, queried with DuckDB.

``<data_dir>/sensors/observations/day=YYYY-MM-DD/part-<uuid>.parquet``. Within a file rows are
sorted by datastream and time, so Parquet row-group statistics skip other datastreams; the
day folders let a query or a write touch only the days it needs.

Every observation's id is derived from what identifies it, ``datastream_id << 42 | epoch
milliseconds``, so a redelivered or re-imported observation has the id of the stored one and
it is dropped by comparing ids with the stored ones of its days (reading only the id column
of the row groups whose statistics admit it): (datastream, phenomenonTime) is stored once.
Files are written to a temporary name, fsynced and renamed into place
(``TableStore.atomic_path``) once every day file of the batch is written (an error leaves
none of them), under an
exclusive file lock shared by every process, so two writers never both store the same
observation and a reader never sees half a file.

Closed months are compacted into one file each (``month=YYYY-MM/part-<uuid>.parquet``), so a
query over years opens dozens of files rather than thousands. A month's
``month=YYYY-MM/manifest.json`` names its current file and the day files merged into it; it
is replaced atomically, which is the moment the compaction takes effect: readers list the day
files first and read the manifest after, so they see each observation exactly once, before,
during and after a compaction. Day files of a month that is compacted already keep being
written as usual (late observations) and are merged at the next compaction.

Deleting observations writes tombstones: ``tombstones.json`` holds sorted, disjoint id ranges
(``[low, high]``, both included), replaced atomically under the write lock. Every scan leaves
out the rows they cover, so a deleted observation is gone from the next read on. Compactions
leave the covered rows out of what they write; the month compaction also rewrites a closed
month that has tombstones and no new day files, and then forgets that month's tombstones. Deleting a whole Datastream purges its rows from the files at once (so a
reused datastream id starts empty), and storing an observation whose id has a tombstone (it
is created again, or changed) first purges the old row from the files of its day.

An observation keeps its id when its phenomenonTime changes (a PATCH or PUT): its row moves
to the day of its new time, and ``moved.json`` (replaced atomically under the write lock)
says where it is, id -> [datastream, epoch ms]; whatever finds a day by an id asks it first.
Dedupe stays exact and reads no more than before: a new observation at a moved one's place
takes its id (so it is dropped as a duplicate, or replaces it), and one whose natural id a
moved observation holds gets a substitute id, counted down from the top of its datastream's
range (times no observation has) and recorded in ``moved.json`` too, so a datastream's range
still holds all its ids. Batches of datastreams without moves only check that they have none.

A result that is a finite number is kept in the float ``result`` column, which every numeric
reader (aggregation, charts) uses, skipping nulls; any other JSON result (text, boolean,
object, array) is kept as JSON text in ``result_json``, with ``result`` null. The optional
Observation properties are text too: ``result_quality`` and ``parameters`` as JSON,
``valid_time`` as an ISO 8601 interval. Batches may leave those four columns out (bulk
imports carry numbers only); they are stored as nulls. Files written before the columns
existed lack them: scans read such files apart, adding the columns as nulls, and merges
read every file by the schema, so compactions write them in the current one.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bylab.errors import Conflict
from bylab.sensors.observation_ids import (
    ID_FIELD,
    ID_TIME_BITS,
    Moves,
    datastream_range,
    placed,
    with_id_column,
)
from bylab.storage.tables import TableStore, sql_string

OBSERVATION_SCHEMA = pa.schema([
    ID_FIELD,
    pa.field("datastream_id", pa.int32(), nullable=False),
    pa.field("phenomenon_time", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("result", pa.float64()),  # null when the result is not a number
    pa.field("result_time", pa.timestamp("ms", tz="UTC")),
    pa.field("feature_id", pa.int32()),
    pa.field("result_json", pa.string()),  # any other result, as JSON text
    pa.field("result_quality", pa.string()),  # JSON text
    pa.field("valid_time", pa.string()),  # ISO 8601 interval start/end, both in UTC
    pa.field("parameters", pa.string()),  # a JSON object's text
])
INPUT_COLUMNS = tuple(OBSERVATION_SCHEMA.names[1:])
LATER_COLUMNS = ("result_json", "result_quality", "valid_time", "parameters")  # all text
ROW_GROUP_SIZE = 128 * 1024
WRITE_THREADS = 8  # at most; never more than the machine's cores
# Parquet encodings: ids and times grow steadily (delta encoding halves them and skips a
# dictionary that would only overflow); datastreams, features and results repeat.
PARQUET_OPTIONS: dict[str, Any] = {
    "row_group_size": ROW_GROUP_SIZE, "compression": "zstd",
    "use_dictionary": ["datastream_id", "feature_id", "result", "result_json"],
    "column_encoding": {"id": "DELTA_BINARY_PACKED", "phenomenon_time": "DELTA_BINARY_PACKED"},
    "sorting_columns": [pq.SortingColumn(0)],  # by id: by datastream, then time
}
APPEND_COMPRESSION_LEVEL = 1  # fresh day files favour speed; compactions use zstd's default
MANIFEST = "manifest.json"
TOMBSTONES = "tombstones.json"
MOVED = "moved.json"
Ranges = list[tuple[int, int]]  # sorted, disjoint id ranges, both ends included



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
    """The batch with its deterministic observation ids in front; the columns it leaves out
    are nulls."""
    times = pc.cast(batch["phenomenon_time"].cast(pa.timestamp("ms", tz="UTC")), pa.int64())
    ids = pc.add(pc.shift_left(pc.cast(batch["datastream_id"], pa.int64()), ID_TIME_BITS), times)
    columns = [batch[name] if name in batch.column_names
               else pa.nulls(batch.num_rows, OBSERVATION_SCHEMA.field(name).type)
               for name in INPUT_COLUMNS]
    return pa.Table.from_arrays([ids, *columns], schema=OBSERVATION_SCHEMA)


def merged_ranges(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Ranges sorted, with overlapping and touching ones joined."""
    merged: Ranges = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def covered(ids: numpy.ndarray, ranges: Ranges) -> numpy.ndarray:
    """Which ids fall in one of the (merged) ranges."""
    if not ranges:
        return numpy.zeros(len(ids), bool)
    lows = numpy.array([low for low, _ in ranges], numpy.int64)
    highs = numpy.array([high for _, high in ranges], numpy.int64)
    position = numpy.searchsorted(lows, ids, side="right") - 1
    inside = position >= 0
    return inside & (ids <= highs[numpy.maximum(position, 0)])


def _overlaps(low: int, high: int, first: date | None, last: date | None, moves: Moves
              ) -> bool:
    days = moves.range_days(low, high)
    if days is None:
        return True
    return not ((first and days[1] < first) or (last and days[0] > last))


def _read_sql(files: list[str]) -> str:
    """A FROM-clause expression reading stored files with every column of the schema. Files
    written before the result_json .. parameters columns read them as nulls; they are read
    apart from the others, which costs less than DuckDB's union_by_name (that reads every
    file's schema before planning)."""
    lacking = {path for path in files if _lacks_later_columns(path)}
    older = [path for path in files if path in lacking]
    newer = [path for path in files if path not in lacking]
    if not older:
        return _read_parquet(newer)
    nulls = ", ".join(f"NULL::VARCHAR AS {name}" for name in LATER_COLUMNS)
    reads = [f"SELECT *, {nulls} FROM {_read_parquet(older)}"]
    if newer:
        reads.append(f"SELECT * FROM {_read_parquet(newer)}")
    return f"({' UNION ALL BY NAME '.join(reads)})"


def _read_parquet(files: list[str]) -> str:
    paths = ", ".join(sql_string(path) for path in files)
    return f"read_parquet([{paths}], hive_partitioning = false)"


@lru_cache(maxsize=1 << 16)
def _lacks_later_columns(path: str) -> bool:
    """Whether a stored file predates the result_json .. parameters columns. Remembered: a
    stored file never changes (a rewrite is a new file under a new name)."""
    return LATER_COLUMNS[0] not in pq.read_schema(path).names


def _excluded_sql(ranges: Ranges) -> str:
    """A WHERE condition true for the rows no tombstone covers. Deleted observations are
    anti-joined by id (a hash join, cheap for thousands); the few wider ranges (a
    datastream being purged) are compared."""
    clauses = [f"id NOT BETWEEN {int(low)} AND {int(high)}" for low, high in ranges
               if low != high]
    singles = [int(low) for low, high in ranges if low == high]
    if singles:
        values = ", ".join(f"({identifier})" for identifier in singles)
        clauses.append(f"id NOT IN (SELECT deleted_id FROM (VALUES {values}) "
                       "AS deleted(deleted_id))")
    return " AND ".join(clauses)


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
        """A FROM-clause expression over the observations of those days (deleted ones left
        out); None if there are none."""
        tombstones = self.tombstones()
        if tombstones:
            moves = self.moves()
            tombstones = [(low, high) for low, high in tombstones
                          if _overlaps(low, high, first, last, moves)]
        files = self.files(first, last)
        if not files:
            return None
        stored = _read_sql(files)
        if not tombstones:
            return stored
        return f"(SELECT * FROM {stored} WHERE {_excluded_sql(tombstones)}) AS observations"

    def tombstones(self) -> Ranges:
        """The id ranges of deleted observations not yet purged from the files."""
        try:
            written = json.loads((self.root / TOMBSTONES).read_text())
        except FileNotFoundError:
            return []
        return [(int(low), int(high)) for low, high in written]

    def _write_tombstones(self, ranges: Ranges) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._tables.atomic_path(self.root / TOMBSTONES) as temporary:
            temporary.write_text(json.dumps([list(item) for item in merged_ranges(ranges)]))
        _fsync_directory(self.root)

    def moves(self) -> Moves:
        """Where the observations stored away from the time their id names are."""
        try:
            written = json.loads((self.root / MOVED).read_text())
        except FileNotFoundError:
            return Moves({})
        return Moves({int(identifier): (int(datastream), int(time_ms))
                      for identifier, (datastream, time_ms) in written.items()})

    def _write_moves(self, moves: Moves) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._tables.atomic_path(self.root / MOVED) as temporary:
            temporary.write_text(json.dumps({str(identifier): list(place) for identifier, place
                                             in sorted(moves.places.items())}))
        _fsync_directory(self.root)

    def observation_day(self, identifier: int) -> date:
        """The day the observation with this id is stored under."""
        return self.moves().day(identifier)

    def ids_at(self, natural_ids: pa.Array) -> pa.Array:
        """The ids of the observations stored at the places these natural ids name
        (``datastream << 42 | epoch ms``): each natural id, unless an observation moved
        there or was given a substitute for it. Nulls stay nulls."""
        by_place = self.moves().by_place
        if not by_place:
            return natural_ids
        positions = pc.index_in(natural_ids, value_set=pa.array(list(by_place), pa.int64()))
        held = pc.take(pa.array(list(by_place.values()), pa.int64()), positions)
        return pc.coalesce(held, natural_ids)

    def delete(self, ids: Iterable[int]) -> None:
        """Delete observations by id: hidden from every read at once, purged from the files
        when their month is compacted (or when one is stored again). A moved observation is
        purged at once and forgotten: a tombstone finds its day by the id."""
        ranges = [(int(identifier), int(identifier)) for identifier in ids]
        if not ranges:
            return
        with self._write_lock():
            self._write_tombstones([*self.tombstones(), *ranges])
            moves = self.moves()
            moved = [low for low, _ in ranges if low in moves.places]
            if moved:
                self._purge_ids(numpy.array(moved, numpy.int64), moves)
                self._write_moves(moves.without(moved))

    def delete_datastreams(self, datastream_ids: Iterable[int]) -> None:
        """Delete every observation of these datastreams, from the files too: a datastream id
        used again later starts with no observations."""
        ranges = merged_ranges(datastream_range(int(item)) for item in datastream_ids)
        if not ranges:
            return
        with self._write_lock():
            self._write_tombstones([*self.tombstones(), *ranges])  # hidden from now on
            self._purge(self._files_holding(ranges))
            self._write_tombstones(_without(self.tombstones(), ranges))
            moves = self.moves()
            moved = numpy.fromiter(moves.places, numpy.int64, len(moves.places))
            gone = moved[covered(moved, ranges)]
            if len(gone):
                self._write_moves(moves.without(gone.tolist()))

    def append(self, batch: pa.Table) -> pa.Table:
        """Store the observations of ``batch`` not stored before (the first of duplicates
        within the batch wins); returns the rows that were new."""
        rows = with_ids(batch)
        if rows.num_rows == 0:
            return rows
        with self._write_lock():
            moves = self.moves()
            rows, substitutes = placed(rows, moves)
            new_rows = self._new_rows(rows)
            if substitutes:  # recorded before the rows: an unrecorded one could not be found
                self._write_moves(Moves(moves.places | substitutes))
            self._revive(new_rows, moves)
            self._write_days(new_rows)
        return new_rows

    def replace(self, ids: list[int], batch: pa.Table) -> None:
        """Store changed observations in place of the stored ones with ``ids`` (one a row of
        ``batch``); one whose phenomenonTime changed moves to the day of its new time and
        keeps its id. Another observation of the datastream at that time is a Conflict."""
        rows = with_ids(batch)
        if rows.num_rows == 0:
            return
        with self._write_lock():
            moves = self.moves()
            self._refuse_taken_places(rows, ids, moves)
            rows = with_id_column(rows, numpy.array(ids, numpy.int64))
            self._write_tombstones([*self.tombstones(), *((int(i), int(i)) for i in ids)])
            self._purge_ids(numpy.array(ids, numpy.int64), moves)
            moved = moves.after(rows)
            if moved != moves:
                self._write_moves(moved)
            self._write_days(_sorted_for_writing(rows))

    def _refuse_taken_places(self, rows: pa.Table, ids: list[int], moves: Moves) -> None:
        """Refuse to give an observation the time of another stored one of its datastream."""
        at_places, _ = placed(rows, moves)
        holders = at_places["id"].to_numpy()
        others = holders != numpy.array(ids, numpy.int64)
        if not others.any():
            return
        stored = self._stored_ids(_sorted_for_writing(at_places.filter(pa.array(others))))
        if len(stored) and _is_in_sorted(holders[others], stored).any():
            raise Conflict("another Observation of the Datastream has that phenomenonTime",
                           field="phenomenonTime")

    def _revive(self, new_rows: pa.Table, moves: Moves) -> None:
        """Observations stored again after they were deleted: their old rows are purged."""
        ids = new_rows["id"].to_numpy()
        self._purge_ids(ids[covered(ids, self.tombstones())], moves)

    def _purge_ids(self, ids: numpy.ndarray, moves: Moves) -> None:
        """Purge the rows of tombstoned ``ids`` from the files of the days they are stored
        under, then lift their tombstones."""
        if not len(ids):
            return
        days = sorted({moves.day(int(identifier)) for identifier in ids})
        files = {path for day in days for path in self.files(day, day)}
        self._purge(sorted(files))
        self._write_tombstones(_without(self.tombstones(), [(int(i), int(i)) for i in ids]))

    def _new_rows(self, rows: pa.Table) -> pa.Table:
        """The rows not stored yet, sorted for writing, the first of repeated ids kept (the
        sort is stable and equal ids fall on the same day, so repeats are neighbours)."""
        ordered = _sorted_for_writing(rows)
        ids = ordered["id"].to_numpy()
        keep = numpy.ones(len(ids), bool)
        keep[1:] = ids[1:] != ids[:-1]
        stored = self._stored_ids(ordered)
        if len(stored):
            keep &= ~_is_in_sorted(ids, stored)
        return ordered if keep.all() else ordered.filter(pa.array(keep))

    def _stored_ids(self, ordered: pa.Table) -> numpy.ndarray:
        """The stored (not deleted) ids among the days of ``ordered`` (rows sorted by day,
        then id), sorted; only the row groups whose id statistics admit one of the rows are
        read, and only their id column."""
        times = ordered["phenomenon_time"]
        files = self.files(pc.min(times).as_py().date(), pc.max(times).as_py().date())
        if not files:
            return numpy.empty(0, numpy.int64)
        day_ids = _sorted_runs(ordered)
        found = [_row_group_ids(Path(path), day_ids) for path in files]
        stored = numpy.concatenate(found)
        tombstones = self.tombstones()
        if tombstones:
            stored = stored[~covered(stored, tombstones)]
        return numpy.sort(stored, kind="stable")  # sorted runs, one per file: a merge

    def _write_days(self, rows: pa.Table) -> None:
        """Write sorted rows as one new file per day, all or none: every day is written to a
        temporary file (by a few threads at once: pyarrow encodes and the file system syncs
        without the GIL), and only when all are written are they renamed into place."""
        if rows.num_rows == 0:
            return
        runs = pc.run_end_encode(_days(rows))
        ends = runs.run_ends.to_numpy()
        starts = [0, *ends[:-1].tolist()]
        with ExitStack() as renames:
            targets = [(rows.slice(start, end - start), renames.enter_context(
                self._tables.atomic_path(self.root / f"day={day.isoformat()}"
                                         / f"part-{uuid.uuid4().hex}.parquet")))
                       for day, start, end in zip(runs.values.to_pylist(), starts,
                                                  ends.tolist(), strict=True)]
            threads = min(WRITE_THREADS, os.cpu_count() or 1, len(targets))
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(lambda target: _write_parquet(*target, APPEND_COMPRESSION_LEVEL),
                              targets))
        for _, temporary in targets:
            _fsync_directory(temporary.parent)

    def _files_holding(self, ranges: Ranges) -> list[str]:
        """The stored files with a row in one of the ranges (by Parquet statistics)."""
        files = self.files()
        if not files:
            return []
        paths = ", ".join(sql_string(path) for path in files)
        condition = " OR ".join(f"id BETWEEN {int(low)} AND {int(high)}" for low, high in ranges)
        rows = self._tables.connection().execute(
            f"SELECT DISTINCT filename FROM read_parquet([{paths}], hive_partitioning = false, "
            f"filename = true) WHERE {condition}").fetchall()
        return sorted(row[0] for row in rows)

    def _purge(self, files: list[str]) -> None:
        """Rewrite stored files without the rows the tombstones cover. A month file is
        replaced through its manifest, as a compaction does."""
        manifests = {str(self.root / manifest.file): (month, manifest)
                     for month, manifest in self._manifests().items()}
        for name in files:
            path = Path(name)
            if name in manifests:
                month, manifest = manifests[name]
                self._replace_month_file(month, manifest)
                continue
            self._merge([path], path.parent / f"part-{uuid.uuid4().hex}.parquet")
            path.unlink()
            _fsync_directory(path.parent)

    def _replace_month_file(self, month: str, manifest: MonthManifest) -> None:
        folder = self.root / f"month={month}"
        old = self.root / manifest.file
        target = folder / f"part-{uuid.uuid4().hex}.parquet"
        self._merge([old], target, keep_empty=True)
        written = {"file": str(target.relative_to(self.root)), "replaces": list(manifest.replaces)}
        with self._tables.atomic_path(folder / MANIFEST) as temporary:
            temporary.write_text(json.dumps(written))
        _fsync_directory(folder)
        old.unlink()

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
        UTC) into one file per month, leaving deleted observations out; a compacted month
        with deleted observations and no new day files is rewritten without them. Returns
        the number of months compacted."""
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
            purged = [month for month in sorted(self._tombstoned_months() & set(previous))
                      if month < limit and month not in days]
            for month in purged:
                self._replace_month_file(month, previous[month])
            self._drop_spent_tombstones({month for month, _, _ in work} | set(purged))
        return len(work) + len(purged)

    def _tombstoned_months(self) -> set[str]:
        """The months the tombstones of single observations fall in."""
        months = set()
        moves = self.moves()
        for low, high in self.tombstones():
            days = moves.range_days(low, high)
            if days is not None:
                months.update({days[0].isoformat()[:7], days[1].isoformat()[:7]})
        return months

    def _drop_spent_tombstones(self, rewritten_months: set[str]) -> None:
        """Forget the tombstones of months whose every file was just rewritten without the
        rows they cover: no file holds those rows any more."""
        tombstones = self.tombstones()
        moves = self.moves()
        kept = [(low, high) for low, high in tombstones
                if not _within(low, high, rewritten_months, moves)]
        if kept != tombstones:
            self._write_tombstones(kept)

    def _compact_month(self, month: str, parts: list[Path], previous: MonthManifest | None
                       ) -> None:
        folder = self.root / f"month={month}"
        inputs = [*parts, self.root / previous.file] if previous else parts
        target = folder / f"part-{uuid.uuid4().hex}.parquet"
        self._merge(inputs, target, keep_empty=True)
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

    def _merge(self, inputs: list[Path], target: Path, keep_empty: bool = False) -> bool:
        """Write the rows of ``inputs`` no tombstone covers to ``target``, sorted; returns
        whether it was written (not when no row is left, unless ``keep_empty``)."""
        merged = pq.read_table(inputs, schema=OBSERVATION_SCHEMA)
        tombstones = self.tombstones()
        if tombstones:
            merged = merged.filter(pa.array(~covered(merged["id"].to_numpy(), tombstones)))
        if merged.num_rows == 0 and not keep_empty:
            return False
        merged = merged.sort_by("id")  # as PARQUET_OPTIONS declares (moved rows are by id)
        with self._tables.atomic_path(target) as temporary:
            _write_parquet(merged, temporary)
        return True


def _without(ranges: Ranges, removed: Ranges) -> Ranges:
    """``ranges`` (merged) minus every id of ``removed``, in one sweep over both."""
    remaining: Ranges = []
    cuts = merged_ranges(removed)
    position = 0
    for low, high in ranges:
        while position < len(cuts) and cuts[position][1] < low:
            position += 1
        start, cut = low, position
        while cut < len(cuts) and cuts[cut][0] <= high:
            if cuts[cut][0] > start:
                remaining.append((start, cuts[cut][0] - 1))
            start = max(start, cuts[cut][1] + 1)
            cut += 1
        if start <= high:
            remaining.append((start, high))
    return remaining


def _within(low: int, high: int, months: set[str], moves: Moves) -> bool:
    """Whether a range's ids are all stored under one of ``months``."""
    days = moves.range_days(low, high)
    if days is None:
        return False
    month = days[0].isoformat()[:7]
    return month == days[1].isoformat()[:7] and month in months


def _days(rows: pa.Table) -> pa.Array:
    return pc.cast(pc.cast(rows["phenomenon_time"].combine_chunks(), pa.timestamp("ms")),
                   pa.date32())


def _sorted_for_writing(rows: pa.Table) -> pa.Table:
    """By day, then datastream and time (the id orders both)."""
    keyed = rows.append_column("day", _days(rows))
    order = pc.sort_indices(keyed, sort_keys=[("day", "ascending"), ("id", "ascending")])
    return rows.take(order)


def _sorted_runs(ordered: pa.Table) -> list[numpy.ndarray]:
    """The ids of rows sorted by day, then id: one sorted array per day."""
    ids = ordered["id"].to_numpy()
    ends = pc.run_end_encode(_days(ordered)).run_ends.to_numpy()
    return numpy.split(ids, ends[:-1])


def _row_group_ids(path: Path, day_ids: list[numpy.ndarray]) -> numpy.ndarray:
    """The ids of a stored file's row groups whose id range holds one of ``day_ids``."""
    with pq.ParquetFile(path) as parquet:
        id_column = parquet.schema_arrow.get_field_index("id")
        groups = []
        for group in range(parquet.metadata.num_row_groups):
            statistics = parquet.metadata.row_group(group).column(id_column).statistics
            if statistics is None or not statistics.has_min_max or any(
                    numpy.searchsorted(ids, statistics.min) < numpy.searchsorted(
                        ids, statistics.max, side="right") for ids in day_ids):
                groups.append(group)
        if not groups:
            return numpy.empty(0, numpy.int64)
        return parquet.read_row_groups(groups, columns=["id"], use_threads=False)["id"].to_numpy()


def _is_in_sorted(ids: numpy.ndarray, stored: numpy.ndarray) -> numpy.ndarray:
    """Which ``ids`` are in ``stored`` (sorted, not empty)."""
    positions = numpy.minimum(numpy.searchsorted(stored, ids), len(stored) - 1)
    return stored[positions] == ids


def _write_parquet(rows: pa.Table, path: Path, compression_level: int | None = None) -> None:
    """Write rows sorted by id as a Parquet file and sync it to disk."""
    pq.write_table(rows, path, compression_level=compression_level, **PARQUET_OPTIONS)
    with open(path, "rb") as written:
        os.fsync(written.fileno())


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
