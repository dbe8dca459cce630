"""Replaying harvest dead letters once their cause is fixed, for each connector kind that sets
letters aside (statistics tables, CKAN packages, SensorThings observations), through the
actions, the REST API, the run log page and the CLI; with a log line per dead letter."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Visibility
from bylab.catalog.publish import dataset_delete, dataset_publish
from bylab.catalog.queries import dataset_show
from bylab.connectors.cell_correction import CORRECTED_STATUS
from bylab.connectors.cli import app
from bylab.connectors.models import RunStatus
from bylab.connectors.replay import dead_letters_replay
from bylab.connectors.sources import (
    SourceInput,
    dead_letters,
    source_create,
    source_run,
    source_runs,
    source_update,
)
from bylab.core import Bylab, Context
from bylab.errors import Conflict, InvalidInput, NotFound
from bylab.sensors.actions import observation_store
from bylab.sensors.models import Datastream
from bylab.testing.backends import embedded_instance
from bylab.testing.server import running_server
from tests.conftest import PASSWORD, TEST_DATA
from tests.connectors.test_harvest import _stored_rows
from tests.connectors.conftest import (
    RecordedServer,
    organisations_and_a_taken_name,
    serve_sta_station,
    sta_page,
    tab638_years,
)

TABLE_PATH = "/api/v2/tables/TAB638/data"
TAB638_QUERY = {"selection": [{"variableCode": "Tid", "valueCodes": ["*"]}]}
POPULATION = TEST_DATA / "catalog" / "no_population_molde_region_cp1252.csv"


def _table_source(ctx: Context, server: RecordedServer, **changes: Any) -> None:
    source_create(ctx, SourceInput(**{
        "name": "tab638", "kind": "pxweb", "url": f"{server.base_url}/api/v2",
        "table": "TAB638", "query": TAB638_QUERY, "organisation": "molde",
        "dataset": "population-tab638", "country": "SE", **changes}))


@pytest.fixture
def ctx(bylab: Bylab) -> Context:
    context = bylab.system_context()
    accounts.organisation_create(context, "molde", "Molde kommune")
    return context


def test_table_cells_replay_when_the_server_corrects_them(
        ctx: Context, recorded_server: RecordedServer, caplog: pytest.LogCaptureFixture) -> None:
    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12, [13], 14]))
    _table_source(ctx, recorded_server)
    with caplog.at_level(logging.WARNING, logger="bylab.connectors.sources"):
        run = source_run(ctx, "tab638")
    assert (run.status, run.rows_stored, run.rows_rejected) == (RunStatus.STORED, 3, 2)
    lines = [record.getMessage() for record in caplog.records
             if record.name == "bylab.connectors.sources"]
    assert lines == [f"harvest dead letter: source=tab638 run={run.id} position={letter.location}"
                     f" reason={letter.reason}" for letter in dead_letters(ctx, run.id)]
    assert "position=cell 1 (" in lines[0] and "'n/a'" in lines[0]
    first, second = dead_letters(ctx, run.id)

    with pytest.raises(InvalidInput) as refused:
        dead_letters_replay(ctx, run.id, first.id, "11")  # a cell's correction needs a note
    assert refused.value.field == "note"
    with pytest.raises(InvalidInput) as unnamed:
        dead_letters_replay(ctx, run.id, value="11")
    assert unnamed.value.field == "value"

    # The server still holds a bad cell 2020, but now "eleven" instead of "n/a".
    recorded_server.serve(TABLE_PATH, tab638_years([10, "eleven", 12, 13, 14]))
    with caplog.at_level(logging.INFO, logger="bylab.connectors.replay"):
        partly = dead_letters_replay(ctx, run.id)
    assert (partly.replayed, partly.still_failing, partly.version) == ([second.id], [first.id], 2)
    replay_lines = [record.getMessage() for record in caplog.records
                    if record.name == "bylab.connectors.replay"]
    assert replay_lines[0].startswith(
        f"harvest dead letter still failing: source=tab638 run={run.id} "
        f"position={first.location} reason=") and "'eleven'" in replay_lines[0]
    assert replay_lines[1] == (f"harvest dead letter replayed: source=tab638 run={run.id} "
                               f"position={second.location} by=system")
    letters = {letter.id: letter for letter in dead_letters(ctx, run.id)}
    assert "'eleven'" in letters[first.id].reason and letters[first.id].replayed_at is None
    assert letters[first.id].tried_at is not None
    assert (letters[second.id].replayed_by, letters[second.id].replayed_at is not None) == (
        "system", True)
    assert dataset_show(ctx, "population-tab638").versions[-1].row_count == 4

    with pytest.raises(Conflict):
        dead_letters_replay(ctx, run.id, second.id)
    recorded_server.serve(TABLE_PATH, tab638_years([10, 11, 12, 13, 14]))
    done = dead_letters_replay(ctx, run.id, first.id)
    assert (done.replayed, done.still_failing, done.version) == ([first.id], [], 3)
    assert dataset_show(ctx, "population-tab638").versions[-1].row_count == 5
    # Nothing left to replay, and the table is as stored: no new version.
    empty = dead_letters_replay(ctx, run.id)
    assert (empty.replayed, empty.still_failing, empty.version) == ([], [], None)
    assert dataset_show(ctx, "population-tab638").latest_version == 3
    [notes] = [run.notes for run in source_runs(ctx, "tab638")]
    replays = [note.split(" ", 2)[2] for note in notes if " replayed " in note]
    assert replays == ["system replayed 1 dead letter(s), 1 still failing; stored version 2",
                       "system replayed 1 dead letter(s), 0 still failing; stored version 3"]


def _stored_state(ctx: Context, run_id: str) -> tuple[Any, ...]:
    """What a refused correction must leave as it was."""
    dataset = dataset_show(ctx, "population-tab638")
    letters = [(letter.reason, letter.replayed_at, letter.tried_at)
               for letter in dead_letters(ctx, run_id)]
    [run] = [run for run in source_runs(ctx, "tab638") if run.id == run_id]
    return dataset.latest_version, letters, list(run.notes)


def test_a_table_cell_replays_with_a_corrected_value_and_its_provenance(
        ctx: Context, recorded_server: RecordedServer) -> None:
    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12, "12,5"]))
    _table_source(ctx, recorded_server)
    run = source_run(ctx, "tab638")
    not_available, comma = dead_letters(ctx, run.id)
    assert not_available.payload["codes"]["Tid"] == "2020"
    before = _stored_state(ctx, run.id)

    source = "SCB, e-mail of 2026-11-20 (ref. 4711)"
    for value, note, field in (("eleven", source, "value"), ("12,5", source, "value"),
                               ("NaN", source, "value"), ("", source, "value"),
                               ("11", "  ", "note"), ("11", None, "note")):
        with pytest.raises(InvalidInput) as refused:
            dead_letters_replay(ctx, run.id, not_available.id, value, note)
        assert refused.value.field == field, (value, note)
    assert "use a point as the decimal mark" in str(
        pytest.raises(InvalidInput, dead_letters_replay, ctx, run.id, comma.id, "12,5",
                      source).value)
    assert _stored_state(ctx, run.id) == before  # nothing stored changed

    corrected = dead_letters_replay(ctx, run.id, not_available.id, " 11.5 ", source)
    assert (corrected.replayed, corrected.still_failing, corrected.version) == (
        [not_available.id], [], 2)
    rows = _stored_rows(ctx, "population-tab638")
    assert [(row["time_code"], row["value"], row["status"]) for row in rows] == [
        ("2019", 10.0, None), ("2020", 11.5, CORRECTED_STATUS), ("2021", 12.0, None)]
    assert rows[1]["period"].isoformat() == "2020-01-01"  # tidied like its neighbours
    assert {key for key, value in rows[1].items() if value is None} == {
        key for key, value in rows[0].items() if value is None} - {"status"}
    version = dataset_show(ctx, "population-tab638").versions[-1]
    assert version.note.endswith(f"{not_available.location} corrected to 11.5 by system: "
                                 f"{source}")
    assert "content sha256=" in version.note
    letters = {letter.id: letter for letter in dead_letters(ctx, run.id)}
    assert letters[not_available.id].replayed_by == "system"
    assert letters[comma.id].replayed_at is None  # only the named letter
    [notes] = [run.notes for run in source_runs(ctx, "tab638")]
    assert notes[-1].endswith(f"system replayed 1 dead letter(s), 0 still failing; stored "
                              f"version 2; {not_available.location} corrected to 11.5 by "
                              f"system: {source}")
    with pytest.raises(Conflict):
        dead_letters_replay(ctx, run.id, not_available.id, "11.5", source)

    # The statistics office fixed the other cell meanwhile: no correction is needed for it.
    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12, 12.5]))
    with pytest.raises(InvalidInput) as fixed_there:
        dead_letters_replay(ctx, run.id, comma.id, "12.5", source)
    assert fixed_there.value.field == "letter" and "now holds a value" in str(
        fixed_there.value)
    # A table whose years no longer reach that far has no such cell.
    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12]))
    with pytest.raises(InvalidInput) as gone:
        dead_letters_replay(ctx, run.id, comma.id, "12.5", source)
    assert gone.value.field == "letter" and "no cell" in str(gone.value)
    assert dataset_show(ctx, "population-tab638").latest_version == 2

    # A replay without a value harvests the table again and keeps the corrected cell.
    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12, 12.5]))
    plain = dead_letters_replay(ctx, run.id)
    assert (plain.replayed, plain.version) == ([comma.id], 3)
    assert [(row["value"], row["status"]) for row in _stored_rows(ctx, "population-tab638")] \
        == [(10, None), (11.5, CORRECTED_STATUS), (12, None), (12.5, None)]
    assert dataset_show(ctx, "population-tab638").versions[-1].note.endswith(
        "; 1 earlier correction(s) kept")


def test_a_scheduled_run_keeps_a_corrected_cell_until_the_office_has_a_value(
        ctx: Context, recorded_server: RecordedServer) -> None:
    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12]))
    _table_source(ctx, recorded_server)
    run = source_run(ctx, "tab638")
    [missing] = dead_letters(ctx, run.id)
    dead_letters_replay(ctx, run.id, missing.id, "11", "SCB, e-mail of 2026-11-20")

    recorded_server.serve(TABLE_PATH, tab638_years([10, "n/a", 12, 13]))  # a new year
    later = source_run(ctx, "tab638")
    assert (later.status, later.rows_stored, later.rows_rejected) == (RunStatus.STORED, 4, 0)
    assert [(row["value"], row["status"]) for row in _stored_rows(ctx, "population-tab638")] \
        == [(10, None), (11, CORRECTED_STATUS), (12, None), (13, None)]

    recorded_server.serve(TABLE_PATH, tab638_years([10, 11.2, 12, 13]))  # the office's figure
    source_run(ctx, "tab638")
    assert [(row["value"], row["status"]) for row in _stored_rows(ctx, "population-tab638")] \
        == [(10, None), (11.2, None), (12, None), (13, None)]


def test_the_source_visibility_follows_on_every_run(ctx: Context,
                                                    recorded_server: RecordedServer) -> None:
    recorded_server.serve(TABLE_PATH, tab638_years([10, 11]))
    _table_source(ctx, recorded_server)
    source_run(ctx, "tab638")
    assert dataset_show(ctx, "population-tab638").visibility == Visibility.PRIVATE
    source_update(ctx, "tab638", SourceInput(
        name="tab638", kind="pxweb", url=f"{recorded_server.base_url}/api/v2", table="TAB638",
        query=TAB638_QUERY, organisation="molde", dataset="population-tab638", country="SE",
        visibility=Visibility.PUBLIC))
    again = source_run(ctx, "tab638")
    assert again.status == RunStatus.UNCHANGED
    assert dataset_show(ctx, "population-tab638").visibility == Visibility.PUBLIC


def test_sensorthings_observation_replays_with_a_corrected_result(
        embedded: Bylab, recorded_server: RecordedServer) -> None:
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "stavanger", "Stavanger kommune")
    root = "/sta/v1.1"
    serve_sta_station(recorded_server, root)
    recorded_server.serve(f"{root}/Datastreams(5)/Observations", sta_page([
        {"@iot.id": 1, "phenomenonTime": "2016-12-31T23:00:00Z", "result": 21.4},
        {"@iot.id": 2, "phenomenonTime": "2017-01-01T00:00:00Z", "result": "5,3"},
        {"@iot.id": 3, "phenomenonTime": "2017-01-01T01:00Z", "result": "NaN"}]))
    source_create(ctx, SourceInput(name="valand", kind="sta",
                                   url=f"{recorded_server.base_url}{root}",
                                   organisation="stavanger", dataset="valand"))
    run = source_run(ctx, "valand")
    assert (run.rows_stored, run.rows_rejected) == (1, 2)
    comma, not_a_number = dead_letters(ctx, run.id)
    assert comma.payload["datastream"] == "5"

    # Replaying all as they are: both still fail, with their reason.
    same = dead_letters_replay(ctx, run.id)
    assert (same.replayed, sorted(same.still_failing)) == (
        [], sorted([comma.id, not_a_number.id]))
    with pytest.raises(NotFound):
        dead_letters_replay(ctx, run.id, "no-such-letter")
    wrong = dead_letters_replay(ctx, run.id, comma.id, "five")
    assert wrong.still_failing == [comma.id]
    assert "not a finite number: 'five'" in dead_letters(ctx, run.id)[0].reason

    fixed = dead_letters_replay(ctx, run.id, comma.id, "5.3")
    assert fixed.replayed == [comma.id]
    with ctx.db.session() as session:
        local_id = session.query(Datastream.id).filter(Datastream.key == "valand/5").scalar()
    scan = observation_store(ctx).scan(None, None)
    stored = ctx.tables.connection().execute(
        f"SELECT epoch_ms(phenomenon_time), result FROM {scan} WHERE datastream_id = ? "
        "ORDER BY 1", [local_id]).fetchall()
    assert stored == [(1483225200000, 21.4), (1483228800000, 5.3)]
    with pytest.raises(Conflict):
        dead_letters_replay(ctx, run.id, comma.id, "5.3")
    assert dead_letters(ctx, run.id)[1].replayed_at is None


@pytest.fixture
def remote(tmp_path: Path) -> Bylab:
    instance = embedded_instance(tmp_path / "remote")
    remote_ctx = instance.system_context()
    accounts.organisation_create(remote_ctx, "stavanger", "Stavanger kommune")
    dataset_publish(remote_ctx, DatasetMetadata(
        name="population", title={"en": "Population"}, organisation="stavanger",
        visibility=Visibility.PUBLIC), POPULATION)
    yield instance
    instance.close()


def test_ckan_package_replays_once_its_name_is_free(embedded: Bylab, remote: Bylab) -> None:
    ctx = embedded.system_context()
    organisations_and_a_taken_name(ctx)
    with running_server(remote) as url:
        source_create(ctx, SourceInput(name="portal", kind="ckan", url=url, organisation="molde",
                                       dataset="stavanger", query={"resource_formats": ["CSV"]}))
        run = source_run(ctx, "portal")
        [letter] = dead_letters(ctx, run.id)
        assert "belongs to another organisation" in letter.reason
        still = dead_letters_replay(ctx, run.id)
        assert still.still_failing == [letter.id]

        dataset_delete(ctx, "stavanger-population")  # the cause is fixed
        replayed = dead_letters_replay(ctx, run.id)
    assert (replayed.replayed, replayed.still_failing) == ([letter.id], [])
    local = dataset_show(ctx, "stavanger-population")
    assert (local.latest_version, local.landing_page) == (1, f"{url}/dataset/population")
    assert local.versions[-1].row_count == dataset_show(
        remote.system_context(), "population").versions[-1].row_count


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_replay_through_the_api_and_the_run_logsta_page(
        bylab: Bylab, client: httpx.Client, accounts_setup: dict[str, str],
        recorded_server: RecordedServer) -> None:
    recorded_server.serve(TABLE_PATH, tab638_years(["n/a", 11, "x1"]))
    mia = {"Authorization": f"Bearer {accounts_setup['mia']}"}
    ola = {"Authorization": f"Bearer {accounts_setup['ola']}"}
    _table_source(bylab.system_context(), recorded_server)
    run = client.post("/api/harvest/sources/tab638/runs", headers=mia).json()
    assert run["rows_rejected"] == 2
    path = f"/api/harvest/runs/{run['id']}/dead-letters"
    first, second = client.get(path, headers=mia).json()
    assert client.post(f"{path}/replay", headers=ola).status_code == 404
    assert client.post(f"{path}/replay", headers=mia,
                       json={"value": "3"}).status_code == 400

    recorded_server.serve(TABLE_PATH, tab638_years([10, 11, "x1"]))
    answer = client.post(f"{path}/replay", headers=mia, json={"letter": first["id"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["replayed"] == [first["id"]] and answer.json()["version"] == 2
    assert client.get(path, headers=mia).json()[0]["replayed_by"] == "mia"

    # The page: log in, see the letter marked replayed and a button for the one left.
    login = client.get("/login").text
    client.post("/login", data={"username": "mia", "password": PASSWORD,
                                "csrf_token": _csrf(login)})
    page = client.get("/harvest/tab638").text
    assert "replayed" in page and "(mia)" in page
    assert f'action="/harvest/runs/{run["id"]}/replay"' in page
    refused = client.post(f"/harvest/runs/{run['id']}/replay", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    recorded_server.serve(TABLE_PATH, tab638_years([10, 11, 12]))
    clicked = client.post(f"/harvest/runs/{run['id']}/replay",
                          data={"csrf_token": _csrf(page)}, follow_redirects=False)
    assert (clicked.status_code, clicked.headers["location"]) == (303, "/harvest/tab638")
    assert [letter["replayed_at"] is not None
            for letter in client.get(path, headers=mia).json()] == [True, True]
    assert f'action="/harvest/runs/{run["id"]}/replay"' not in client.get("/harvest/tab638").text
    assert second["location"].startswith("cell 2 (")


def test_replay_from_the_cli(embedded: Bylab, recorded_server: RecordedServer,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(embedded.settings.data_dir))
    monkeypatch.delenv("BYLAB_DATABASE_URL", raising=False)
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    recorded_server.serve(TABLE_PATH, tab638_years(["n/a", 11, "x1"]))
    _table_source(ctx, recorded_server)
    run = source_run(ctx, "tab638")
    first, second = dead_letters(ctx, run.id)
    runner = CliRunner()
    recorded_server.serve(TABLE_PATH, tab638_years([10, 11, "x1"]))
    partly = runner.invoke(app, ["source", "replay", run.id])
    assert partly.exit_code == 1, partly.output
    assert "replayed 1 dead letter(s), 1 still failing; stored version 2" in partly.output
    recorded_server.serve(TABLE_PATH, tab638_years([10, 11, 12]))
    one = runner.invoke(app, ["source", "replay", run.id, "--letter", second.id])
    assert one.exit_code == 0, one.output
    assert "replayed 1 dead letter(s), 0 still failing; stored version 3" in one.output
    listed = runner.invoke(app, ["source", "dead-letters", run.id])
    assert listed.output.count('"replayed_by": "system"') == 2


def test_a_cell_correction_through_the_api_the_run_page_and_the_cli(
        bylab: Bylab, client: httpx.Client, accounts_setup: dict[str, str],
        recorded_server: RecordedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded_server.serve(TABLE_PATH, tab638_years(["n/a", 11, "x1", "?"]))
    mia = {"Authorization": f"Bearer {accounts_setup['mia']}"}
    _table_source(bylab.system_context(), recorded_server)
    run = client.post("/api/harvest/sources/tab638/runs", headers=mia).json()
    path = f"/api/harvest/runs/{run['id']}/dead-letters"
    first, second, third = client.get(path, headers=mia).json()
    source = "SCB customer service, 2026-11-20"

    # The API: the refusal names the field; then the corrected cell is stored.
    refused = client.post(f"{path}/replay", headers=mia,
                          json={"letter": first["id"], "value": "ten"})
    assert refused.status_code == 400 and "value" in refused.text
    answer = client.post(f"{path}/replay", headers=mia,
                         json={"letter": first["id"], "value": "10", "note": source})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["replayed"], answer.json()["version"]) == ([first["id"]], 2)
    assert answer.json()["summary"].endswith(f"corrected to 10 by mia: {source}")
    assert source in dataset_show(bylab.system_context(),
                                  "population-tab638").versions[-1].note

    # The run page: a form per table cell left; a refused correction shows the page again
    # with the error at that cell and the values typed, and stores nothing.
    login = client.get("/login").text
    client.post("/login", data={"username": "mia", "password": PASSWORD,
                                "csrf_token": _csrf(login)})
    page = client.get("/harvest/tab638").text
    assert f'name="letter" value="{second["id"]}"' in page
    assert f'name="letter" value="{first["id"]}"' not in page  # replayed already
    form = {"csrf_token": _csrf(page), "letter": second["id"], "source": "tab638"}
    bad = client.post(f"/harvest/runs/{run['id']}/replay",
                      data={**form, "value": "12", "note": ""})
    assert bad.status_code == 400
    assert "Nothing was saved." in bad.text and 'aria-invalid="true"' in bad.text
    assert "<details open>" in bad.text  # the error is shown, not folded away
    assert 'value="12"' in bad.text
    assert client.get(path, headers=mia).json()[1]["replayed_at"] is None
    good = client.post(f"/harvest/runs/{run['id']}/replay",
                       data={**form, "value": "12", "note": source}, follow_redirects=False)
    assert (good.status_code, good.headers["location"]) == (303, "/harvest/tab638")
    assert client.get(path, headers=mia).json()[1]["replayed_by"] == "mia"

    # The CLI, as the system actor.
    monkeypatch.setenv("BYLAB_DATA_DIR", str(bylab.settings.data_dir))
    if bylab.settings.database_url:
        monkeypatch.setenv("BYLAB_DATABASE_URL", bylab.settings.database_url)
    runner = CliRunner()
    noteless = runner.invoke(app, ["source", "replay", run["id"], "--letter", third["id"],
                                   "--value", "13"])
    assert isinstance(noteless.exception, InvalidInput)
    assert noteless.exception.field == "note"
    done = runner.invoke(app, ["source", "replay", run["id"], "--letter", third["id"],
                               "--value", "13", "--note", source])
    assert done.exit_code == 0, done.output
    assert f"stored version 4; {third['location']} corrected to 13 by system" in done.output
    assert "; 2 earlier correction(s) kept" in done.output  # the office still has n/a, x1
    rows = _stored_rows(bylab.system_context(), "population-tab638")
    assert [(row["value"], row["status"]) for row in rows] == [
        (10, CORRECTED_STATUS), (11, None), (12, CORRECTED_STATUS), (13, CORRECTED_STATUS)]
