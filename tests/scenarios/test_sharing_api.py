"""Saved scenarios over the REST API on both storage backends: sharing levels like datasets
(a hidden scenario answers 404), results as CSV and JSON, running without saving, solving."""

from __future__ import annotations

import csv
import re
import io

import httpx
import pytest

from bylab.core import Bylab
from bylab.scenarios.spec import preset_texts
from tests.scenarios.conftest import add_places_and_series

PLAN = {"name": "skien-plan", "title": "Skien plan", "places": ["NO-4003"], "horizon": 2035,
        "levers": {"modal_shift": {"path": {"2030": 10}}}}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def save(client: httpx.Client, token: str, visibility: str, shared_with: list[str] | None = None
         ) -> httpx.Response:
    return client.post("/api/scenarios", headers=auth(token),
                       json={"organisation": "molde", "visibility": visibility,
                             "shared_with": shared_with or [], "scenario": PLAN})


def visible_to(client: httpx.Client, tokens: dict[str, str]) -> dict[str, int]:
    seen = {name: client.get("/api/scenarios/skien-plan", headers=auth(token)).status_code
            for name, token in tokens.items()}
    seen["anonymous"] = client.get("/api/scenarios/skien-plan").status_code
    return seen


def test_sharing_levels_decide_who_sees_a_saved_scenario(
        bylab: Bylab, accounts_setup: dict[str, str], client: httpx.Client) -> None:
    add_places_and_series(bylab)
    tokens = accounts_setup
    assert save(client, tokens["ola"], "private").status_code == 403  # not molde's editor
    assert save(client, tokens["mia"], "private").status_code == 201
    assert visible_to(client, tokens) == {"mia": 200, "ola": 404, "ada": 404, "anonymous": 404}
    shared = client.put("/api/scenarios/skien-plan/sharing", headers=auth(tokens["mia"]),
                        json={"visibility": "shared", "shared_with": ["smart-molde"]})
    assert shared.status_code == 200
    assert visible_to(client, tokens) == {"mia": 200, "ola": 200, "ada": 404, "anonymous": 404}
    assert client.get("/api/scenarios/skien-plan", headers=auth(tokens["ola"])).json()[
        "shared_with"] == ["smart-molde"]
    client.put("/api/scenarios/skien-plan/sharing", headers=auth(tokens["mia"]),
               json={"visibility": "public"})
    assert visible_to(client, tokens) == {"mia": 200, "ola": 200, "ada": 200, "anonymous": 200}
    assert [item["name"] for item in client.get("/api/scenarios").json()] == ["skien-plan"]
    assert client.delete("/api/scenarios/skien-plan",
                         headers=auth(tokens["ola"])).status_code == 403
    assert client.delete("/api/scenarios/skien-plan",
                         headers=auth(tokens["mia"])).status_code == 204
    assert client.get("/api/scenarios/skien-plan").status_code == 404


def test_saved_results_export_as_csv_and_json(
        bylab: Bylab, accounts_setup: dict[str, str], client: httpx.Client) -> None:
    add_places_and_series(bylab)
    save(client, accounts_setup["mia"], "public")
    params = {"draws": 200, "seed": 4}
    as_csv = client.get("/api/scenarios/skien-plan/results", params={**params, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    as_json = client.get("/api/scenarios/skien-plan/results", params=params).json()
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert len(rows) == len(as_json["rows"]) > 0
    first = as_json["rows"][0]
    assert rows[0]["kpi_code"] == first["kpi_code"] and float(rows[0]["p50"]) == pytest.approx(first["p50"], rel=1e-7)
    assert as_json["scenario"]["name"] == "skien-plan" and as_json["seed"] == 4


def test_run_without_saving_takes_yaml_or_json_and_names_bad_fields(
        towns_client: httpx.Client) -> None:
    yaml_text = preset_texts()["electrify-transport"].replace("SE-0180", "NO-4003")
    by_yaml = towns_client.post("/api/scenarios/run", params={"seed": 2, "draws": 100},
                              content=yaml_text, headers={"content-type": "application/yaml"})
    assert by_yaml.status_code == 200 and by_yaml.json()["rows"]
    bad = towns_client.post("/api/scenarios/run", json={**PLAN, "horizon": "soon"})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "horizon"


def test_baseline_and_solve_over_the_api(towns_client: httpx.Client) -> None:
    baseline = towns_client.get("/api/scenarios/baseline", params={"place": "NO-4003"})
    assert baseline.status_code == 200 and "name: baseline-no-4003" in baseline.text
    solved = towns_client.post("/api/scenarios/solve", json={
        "scenario": PLAN, "place": "NO-4003", "kpi": "EN-EN-AQ-2C", "target": 1.6,
        "year": 2032, "probability": 0.7, "bounds": {"modal_shift": [0, 40]}, "draws": 400,
        "seed": 1})
    body = solved.json()
    assert solved.status_code == 200 and body["reachable"] and body["probability"] >= 0.7
    assert body["scenario"]["levers"]["modal_shift"]["path"] == {
        "2032": body["lever_values"]["modal_shift"]}


def test_pages_list_presets_and_map_the_projection(towns_client: httpx.Client) -> None:
    listed = towns_client.get("/scenarios")
    assert listed.status_code == 200 and "Fossil free 2045" in listed.text
    mapped = towns_client.get("/scenarios/map", params={
        "preset": "fossil-free-2045", "parent": "NO-40", "kpi": "EN-EN-AQ-2C", "year": 2040})
    assert mapped.status_code == 200
    assert re.search(r">Skien</a></th>\s*<td>[\d.]+</td><td>[\d.]+</td>", mapped.text)
    assert "Stockholm" not in mapped.text  # the preset's places were replaced by Telemark's
    hidden = towns_client.get("/scenarios/map", params={"saved": "nobodys-plan"})
    assert hidden.status_code == 404


def test_compare_runs_scenarios_side_by_side(towns_client: httpx.Client) -> None:
    compared = towns_client.get("/api/scenarios/compare", params={
        "names": ["baseline", "fossil-free-2045"], "draws": 200, "seed": 3})
    rows = list(csv.DictReader(io.StringIO(compared.text)))
    by_scenario = {(row["scenario"], row["place_code"], row["kpi_code"], row["year"]):
                   float(row["p50"]) for row in rows}
    key = ("NO-4003", "EN: EN: AQ: 2C", "2040")
    assert by_scenario[("fossil-free-2045", *key)] < by_scenario[("baseline", *key)]
    listed = towns_client.get("/api/scenarios/compare", params={
        "names": ["baseline"], "format": "json", "draws": 50}).json()
    assert [document["scenario"]["name"] for document in listed] == ["baseline"]
    assert towns_client.get("/api/scenarios/compare",
                            params={"names": ["no-such-plan"]}).status_code == 404


def test_a_run_without_javascript_keeps_the_csrf_token_out_of_the_address(
        towns_client: httpx.Client) -> None:
    response = towns_client.get("/scenarios/editor",
                                params={"place": "NO-4003", "csrf_token": "secret", "draws": "50"},
                                follow_redirects=False)
    assert response.status_code == 303
    assert "secret" not in response.headers["location"]
    assert "place=NO-4003" in response.headers["location"]
    assert "draws=50" in response.headers["location"]
