"""An Observation whose phenomenonTime changes keeps its id: its row moves to the day of its
new time and ``moved.json`` says where it is. Dedupe stays exact around moved rows, deletes
and compactions keep working, and a move outlives the process."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pyarrow as pa
import pytest

from bylab.core import Bylab
from bylab.errors import Conflict
from bylab.sensors.actions import observation_store
from bylab.sensors.observation_ids import ID_TIME_BITS, SUBSTITUTES_FROM_MS, datastream_range
from bylab.sensors.store import ObservationStore, observation_table
from tests.sensors.ets_sta import (
    STA,
    datastream_body,
    first_id,
    get_ok,
    observed_body,
    post,
    thing_body,
)

HOUR_MS = 3_600_000
JAN_31 = int(datetime(2021, 1, 31, 10, tzinfo=UTC).timestamp() * 1000)
FEB_3 = int(datetime(2021, 2, 3, 12, tzinfo=UTC).timestamp() * 1000)
Row = tuple[int, int, int, float]  # id, datastream, epoch ms, result


def _natural(datastream_id: int, time_ms: int) -> int:
    return datastream_id << ID_TIME_BITS | time_ms


def _fill(store: ObservationStore, datastream_id: int, count: int = 4) -> list[int]:
    """Hourly observations from 2021-01-31 10:00 (result = the hour); their ids."""
    times = [JAN_31 + hour * HOUR_MS for hour in range(count)]
    store.append(observation_table([datastream_id] * count, times,
                                   [float(hour) for hour in range(count)]))
    return [_natural(datastream_id, moment) for moment in times]


def _move(store: ObservationStore, identifier: int, datastream_id: int, time_ms: int,
          result: float) -> None:
    store.replace([identifier], observation_table([datastream_id], [time_ms], [result]))


def _rows(bylab: Bylab, store: ObservationStore, day: date | None = None) -> list[Row]:
    """What a scan reads (of one day, or all), in time order."""
    scan = store.scan(day, day)
    if scan is None:
        return []
    return [(identifier, datastream, int(moment.timestamp() * 1000), result)
            for identifier, datastream, moment, result in bylab.tables.connection().execute(
                f"SELECT id, datastream_id, phenomenon_time, result FROM {scan} "
                "ORDER BY datastream_id, phenomenon_time").fetchall()]


def _found(bylab: Bylab, store: ObservationStore, identifier: int) -> list[Row]:
    """The observation with this id, read as ``observation_get`` does: from its day only."""
    day = store.observation_day(identifier)
    return [row for row in _rows(bylab, store, day) if row[0] == identifier]


def _ids_in_files(bylab: Bylab, store: ObservationStore) -> list[int]:
    """Every id in the stored files, tombstones or not, repeats kept."""
    paths = ", ".join(f"'{path}'" for path in store.files())
    return sorted(row[0] for row in bylab.tables.connection().execute(
        f"SELECT id FROM read_parquet([{paths}])").fetchall())


def test_a_moved_observation_keeps_its_id_on_its_new_day_also_after_a_restart(
        embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    _move(store, ids[0], 1, FEB_3, 5.0)

    assert store.observation_day(ids[0]) == date(2021, 2, 3)
    assert _found(embedded, store, ids[0]) == [(ids[0], 1, FEB_3, 5.0)]
    assert ids[0] not in {row[0] for row in _rows(embedded, store, date(2021, 1, 31))}
    assert _ids_in_files(embedded, store) == sorted(ids)  # purged from its old day
    assert [row[2] for row in _rows(embedded, store)] == [
        JAN_31 + HOUR_MS, JAN_31 + 2 * HOUR_MS, JAN_31 + 3 * HOUR_MS, FEB_3]

    restarted = ObservationStore(store.root, embedded.tables)
    assert _found(embedded, restarted, ids[0]) == [(ids[0], 1, FEB_3, 5.0)]
    assert restarted.moves().places == {ids[0]: (1, FEB_3)}


def test_an_observation_at_a_moved_ones_time_is_that_one(embedded: Bylab) -> None:
    """Redelivered (MQTT, a re-import) at the new time: a duplicate, dropped; a change at
    that time replaces the moved row under its id."""
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    _move(store, ids[0], 1, FEB_3, 5.0)

    again = store.append(observation_table([1, 1], [FEB_3, FEB_3 + HOUR_MS], [9.0, 6.0]))
    assert again["id"].to_pylist() == [_natural(1, FEB_3 + HOUR_MS)]
    assert store.ids_at(pa.array([_natural(1, FEB_3)])).to_pylist() == [ids[0]]

    _move(store, ids[0], 1, FEB_3, 7.0)  # a PATCH of its result only
    assert _found(embedded, store, ids[0]) == [(ids[0], 1, FEB_3, 7.0)]
    assert _ids_in_files(embedded, store).count(ids[0]) == 1


def test_an_observation_at_the_old_time_gets_a_substitute_id(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    _move(store, ids[0], 1, FEB_3, 5.0)

    new = store.append(observation_table([1], [JAN_31], [8.0]))
    substitute = new["id"].to_pylist()[0]
    low, high = datastream_range(1)
    assert low + SUBSTITUTES_FROM_MS <= substitute <= high and substitute != ids[0]
    assert store.append(observation_table([1], [JAN_31], [8.5])).num_rows == 0  # stored once
    assert store.ids_at(pa.array([ids[0], None], pa.int64())).to_pylist() == [substitute, None]

    assert _found(embedded, store, substitute) == [(substitute, 1, JAN_31, 8.0)]
    assert _found(embedded, store, ids[0]) == [(ids[0], 1, FEB_3, 5.0)]
    assert [row[0] for row in _rows(embedded, store)] == [substitute, *ids[1:], ids[0]]

    # Another observation at another freed time takes the next substitute down.
    _move(store, ids[1], 1, FEB_3 + HOUR_MS, 6.0)
    second = store.append(observation_table([1], [JAN_31 + HOUR_MS], [9.0]))
    assert second["id"].to_pylist() == [substitute - 1]


def test_a_move_to_a_taken_time_is_refused_and_one_back_is_natural_again(
        embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    with pytest.raises(Conflict):
        _move(store, ids[0], 1, JAN_31 + HOUR_MS, 5.0)
    assert _found(embedded, store, ids[0]) == [(ids[0], 1, JAN_31, 0.0)]

    _move(store, ids[0], 1, FEB_3, 5.0)
    with pytest.raises(Conflict):
        _move(store, ids[1], 1, FEB_3, 6.0)  # the moved one is there
    _move(store, ids[0], 1, JAN_31, 4.0)
    assert store.moves().places == {}
    assert _found(embedded, store, ids[0]) == [(ids[0], 1, JAN_31, 4.0)]
    assert _ids_in_files(embedded, store) == sorted(ids)


def test_deleting_moved_observations_purges_and_forgets_them(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    _move(store, ids[0], 1, FEB_3, 5.0)
    substitute = store.append(observation_table([1], [JAN_31], [8.0]))["id"].to_pylist()[0]

    store.delete([ids[0], substitute])
    assert store.moves().places == {} and store.tombstones() == []
    assert _ids_in_files(embedded, store) == sorted(ids[1:])
    assert _found(embedded, store, ids[0]) == []

    # Both times are free again, under their natural ids.
    fresh = store.append(observation_table([1, 1], [JAN_31, FEB_3], [1.0, 2.0]))
    assert fresh["id"].to_pylist() == [ids[0], _natural(1, FEB_3)]
    assert store.moves().places == {}


def test_deleting_a_datastream_forgets_its_moves(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ones, twos = _fill(store, 1), _fill(store, 2)
    _move(store, ones[0], 1, FEB_3, 5.0)
    _move(store, twos[0], 2, FEB_3, 5.0)
    store.append(observation_table([1], [JAN_31], [8.0]))  # a substitute in datastream 1

    store.delete_datastreams([1])
    assert store.moves().places == {twos[0]: (2, FEB_3)}
    assert {row[1] for row in _rows(embedded, store)} == {2}
    assert store.append(observation_table([1], [JAN_31], [1.0]))["id"].to_pylist() == [ones[0]]


def test_month_compaction_keeps_moved_rows(embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    ids = _fill(store, 1)
    feb = store.append(observation_table([1], [FEB_3 + HOUR_MS], [3.0]))["id"].to_pylist()
    _move(store, ids[0], 1, FEB_3, 5.0)  # January to February
    _move(store, feb[0], 1, JAN_31 - HOUR_MS, 6.0)  # February to January
    substitute = store.append(observation_table([1], [JAN_31], [8.0]))["id"].to_pylist()[0]
    before = _rows(embedded, store)

    store.compact()
    assert store.compact_months(before=date(2021, 3, 1)) == 2
    assert len(store.files()) == 2
    assert _rows(embedded, store) == before
    for identifier in (ids[0], feb[0], substitute):
        assert len(_found(embedded, store, identifier)) == 1
    assert store.append(observation_table([1, 1], [FEB_3, JAN_31], [0.0, 0.0])).num_rows == 0

    store.delete([feb[0]])  # a moved row in a compacted month: purged from the month file
    assert feb[0] not in _ids_in_files(embedded, store)
    assert _found(embedded, store, feb[0]) == []


# --- through the SensorThings API ----------------------------------------------------------

@pytest.fixture
def sta(client: httpx.Client, accounts_setup: dict[str, str]) -> httpx.Client:
    client.headers["Authorization"] = f"Bearer {accounts_setup['mia']}"
    return client


def test_patch_moves_an_observation_and_a_post_at_the_old_time_gets_its_own_id(
        sta: httpx.Client) -> None:
    thing = post(sta, "Things", thing_body(1, [7.16, 62.74], [datastream_body(
        "datastream 1", "Lumen", "lm", observed_body("Luminous Flux", 1), "sensor 1",
        "Light flux sensor")]))
    datastream = first_id(sta, f"Things({thing})/Datastreams")
    first = post(sta, f"Datastreams({datastream})/Observations",
                 {"phenomenonTime": "2021-01-31T10:00:00Z", "result": 1})
    second = post(sta, f"Datastreams({datastream})/Observations",
                  {"phenomenonTime": "2021-01-31T11:00:00Z", "result": 2})

    moved = sta.patch(f"{STA}/Observations({first})",
                      json={"phenomenonTime": "2021-02-03T12:00:00Z"})
    assert moved.status_code == 200, moved.text
    taken = sta.patch(f"{STA}/Observations({second})",
                      json={"phenomenonTime": "2021-02-03T12:00:00Z"})
    assert taken.status_code == 409, taken.text
    future = sta.patch(f"{STA}/Observations({second})",
                       json={"phenomenonTime": "2200-01-01T00:00:00Z"})
    assert future.status_code == 400, future.text

    again = post(sta, f"Datastreams({datastream})/Observations",
                 {"phenomenonTime": "2021-01-31T10:00:00Z", "result": 3})
    assert again != first
    assert get_ok(sta, f"Observations({first})")["phenomenonTime"] == "2021-02-03T12:00:00.000Z"
    listed = get_ok(sta, f"Datastreams({datastream})/Observations",
                    **{"$orderby": "phenomenonTime"})["value"]
    assert [(item["@iot.id"], item["result"]) for item in listed] == [
        (again, 3), (second, 2), (first, 1)]
