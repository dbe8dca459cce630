"""Matching a challenge to projects, solutions and actors elsewhere, and "who else does this";
validation of place ids and KPI codes."""

from __future__ import annotations

import pytest

from bylab.auth import actions as accounts
from bylab.auth.actor import Actor
from bylab.auth.models import Organisation, OrganisationKind, Role
from bylab.core import Bylab, Context
from bylab.errors import InvalidInput
from bylab.places.models import Place
from bylab.registry.actions import (
    ChallengeInput,
    PartnerInput,
    ProjectInput,
    SolutionInput,
    challenge_create,
    project_create,
    project_stage_set,
    solution_create,
)
from bylab.registry.matching import challenge_matches, project_similar
from bylab.registry.models import Stage

WATER_KPI = "EC: ICT: WS: 1C"  # Smart Water Meters, category Water and Sanitation


def editor(bylab: Bylab, organisation: Organisation, username: str) -> Context:
    return bylab.context(Actor(user_id=f"id-{username}", username=username,
                               roles={organisation.id: Role.EDITOR}))


@pytest.fixture
def world(embedded: Bylab) -> Bylab:
    """Hand-written test records, not real initiatives. Molde poses a leakage challenge (in
    Norwegian); Ålesund (similar area) runs a tagged water project in operation with Acme as
    partner; Poznań (large area) a Polish leak project only in its text; Acme offers a
    sensor solution deployed in Ålesund's project; Ålesund also runs an unrelated one."""
    system = embedded.system_context()
    with embedded.db.session() as session:
        for place_id, area in (("NO-1506", 363.0), ("NO-1508", 633.0), ("PL-3064", 4000.0)):
            session.add(Place(id=place_id, country=place_id[:2], level="municipality",
                              code=place_id[3:], code_scheme="test", name=place_id,
                              area_km2=area))
    orgs = {name: accounts.organisation_create(system, name, title, kind, place_id=place)
            for name, title, kind, place in (
                ("molde", "Molde kommune", OrganisationKind.MUNICIPALITY, "NO-1506"),
                ("alesund", "Ålesund kommune", OrganisationKind.MUNICIPALITY, "NO-1508"),
                ("poznan", "Miasto Poznań", OrganisationKind.MUNICIPALITY, "PL-3064"),
                ("acme", "Acme AS", OrganisationKind.COMPANY, None))}
    challenge_create(editor(embedded, orgs["molde"], "mia"), "molde", ChallengeInput(
        name="test-leaks", title={"nb": "Finne lekkasjer i vannforsyning"},
        needs={"nb": "Vi trenger sensorer som varsler lekkasjer."}, domains=["water"],
        kpi_codes=[WATER_KPI]))
    ola = editor(embedded, orgs["alesund"], "ola")
    project_create(ola, "alesund", ProjectInput(
        name="test-water-sensors", title={"en": "Water network sensors"}, domains=["water"],
        technologies=["iot_sensors"], place_ids=["NO-1508"],
        partners=[PartnerInput("acme", "sensor supplier")]))
    project_stage_set(ola, "test-water-sensors", Stage.OPERATION)
    project_create(ola, "alesund", ProjectInput(
        name="test-library", title={"en": "Library opening hours"}, domains=["education"],
        place_ids=["NO-1508"]))
    project_create(editor(embedded, orgs["poznan"], "piotr"), "poznan", ProjectInput(
        name="test-wodociagi", title={"pl": "Wykrywanie wycieków"},
        description={"pl": "Wodociągi miejskie: czujniki ciśnienia."}, place_ids=["PL-3064"]))
    solution_create(editor(embedded, orgs["acme"], "ada"), "acme", SolutionInput(
        name="test-leak-sensor", title={"en": "Leak sensor"}, domains=["water"],
        technologies=["iot_sensors"], project_ids=["test-water-sensors"]))
    return embedded


def test_challenge_matches_rank_records_and_actors_with_reasons(world: Bylab) -> None:
    matches = challenge_matches(world.context(), "test-leaks")
    names = [match.name for match in matches]
    assert names[0] == "test-water-sensors"
    assert "test-library" not in names and "molde" not in names  # unrelated; the owner
    top = matches[0]
    kinds = [reason.kind for reason in top.reasons]
    assert kinds == ["domain", "term", "kpi", "stage", "size"]
    assert top.reasons[0].text == "shared domain: water"
    assert top.reasons[1].text == "shared term: 'sensorer' ↔ 'IoT sensors'"
    assert top.reasons[2].text.startswith(f"KPI {WATER_KPI} (Smart Water Meters) ↔ water")
    assert top.reasons[3].text == "stage reached: operation"
    assert top.reasons[4].text == "similar area: NO-1508 633 km², NO-1506 363 km²"
    assert top.score == pytest.approx(2.0 + 1.5 + 1.0 + 1.0 + 0.5)
    polish = next(match for match in matches if match.name == "test-wodociagi")
    assert [reason.kind for reason in polish.reasons] == ["term", "term"]  # no size: 4000 km²
    assert polish.reasons[0].text.startswith("term in text: 'vannforsyning'")
    solution = next(match for match in matches if match.type == "solution")
    assert solution.name == "test-leak-sensor" and solution.reason.endswith("; deployed in 1 project")
    acme = next(match for match in matches if match.name == "acme")
    assert acme.type == "actor" and acme.organisation == "company"
    assert [reason.kind for reason in acme.reasons] == ["owner", "partner"]
    assert acme.score == pytest.approx(solution.score + 0.25)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_who_else_does_this_leaves_out_the_owner(world: Bylab) -> None:
    similar = project_similar(world.context(), "test-water-sensors")
    names = [match.name for match in similar]
    assert names[0] == "test-leak-sensor"  # acme's; shares water and IoT sensors
    assert "test-wodociagi" in names
    assert not {"test-library", "alesund"} & set(names)


def test_bad_place_ids_and_kpi_codes_are_refused(world: Bylab) -> None:
    ctx = world.system_context()
    for place_id in ("Molde", "NO-9999"):  # malformed; Norway is loaded, 9999 is not in it
        with pytest.raises(InvalidInput) as error:
            project_create(ctx, "molde", ProjectInput(name="test-bad", title={"en": "X"},
                                                      place_ids=[place_id]))
        assert error.value.field == "place_ids" and place_id in str(error.value)
    # Sweden is not loaded here, so a well-formed Swedish id is taken on trust.
    project_create(ctx, "molde", ProjectInput(name="test-se", title={"en": "X"},
                                              place_ids=["SE-1480"]))
    with pytest.raises(InvalidInput) as error:
        challenge_create(ctx, "molde", ChallengeInput(name="test-bad", title={"en": "X"},
                                                      kpi_codes=["WATER-1"]))
    assert error.value.field == "kpi_codes"
