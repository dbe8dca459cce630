"""The registry's pages over HTTP: search with facets, record and actor pages, forms (CSRF,
errors that keep the input, edits), and the who-does-what graph (JSON and SVG)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.registry.actions import challenge_show, project_show, solution_show
from bylab.registry.search import registry_search
from bylab.registry.seed import registry_seed

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web(embedded: Bylab) -> Iterator[httpx.Client]:
    ctx = embedded.system_context()
    registry_seed(ctx)
    accounts.user_create(ctx, "mia", PASSWORD)
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        yield client


def log_in(client: httpx.Client) -> str:
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "mia", "password": PASSWORD, "csrf_token": token})
    return CSRF.search(client.get("/registry/projects/new").text).group(1)  # type: ignore[union-attr]


def result_links(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/registry/\w+s/([^"]+)"', html)


def test_home_searches_across_languages_and_narrows_by_facets(web: httpx.Client) -> None:
    everything = result_links(web.get("/registry").text)
    assert "smart-molde-programme" in everything and "city-as-a-platform-silos" in everything
    water = web.get("/registry", params={"q": "vatten", "lang": "sv"}).text
    assert result_links(water)[0] == "smart-molde-programme"
    assert "taxonomi: &#39;vatten&#39; ↔ &#39;water&#39;" in water  # in Swedish
    challenges = result_links(web.get("/registry", params={"type": "challenge"}).text)
    assert challenges == ["city-as-a-platform-silos"]
    polish = result_links(web.get("/registry", params={"actor_kind": "municipality",
                                                       "place": "PL-3064"}).text)
    assert polish == [] or all("poznan" in name for name in polish)
    facet = web.get("/registry").text
    assert re.search(r'<option value="water"\s*>[^<]+\(\d+\)</option>', facet)


def test_record_and_actor_pages(web: httpx.Client) -> None:
    project = web.get("/registry/projects/smart-molde-programme").text
    assert "Stage history" in project and "Who else does this" in project
    assert "stage-form" not in project  # anonymous: no stage change
    challenge = web.get("/registry/challenges/city-as-a-platform-silos").text
    assert 'class="matches"' in challenge and "shared domain: governance" in challenge
    actor = web.get("/registry/actors/alesund").text
    assert "Partner in" in actor and "alesund-smart-city-lab" in actor
    assert web.get("/registry/projects/no-such").status_code == 404
    assert web.get("/registry/notifications", follow_redirects=False).status_code == 303


def test_forms_need_csrf_keep_input_on_error_and_edit(web: httpx.Client,
                                                      embedded: Bylab) -> None:
    csrf = log_in(web)
    body = {"organisation": "molde", "name": "test-harbour", "language": "nb",
            "title": "Havnesensorer", "text": "Sensorer i havna", "domains": ["water"],
            "technologies": ["iot_sensors"], "places": "NO-1506", "stage": "pilot"}
    assert web.post("/registry/projects/new", data=body).status_code == 403  # no CSRF token
    bad = web.post("/registry/projects/new", data={**body, "places": "Molde",
                                                   "csrf_token": csrf})
    assert bad.status_code == 400
    assert "Nothing was saved." in bad.text and 'value="Havnesensorer"' in bad.text
    assert 'aria-invalid="true" aria-describedby="place_ids-error"' in bad.text
    created = web.post("/registry/projects/new", data={**body, "csrf_token": csrf},
                       follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == "/registry/projects/test-harbour"
    assert project_show(embedded.context(), "test-harbour").project.stage == "pilot"
    edited = web.post("/registry/projects/test-harbour/edit", data={
        **body, "language": "en", "title": "Harbour sensors", "csrf_token": csrf})
    assert edited.status_code == 200 and "Harbour sensors" in edited.text
    project = project_show(embedded.context(), "test-harbour").project
    assert project.title == {"nb": "Havnesensorer", "en": "Harbour sensors"}
    assert "harbour" in project.search_text
    challenge = web.post("/registry/challenges/new", data={
        "organisation": "molde", "name": "test-leak", "language": "en",
        "title": "Find leaks", "domains": ["water"], "kpi_codes": "EC: ICT: WS: 1C",
        "deadline": "2027-01-31", "csrf_token": csrf})
    assert challenge.status_code == 200 and "Smart Water Meters" in challenge.text
    assert str(challenge_show(embedded.context(), "test-leak").deadline) == "2027-01-31"
    stopped = web.post("/registry/projects/test-harbour/stage",
                       data={"stage": "stopped", "reason": "", "csrf_token": csrf})
    assert stopped.status_code == 400 and "say why the project stopped" in stopped.text
    web.post("/registry/projects/test-harbour/stage",
             data={"stage": "operation", "reason": "", "csrf_token": csrf})
    assert project_show(embedded.context(), "test-harbour").project.stage == "operation"
    assert web.post("/registry/projects/alesund-smart-city-lab/stage", data={
        "stage": "stopped", "reason": "x", "csrf_token": csrf}).status_code == 403


def test_graph_filters_by_term_region_and_actor_kind(web: httpx.Client) -> None:
    everything = web.get("/api/registry/graph").json()
    types = {node["type"] for node in everything["nodes"]}
    assert types == {"actor", "project", "place"}
    relations = {edge["relation"] for edge in everything["edges"]}
    assert {"runs", "partner", "at", "based in"} <= relations
    simulation = web.get("/api/registry/graph", params={"term": "simulation"}).json()
    projects = {n["name"] for n in simulation["nodes"] if n["type"] == "project"}
    assert projects == {"alesund-smart-city-lab"}
    region = web.get("/api/registry/graph", params={"place": "NO-15"}).json()
    region_projects = {n["name"] for n in region["nodes"] if n["type"] == "project"}
    assert "smart-molde-programme" in region_projects
    assert "osloregionen-smart-innovation-norway" not in region_projects  # NO-0301
    companies = web.get("/api/registry/graph", params={"kind": "company"}).json()
    assert {n["kind"] for n in companies["nodes"] if n["type"] == "actor"} == {"company"}
    assert web.get("/api/registry/graph", params={"term": "teleport"}).status_code == 400
    svg = web.get("/registry/graph", params={"term": "simulation"}).text
    assert "<svg" in svg and 'href="/registry/projects/alesund-smart-city-lab"' in svg


def test_solution_forms_create_and_edit(web: httpx.Client, embedded: Bylab) -> None:
    csrf = log_in(web)
    body = {"organisation": "molde", "name": "test-twin", "language": "nb",
            "title": "Digital tvilling", "text": "Modell av byen", "domains": ["data"],
            "technologies": ["digital_twin"], "projects": "smart-molde-programme"}
    assert "Offer a solution" in web.get("/registry/solutions/new").text
    bad = web.post("/registry/solutions/new", data={**body, "projects": "no-such",
                                                    "csrf_token": csrf})
    assert bad.status_code == 404 and 'value="Digital tvilling"' in bad.text
    assert 'aria-describedby="project-error"' in bad.text
    created = web.post("/registry/solutions/new", data={**body, "csrf_token": csrf},
                       follow_redirects=False)
    assert created.headers["location"] == "/registry/solutions/test-twin"
    page = web.get("/registry/solutions/test-twin").text
    assert 'href="/registry/solutions/test-twin/edit"' in page
    form = web.get("/registry/solutions/test-twin/edit").text
    assert 'value="smart-molde-programme"' in form and 'value="Digital tvilling"' in form
    assert web.post("/registry/solutions/test-twin/edit", data=body).status_code == 403
    edited = web.post("/registry/solutions/test-twin/edit", data={
        **body, "language": "en", "title": "Digital twin", "projects": "",
        "csrf_token": csrf})
    assert edited.status_code == 200 and "Digital twin" in edited.text
    solution = solution_show(embedded.context(), "test-twin")
    assert solution.title == {"nb": "Digital tvilling", "en": "Digital twin"}
    assert solution.project_ids == [] and "twin" in solution.search_text
    assert "test-twin" in [hit.name for hit in registry_search(embedded.context(), "twin")]
    other = web.get("/registry/solutions/new")  # mia edits molde only
    assert 'value="alesund"' not in other.text
