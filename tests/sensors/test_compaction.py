"""Compacting closed months of the observation store into one file each: same answers, fewer
files, dedupe still holds, and left-overs of an interrupted compaction are never read twice."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime

from bylab.core import Bylab
from bylab.sensors.actions import observation_store
from bylab.sensors.store import MANIFEST, ObservationStore, observation_table

START_MS = int(datetime(2021, 3, 1, tzinfo=UTC).timestamp() * 1000)
HOUR_MS = 3_600_000
HOURS = 33 * 24  # 2021-03-01 .. 2021-04-02


def _hourly(first: int, last: int) -> list[int]:
    return [START_MS + hour * HOUR_MS for hour in range(first, last)]


def _summary(bylab: Bylab, store: ObservationStore) -> list[tuple[object, ...]]:
    return bylab.tables.connection().execute(
        f"SELECT phenomenon_time::DATE AS day, count(*), count(DISTINCT id), sum(result) "
        f"FROM {store.scan()} GROUP BY day ORDER BY day").fetchall()


def test_closed_months_become_one_file_with_the_same_answers(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    for first, last in ((0, HOURS // 2), (HOURS // 2, HOURS)):  # two files on one day
        times = _hourly(first, last)
        store.append(observation_table([1] * len(times), times, [float(t % 97) for t in times]))
    before = _summary(embedded, store)
    assert len(store.files()) == 34  # 33 days, one of them in two files

    assert store.compact_months(before=date(2021, 4, 1)) == 1
    files = store.files()
    assert len(files) == 3  # March in one file, 1 and 2 April as they were
    assert sum("month=2021-03" in path for path in files) == 1
    assert not list(store.root.glob("day=2021-03-*"))
    assert _summary(embedded, store) == before
    assert store.files(date(2021, 3, 5), date(2021, 3, 5)) == [
        path for path in files if "month=2021-03" in path]

    times = _hourly(0, HOURS)  # everything again: nothing new
    again = store.append(observation_table([1] * len(times), times, [0.0] * len(times)))
    assert again.num_rows == 0
    late = [START_MS + 10 * HOUR_MS + 1]  # a late observation in the compacted month
    assert store.append(observation_table([1], late, [1000.0])).num_rows == 1
    assert len(store.files()) == 4
    assert store.compact_months(before=date(2021, 4, 1)) == 1
    assert len(store.files()) == 3
    after = _summary(embedded, store)
    assert after[0][1] == before[0][1] + 1 and after[0][3] == before[0][3] + 1000.0
    assert after[1:] == before[1:]
    assert store.compact_months(before=date(2021, 4, 1)) == 0  # nothing left to merge


def test_day_files_a_crash_left_behind_are_not_read_twice(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    times = _hourly(0, 48)
    store.append(observation_table([1] * len(times), times, [1.0] * len(times)))
    day_file = store.files(date(2021, 3, 1), date(2021, 3, 1))[0]
    kept = store.root.parent / "kept.parquet"
    shutil.copy(day_file, kept)
    store.compact_months(before=date(2021, 4, 1))
    # As if the process died after the manifest took over and before the day file was removed.
    manifest = json.loads((store.root / "month=2021-03" / MANIFEST).read_text())
    restored = store.root / manifest["replaces"][0]
    restored.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(kept, restored)
    assert str(restored) not in store.files()
    assert _summary(embedded, store)[0][1:3] == (24, 24)
    store.compact()
    assert not restored.exists()
