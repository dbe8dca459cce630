"""The observation store and bulk import: day partitions, dedupe, clear errors, and the
bundled demo series."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.core import Bylab
from bylab.demo.loader import DATA_DIR
from bylab.errors import InvalidInput
from bylab.sensors.actions import observation_store, observations_import
from bylab.sensors.demo import sensors_demo_load
from bylab.sensors.store import ID_TIME_BITS


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
