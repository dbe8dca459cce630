"""A failed run's error in the reader's language (issue 4): the run keeps the error's template
and values, its pages show them translated, the API and the CLI keep the English text, and a
run failed before templates were kept shows its English text."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab, Context
from bylab.errors import FIELD_TEMPLATE, InvalidInput
from bylab.mobility.demand import DemandInput
from bylab.mobility.models import MobilityRun, RunStatus, error_detail_of, error_from_detail
from bylab.mobility.runs import run_execute, run_folder, run_submit
from bylab.web.i18n import translations_for
from tests.mobility.conftest import small_request, system_with_molde
from tests.web.conftest import PASSWORD, log_in

NO_CAR_TRIPS = "the demand gives no car trips in the simulated period"  # bylab.mobility.demand
PROGRAM_FAILED = "{program} failed: {tail}"  # bylab.mobility.sumo.SumoFailed


@pytest.fixture
def molde(embedded: Bylab) -> Context:
    """Molde kommune with its viewer vic."""
    ctx = system_with_molde(embedded)
    accounts.user_create(ctx, "vic", PASSWORD)
    accounts.membership_set(ctx, "vic", "molde", Role.VIEWER)
    return ctx


@pytest.fixture
def vic(embedded: Bylab, molde: Context) -> Iterator[httpx.Client]:
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        log_in(client, "vic")
        yield client


def norwegian(template: str, **params: object) -> str:
    """``template`` as the Norwegian catalogue has it, filled; checked to be translated."""
    translated = translations_for("nb").gettext(template)
    assert translated != template, f"no Norwegian translation of {template!r}"
    return translated.format(**params)


def failed_without_car_trips(ctx: Context) -> MobilityRun:
    empty = run_submit(ctx, small_request(demand=DemandInput(population=1)))  # 0.18 car trips
    run = run_execute(ctx, empty.id)
    assert run.status == RunStatus.FAILED
    return run


def test_the_run_pages_show_the_error_in_norwegian_and_the_api_in_english(
        molde: Context, vic: httpx.Client) -> None:
    run = failed_without_car_trips(molde)
    english = f"field 'population': {NO_CAR_TRIPS}"
    assert run.error == english
    assert run.error_detail == {"message_id": NO_CAR_TRIPS, "params": {}, "file": None,
                                "row": None, "field": "population"}
    shown = f"{norwegian(FIELD_TEMPLATE, field='population')}: {norwegian(NO_CAR_TRIPS)}"

    run_page = unescape(vic.get(f"/mobility/runs/{run.id}?lang=nb").text)
    traffic_page = unescape(vic.get(
        f"/scenarios/traffic?run={run.id}&baseline={run.id}&lang=nb").text)

    assert shown in run_page and english not in run_page
    assert f": {shown}</td>" in traffic_page
    assert english in unescape(vic.get(f"/mobility/runs/{run.id}?lang=en").text)
    assert vic.get(f"/api/mobility/runs/{run.id}?lang=nb").json()["error"] == english


def test_a_failed_program_is_shown_with_its_values_in_the_template(
        molde: Context, vic: httpx.Client) -> None:
    queued = run_submit(molde, small_request())
    run_folder(molde, queued.id).mkdir(parents=True)
    (run_folder(molde, queued.id) / "demand.rou.xml").mkdir()  # where the routes must go
    run = run_execute(molde, queued.id)
    assert run.error_detail is not None
    tail = run.error_detail["params"]["tail"]
    assert run.error_detail["params"]["program"] == "randomTrips.py" and "Is a directory" in tail

    page = unescape(vic.get(f"/mobility/runs/{run.id}?lang=nb").text)

    assert norwegian(PROGRAM_FAILED, program="randomTrips.py", tail=tail) in page
    assert vic.get(f"/api/mobility/runs/{run.id}").json()["error"].startswith(
        "randomTrips.py failed:")


def test_a_run_failed_before_templates_were_kept_shows_its_english_text(
        embedded: Bylab, molde: Context, vic: httpx.Client) -> None:
    run = failed_without_car_trips(molde)
    with embedded.db.session() as session:
        stored = session.get(MobilityRun, run.id)
        assert stored is not None
        stored.error_detail = None  # as the 0016 migration leaves the runs failed before it

    page = unescape(vic.get(f"/mobility/runs/{run.id}?lang=nb").text)

    assert f"<dd>{run.error}</dd>" in page


def test_an_error_detail_is_json_and_gives_the_same_error_back() -> None:
    error = InvalidInput("the file {path} has {rows:,} rows", file="a.csv", row=3, field="x",
                         path=Path("/tmp/a.csv"), rows=1200)
    detail = error_detail_of(error)
    assert detail["params"] == {"path": "/tmp/a.csv", "rows": 1200}  # a path kept as text
    again = error_from_detail(detail)
    assert str(again) == str(error) == (
        "a.csv, row 3, field 'x': the file /tmp/a.csv has 1,200 rows")
    assert again.message_id == error.message_id
    run = MobilityRun(error=str(error), error_detail=detail)
    assert run.error_in(lambda text: text, "nb").endswith("has 1\xa0200 rows")  # nb numbers
