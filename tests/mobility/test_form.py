"""The "start a run" form of /mobility: shown to organisation editors, checked for CSRF, bad
mode shares refused naming the field, and a good form starts a run that runs to its end."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.mobility.demand import DemandInput
from tests.mobility.conftest import wait_until_finished
from tests.web.conftest import PASSWORD, csrf_of, log_in

# 300 inhabitants × 3 trips × 0.1 in the hour × 50 % by car = 45 cars on a 3 × 3 grid
FORM = {"organisation": "molde", "population": "300", "car": "50", "public_transport": "20",
        "bicycle": "15", "walk": "15", "size": "3"}


@pytest.fixture
def site(embedded: Bylab) -> Iterator[httpx.Client]:
    """Molde kommune with its editor mia and its viewer vic."""
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    for username, role in (("mia", Role.EDITOR), ("vic", Role.VIEWER)):
        accounts.user_create(ctx, username, PASSWORD)
        accounts.membership_set(ctx, username, "molde", role)
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        yield client


def test_only_editors_see_the_form(site: httpx.Client) -> None:
    assert 'id="start-run"' not in site.get("/mobility").text
    log_in(site, "vic")
    assert 'id="start-run"' not in site.get("/mobility").text
    site.post("/logout", data={"csrf_token": csrf_of(site.get("/mobility").text)})
    log_in(site, "mia")
    page = site.get("/mobility").text
    assert 'id="start-run"' in page and 'value="60.0"' in page  # the default car share


def test_form_starts_a_run_that_runs_to_its_end(site: httpx.Client, embedded: Bylab) -> None:
    log_in(site, "mia")
    csrf = csrf_of(site.get("/mobility").text)
    assert site.post("/mobility/runs", data=FORM, follow_redirects=False).status_code == 403

    started = site.post("/mobility/runs", data={**FORM, "csrf_token": csrf},
                        follow_redirects=False)

    assert started.status_code == 303, started.text
    run_id = started.headers["location"].rsplit("/", 1)[1]
    run = wait_until_finished(embedded.system_context(), run_id)
    assert run.status == "succeeded", run.error
    demand = DemandInput.model_validate(run.demand)
    assert (demand.population, demand.mode_share.car, demand.car_trips()) == (300, 0.5, 45)
    assert run.network["size"] == 3
    assert run.results["indicators"]["vehicles_simulated"] == 45
    assert run_id in site.get("/mobility").text


def test_form_refuses_mode_shares_that_do_not_add_up(site: httpx.Client) -> None:
    log_in(site, "mia")
    csrf = csrf_of(site.get("/mobility").text)
    refused = site.post("/mobility/runs", data={**FORM, "car": "70", "csrf_token": csrf},
                        follow_redirects=False)
    assert refused.status_code == 400, refused.text
    assert "add up to 100 % (they add up to 120 %)" in refused.text
    assert site.get("/api/mobility/runs").json() == []


def test_form_refuses_an_organisation_the_user_does_not_edit(site: httpx.Client,
                                                             embedded: Bylab) -> None:
    accounts.organisation_create(embedded.system_context(), "alesund", "Ålesund kommune")
    log_in(site, "mia")
    csrf = csrf_of(site.get("/mobility").text)
    refused = site.post("/mobility/runs", data={**FORM, "organisation": "alesund",
                                                "csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 403
