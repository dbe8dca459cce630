"""Simulated indicator values: a finished tiny run's KPI inputs are stored with the run and
its dataset, shown to its organisation in the KPI page's "Simulated (SUMO)" section, and
never to another organisation nor among the measured values (API, dashboard)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bylab.app import create_app
from bylab.catalog.queries import dataset_show
from bylab.core import Bylab
from bylab.indicators.models import IndicatorValue
from bylab.mobility.kpi import GHG_KPI, SYNTHETIC_LABEL, TRAVEL_TIME_INDEX_KPI, simulated_values
from bylab.mobility.models import MobilityRun, RunStatus
from bylab.mobility.runs import run_execute, run_submit
from bylab.places.models import Place
from tests.mobility.conftest import context_of, small_request

MOLDE = "NO-1506"


@pytest.fixture
def molde_run(bylab: Bylab, accounts_setup: dict[str, str]) -> MobilityRun:
    """A finished tiny run of Molde kommune (editor mia) about the place Molde."""
    with bylab.db.session() as session:
        session.add(Place(id=MOLDE, country="NO", level="municipality", code="1506",
                          code_scheme="kommunenummer", name="Molde"))
    mia = context_of(bylab, accounts_setup["mia"])
    run = run_execute(mia, run_submit(mia, small_request(place=MOLDE, title="Molde peak")).id)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.fixture
def http(bylab: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(bylab), base_url="http://testserver") as client:
        yield client


def _bearer(accounts_setup: dict[str, str], username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts_setup[username]}"}


def test_the_run_stores_its_kpi_inputs_and_the_action_reads_them_for_its_organisation(
        bylab: Bylab, accounts_setup: dict[str, str], molde_run: MobilityRun) -> None:
    mia, ola = (context_of(bylab, accounts_setup[name]) for name in ("mia", "ola"))
    indicators = molde_run.results["indicators"]

    [travel_time] = simulated_values(mia, kpi=TRAVEL_TIME_INDEX_KPI)
    assert (travel_time.run_id, travel_time.place_code, travel_time.role, travel_time.unit,
            travel_time.label) == (molde_run.id, MOLDE, "value", "ratio", SYNTHETIC_LABEL)
    assert travel_time.value == indicators["travel_time_index"] > 1
    [co2] = simulated_values(mia, kpi=GHG_KPI)
    assert (co2.variable, co2.role, co2.value) == ("co2_kg", "input", indicators["co2_kg"])
    assert {value.variable for value in simulated_values(mia, place=MOLDE)} == {
        "travel_time_index", "co2_kg", "mean_delay_s", "vehicle_km"}
    assert simulated_values(mia, place="NO-4003") == []
    assert simulated_values(ola) == [] and simulated_values(bylab.context()) == []

    table = bylab.tables.scan(bylab.tables.resolve(
        _dataset_table(bylab, molde_run.dataset_id)))
    rows = bylab.tables.query(f"SELECT variable, kpi_code, kpi_role, label FROM {table}"
                              ).fetchall()
    by_variable = {variable: rest for variable, *rest in rows}
    assert by_variable["travel_time_index"] == [TRAVEL_TIME_INDEX_KPI, "value", SYNTHETIC_LABEL]
    assert by_variable["co2_kg"] == [GHG_KPI, "input", SYNTHETIC_LABEL]
    assert by_variable["teleports"] == [None, None, SYNTHETIC_LABEL]  # no KPI: empty cells


def _dataset_table(bylab: Bylab, dataset_id: str | None) -> str:
    assert dataset_id
    return dataset_show(bylab.system_context(), dataset_id).versions[0].table_path


def test_kpi_page_shows_the_run_in_its_simulated_section_to_its_organisation_only(
        accounts_setup: dict[str, str], molde_run: MobilityRun, http: httpx.Client) -> None:
    page = http.get("/indicators/EC-I-T-5A", headers=_bearer(accounts_setup, "mia"))
    assert page.status_code == 200, page.text
    section = page.text.split('id="simulated-values"', 1)[1]
    assert "Simulated (SUMO)" in section and "Synthetic simulation, not measured" in section
    assert f'href="/mobility/runs/{molde_run.id}">Molde peak</a>' in section
    assert f'{molde_run.results["indicators"]["travel_time_index"]:.3f}' in section
    ghg = http.get("/indicators/EN-EN-AQ-2C", headers=_bearer(accounts_setup, "mia")).text
    assert "<code>co2_kg</code> <em>(an input of this KPI, not its value)</em>" in ghg
    run_page = http.get(f"/mobility/runs/{molde_run.id}", headers=_bearer(accounts_setup, "mia"))
    assert 'href="/indicators/EC-I-T-5A">EC: I: T: 5A Travel Time Index</a>' in run_page.text

    for outsider in ({}, _bearer(accounts_setup, "ola")):
        other = http.get("/indicators/EC-I-T-5A", headers=outsider)
        assert other.status_code == 200
        assert 'id="simulated-values"' not in other.text and molde_run.id not in other.text


def test_api_lists_the_simulated_values_of_the_actors_organisations(
        accounts_setup: dict[str, str], molde_run: MobilityRun, http: httpx.Client) -> None:
    url = "/api/mobility/simulated-values"
    mine = http.get(url, params={"kpi": "EC-I-T-5A"}, headers=_bearer(accounts_setup, "mia"))
    assert mine.status_code == 200, mine.text
    [value] = mine.json()
    assert (value["run_id"], value["kpi_code"], value["label"], value["place_code"]) == (
        molde_run.id, TRAVEL_TIME_INDEX_KPI, SYNTHETIC_LABEL, MOLDE)
    assert http.get(url, headers=_bearer(accounts_setup, "ola")).json() == []
    assert http.get(url).json() == []
    unknown = http.get(url, params={"kpi": "XX-1"}, headers=_bearer(accounts_setup, "mia"))
    assert unknown.status_code == 404 and "XX-1" in unknown.text


def test_simulated_values_never_reach_measured_values_or_the_dashboard(
        bylab: Bylab, accounts_setup: dict[str, str], molde_run: MobilityRun,
        http: httpx.Client) -> None:
    _add_measured_ghg(bylab)
    mia = _bearer(accounts_setup, "mia")
    travel_time = http.get("/api/indicators/values", params={"kpi": "EC-I-T-5A"}, headers=mia)
    assert travel_time.status_code == 200 and travel_time.json() == [], travel_time.text
    measured = http.get("/api/indicators/values", params={"place": MOLDE}, headers=mia).json()
    assert [(value["kpi_code"], value["value"]) for value in measured] == [
        (GHG_KPI, MEASURED_GHG)]
    overview = http.get("/dashboard", params={"region": "NO-15", "kpi": "EN-EN-AQ-2C"},
                        headers=mia)
    assert overview.status_code == 200, overview.text
    assert '"id": "NO-1506"' in overview.text or '"id":"NO-1506"' in overview.text
    assert molde_run.id not in overview.text and "Simulated (SUMO)" not in overview.text
    ghg_page = http.get("/indicators/EN-EN-AQ-2C", headers=mia).text
    measured_part, simulated_part = ghg_page.split('id="simulated-values"', 1)
    assert molde_run.id not in measured_part and molde_run.id in simulated_part


MEASURED_GHG = 2.5  # HAND-MADE, not real: a measured value beside the simulated ones


def _add_measured_ghg(bylab: Bylab) -> None:
    with bylab.db.session() as session:
        session.add(Place(id="NO-15", country="NO", level="county", code="15",
                          code_scheme="kommunenummer", name="Møre og Romsdal"))
        session.get(Place, MOLDE).parent_id = "NO-15"
        session.execute(insert(IndicatorValue), [{
            "kpi_code": GHG_KPI, "place_id": MOLDE, "period": "2023", "status": "computed",
            "value": MEASURED_GHG, "unit": "t / person", "reason": "", "dataset_ids": [],
            "provenance": {}}])
