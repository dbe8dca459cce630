"""The REST API, the pages and the `bylab mobility` commands, as their users call them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.cli import app as account_cli
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.mobility.cli import app as mobility_cli
from tests.mobility.conftest import SMALL_DEMAND, SMALL_NETWORK

DATA = Path(__file__).parent / "data"
SMALL_RUN = {"organisation": "molde", "title": "API run",
             "network": SMALL_NETWORK.model_dump(mode="json"),
             "demand": SMALL_DEMAND.model_dump(mode="json"), "seed": 2}


@pytest.fixture
def api(embedded: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def tokens(embedded: Bylab) -> dict[str, dict[str, str]]:
    """Authorization headers of Molde's editor (mia) and Ålesund's (ola)."""
    ctx = embedded.system_context()
    headers = {}
    for username, organisation, title in (("mia", "molde", "Molde kommune"),
                                          ("ola", "alesund", "Ålesund kommune")):
        accounts.organisation_create(ctx, organisation, title)
        accounts.user_create(ctx, username, "correct horse battery")
        accounts.membership_set(ctx, username, organisation, Role.EDITOR)
        token = accounts.token_create(ctx, "tests", username)
        headers[username] = {"Authorization": f"Bearer {token}"}
    return headers


def _finished(api: httpx.Client, run_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 60
    while (run := api.get(f"/api/mobility/runs/{run_id}", headers=headers).json())["status"] in {
            "queued", "running"}:
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    return run


def test_api_runs_a_simulation_in_the_background(api: httpx.Client,
                                                 tokens: dict[str, dict[str, str]]) -> None:
    mia, ola = tokens["mia"], tokens["ola"]
    started = api.post("/api/mobility/runs", json=SMALL_RUN, headers=mia)
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    assert started.json()["status"] in {"queued", "running"}
    run = _finished(api, run_id, mia)
    assert run["status"] == "succeeded", run["error"]
    assert run["results"]["indicators"]["vehicles_simulated"] == 54
    assert run["provenance"]["seed"] == 2 and run["dataset_id"]
    assert [listed["id"] for listed in api.get("/api/mobility/runs", headers=mia).json()] == [
        run_id]
    assert api.get("/api/mobility/runs", headers=ola).json() == []
    assert api.get(f"/api/mobility/runs/{run_id}", headers=ola).status_code == 404
    assert api.get(f"/api/mobility/runs/{run_id}").status_code == 404
    assert api.post(f"/api/mobility/runs/{run_id}/cancel", headers=mia).status_code == 409
    page = api.get("/mobility", headers=mia)
    assert page.status_code == 200 and "API run" in page.text
    detail = api.get(f"/mobility/runs/{run_id}", headers=mia)
    assert detail.status_code == 200
    assert "mean_travel_time_s" in detail.text and "Eclipse SUMO" in detail.text
    assert f'href="/datasets/{run["dataset_id"]}"' in detail.text
    assert api.get(f"/datasets/{run['dataset_id']}", headers=mia).status_code == 200
    assert api.get(f"/mobility/runs/{run_id}", headers=ola).status_code == 404


def test_api_refuses_bad_requests(api: httpx.Client, tokens: dict[str, dict[str, str]]) -> None:
    mia, ola = tokens["mia"], tokens["ola"]
    assert api.post("/api/mobility/runs", json=SMALL_RUN, headers=ola).status_code == 403
    assert api.post("/api/mobility/runs", json=SMALL_RUN).status_code == 403
    osm = {**SMALL_RUN, "network": {"kind": "osm", "osm_file": "/etc/passwd"}}
    refused = api.post("/api/mobility/runs", json=osm, headers=mia)
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "network.kind"
    shares = {**SMALL_RUN, "demand": {"population": 100, "mode_share": {"car": 0.9}}}
    assert api.post("/api/mobility/runs", json=shares, headers=mia).status_code == 422
    assert api.get("/api/mobility/runs", headers=mia).json() == []


def test_api_calibration_and_page_cancel(api: httpx.Client, tokens: dict[str, dict[str, str]],
                                         synthetic_counts: Path) -> None:
    mia = tokens["mia"]
    with synthetic_counts.open("rb") as counts:
        started = api.post("/api/mobility/calibrations", headers=mia,
                           data={"run": json.dumps(SMALL_RUN)},
                           files={"counts": ("detector counts.csv", counts, "text/csv")})
    assert started.status_code == 202, started.text
    run = _finished(api, started.json()["id"], mia)
    assert run["kind"] == "calibration" and run["status"] == "succeeded", run["error"]
    fit = run["results"]["calibration"]
    assert fit["share_geh_below_5_after"] >= fit["share_geh_below_5_before"]
    assert run["provenance"]["counts"]["file"] == "detector counts.csv"
    page = api.get(f"/mobility/runs/{run['id']}", headers=mia).text
    assert "GEH before" in page and fit["counters"][0]["edge_id"] in page

    bad = api.post("/api/mobility/calibrations", headers=mia, data={"run": json.dumps(SMALL_RUN)},
                   files={"counts": ("c.csv", b"edge_id,hour,count\nX,7,1\n", "text/csv")})
    assert bad.status_code == 400
    assert {key: bad.json()["error"][key] for key in ("file", "row", "field")} == {
        "file": "c.csv", "row": 2, "field": "edge_id"}

    queued = api.post("/api/mobility/runs", headers=mia, json={
        **SMALL_RUN, "demand": {"population": 3000, "simulated_hours": 2}}).json()
    cancelled = api.post(f"/mobility/runs/{queued['id']}/cancel", headers=mia,
                         follow_redirects=False)
    assert cancelled.status_code == 303
    assert _finished(api, queued["id"], mia)["status"] == "cancelled"


def test_cli_network_run_calibrate_runs(tmp_path: Path, synthetic_counts: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BYLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "cli-data"))
    runner = CliRunner()

    def bylab(*args: str) -> Result:
        return runner.invoke(mobility_cli, list(args))

    assert runner.invoke(account_cli, ["org-add", "molde", "Molde kommune"]).exit_code == 0
    built = bylab("network", str(tmp_path / "town.net.xml"), "--osm",
                  str(DATA / "synthetic_town.osm"))
    assert built.exit_code == 0, built.output
    assert "24 edges, 9 junctions" in built.stdout
    small = ["--organisation", "molde", "--size", "3", "--edge-length", "150"]
    ran = bylab("run", *small, "--population", "300", "--no-publish")
    assert ran.exit_code == 0, ran.output
    assert "succeeded" in ran.stdout and "vehicles_simulated\t54" in ran.stdout
    calibrated = bylab("calibrate", "--counts", str(synthetic_counts), *small,
                       "--population", "300")
    assert calibrated.exit_code == 0, calibrated.output
    assert "geh_before" in calibrated.stdout and "after calibration" in calibrated.stdout
    listed = bylab("runs")
    assert listed.stdout.count("succeeded") == 2
    run_id = listed.stdout.split("\t")[0]
    shown = json.loads(bylab("runs", run_id).stdout)
    assert shown["kind"] == "calibration" and shown["dataset_id"]
    assert "already succeeded" in str(bylab("cancel", run_id).exception)
    bad = bylab("run", *small, "--population", "300", "--car", "0.9")
    assert isinstance(bad.exception, InvalidInput) and "add up to 1" in str(bad.exception)
    no_counts = bylab("calibrate", *small, "--population", "300")
    assert isinstance(no_counts.exception, InvalidInput) and "--counts FILE" in str(
        no_counts.exception)
