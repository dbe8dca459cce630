"""The SensorThings harvester: against another bylab serving /sta/v1.1 over real HTTP (things,
datastreams and the real hourly PM2.5 at Valand), incrementally; and against a local HTTP
server that stops answering halfway."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from bylab.auth import actions as accounts
from bylab.connectors import sta_harvest
from bylab.connectors.models import RunStatus
from bylab.connectors.sources import (
    SourceInput,
    dead_letters,
    source_create,
    source_delete,
    source_get,
    source_run,
    source_update,
)
from bylab.core import Bylab, Context
from bylab.sensors.actions import (
    Unit,
    datastream_create,
    observation_store,
    observations_store,
    thing_create,
)
from bylab.sensors.models import Datastream, Thing
from bylab.sensors.store import observation_table
from bylab.testing.backends import embedded_instance
from bylab.testing.server import running_server
from tests.conftest import TEST_DATA
from tests.connectors.conftest import RecordedServer, serve_sta_station, sta_page

VALAND = TEST_DATA / "catalog" / "no_air_quality_valand_hourly.csv"


def _valand_pm25() -> list[tuple[int, float]]:
    """(epoch ms, PM2.5) of the real Valand rows that have a PM2.5 value."""
    with VALAND.open(newline="") as rows:
        return [(int(datetime.fromisoformat(row["timestamp_utc"].replace("Z", "+00:00"))
                     .timestamp() * 1000), float(row["pm25_ugm3"]))
                for row in csv.DictReader(rows) if row["pm25_ugm3"]]


def _store(ctx: Context, datastream_id: int, readings: list[tuple[int, float]]) -> None:
    observations_store(ctx, observation_table([datastream_id] * len(readings),
                                              [moment for moment, _ in readings],
                                              [value for _, value in readings]))


@pytest.fixture
def remote(tmp_path: Path) -> Bylab:
    instance = embedded_instance(tmp_path / "remote")
    ctx = instance.system_context()
    thing_create(ctx, "Valand", description="Air-quality station, Stavanger")
    datastream_create(ctx, "Valand", "Valand/pm25", "PM2.5 at Valand",
                      observed_property="PM2.5", definition="", sensor="PM2.5 monitor",
                      unit=Unit("microgram per cubic metre", "µg/m³"))
    yield instance
    instance.close()


def _datastream_id(ctx: Context, key: str) -> int:
    with ctx.db.session() as session:
        return session.query(Datastream.id).filter(Datastream.key == key).scalar()


def test_harvest_a_sensorthings_server_incrementally(
        embedded: Bylab, remote: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sta_harvest, "PAGE_SIZE", 7)  # several pages, through @iot.nextLink
    readings = _valand_pm25()
    remote_ctx = remote.system_context()
    remote_datastream = _datastream_id(remote_ctx, "Valand/pm25")
    _store(remote_ctx, remote_datastream, readings[:20])
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "stavanger", "Stavanger kommune")
    with running_server(remote) as url:
        source_create(ctx, SourceInput(name="valand-sta", kind="sta", url=f"{url}/sta/v1.1",
                                       organisation="stavanger", dataset="remote",
                                       visibility="public"))
        first = source_run(ctx, "valand-sta")
        assert (first.status, first.rows_read, first.rows_stored, first.rows_rejected) == (
            RunStatus.STORED, 20, 20, 0), first.message
        assert "1 new things, 1 new datastreams" in first.message
        with ctx.db.session() as session:
            thing = session.query(Thing).filter(Thing.name == "remote/Valand").one()
            assert (thing.organisation_id is not None, thing.visibility) == (True, "public")
        again = source_run(ctx, "valand-sta")
        assert (again.status, again.rows_read, again.rows_stored) == (RunStatus.UNCHANGED, 0, 0)

        _store(remote_ctx, remote_datastream, readings[20:])
        more = source_run(ctx, "valand-sta")
        assert (more.status, more.rows_read, more.rows_stored) == (
            RunStatus.STORED, len(readings) - 20, len(readings) - 20)
    local_id = _datastream_id(ctx, f"remote/{remote_datastream}")
    scan = observation_store(ctx).scan(None, None)
    stored = ctx.tables.connection().execute(
        f"SELECT epoch_ms(phenomenon_time), result FROM {scan} WHERE datastream_id = ? "
        "ORDER BY 1", [local_id]).fetchall()
    assert stored == readings
    state = source_get(ctx, "valand-sta").state
    assert list(state) == [str(remote_datastream)]


def test_server_that_stops_answering_halfway(embedded: Bylab,
                                             recorded_server: RecordedServer) -> None:
    # SensorThings answers written here by hand, in the protocol's shapes, carrying the first
    # real Valand PM2.5 readings; one result is text, to be set aside.
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "stavanger", "Stavanger kommune")
    root = "/sta/v1.1"
    serve_sta_station(recorded_server, root)
    first_page = [{"@iot.id": 1, "phenomenonTime": "2016-12-31T23:00:00Z", "result": 21.4},
                  {"@iot.id": 2, "phenomenonTime": "2017-01-01T00:00:00Z", "result": "5,3"},
                  {"@iot.id": 3, "phenomenonTime": "2017-01-01T01:00:00Z", "result": 6.7}]
    recorded_server.serve(f"{root}/Datastreams(5)/Observations",
                          sta_page(first_page, f"{recorded_server.base_url}{root}/gone"))
    source_create(ctx, SourceInput(name="flaky", kind="sta",
                                   url=f"{recorded_server.base_url}{root}",
                                   organisation="stavanger", dataset="flaky"))
    run = source_run(ctx, "flaky")
    assert (run.status, run.rows_read, run.rows_stored, run.rows_rejected) == (
        RunStatus.FAILED, 3, 2, 1)
    assert run.message.startswith("stopped early: ")
    assert f"{recorded_server.base_url}{root}/gone" in run.message and "HTTP 404" in run.message
    [letter] = dead_letters(ctx, run.id)
    assert letter.location == "Datastreams(5) Observations(2)"
    assert "not a finite number: '5,3'" in letter.reason
    assert source_get(ctx, "flaky").state == {"5": "2017-01-01T01:00:00Z"}

    recorded_server.serve(f"{root}/Datastreams(5)/Observations", sta_page([
        {"@iot.id": 4, "phenomenonTime": "2017-01-01T02:00:00Z", "result": 5.3}]))
    resumed = source_run(ctx, "flaky")
    assert (resumed.status, resumed.rows_read, resumed.rows_stored) == (RunStatus.STORED, 1, 1)
    [asked] = [unquote(path) for method, path, _ in recorded_server.requests
               if "Observations" in path][-1:]
    assert "$filter=phenomenonTime gt 2017-01-01T01:00:00Z" in asked.replace("+", " ")
    assert json.loads(json.dumps(source_get(ctx, "flaky").state)) == {
        "5": "2017-01-01T02:00:00Z"}


def test_harvested_things_follow_their_source_visibility_both_ways(
        bylab: Bylab, client: httpx.Client, accounts_setup: dict[str, str],
        recorded_server: RecordedServer) -> None:
    ctx = bylab.system_context()
    root = "/sta/v1.1"
    serve_sta_station(recorded_server, root)
    recorded_server.serve(f"{root}/Datastreams(5)/Observations", sta_page([
        {"@iot.id": 1, "phenomenonTime": "2017-01-01T02:00:00Z", "result": 5.3}]))
    saved = SourceInput(name="molde-sta", kind="sta", url=f"{recorded_server.base_url}{root}",
                        organisation="molde", dataset="molde-air", visibility="private")
    source_create(ctx, saved)
    assert source_run(ctx, "molde-sta").status == RunStatus.STORED
    with ctx.db.session() as session:
        thing_id = session.query(Thing.id).filter(Thing.name == "molde-air/Valand").scalar()
    mia = {"Authorization": f"Bearer {accounts_setup['mia']}"}  # editor of Molde
    ola = {"Authorization": f"Bearer {accounts_setup['ola']}"}  # of Ålesund

    def seen(headers: dict[str, str] | None = None) -> tuple[list[str], int, bool, bool]:
        things = client.get(f"{root}/Things", headers=headers).json()["value"]
        observations = client.get(f"{root}/Observations", headers=headers).json()["value"]
        listed = "molde-air/Valand" in client.get("/sensors", headers=headers).text
        page = client.get(f"/sensors/{thing_id}", headers=headers).status_code == 200
        return [thing["name"] for thing in things], len(observations), listed, page

    shown, hidden = (["molde-air/Valand"], 1, True, True), ([], 0, False, False)
    assert (seen(), seen(ola), seen(mia)) == (hidden, hidden, shown)
    source_update(ctx, "molde-sta", saved.model_copy(update={"visibility": "public"}))
    assert (seen(), seen(ola), seen(mia)) == (shown, shown, shown)
    source_update(ctx, "molde-sta", saved)  # private again
    assert (seen(), seen(ola), seen(mia)) == (hidden, hidden, shown)
    # A deleted source leaves its Things as the source last had them.
    source_delete(ctx, "molde-sta")
    assert (seen(), seen(mia)) == (hidden, shown)
