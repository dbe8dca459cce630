"""Targets: who may add them, which apply to a place, and the status of a place against a
hand-made trend (least squares checked with statistics.linear_regression)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from statistics import linear_regression

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.actions import actor_for_user
from bylab.auth.models import Role, User
from bylab.core import Bylab, Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.indicators.models import IndicatorValue, TargetKind, TargetScope
from bylab.indicators.targets import target_add, target_list, target_status
from bylab.places.models import Place

GHG = "EN: EN: AQ: 2C"  # t CO2e per inhabitant, lower is better
COVERAGE_4G = "EC: ICT: ICT: 4C"  # percent, higher is better
DENSITY = "CTX: POPULATION-DENSITY"  # no preferred direction
# Hand-made, NOT real: a falling series for Porsgrunn (slope -1 t per year) to test the trend.
SERIES = {2019: 10.0, 2020: 9.0, 2021: 8.0, 2022: 7.0, 2023: 6.0}
PASSWORD = "a long test password"


def _add_places(instance: Bylab) -> None:
    """True facts from the places register: Norway, Telemark (since 2024), Porsgrunn."""
    rows = [("NO", "country", "NO", None, "Norge", None),
            ("NO-40", "county", "40", "NO", "Telemark", date(2024, 1, 1)),
            ("NO-4001", "municipality", "4001", "NO-40", "Porsgrunn", date(2024, 1, 1))]
    with instance.db.session() as session:
        for place_id, level, code, parent, name, valid_from in rows:
            session.add(Place(id=place_id, country="NO", level=level, code=code,
                              code_scheme="kommunenummer", name=name, parent_id=parent,
                              valid_from=valid_from))


def _add_series(instance: Bylab, kpi: str, place_id: str, series: dict[int, float],
                dataset_ids: list[str] | None = None) -> None:
    rows = [{"kpi_code": kpi, "place_id": place_id, "period": str(year), "status": "computed",
             "value": value, "unit": "test", "reason": "", "dataset_ids": dataset_ids or [],
             "provenance": {}} for year, value in series.items()]
    with instance.db.session() as session:
        session.execute(insert(IndicatorValue), rows)


def _user(instance: Bylab, username: str, organisation: str, role: Role) -> Context:
    system = instance.system_context()
    accounts.user_create(system, username, PASSWORD)
    accounts.membership_set(system, username, organisation, role)
    with instance.db.session() as session:
        user = session.query(User).filter_by(username=username).one()
        return instance.context(actor_for_user(session, user))


@pytest.fixture
def porsgrunn(embedded: Bylab) -> Bylab:
    _add_places(embedded)
    _add_series(embedded, GHG, "NO-4001", SERIES)
    accounts.organisation_create(embedded.system_context(), "porsgrunn", "Porsgrunn kommune",
                                 place_id="NO-4001")
    accounts.organisation_create(embedded.system_context(), "skien", "Skien kommune")
    return embedded


def _status(instance: Bylab, value: float, year: int, kpi: str = GHG) -> str:
    system = instance.system_context()
    target = target_add(system, kpi, "NO-4001", value, year, TargetKind.OWN, "test target")
    found = [item for item in target_status(system, "NO-4001", kpi)
             if item.target.id == target.id]
    return found[0].status


def test_status_follows_the_least_squares_trend(porsgrunn: Bylab) -> None:
    slope, intercept = linear_regression(list(SERIES), list(SERIES.values()))
    assert _status(porsgrunn, 6.0, 2030) == "met"  # latest value 6.0 is at the target
    assert _status(porsgrunn, intercept + slope * 2027 + 1e-9, 2027) == "on_track"  # just
    assert _status(porsgrunn, intercept + slope * 2027 - 0.01, 2027) == "off_track"
    assert _status(porsgrunn, 5.0, 2023) == "off_track"  # the target year has passed
    [item] = [item for item in target_status(porsgrunn.system_context(), "NO-4001")
              if item.target.target_value == 6.0]
    assert item.slope_per_year == pytest.approx(slope)
    assert item.projected_value == pytest.approx(intercept + slope * 2030)
    assert item.gap == 0.0 and item.latest_period == "2023"


def test_status_uses_only_the_last_five_values(porsgrunn: Bylab) -> None:
    _add_series(porsgrunn, GHG, "NO-4001", {2010: 100.0, 2011: 0.0})  # outside the window
    slope, intercept = linear_regression(list(SERIES), list(SERIES.values()))
    system = porsgrunn.system_context()
    target_add(system, GHG, "NO-4001", 1.0, 2030, TargetKind.OWN, "test target")
    [item] = target_status(system, "NO-4001")
    assert item.projected_value == pytest.approx(intercept + slope * 2030)
    assert item.gap == pytest.approx(1.0 - 6.0)


def test_direction_decides_met_and_no_data(porsgrunn: Bylab) -> None:
    _add_series(porsgrunn, COVERAGE_4G, "NO-4001", {2022: 99.81})
    assert _status(porsgrunn, 99.0, 2030, COVERAGE_4G) == "met"  # higher is better
    assert _status(porsgrunn, 99.9, 2030, COVERAGE_4G) == "no_data"  # one value, no trend
    with pytest.raises(InvalidInput):
        _status(porsgrunn, 100.0, 2030, DENSITY)


def test_targets_of_parent_and_country_apply_to_the_place(porsgrunn: Bylab) -> None:
    system = porsgrunn.system_context()
    target_add(system, GHG, "NO", 5.0, 2030, TargetKind.NATIONAL, "test", TargetScope.COUNTRY)
    target_add(system, GHG, "NO-40", 5.0, 2030, TargetKind.OWN, "test", TargetScope.CHILDREN)
    target_add(system, GHG, "NO-40", 5.0, 2030, TargetKind.OWN, "test")  # the county's own
    scopes = sorted(target.scope for target in target_list(system, "NO-4001"))
    assert scopes == ["children", "country"]
    assert len(target_list(system)) == 3


def test_only_editors_of_the_places_organisation_add_targets(porsgrunn: Bylab) -> None:
    editor = _user(porsgrunn, "per", "porsgrunn", Role.EDITOR)
    viewer = _user(porsgrunn, "vera", "porsgrunn", Role.VIEWER)
    outsider = _user(porsgrunn, "siri", "skien", Role.EDITOR)
    assert target_add(editor, GHG, "NO-4001", 5.0, 2030, TargetKind.OWN, "plan").id
    for ctx in (viewer, outsider, porsgrunn.context()):
        with pytest.raises(NotAuthorized):
            target_add(ctx, GHG, "NO-4001", 5.0, 2030, TargetKind.OWN, "plan")
    with pytest.raises(NotAuthorized):  # the country is not Porsgrunn's
        target_add(editor, GHG, "NO", 5.0, 2030, TargetKind.NATIONAL, "x", TargetScope.COUNTRY)
    with pytest.raises(NotFound):
        target_add(porsgrunn.system_context(), GHG, "NO-9999", 5.0, 2030, TargetKind.OWN, "x")


def test_status_ignores_values_the_reader_may_not_see(porsgrunn: Bylab) -> None:
    # Hand-made: a later value fed by a dataset nobody but the system may see.
    _add_series(porsgrunn, GHG, "NO-4001", {2024: 1.0}, dataset_ids=["private-dataset"])
    target_add(porsgrunn.system_context(), GHG, "NO-4001", 2.0, 2030, TargetKind.OWN, "test")
    assert target_status(porsgrunn.system_context(), "NO-4001")[0].status == "met"
    [public] = target_status(porsgrunn.context(), "NO-4001")
    assert public.latest_period == "2023" and public.status == "on_track"


def test_api_adds_targets_for_editors_and_reports_status(porsgrunn: Bylab) -> None:
    system = porsgrunn.system_context()
    accounts.user_create(system, "per", PASSWORD)
    accounts.membership_set(system, "per", "porsgrunn", Role.EDITOR)
    token = accounts.token_create(system, "tests", "per")
    body = {"kpi": "EN-EN-AQ-2C", "place_id": "NO-4001", "target_value": 2.0,
            "target_year": 2030, "kind": "own", "source": "test target"}
    with TestClient(create_app(porsgrunn), base_url="http://testserver") as client:
        assert client.post("/api/indicators/targets", json=body).status_code == 403
        created = client.post("/api/indicators/targets", json=body,
                              headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201 and created.json()["created_by"] == "per"
        listed = client.get("/api/indicators/targets", params={"place": "NO-4001"}).json()
        assert [item["id"] for item in listed] == [created.json()["id"]]
        [status] = client.get("/api/indicators/status", params={"place": "NO-4001"}).json()
    assert status["status"] == "on_track" and status["gap"] == pytest.approx(2.0 - 6.0)


def test_cli_adds_a_target_and_shows_status(porsgrunn: Bylab) -> None:
    environment = {**os.environ, "BYLAB_DATA_DIR": str(porsgrunn.settings.data_dir)}
    command = [sys.executable, "-m", "bylab.cli", "indicators"]
    subprocess.run([*command, "target-add", "--kpi", "EN-EN-AQ-2C", "--place", "NO-4001",
                    "--value", "3", "--year", "2030", "--kind", "own", "--source", "test"],
                   env=environment, capture_output=True, text=True, timeout=120, check=True)
    shown = subprocess.run([*command, "status", "--place", "NO-4001"], env=environment,
                           capture_output=True, text=True, timeout=120, check=True)
    assert shown.stdout.startswith(f"{GHG}\ton_track\ttarget 3 by 2030 (own); latest 6 (2023)")
