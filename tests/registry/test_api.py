"""The registry's REST API and CLI over an embedded instance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import OrganisationKind, Role
from bylab.core import Bylab
from bylab.registry.cli import app as registry_cli
from bylab.registry.seed import registry_seed, seed_spec

SEARCH_KEYS = {"type", "id", "name", "title", "score", "reason", "reasons"}


@pytest.fixture
def api(embedded: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def mia_token(embedded: Bylab) -> str:
    """Molde has an editor (mia); Acme's editor (ada) is not one of Molde's."""
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "acme", "Acme AS", OrganisationKind.COMPANY)
    registry_seed(ctx)
    accounts.user_create(ctx, "mia", "correct horse battery")
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    return accounts.token_create(ctx, "tests", "mia")


def test_search_contract(api: httpx.Client, mia_token: str) -> None:
    response = api.get("/api/search", params={"q": "vann", "lang": "nb"})
    assert response.status_code == 200
    hits = response.json()
    assert hits and all(set(hit) == SEARCH_KEYS for hit in hits)
    assert hits[0]["reason"].startswith("taxonomy: 'vann' ↔ 'water'")
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)
    only_challenges = api.get("/api/search", params={"q": "data", "type": "challenge"}).json()
    assert only_challenges and {hit["type"] for hit in only_challenges} == {"challenge"}
    assert api.get("/api/search", params={"q": "x", "type": "dataset"}).status_code == 422


def test_anonymous_cannot_create(api: httpx.Client, mia_token: str) -> None:
    body = {"organisation": "molde", "name": "anon-try", "title": {"en": "Anonymous"}}
    assert api.post("/api/projects", json=body).status_code == 403
    assert api.post("/api/challenges", json=body).status_code == 403
    assert api.post("/api/solutions", json=body).status_code == 403
    assert api.get("/api/projects/anon-try").status_code == 404


def test_editor_creates_and_moves_a_project(api: httpx.Client, mia_token: str) -> None:
    auth = {"Authorization": f"Bearer {mia_token}"}
    body = {"organisation": "molde", "name": "test-flood-sensors",
            "title": {"en": "Test flood sensors"}, "domains": ["water"],
            "technologies": ["iot_sensors"], "place_ids": ["NO-1506"],
            "partners": [{"organisation": "acme", "role": "test supplier"}]}
    created = api.post("/api/projects", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["partners"] == [
        {"organisation": "acme", "title": "Acme AS", "role": "test supplier"}]
    assert api.post("/api/projects", json=body, headers=auth).status_code == 409
    moved = api.post("/api/projects/test-flood-sensors/stage", headers=auth,
                     json={"stage": "pilot"})
    assert moved.status_code == 200
    history = api.get(f"/api/projects/{created.json()['id']}").json()["history"]
    assert [(h["stage"], h["changed_by"]) for h in history] == [("idea", "mia"), ("pilot", "mia")]
    assert api.post("/api/projects/test-flood-sensors/stage",
                    json={"stage": "operation"}).status_code == 403
    names = [p["name"] for p in api.get("/api/projects", params={"domain": "water"}).json()]
    assert "test-flood-sensors" in names and "alesund-smart-city-lab" not in names
    found = api.get("/api/search", params={"q": "czujniki", "lang": "pl"}).json()
    assert found[0]["name"] == "test-flood-sensors"


def test_challenges_and_solutions(api: httpx.Client, mia_token: str) -> None:
    auth = {"Authorization": f"Bearer {mia_token}"}
    challenge = api.post("/api/challenges", headers=auth, json={
        "organisation": "molde", "name": "test-leakage", "title": {"nb": "Test: lekkasje"},
        "domains": ["water"], "deadline": "2027-06-30"})
    assert challenge.status_code == 201, challenge.text
    shown = api.get("/api/challenges/test-leakage").json()
    assert shown["deadline"] == "2027-06-30" and shown["domains"] == ["water"]
    assert "test-leakage" in [c["name"] for c in api.get("/api/challenges").json()]
    solution = api.post("/api/solutions", headers=auth, json={
        "organisation": "molde", "name": "test-data-hub", "title": {"en": "Test data hub"},
        "project_ids": ["smart-data-molde-alesund-kristiansund"]})
    assert solution.status_code == 201, solution.text
    project_id = api.get("/api/projects/smart-data-molde-alesund-kristiansund").json()["id"]
    listed = api.get("/api/solutions").json()
    assert [s["project_ids"] for s in listed if s["name"] == "test-data-hub"] == [[project_id]]
    bad = api.post("/api/solutions", headers=auth, json={
        "organisation": "molde", "name": "test-bad", "title": {"en": "x"},
        "project_ids": ["no-such-project"]})
    assert bad.status_code == 404


def test_cli_seed_and_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("BYLAB_DATABASE_URL", "BYLAB_SETTINGS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "cli-data"))
    runner = CliRunner()
    seeded = runner.invoke(registry_cli, ["seed"])
    assert seeded.exit_code == 0, seeded.output
    assert f"{len(seed_spec()['projects'])} projects" in seeded.output
    assert runner.invoke(registry_cli, ["seed"]).output.startswith("created 0 organisations")
    found = runner.invoke(registry_cli, ["search", "simulering"])
    assert found.exit_code == 0, found.output
    assert "alesund-smart-city-lab" in found.output and "taxonomy" in found.output


def test_editor_updates_a_project_and_a_challenge(api: httpx.Client, mia_token: str) -> None:
    auth = {"Authorization": f"Bearer {mia_token}"}
    body = {"title": {"en": "Smart Molde", "nb": "Smart Molde"}, "domains": ["water"],
            "technologies": ["digital_twin"], "place_ids": ["NO-1506"]}
    assert api.put("/api/projects/smart-molde-programme", json=body).status_code == 403
    updated = api.put("/api/projects/smart-molde-programme", json=body, headers=auth)
    assert updated.status_code == 200, updated.text
    assert updated.json()["technologies"] == ["digital_twin"]
    assert updated.json()["stage"] == "operation"  # kept
    found = api.get("/api/search", params={"q": "cyfrowy bliźniak", "lang": "pl"}).json()
    assert "smart-molde-programme" in [hit["name"] for hit in found]  # reindexed
    bad = api.put("/api/projects/smart-molde-programme", headers=auth,
                  json={**body, "place_ids": ["Molde"]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "place_ids"
    challenge = api.post("/api/challenges", headers=auth, json={
        "organisation": "molde", "name": "test-update", "title": {"en": "Leaks"}})
    assert challenge.status_code == 201
    changed = api.put("/api/challenges/test-update", headers=auth, json={
        "title": {"en": "Leaks"}, "kpi_codes": ["EC: ICT: WS: 1C"], "domains": ["water"]})
    assert changed.status_code == 200 and changed.json()["kpi_codes"] == ["EC: ICT: WS: 1C"]


def test_editor_updates_a_solution(api: httpx.Client, mia_token: str) -> None:
    auth = {"Authorization": f"Bearer {mia_token}"}
    created = api.post("/api/solutions", headers=auth, json={
        "organisation": "molde", "name": "test-offer", "title": {"en": "Leak finder"}})
    assert created.status_code == 201, created.text
    body = {"title": {"en": "Leak finder", "pl": "Wykrywacz wycieków"},
            "technologies": ["iot_sensors"], "project_ids": ["smart-molde-programme"]}
    assert api.put("/api/solutions/test-offer", json=body).status_code == 403
    changed = api.put("/api/solutions/test-offer", headers=auth, json=body)
    assert changed.status_code == 200, changed.text
    assert api.get("/api/solutions/test-offer").json()["title"] == body["title"]
    bad = api.put("/api/solutions/test-offer", headers=auth,
                  json={**body, "project_ids": ["no-such"]})
    assert bad.status_code == 404 and bad.json()["error"]["field"] == "project"
    found = api.get("/api/search", params={"q": "wykrywacz", "type": "solution"}).json()
    assert [hit["name"] for hit in found] == ["test-offer"]
