"""Deleting observations from the columnar store: tombstones hide them from every read at once,
compactions leave them out of what they write, and a deleted observation never comes back
unless it is stored again (and then only once)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bylab.core import Bylab
from bylab.sensors.actions import observation_store
from bylab.sensors.observation_ids import ID_TIME_BITS, datastream_range
from bylab.sensors.store import (
    ObservationStore,
    merged_ranges,
    observation_table,
)

START_MS = int(datetime(2021, 3, 1, tzinfo=UTC).timestamp() * 1000)
HOUR_MS = 3_600_000
HOURS = 33 * 24  # 2021-03-01 .. 2021-04-02


def _fill(store: ObservationStore, datastream_id: int) -> list[int]:
    times = [START_MS + hour * HOUR_MS for hour in range(HOURS)]
    store.append(observation_table([datastream_id] * HOURS, times, [float(h) for h in range(HOURS)]))
    return [(datastream_id << ID_TIME_BITS) | moment for moment in times]


def _ids(bylab: Bylab, store: ObservationStore) -> set[int]:
    scan = store.scan()
    if scan is None:
        return set()
    return {row[0] for row in bylab.tables.connection().execute(
        f"SELECT id FROM {scan}").fetchall()}


def _ids_in_files(bylab: Bylab, store: ObservationStore) -> set[int]:
    """Every id in the stored files, tombstones or not."""
    paths = ", ".join(f"'{path}'" for path in store.files())
    return {row[0] for row in bylab.tables.connection().execute(
        f"SELECT id FROM read_parquet([{paths}])").fetchall()}


def test_deleted_observations_never_appear_again_even_after_compactions(
        embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    march_gone, april_gone = ids[5:8], ids[-3:]  # in the month to compact, and the open one
    store.delete([*march_gone, *april_gone])
    expected = set(ids) - set(march_gone) - set(april_gone)
    assert _ids(embedded, store) == expected
    day = datetime.fromtimestamp((ids[6] & ((1 << ID_TIME_BITS) - 1)) / 1000, UTC).date()
    assert store.scan(day, day) is not None and ids[6] not in _ids_in_day(embedded, store, day)

    store.compact()
    assert _ids(embedded, store) == expected
    assert store.compact_months(before=date(2021, 4, 1)) == 1
    assert _ids(embedded, store) == expected
    in_files = _ids_in_files(embedded, store)
    assert not in_files & set(march_gone)  # purged by the month compaction
    assert set(april_gone) <= in_files  # still in April's day files, hidden by tombstones
    assert store.tombstones() == merged_ranges((item, item) for item in april_gone)

    # Re-delivered (MQTT, a re-import): a deleted observation is new again, stored once.
    times = [identifier & ((1 << ID_TIME_BITS) - 1) for identifier in march_gone[:1]]
    assert store.append(observation_table([1], times, [99.0])).num_rows == 1
    assert store.append(observation_table([1], times, [98.0])).num_rows == 0
    rows = embedded.tables.connection().execute(
        f"SELECT result FROM {store.scan()} WHERE id = ?", [march_gone[0]]).fetchall()
    assert rows == [(99.0,)]


def _ids_in_day(bylab: Bylab, store: ObservationStore, day: date) -> set[int]:
    scan = store.scan(day, day)
    return {row[0] for row in bylab.tables.connection().execute(
        f"SELECT id FROM {scan}").fetchall()}


def test_a_deleted_observation_stored_again_replaces_the_purged_row(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 2)
    store.compact_months(before=date(2021, 4, 1))
    store.delete([ids[10]])
    moment = ids[10] & ((1 << ID_TIME_BITS) - 1)
    assert store.append(observation_table([2], [moment], [-1.0])).num_rows == 1
    assert store.tombstones() == []
    assert len([item for item in _ids_in_files(embedded, store) if item == ids[10]]) == 1
    assert len(_ids(embedded, store)) == HOURS


def test_deleting_a_datastream_purges_its_rows_so_a_reused_id_starts_empty(
        embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    kept = _fill(store, 3)
    gone = _fill(store, 4)
    store.compact_months(before=date(2021, 4, 1))
    store.delete_datastreams([4])
    assert store.tombstones() == []
    assert _ids_in_files(embedded, store) == set(kept)
    low, high = datastream_range(4)
    assert low == gone[0] - (gone[0] & ((1 << ID_TIME_BITS) - 1)) and high > gone[-1]
    # A new datastream that gets id 4 again (SQLite may reuse it) starts with nothing.
    moment = START_MS + 5 * HOUR_MS
    assert store.append(observation_table([4], [moment], [1.5])).num_rows == 1
    assert _ids(embedded, store) == {*kept, (4 << ID_TIME_BITS) | moment}


def test_deleting_in_a_compacted_month_is_purged_by_the_next_month_compaction(
        embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 5)
    assert store.compact_months(before=date(2021, 4, 1)) == 1
    every_other = ids[:24 * 31:2]  # hundreds of tombstones, all in compacted March
    store.delete(every_other)
    expected = set(ids) - set(every_other)
    assert _ids(embedded, store) == expected
    assert store.compact_months(before=date(2021, 4, 1)) == 1  # March rewritten without them
    assert store.tombstones() == []
    assert _ids_in_files(embedded, store) == expected
    assert store.compact_months(before=date(2021, 4, 1)) == 0
