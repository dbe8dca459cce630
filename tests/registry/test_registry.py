"""Registry: seed, stage history, cross-lingual search, access."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bylab.auth import actions as accounts
from bylab.auth.actor import Actor
from bylab.auth.models import Organisation, OrganisationKind, Role
from bylab.core import Bylab, Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized
from bylab.registry.actions import (
    ChallengeInput,
    ProjectInput,
    challenge_create,
    project_create,
    project_list,
    project_show,
    project_stage_set,
)
from bylab.registry.models import Stage
from bylab.registry.search import registry_search
from bylab.registry.seed import registry_seed, seed_spec


def editor_of(bylab: Bylab, organisation: Organisation, username: str) -> Context:
    return bylab.context(Actor(user_id=f"id-{username}", username=username,
                               roles={organisation.id: Role.EDITOR}))


@pytest.fixture
def molde(embedded: Bylab) -> Organisation:
    return accounts.organisation_create(embedded.system_context(), "molde", "Molde kommune")


def test_seed_creates_missing_organisations_once_and_is_idempotent(
        embedded: Bylab, molde: Organisation) -> None:
    spec, system = seed_spec(), embedded.system_context()
    first = registry_seed(system)
    assert first.organisations == len(spec["organisations"]) - 1  # molde existed already
    assert first.projects == len(spec["projects"])
    assert first.challenges == len(spec["challenges"])
    assert first.relations == len(spec["relations"]) > 0
    again = registry_seed(system)
    assert (again.organisations, again.projects, again.challenges, again.relations) == (
        0, 0, 0, 0)
    assert len(project_list(system)) == len(spec["projects"])
    assert [o.name for o in accounts.organisation_list(system)].count("molde") == 1
    programme = project_show(embedded.context(), "smart-molde-programme")
    assert programme.owner.id == molde.id
    assert str(programme.project.as_of) == "2022-03-23"
    assert "water" in programme.project.domains
    assert accounts.organisation_show(system, "nextdigital").kind == OrganisationKind.NETWORK


def test_seed_needs_a_system_administrator(embedded: Bylab) -> None:
    with pytest.raises(NotAuthorized):
        registry_seed(embedded.context())


def test_stage_changes_keep_who_and_when(embedded: Bylab, molde: Organisation) -> None:
    mia = editor_of(embedded, molde, "mia")
    before = datetime.now(UTC)
    project_create(mia, "molde", ProjectInput(name="test-sensors", title={"en": "Test"}))
    project_stage_set(mia, "test-sensors", Stage.PILOT)
    with pytest.raises(Conflict):
        project_stage_set(mia, "test-sensors", Stage.PILOT)
    with pytest.raises(InvalidInput) as no_reason:
        project_stage_set(mia, "test-sensors", Stage.STOPPED)
    assert no_reason.value.field == "reason"
    detail = project_stage_set(mia, "test-sensors", Stage.STOPPED, "no budget after 2025")
    assert detail.project.stage == Stage.STOPPED
    assert [c.stage for c in detail.history] == ["idea", "pilot", "stopped"]
    assert {c.changed_by for c in detail.history} == {"mia"}
    assert detail.history[-1].reason == "no budget after 2025"
    for change in detail.history:
        assert change.changed_at.replace(tzinfo=UTC) >= before.replace(microsecond=0)


def test_only_editors_of_the_owner_create_and_change(embedded: Bylab,
                                                     molde: Organisation) -> None:
    other = accounts.organisation_create(embedded.system_context(), "acme", "Acme AS",
                                         OrganisationKind.COMPANY)
    with pytest.raises(NotAuthorized):
        project_create(embedded.context(), "molde", ProjectInput(name="x1", title={"en": "X"}))
    with pytest.raises(NotAuthorized):
        challenge_create(editor_of(embedded, other, "ada"), "molde",
                         ChallengeInput(name="x2", title={"en": "X"}))
    project_create(editor_of(embedded, molde, "mia"), "molde",
                   ProjectInput(name="x3", title={"en": "X"}))
    with pytest.raises(NotAuthorized):
        project_stage_set(editor_of(embedded, other, "ada"), "x3", Stage.PILOT)
    assert project_show(embedded.context(), "x3").project.stage == Stage.IDEA


def test_unknown_taxonomy_terms_are_refused(embedded: Bylab, molde: Organisation) -> None:
    with pytest.raises(InvalidInput) as error:
        project_create(editor_of(embedded, molde, "mia"), "molde",
                       ProjectInput(name="bad-terms", title={"en": "X"}, domains=["waterworks"]))
    assert error.value.field == "domains"


@pytest.fixture
def twin_records(embedded: Bylab, molde: Organisation) -> Context:
    """Hand-written test records (not real initiatives): one tagged 'digital twin' with
    English and Polish titles, one only mentioning twins in Swedish text, one unrelated."""
    mia = editor_of(embedded, molde, "mia")
    project_create(mia, "molde", ProjectInput(
        name="test-twin", title={"en": "Harbour model", "pl": "Model portu"},
        technologies=["digital_twin"], domains=["mobility"]))
    project_create(mia, "molde", ProjectInput(
        name="test-swedish", title={"sv": "Stadsmodell"},
        description={"sv": "Vi bygger digitala tvillingar av kvarter."}))
    project_create(mia, "molde", ProjectInput(
        name="test-unrelated", title={"en": "Library opening hours"}, domains=["education"]))
    return embedded.context()


def test_norwegian_query_finds_twin_records_through_the_taxonomy(twin_records: Context) -> None:
    hits = registry_search(twin_records, "digital tvilling", lang="nb")
    assert [hit.name for hit in hits] == ["test-twin", "test-swedish"]
    assert hits[0].reasons[0].text == "taxonomy: 'digital tvilling' ↔ 'digital twin'"
    assert hits[0].score > hits[1].score
    assert hits[1].reasons[0].text == (  # then, with embeddings on, their similarity
        "taxonomy: 'digital tvilling' ↔ 'digital tvilling' (sv, in text)")
    polish = registry_search(twin_records, "cyfrowy blizniak", lang="pl")  # accents left out
    assert polish[0].name == "test-twin"
    assert polish[0].title == "Model portu"
    assert "taxonomy: 'cyfrowy bliźniak'" in polish[0].reason


def test_search_folds_accents_and_filters_by_type(embedded: Bylab) -> None:
    registry_seed(embedded.system_context())
    ctx = embedded.context()
    water = registry_search(ctx, "vann")
    assert water[0].name == "smart-molde-programme"
    assert "taxonomy: 'vann' ↔ 'water'" in water[0].reason
    assert all("water" in project_show(ctx, hit.id).project.domains for hit in water)
    alesund = {hit.name for hit in registry_search(ctx, "Alesund", type="project")}
    assert {"alesund-smart-city-lab", "smart-data-molde-alesund-kristiansund"} <= alesund
    assert {hit.type for hit in registry_search(ctx, "governance", type="challenge")} == {
        "challenge"}
    with pytest.raises(InvalidInput):
        registry_search(ctx, "  ")
