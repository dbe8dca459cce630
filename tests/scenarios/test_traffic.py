"""A scenario's traffic: the SUMO demand derived from a scenario (population moved with the
projected density, mode share after the modal shift) and runs of it beside the baseline's,
from the API, the editor's button and the CLI. Skien's population here is HAND-MADE and tiny
(400), so that a run on a 3 × 3 grid takes about a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.cli import app
from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.indicators.models import IndicatorValue
from bylab.mobility.demand import DemandInput
from bylab.mobility.network import NetworkSpec
from bylab.scenarios.levers import DENSITY
from bylab.scenarios.spec import spec_from_dict
from bylab.scenarios.traffic import traffic_compare, traffic_demand, traffic_submit
from tests.web.conftest import PASSWORD, csrf_of, log_in

SKIEN_POPULATION = 400  # hand-made, with the density 72.9 of 2024 (tests/scenarios/conftest.py)
# The least-squares line through the density 72.0, 72.4, 72.9 (2022–2024) gives 75.583 in
# 2030, so the zero-lever population in 2030 is 400 × 75.583 / 72.9 = 414.7.
POPULATION_2030 = 415
TINY_NETWORK = {"size": 3, "edge_length_m": 150}
PLAN = {"name": "skien-shift", "places": ["NO-4003"], "horizon": 2035, "start_year": 2024,
        "levers": {"modal_shift": {"path": {2030: 20}}}}


@pytest.fixture
def skien(towns: Bylab) -> Bylab:
    """Towns with Skien's population in the provenance of its 2024 density, and Skien
    kommune with its editor siv."""
    with towns.db.session() as session:
        session.execute(update(IndicatorValue)
                        .where(IndicatorValue.kpi_code == DENSITY,
                               IndicatorValue.place_id == "NO-4003",
                               IndicatorValue.period == "2024")
                        .values(provenance={"inputs": [{"variable": "population",
                                                        "value": SKIEN_POPULATION}]}))
    ctx = towns.system_context()
    accounts.organisation_create(ctx, "skien", "Skien kommune")
    accounts.user_create(ctx, "siv", PASSWORD)
    accounts.membership_set(ctx, "siv", "skien", Role.EDITOR)
    return towns


@pytest.fixture
def skien_client(skien: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(skien), base_url="http://testserver") as client:
        yield client


def test_modal_shift_moves_the_documented_share_of_car_trips(skien: Bylab) -> None:
    ctx = skien.system_context()
    spec = spec_from_dict(PLAN)
    shifted = traffic_demand(ctx, spec, "NO-4003", 2030)
    baseline = traffic_demand(ctx, spec.model_copy(update={"levers": {}}), "NO-4003", 2030)

    assert shifted.demand.population == baseline.demand.population == POPULATION_2030
    assert (shifted.modal_shift, baseline.modal_shift) == (20, 0)
    # 20 % of the car trips (car share 0.6 → 0.48) go to the other modes pro rata
    assert shifted.demand.mode_share.car == pytest.approx(0.48)
    assert shifted.demand.mode_share.public_transport == pytest.approx(0.15 + 0.12 * 0.15 / 0.4)
    assert shifted.demand.car_trips() == round(baseline.demand.person_trips()["car"] * 0.8)
    assert shifted.demand.car_trips() == 60 and baseline.demand.car_trips() == 75
    # halfway up the ramp (2024: 0, 2030: 20) half the shift
    assert traffic_demand(ctx, spec, "NO-4003", 2027).modal_shift == pytest.approx(10)
    assert any("modal-shift lever" in note and "assumption" in note
               for note in shifted.assumptions)
    assert any(f"{SKIEN_POPULATION} in 2024" in note for note in shifted.assumptions)


def test_population_growth_lever_grows_the_simulated_population(skien: Bylab) -> None:
    ctx = skien.system_context()
    growing = spec_from_dict({**PLAN, "levers": {"population_growth": {"path": {2030: 2}}}})
    grown = traffic_demand(ctx, growing, "NO-4003", 2030)
    assert grown.demand.population > POPULATION_2030
    assert grown.demand.mode_share.car == pytest.approx(0.6)


def test_bad_place_year_or_missing_population_name_the_field(skien: Bylab) -> None:
    ctx = skien.system_context()
    spec = spec_from_dict(PLAN)
    with pytest.raises(InvalidInput) as not_in_scenario:
        traffic_demand(ctx, spec, "SE-0180", 2030)
    assert not_in_scenario.value.field == "place"
    with pytest.raises(InvalidInput) as too_late:
        traffic_demand(ctx, spec, "NO-4003", 2040)
    assert too_late.value.field == "year"
    stockholm = spec_from_dict({**PLAN, "places": ["SE-0180"]})
    with pytest.raises(InvalidInput) as no_population:
        traffic_demand(ctx, stockholm, "SE-0180", 2030)
    assert no_population.value.field == "population"
    given = traffic_demand(ctx, stockholm, "SE-0180", 2030, population=1000)
    assert given.demand.population == 1000 and "given by the user" in given.assumptions[0]


def _finished(client: httpx.Client, status_url: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 60
    while not (status := client.get(status_url, headers=headers).json())["finished"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return status


def test_api_runs_scenario_and_baseline_and_compares_them(skien: Bylab,
                                                          skien_client: httpx.Client) -> None:
    token = accounts.token_create(skien.system_context(), "tests", "siv")
    headers = {"Authorization": f"Bearer {token}"}
    started = skien_client.post("/api/scenarios/traffic", headers=headers, json={
        "scenario": PLAN, "place": "NO-4003", "year": 2030, "organisation": "skien",
        "network": TINY_NETWORK})
    assert started.status_code == 202, started.text
    body = started.json()
    assert (body["scenario"]["car_trips"], body["baseline"]["car_trips"]) == (60, 75)

    status = _finished(skien_client, body["status_url"], headers)

    assert status["run"]["status"] == status["baseline"]["status"] == "succeeded", status
    assert status["synthetic"] is True
    indicators = {row["indicator"]: row for row in status["indicators"]}
    assert {"travel_time_index", "mean_delay_s", "co2_kg"} <= set(indicators)
    assert indicators["vehicles_simulated"]["scenario"] == 60
    assert indicators["vehicles_simulated"]["baseline"] == 75
    assert indicators["co2_kg"]["change"] == pytest.approx(
        indicators["co2_kg"]["scenario"] - indicators["co2_kg"]["baseline"])
    assert indicators["travel_time_index"]["scenario"] >= 1
    assert {key: indicators["travel_time_index"][key] for key in (
        "kpi_code", "kpi_name", "kpi_role", "kpi_url", "unit")} == {
        "kpi_code": "EC: I: T: 5A", "kpi_name": "Travel Time Index", "kpi_role": "value",
        "kpi_url": "/indicators/EC-I-T-5A", "unit": "ratio"}
    assert indicators["co2_kg"]["kpi_role"] == "input"  # of the GHG KPI, not its value
    assert indicators["mean_delay_s"]["kpi_code"] is None
    run = skien_client.get(status["run"]["url"].replace("/mobility", "/api/mobility"),
                           headers=headers).json()
    derived = run["provenance"]["derived_from"]
    assert (derived["scenario"], derived["role"], derived["year"]) == ("skien-shift",
                                                                      "scenario", 2030)
    assert run["provenance"]["synthetic"]["demand"] is True
    # someone outside Skien kommune is told the runs do not exist
    assert skien_client.get(body["status_url"]).status_code == 404


def test_editor_button_starts_the_runs_and_the_page_shows_the_comparison(
        skien_client: httpx.Client) -> None:
    log_in(skien_client, "siv")
    editor = skien_client.get("/scenarios/editor?preset=baseline&place=NO-4003")
    assert 'formaction="/scenarios/traffic"' in editor.text
    fields = {"csrf_token": csrf_of(editor.text), "place": "NO-4003", "name": "skien-shift",
              "horizon": "2035", "modal_shift.2030": "20", "organisation": "skien",
              "traffic_year": "2030", "traffic_size": "3"}
    assert skien_client.post("/scenarios/traffic", data={**fields, "csrf_token": ""},
                             follow_redirects=False).status_code == 403

    started = skien_client.post("/scenarios/traffic", data=fields, follow_redirects=False)

    assert started.status_code == 303, started.text
    page_url = started.headers["location"]
    deadline = time.monotonic() + 60
    while 'http-equiv="refresh"' in (page := skien_client.get(page_url).text):
        assert "The runs are in progress" in page
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert 'id="traffic-comparison"' in page, page
    for name in ("travel_time_index", "mean_delay_s", "co2_kg"):
        assert f"<code>{name}</code>" in page
    query = dict(part.split("=") for part in page_url.split("?")[1].split("&"))
    assert f'href="/mobility/runs/{query["run"]}"' in page
    assert f'href="/mobility/runs/{query["baseline"]}"' in page
    assert "Synthetic" in page
    assert 'href="/indicators/EC-I-T-5A">EC: I: T: 5A Travel Time Index</a>' in page
    kpi_page = skien_client.get("/indicators/EC-I-T-5A").text
    assert 'id="simulated-values"' in kpi_page
    assert f'href="/mobility/runs/{query["run"]}"' in kpi_page
    run_page = skien_client.get(f"/mobility/runs/{query['run']}").text
    assert 'id="derived-from"' in run_page and "skien-shift (scenario, 2030)" in run_page


def test_cli_simulates_traffic_and_writes_the_comparison(
        skien: Bylab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("name: skien-shift\nplaces: [NO-4003]\nhorizon: 2035\nstart_year: 2024\n"
                    "levers:\n  modal_shift: {path: {2030: 20}}\n")
    monkeypatch.setenv("BYLAB_DATA_DIR", str(skien.settings.data_dir))

    result = CliRunner().invoke(app, ["scenario", "simulate-traffic", str(plan),
                                      "--place", "NO-4003", "--year", "2030",
                                      "--organisation", "skien", "--size", "3",
                                      "--edge-length", "150"])

    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert lines[0] == ["indicator", "scenario", "baseline", "change"]
    rows = {line[0]: line[1:] for line in lines[1:]}
    assert rows["vehicles_simulated"][:2] == ["60", "75"]
    assert "co2_kg" in rows and "travel_time_index" in rows
    assert "60 car trips" in result.stderr and "75 car trips" in result.stderr


def test_submitted_runs_wait_queued_until_started(skien: Bylab) -> None:
    ctx = skien.system_context()
    runs = traffic_submit(ctx, spec_from_dict(PLAN), "NO-4003", 2030, "skien",
                          NetworkSpec(**TINY_NETWORK))
    compared = traffic_compare(ctx, runs.run.id, runs.baseline.id)
    assert not compared.finished and compared.rows == []
    assert DemandInput.model_validate(runs.run.demand).car_trips() == 60
