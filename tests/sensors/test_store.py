"""The observation store and bulk import: day partitions, dedupe, clear errors, and the
bundled demo series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.core import Bylab, Context
from bylab.demo.loader import DATA_DIR
from bylab.errors import InvalidInput
from bylab.sensors.actions import (
    _aware,
    observation_store,
    observations_import,
    observations_store,
)
from bylab.sensors.demo import sensors_demo_load
from bylab.sensors.models import Datastream
from bylab.sensors.observation_ids import ID_TIME_BITS
from bylab.sensors.store import PARQUET_OPTIONS, observation_table
from tests.sensors.conftest import HOUR_MS, START_MS


def _count(bylab: Bylab) -> tuple[int, int]:
    scan = observation_store(bylab.system_context()).scan()
    [(count, distinct)] = bylab.tables.connection().execute(
        f"SELECT count(*), count(DISTINCT id) FROM {scan}").fetchall()
    return count, distinct


def test_import_is_partitioned_by_day_and_stores_each_observation_once(
        bylab: Bylab, stations: dict[str, int], tmp_path: Path) -> None:
    ctx = bylab.system_context()
    before = _count(bylab)
    file = tmp_path / "obs.csv"
    file.write_text("datastream,phenomenonTime,result\n"
                    "Valand/pm25,2022-01-01T23:30:00+01:00,4.5\n"
                    "Valand/pm25,2022-01-02T00:30:00Z,5.5\n"
                    "Valand/pm25,2022-01-02T00:30:00Z,9.9\n"  # same time again: first wins
                    "Valand/temperature,2022-01-02T00:30:00Z,-3\n")
    assert observations_import(ctx, file) == (4, 3)
    assert observations_import(ctx, file) == (4, 0)  # a re-run adds nothing
    assert _count(bylab) == (before[0] + 3, before[1] + 3)
    store = observation_store(ctx)
    days = sorted({Path(path).parent.name for path in store.files()})
    assert "day=2022-01-01" in days and "day=2022-01-02" in days
    stream = stations["Valand/pm25"]
    rows = bylab.tables.connection().execute(
        f"SELECT id, result FROM {store.scan()} WHERE datastream_id = ? "
        "AND phenomenon_time >= '2022-01-01' ORDER BY id", [stream]).fetchall()
    assert [result for _, result in rows] == [4.5, 5.5]
    assert rows[0][0] >> ID_TIME_BITS == stream


@pytest.mark.parametrize(("line", "field", "message"), [
    ("Gone/pm25,2022-01-01T00:00:00Z,1", "datastream", "unknown datastream 'Gone/pm25'"),
    ("Valand/pm25,2022-01-01T00:00:00Z,inf", "result", "not a finite number"),
    ("Valand/pm25,2022-01-01 00:00:00,1", "time", "is not a time"),
    ("Valand/pm25,2099-01-01T00:00:00Z,1", "time", "in the future"),
    ("Valand/pm25,2022-01-01T00:00:00Z,many", "result", "is not a result"),
])
def test_a_bad_row_refuses_the_file_and_names_the_row(
        embedded: Bylab, tmp_path: Path, line: str, field: str, message: str) -> None:
    from tests.sensors.conftest import PM25
    from bylab.sensors.actions import datastream_create, thing_create

    ctx = embedded.system_context()
    thing_create(ctx, "Valand")
    datastream_create(ctx, "Valand", "Valand/pm25", "PM2.5", observed_property="PM2.5",
                      unit=PM25, sensor="Monitor")
    file = tmp_path / "bad.csv"
    file.write_text("datastream,phenomenonTime,result\nValand/pm25,2022-01-01T01:00:00Z,1\n"
                    f"{line}\n")
    with pytest.raises(InvalidInput) as refused:
        observations_import(ctx, file)
    assert (refused.value.file, refused.value.row, refused.value.field) == ("bad.csv", 2, field)
    assert message in refused.value.message
    assert observation_store(ctx).files() == []  # nothing half-written


def test_the_demo_loads_the_bundled_series_with_real_values(embedded: Bylab) -> None:
    ctx = embedded.system_context()
    stored = sensors_demo_load(ctx, DATA_DIR / "sensors")
    assert sensors_demo_load(ctx, DATA_DIR / "sensors") == 0  # once only
    connection = embedded.tables.connection()
    scan = observation_store(ctx).scan()
    assert connection.execute(f"SELECT count(*) FROM {scan}").fetchall() == [(stored,)]
    client = TestClient(create_app(embedded))
    things = client.get("/sta/v1.1/Things", params={"$expand": "Datastreams"}).json()["value"]
    assert len(things) == 5
    valand = next(thing for thing in things if thing["name"] == "Valand")
    pm25 = next(d for d in valand["Datastreams"] if d["name"] == "PM2.5 at Valand")
    assert pm25["unitOfMeasurement"]["symbol"] == "µg/m³"
    assert pm25["phenomenonTime"] == "2016-12-31T23:00:00.000Z/2021-12-31T22:00:00.000Z"
    observations = client.get(f"{pm25['@iot.selfLink']}/Observations", params={
        "$filter": "phenomenonTime le 2017-01-01T01:00:00Z", "$count": "true",
        "$orderby": "phenomenonTime"}).json()
    # The station file's count of hours with PM2.5 (43265), and the first real values.
    assert [o["result"] for o in observations["value"]] == [21.4, 5.3, 6.7]
    count = client.get(f"{pm25['@iot.selfLink']}/Observations",
                       params={"$count": "true", "$top": "0"}).json()["@iot.count"]
    assert count == 43265
    page = client.get(f"/sensors/{valand['@iot.id']}")
    assert page.status_code == 200
    assert "<polyline" in page.text and "PM2.5 at Valand" in page.text
    listing = client.get("/sensors")
    assert "Klosterhaugen" in listing.text


def _span(ctx: Context, datastream_id: int) -> tuple[datetime | None, datetime | None,
                                                     float | None]:
    with ctx.db.session() as session:
        stream = session.get(Datastream, datastream_id)
        assert stream is not None
        return (_aware(stream.phenomenon_start), _aware(stream.phenomenon_end),
                stream.latest_result)


def _at(hours: float) -> int:
    return START_MS + int(hours * HOUR_MS)


def test_storing_widens_the_datastream_span_and_keeps_the_latest_result(
        bylab: Bylab, stations: dict[str, int]) -> None:
    ctx = bylab.system_context()
    pm25, temperature = stations["Valand/pm25"], stations["Valand/temperature"]
    first, last = datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 3, 2, 23, tzinfo=UTC)
    assert _span(ctx, pm25) == (first, last, 47.0)
    untouched = _span(ctx, temperature)
    older_and_inside = observation_table([pm25, pm25], [_at(-36), _at(5.5)], [1.5, 99.0])
    assert observations_store(ctx, older_and_inside) == 2
    assert _span(ctx, pm25) == (first - timedelta(hours=36), last, 47.0)
    newer = observation_table([pm25, pm25], [_at(96), _at(72)], [7.25, 3.0])
    assert observations_store(ctx, newer) == 2
    assert _span(ctx, pm25) == (first - timedelta(hours=36), first + timedelta(hours=96), 7.25)
    assert observations_store(ctx, newer) == 0  # nothing new: nothing changes
    assert _span(ctx, pm25)[2] == 7.25
    assert _span(ctx, temperature) == untouched


def test_a_batch_with_a_day_that_cannot_be_written_stores_none_of_its_days(
        bylab: Bylab, stations: dict[str, int]) -> None:
    ctx = bylab.system_context()
    store = observation_store(ctx)
    pm25 = stations["Valand/pm25"]
    files, span, count = store.files(), _span(ctx, pm25), _count(bylab)
    blocker = store.root / "day=2021-03-06"
    blocker.write_text("a file where the day's folder should be")
    batch = observation_table([pm25] * 3, [_at(72), _at(96), _at(120)], [1.0, 2.0, 3.0])
    with pytest.raises(OSError):
        observations_store(ctx, batch)
    assert (store.files(), _span(ctx, pm25), _count(bylab)) == (files, span, count)
    assert not list(store.root.rglob("*.tmp"))
    blocker.unlink()
    assert observations_store(ctx, batch) == 3


def test_repeats_are_found_in_month_files_day_files_and_small_row_groups(
        bylab: Bylab, stations: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PARQUET_OPTIONS, "row_group_size", 5)
    ctx = bylab.system_context()
    store = observation_store(ctx)
    pm25 = stations["Valand/pm25"]
    assert store.compact_months(before=date(2021, 4, 1)) == 1  # the stations' month: one file
    assert observations_store(ctx, observation_table(
        [pm25, pm25], [_at(50), _at(51)], [5.0, 6.0])) == 2  # day files beside it
    before = _count(bylab)
    again = observation_table([pm25] * 6, [_at(0), _at(23), _at(47), _at(50), _at(52), _at(52)],
                              [0.5, 0.5, 0.5, 0.5, 8.0, 9.0])
    assert observations_store(ctx, again) == 1  # only hour 52, and its first value
    assert _count(bylab) == (before[0] + 1, before[1] + 1)
    rows = bylab.tables.connection().execute(
        f"SELECT result FROM {store.scan()} WHERE datastream_id = ? ORDER BY id",
        [pm25]).fetchall()
    assert [result for (result,) in rows] == [float(hour) for hour in range(48)] + [5, 6, 8]
