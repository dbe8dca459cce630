"""Saved harvest sources through the REST API and the actions: who may see and manage them,
runs with their log, idempotent re-runs, dead letters, changed variables, old region codes,
and the scheduler's database claim. Remote tables come from a real local HTTP server
answering with the recorded SCB responses."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.catalog.queries import dataset_show
from bylab.connectors.models import HarvestSource, RunStatus
from bylab.connectors.schedule import parse_schedule
from bylab.connectors.scheduler import harvest_scheduler_running
from bylab.connectors.sources import (
    SourceInput,
    _claim,
    dead_letters,
    run_due,
    source_create,
    source_get,
    source_run,
    source_runs,
)
from bylab.core import Bylab, Context
from bylab.errors import InvalidInput
from bylab.places.models import ChangeKind, Place, PlaceChange
from bylab.storage.base import utcnow
from tests.connectors.conftest import (
    PX_MONTHLY,
    SCB_V2,
    RecordedServer,
    load,
    tab638_years,
)

TAB638_QUERY = {"selection": [{"variableCode": "Region", "valueCodes": ["00"]},
                              {"variableCode": "Tid", "valueCodes": ["2024"]}]}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _pxweb_body(server: RecordedServer, name: str = "tab638", **changes: Any) -> dict[str, Any]:
    return {"name": name, "kind": "pxweb", "url": f"{server.base_url}/api/v2",
            "table": "TAB638", "query": TAB638_QUERY, "organisation": "molde",
            "dataset": "population-tab638", "country": "SE", **changes}


def test_sources_api_and_who_sees_them(client: httpx.Client, accounts_setup: dict[str, str],
                                       recorded_server: RecordedServer) -> None:
    recorded_server.serve("/api/v2/tables/TAB638/data", load(SCB_V2))
    mia, ola = _auth(accounts_setup["mia"]), _auth(accounts_setup["ola"])
    created = client.post("/api/harvest/sources", headers=mia, json=_pxweb_body(
        recorded_server, schedule="daily 03:00"))
    assert created.status_code == 201, created.text
    assert created.json()["next_run_at"] is not None
    assert client.post("/api/harvest/sources", headers=mia,
                       json=_pxweb_body(recorded_server)).status_code == 409
    other_org = client.post("/api/harvest/sources", headers=mia,
                            json=_pxweb_body(recorded_server, name="xx", organisation="alesund"))
    assert other_org.status_code == 403, other_org.text
    assert client.post("/api/harvest/sources",
                       json=_pxweb_body(recorded_server, name="yy")).status_code == 403

    # Another organisation's editor and anonymous visitors: the source does not exist.
    for path in ("/api/harvest/sources/tab638", "/api/harvest/sources/tab638/runs"):
        assert client.get(path, headers=ola).status_code == 404
        assert client.get(path).status_code == 404
    assert client.post("/api/harvest/sources/tab638/runs", headers=ola).status_code == 404
    assert client.put("/api/harvest/sources/tab638", headers=ola,
                      json=_pxweb_body(recorded_server)).status_code == 404
    assert client.delete("/api/harvest/sources/tab638", headers=ola).status_code == 404
    assert client.get("/api/harvest/sources", headers=ola).json() == []
    assert [item["name"] for item in client.get("/api/harvest/sources", headers=mia).json()] == [
        "tab638"]

    first = client.post("/api/harvest/sources/tab638/runs", headers=mia).json()
    assert (first["status"], first["rows_read"], first["rows_stored"], first["rows_rejected"],
            first["dataset_version"]) == ("stored", 1, 1, 0, 1)
    [request] = [body for method, path, body in recorded_server.requests if method == "POST"]
    assert b'"variableCode": "Region"' in request or b'"variableCode":"Region"' in request
    letters_path = f"/api/harvest/runs/{first['id']}/dead-letters"
    assert client.get(letters_path, headers=mia).json() == []
    assert client.get(letters_path, headers=ola).status_code == 404
    again = client.post("/api/harvest/sources/tab638/runs", headers=mia).json()
    assert (again["status"], again["rows_stored"], again["dataset_version"]) == (
        "unchanged", 0, None)
    runs = client.get("/api/harvest/sources/tab638/runs", headers=mia).json()
    assert [run["status"] for run in runs] == ["unchanged", "stored"]
    assert client.get("/api/datasets/population-tab638", headers=ola).status_code == 404
    assert client.get("/api/harvest/sources/tab638", headers=mia).json()["known_variables"] == [
        "Region", "Civilstand", "Alder", "Kon", "ContentsCode", "Tid"]

    changed = client.put("/api/harvest/sources/tab638", headers=mia,
                         json=_pxweb_body(recorded_server, schedule="every 6h"))
    assert changed.json()["schedule"] == "every 6h"
    assert client.delete("/api/harvest/sources/tab638", headers=mia).status_code == 204
    assert client.get("/api/harvest/sources/tab638", headers=mia).status_code == 404


BAD_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"schedule": "hourly"}, "schedule"),
    ({"schedule": "every 5s"}, "schedule"),
    ({"table": ""}, "table"),
    ({"query": {"query": [{"code": "Tid"}]}}, "query.0"),
    ({"query": {"selection": [], "response": {"format": "xml"}}}, "query.response.format"),
    ({"dataset": "Not A Name"}, "dataset"),
    ({"url": "ftp://example.org"}, "url"),
    ({"kind": "ckan", "query": {"rows": 5}}, "query.rows"),
]


def test_bad_source_settings_name_the_field(client: httpx.Client,
                                            accounts_setup: dict[str, str],
                                            recorded_server: RecordedServer) -> None:
    for changes, field in BAD_SETTINGS:
        answer = client.post("/api/harvest/sources", headers=_auth(accounts_setup["mia"]),
                             json=_pxweb_body(recorded_server, **changes))
        assert answer.status_code in (400, 422), answer.text
        assert field in answer.text, (changes, answer.text)
    assert client.get("/api/harvest/sources", headers=_auth(accounts_setup["mia"])).json() == []


@pytest.fixture
def ctx(embedded: Bylab) -> Context:
    context = embedded.system_context()
    accounts.organisation_create(context, "scb-demo", "SCB demo")
    return context


def _save(ctx: Context, server: RecordedServer, **changes: Any) -> HarvestSource:
    fields: dict[str, Any] = {**_pxweb_body(server), "organisation": "scb-demo", **changes}
    return source_create(ctx, SourceInput(**fields))


def test_dead_letters_revisions_and_changed_variables(ctx: Context,
                                                     recorded_server: RecordedServer) -> None:
    path = "/api/v2/tables/TAB638/data"
    recorded_server.serve(path, tab638_years([10, "n/a", 12, [13], 14, 50937]))
    source = _save(ctx, recorded_server)
    run = source_run(ctx, source.name)
    assert (run.status, run.rows_read, run.rows_stored, run.rows_rejected) == (
        RunStatus.STORED, 6, 4, 2)
    letters = dead_letters(ctx, run.id)
    assert [letter.payload["codes"]["Tid"] for letter in letters] == ["2020", "2022"]
    assert "'n/a'" in letters[0].reason and letters[0].location.startswith("cell 1 (")
    assert letters[1].payload["value"] == "[13]"

    assert source_run(ctx, source.name).status == RunStatus.UNCHANGED
    recorded_server.serve(path, tab638_years([10, 11, 12, 13, 14, 50937]))
    revised = source_run(ctx, source.name)
    assert (revised.status, revised.dataset_version, revised.rows_rejected) == (
        RunStatus.STORED, 2, 0)

    # The table lost a variable: refused with a clear message; nothing stored.
    document = load(SCB_V2)
    document["id"].remove("Civilstand")
    document["size"].pop(1)
    del document["dimension"]["Civilstand"]
    recorded_server.serve(path, document)
    failed = source_run(ctx, source.name)
    assert failed.status == RunStatus.FAILED
    assert "changed its variables (missing Civilstand)" in failed.message
    assert f"{recorded_server.base_url}{path}" in failed.message
    assert dataset_show(ctx, "population-tab638").latest_version == 2


def test_unreachable_server_is_a_failed_run(ctx: Context, recorded_server: RecordedServer
                                            ) -> None:
    source = _save(ctx, recorded_server, table="NOSUCHTABLE")
    run = source_run(ctx, source.name)
    assert run.status == RunStatus.FAILED and "HTTP 404" in run.message
    assert run.finished is not None


def test_px_file_over_http(ctx: Context, recorded_server: RecordedServer) -> None:
    url = recorded_server.serve("/px/PR0101D8.px", PX_MONTHLY.read_bytes())
    source = _save(ctx, recorded_server, kind="jsonstat", url=url, table="", query={},
                   dataset="hicp-sweden")
    run = source_run(ctx, source.name)
    assert (run.status, run.rows_read, run.rows_stored) == (RunStatus.STORED, 58, 58)
    assert source_get(ctx, source.name).known_variables == ["period"]
    assert dataset_show(ctx, "hicp-sweden").title == {
        "en": "Harmonized Index of Consumer Prices, 2005=100, Index by period"}


def test_old_region_codes_map_to_their_successor(ctx: Context,
                                                recorded_server: RecordedServer) -> None:
    # Molde (1502), Nesset (1543) and Midsund (1545) merged into Molde (1506) on 2020-01-01.
    merged = date(2020, 1, 1)
    with ctx.db.session() as session:
        for code, name, valid_to in (("1502", "Molde", merged), ("1543", "Nesset", merged),
                                     ("1506", "Molde", None)):
            session.add(Place(id=f"NO-{code}", country="NO", level="municipality", code=code,
                              code_scheme="kommunenummer", name=name, names={"nb": name},
                              valid_from=None if valid_to else merged, valid_to=valid_to))
        session.flush()
        session.add_all(PlaceChange(from_place_id=old, to_place_id="NO-1506",
                                    kind=ChangeKind.MERGED, effective=merged, area_share=1.0,
                                    source="test") for old in ("NO-1502", "NO-1543"))
    # The real TAB638 answer with its region codes changed in memory to Norwegian ones.
    document = tab638_years([1, 2, 3, 4])
    document["dimension"]["Region"]["category"] = {
        "index": {"1502": 0, "1543": 1, "1506": 2, "9999": 3},
        "label": {"1502": "Molde (-2019)", "1543": "Nesset", "1506": "Molde", "9999": "x"}}
    document["size"][0] = 4
    document["value"] = list(range(16))
    url = recorded_server.serve("/tables/molde.json", document)
    source = _save(ctx, recorded_server, kind="jsonstat", url=url, table="", query={},
                   country="NO", dataset="molde-merged")
    run = source_run(ctx, source.name)
    assert run.status == RunStatus.STORED, run.message
    assert run.notes == [
        "region code 1502 is no longer in use: mapped to its successor NO-1506",
        "region code 1543 is no longer in use: mapped to its successor NO-1506",
        "region codes without a place: 9999"]
    dataset = dataset_show(ctx, "molde-merged")
    path = ctx.tables.resolve(dataset.versions[-1].table_path)
    pairs = ctx.tables.query(f"SELECT DISTINCT region_code, place_id FROM "
                             f"{ctx.tables.scan(path)} ORDER BY 1").fetchall()
    assert pairs == [("1502", "NO-1506"), ("1506", "NO-1506"), ("1543", "NO-1506"),
                     ("9999", None)]


def test_schedules() -> None:
    moment = utcnow().replace(hour=10, minute=30, second=0, microsecond=0)
    assert parse_schedule("every 6h").next_after(moment) == moment + timedelta(hours=6)
    assert parse_schedule("Every 90 m").next_after(moment) == moment + timedelta(minutes=90)
    assert parse_schedule("daily 03:00").next_after(moment) == moment.replace(
        hour=3, minute=0) + timedelta(days=1)
    assert parse_schedule("daily 23:15").next_after(moment) == moment.replace(
        hour=23, minute=15)
    assert parse_schedule("").next_after(moment) is None
    with pytest.raises(InvalidInput, match="unknown schedule"):
        parse_schedule("daily 25:00")


def _make_due(ctx: Context, name: str) -> None:
    with ctx.db.session() as session:
        session.execute(update(HarvestSource).where(HarvestSource.name == name)
                        .values(next_run_at=utcnow() - timedelta(minutes=1)))


def test_run_due_runs_each_due_source_once(bylab: Bylab, recorded_server: RecordedServer
                                           ) -> None:
    """Two processes' instances on one database ask at the same moment: one run."""
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "scb-demo", "SCB demo")
    recorded_server.serve("/api/v2/tables/TAB638/data", load(SCB_V2))
    _save(ctx, recorded_server, schedule="every 1h")
    _save(ctx, recorded_server, name="by-hand", dataset="by-hand")
    assert run_due(ctx).runs == []  # not due yet
    _make_due(ctx, "tab638")
    second = Bylab(bylab.settings)
    barrier = threading.Barrier(2)
    results = []

    def ask(instance: Bylab) -> None:
        barrier.wait()
        results.append(run_due(instance.system_context()))

    threads = [threading.Thread(target=ask, args=(instance,)) for instance in (bylab, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    second.close()
    assert sum(len(result.runs) for result in results) == 1
    [run] = source_runs(ctx, "tab638")
    assert (run.trigger, run.status) == ("schedule", RunStatus.STORED)
    source = source_get(ctx, "tab638")
    assert source.claimed_until is None
    next_run = source.next_run_at.replace(tzinfo=None) if source.next_run_at else None
    assert next_run is not None and next_run > utcnow().replace(tzinfo=None) + timedelta(
        minutes=55)
    assert source_runs(ctx, "by-hand") == []


def test_a_claim_is_held_until_released(ctx: Context, recorded_server: RecordedServer) -> None:
    source = _save(ctx, recorded_server, schedule="every 1h")
    _make_due(ctx, source.name)
    now = utcnow()
    assert _claim(ctx, source.id, now) is True
    assert _claim(ctx, source.id, now) is False
    assert run_due(ctx, now).skipped == 1


def test_background_scheduler_runs_due_sources(embedded: Bylab,
                                               recorded_server: RecordedServer) -> None:
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "scb-demo", "SCB demo")
    recorded_server.serve("/api/v2/tables/TAB638/data", load(SCB_V2))
    _save(ctx, recorded_server, schedule="every 1h")
    _make_due(ctx, "tab638")
    serving = Bylab(embedded.settings.model_copy(update={
        "harvest_scheduler": True, "harvest_scheduler_interval_s": 1}))
    # The app's lifespan (what `bylab serve` runs in each worker) starts and stops the loop.
    with TestClient(create_app(serving)):
        [thread] = [item for item in threading.enumerate()
                    if item.name == "bylab-harvest-scheduler"]
        deadline = time.monotonic() + 20
        while not source_runs(ctx, "tab638") and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not thread.is_alive()
    [run] = source_runs(ctx, "tab638")
    assert run.trigger == "schedule" and run.status == RunStatus.STORED
    with harvest_scheduler_running(embedded) as nothing:  # the setting is off by default
        assert nothing is None

