"""The registry's pages for project evidence and challenge responses over HTTP: the edit form
(success factors, lessons, budget, constraints), the funding, result and document forms, and
responding to a challenge. Indicator values are hand-made test rows, NOT real figures."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.indicators.models import IndicatorValue
from bylab.registry.actions import project_show
from bylab.registry.seed import registry_seed
from tests.registry.test_pages import CSRF, PASSWORD

GHG = "EN: EN: AQ: 2C"


@pytest.fixture
def web(embedded: Bylab) -> Iterator[httpx.Client]:
    ctx = embedded.system_context()
    registry_seed(ctx)
    for username, organisation in (("mia", "molde"), ("ola", "alesund")):
        accounts.user_create(ctx, username, PASSWORD)
        accounts.membership_set(ctx, username, organisation, Role.EDITOR)
    rows = [{"kpi_code": GHG, "place_id": "NO-1506", "period": period, "status": "computed",
             "value": value, "unit": "t / person", "reason": "", "dataset_ids": [],
             "provenance": {}} for period, value in (("2019", 5.0), ("2023", 4.5))]
    with embedded.db.session() as session:
        session.execute(insert(IndicatorValue), rows)
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        yield client


def log_in(client: httpx.Client, username: str) -> str:
    client.post("/logout", data={"csrf_token": CSRF.search(  # type: ignore[union-attr]
        client.get("/login").text).group(1)})
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": token})
    return CSRF.search(client.get("/registry").text).group(1)  # type: ignore[union-attr]


def test_edit_form_keeps_other_languages_of_factors_and_lessons(
        web: httpx.Client, embedded: Bylab) -> None:
    csrf = log_in(web, "mia")
    form = {"csrf_token": csrf, "language": "en", "title": "Smart Molde programme",
            "factors": "Political backing\n\nA steering group across the region",
            "lessons": "Move from pilot to operation", "budget_amount": "1 000 000",
            "budget_currency": "nok", "domains": ["water"]}
    saved = web.post("/registry/projects/smart-molde-programme/edit", data=form)
    assert saved.status_code == 200, saved.text
    web.post("/registry/projects/smart-molde-programme/edit",
             data={**form, "language": "nb", "title": "Smart Molde-programmet",
                   "factors": "Politisk forankring", "lessons": ""})
    project = project_show(embedded.context(), "smart-molde-programme").project
    assert project.success_factors == {
        "en": ["Political backing", "A steering group across the region"],
        "nb": ["Politisk forankring"]}
    assert project.lessons_learned == {"en": ["Move from pilot to operation"]}
    assert (str(project.budget_amount), project.budget_currency) == ("1000000.00", "NOK")
    bad = web.post("/registry/projects/smart-molde-programme/edit",
                   data={**form, "budget_currency": "kroner"})
    assert bad.status_code == 400 and 'id="budget_currency-error"' in bad.text


def test_funding_result_and_document_forms(web: httpx.Client) -> None:
    csrf = log_in(web, "mia")
    page = "/registry/projects/smart-molde-programme"
    web.post(f"{page}/funding", data={"csrf_token": csrf, "funder_name": "Test fund",
                                      "amount": "100000", "currency": "NOK"})
    web.post(f"{page}/funding", data={"csrf_token": csrf, "funder_name": "EU test",
                                      "amount": "2500.50", "currency": "EUR",
                                      "year_from": "2021", "year_to": "2022"})
    bad = web.post(f"{page}/funding", data={"csrf_token": csrf, "funder_name": "X",
                                            "amount": "12,5", "currency": "NOK"})
    assert bad.status_code == 400 and "amount" in bad.text
    web.post(f"{page}/results", data={"csrf_token": csrf, "kpi_code": GHG,
                                      "place_id": "NO-1506", "before_period": "2019",
                                      "after_period": "2023"})
    web.post(f"{page}/results", data={"csrf_token": csrf, "kpi_code": GHG,
                                      "place_id": "NO-1508", "before_period": "2019",
                                      "after_period": "2023", "reported_before": "6,5",
                                      "reported_unit": "t / person",
                                      "reported_source": "Test report"})
    web.post(f"{page}/documents", data={"csrf_token": csrf, "title": "Test plan"},
             files={"file": ("plan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    html = web.get(page).text
    assert "Total in EUR" in html and "Total in NOK" in html
    assert "Sums are per currency" in html
    assert 'class="badge outcome-improved">improved<' in html
    assert "computed by bylab" in html
    assert "reported by the project" in html and "Source: Test report" in html
    assert "Test plan" in html and "plan.pdf" in html
    anonymous = TestClient(web.app, base_url="http://testserver")  # type: ignore[attr-defined]
    assert "Add a funding line" not in anonymous.get(page).text


def test_responding_to_a_challenge_from_its_page(web: httpx.Client, embedded: Bylab) -> None:
    challenge = "/registry/challenges/city-as-a-platform-silos"
    assert "Log in to respond" in web.get(challenge).text
    csrf = log_in(web, "ola")
    sent = web.post(f"{challenge}/responses", data={
        "csrf_token": csrf, "kind": "case", "text": "Our lab works across silos",
        "project": "alesund-smart-city-lab"})
    assert sent.status_code == 200
    html = web.get(challenge).text
    assert "Our lab works across silos" in html and "Ålesund smart city lab" in html
    assert 'name="status"' not in html  # ola does not own the challenge
    accounts.membership_set(embedded.system_context(), "mia", "city-as-a-platform",
                            Role.EDITOR)
    csrf = log_in(web, "mia")
    response_id = re.search(r'/responses/(\d+)/status', web.get(challenge).text).group(1)  # type: ignore[union-attr]
    web.post(f"{challenge}/responses/{response_id}/status",
             data={"csrf_token": csrf, "status": "shortlisted"})
    html = web.get(challenge).text
    assert "decided by mia" in html
    assert re.search(r'class="badge response-status">shortlisted<', html)
