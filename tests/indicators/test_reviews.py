"""Review and sign-off: a named verifier of the place's organisation approves or questions a
value; the sign-off holds while the inputs are the same and reads as invalidated once a new
dataset version changes them. On SQLite and PostgreSQL, through actions, API and CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.actions import actor_for_user
from bylab.auth.models import Role, User
from bylab.catalog.metadata import DatasetMetadata, Visibility
from bylab.catalog.publish import dataset_add_version, dataset_publish
from bylab.core import Bylab, Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.indicators.actions import indicator_compute
from bylab.indicators.models import Verdict
from bylab.indicators.reviews import CURRENT, INVALIDATED, review_add, review_list, sign_off
from bylab.indicators.specs import load_definition, load_mapping

TEST_DATA = Path(__file__).parents[1] / "data" / "indicators" / "review"
KPI = "TEST: WASTE"
PASSWORD = "a long test password"


def _write(path: Path, molde_2023: str) -> Path:
    path.write_text("code,year,tonnes\n1506,2022,100\n1506,2023," + molde_2023 + "\n"
                    "1507,2022,80\n1507,2023,85\n", encoding="utf-8")
    return path


def _compute(instance: Bylab) -> None:
    definition = load_definition(TEST_DATA / "definition.yaml")
    indicator_compute(instance.system_context(), definitions={KPI: definition},
                      mappings={"NO": load_mapping(TEST_DATA / "mapping.yaml")})


def _user(instance: Bylab, username: str, organisation: str, role: Role) -> Context:
    system = instance.system_context()
    accounts.user_create(system, username, PASSWORD)
    accounts.membership_set(system, username, organisation, role)
    with instance.db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        return instance.context(actor_for_user(session, user))


@pytest.fixture
def molde(bylab: Bylab, tmp_path: Path) -> Bylab:
    system = bylab.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune", place_id="NO-1506")
    accounts.organisation_create(system, "alesund", "Ålesund kommune", place_id="NO-1507")
    metadata = DatasetMetadata(name="test-waste", title={"en": "Waste"}, organisation="molde",
                               visibility=Visibility.PUBLIC)
    dataset_publish(system, metadata, _write(tmp_path / "waste.csv", "110"))
    _compute(bylab)
    return bylab


def test_a_sign_off_holds_until_the_inputs_change(molde: Bylab, tmp_path: Path) -> None:
    verifier = _user(molde, "vera", "molde", Role.EDITOR)
    approved = review_add(verifier, KPI, "NO-1506", "2023", Verdict.APPROVE, "checked")
    assert (approved.state, approved.value, approved.reviewer) == (CURRENT, 110.0, "vera")
    _compute(molde)  # the same inputs again: the same digest, the sign-off holds
    assert [state.state for state in review_list(verifier, place="NO-1506")] == [CURRENT]
    dataset_add_version(molde.system_context(), "test-waste",
                        _write(tmp_path / "waste2.csv", "120"), note="corrected 2023")
    _compute(molde)
    [state] = review_list(verifier, place="NO-1506")
    assert state.state == INVALIDATED and "inputs changed" in state.invalidated_because
    assert sign_off([state]) is None
    renewed = review_add(verifier, KPI, "NO-1506", "2023", Verdict.QUESTION, "why +10 t?")
    assert renewed.value == 120.0
    current = sign_off(review_list(verifier, place="NO-1506"))
    assert current is not None and current.id == renewed.id


def test_a_new_version_invalidates_even_other_places_sign_offs(molde: Bylab,
                                                             tmp_path: Path) -> None:
    """The digest names the dataset version, so any new version asks for a new review."""
    verifier = _user(molde, "vera", "molde", Role.EDITOR)
    review_add(verifier, KPI, "NO-1506", "2022", Verdict.APPROVE)
    dataset_add_version(molde.system_context(), "test-waste",
                        _write(tmp_path / "waste2.csv", "120"))
    _compute(molde)
    assert review_list(verifier, place="NO-1506")[0].state == INVALIDATED


def test_only_named_editors_of_the_place_review(molde: Bylab) -> None:
    viewer = _user(molde, "vic", "molde", Role.VIEWER)
    other = _user(molde, "ola", "alesund", Role.EDITOR)
    for ctx in (viewer, other, molde.context(), molde.system_context()):
        with pytest.raises(NotAuthorized):
            review_add(ctx, KPI, "NO-1506", "2023", Verdict.APPROVE)
    verifier = _user(molde, "vera", "molde", Role.EDITOR)
    with pytest.raises(InvalidInput, match="comment"):
        review_add(verifier, KPI, "NO-1506", "2023", Verdict.QUESTION, "  ")
    with pytest.raises(NotFound):
        review_add(verifier, KPI, "NO-1506", "1999", Verdict.APPROVE)
    assert review_list(verifier) == []


def test_api_and_cli_review(molde: Bylab) -> None:
    _user(molde, "vera", "molde", Role.EDITOR)
    token = accounts.token_create(molde.system_context(), "tests", "vera")
    body = {"kpi": KPI, "place": "NO-1506", "period": "2022", "verdict": "approve"}
    with TestClient(create_app(molde), base_url="http://testserver") as client:
        assert client.post("/api/indicators/reviews", json=body).status_code == 403
        created = client.post("/api/indicators/reviews", json=body,
                              headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        assert created.json()["state"] == CURRENT and created.json()["reviewer"] == "vera"
        listed = client.get("/api/indicators/reviews", params={"place": "NO-1506"}).json()
        detail = client.get("/api/indicators/value",
                            params={"kpi": KPI, "place": "NO-1506", "period": "2022"}).json()
    assert [item["id"] for item in listed] == [created.json()["id"]]
    assert [item["verdict"] for item in detail["reviews"]] == ["approve"]
    environment = {**os.environ, "BYLAB_DATA_DIR": str(molde.settings.data_dir),
                   "BYLAB_DATABASE_URL": molde.settings.effective_database_url}
    command = [sys.executable, "-m", "bylab.cli", "indicators"]
    done = subprocess.run([*command, "review", "--kpi", KPI, "--place", "NO-1506", "--period",
                           "2023", "--verdict", "question", "--reviewer", "vera", "--comment",
                           "looks high"], env=environment, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "question TEST: WASTE NO-1506 2023 = 110 by vera (current)" in done.stdout
    shown = subprocess.run([*command, "reviews", "--place", "NO-1506"], env=environment,
                           capture_output=True, text=True, timeout=120, check=True)
    assert [line.split("\t")[4] for line in shown.stdout.splitlines()] == ["question", "approve"]
