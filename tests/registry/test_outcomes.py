"""Project evidence (budget, funding, KPI results, success factors, lessons, documents) and
challenge constraints and responses, through the registry's actions.

Indicator values below are hand-made test rows, NOT real figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from bylab.auth import actions as accounts
from bylab.auth.actions import actor_for_user
from bylab.auth.models import OrganisationKind, Role, User
from bylab.core import Bylab, Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound, TooLarge
from bylab.indicators.models import IndicatorValue
from bylab.registry.actions import (
    ChallengeInput,
    ProjectInput,
    challenge_create,
    challenge_update,
    project_create,
    project_delete,
    project_show,
    project_update,
)
from bylab.registry.collaboration import follow, notification_feed
from bylab.registry.documents import Upload, document_path, project_files_dir
from bylab.registry.funding import FundingInput, Money
from bylab.registry.graph import Edge, registry_graph
from bylab.registry.models import Follow, ResponseKind
from bylab.registry.outcomes import document_add, document_get, document_remove
from bylab.registry.responses import ResponseInput, response_add, response_status_set, responses_of
from bylab.registry.results import Origin, Outcome, ResultInput
from bylab.registry.search import registry_search

GHG = "EN: EN: AQ: 2C"  # t CO2e per inhabitant, lower is better
COVERAGE_4G = "EC: ICT: ICT: 4C"  # percent, higher is better
NO_DEFINITION = "EC: I: WS: 1C"  # a U4SSC KPI bylab has no definition (direction) for
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PASSWORD = "a long test password"


def _user(instance: Bylab, username: str, organisation: str) -> Context:
    system = instance.system_context()
    accounts.user_create(system, username, PASSWORD)
    accounts.membership_set(system, username, organisation, Role.EDITOR)
    with instance.db.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return instance.context(actor_for_user(session, user))


@pytest.fixture
def people(bylab: Bylab) -> dict[str, Context]:
    """Editors of Molde (mia), Ålesund (ola) and Acme (ada); a funder without members."""
    system = bylab.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune")
    accounts.organisation_create(system, "alesund", "Ålesund kommune")
    accounts.organisation_create(system, "acme", "Acme AS", OrganisationKind.COMPANY)
    accounts.organisation_create(system, "test-fund", "Test fund", OrganisationKind.NETWORK)
    return {name: _user(bylab, name, org)
            for name, org in (("mia", "molde"), ("ola", "alesund"), ("ada", "acme"))}


def _values(instance: Bylab, kpi: str, place: str, by_period: dict[str, float],
            dataset_ids: list[str] | None = None, unit: str = "t / person") -> None:
    rows = [{"kpi_code": kpi, "place_id": place, "period": period, "status": "computed",
             "value": value, "unit": unit, "reason": "", "dataset_ids": dataset_ids or [],
             "provenance": {}} for period, value in by_period.items()]
    with instance.db.session() as session:
        session.execute(insert(IndicatorValue), rows)


def _project(ctx: Context, **fields: object) -> ProjectInput:
    return ProjectInput(name="test-heat-pumps", title={"en": "Test heat pumps"},
                        **fields)  # type: ignore[arg-type]


def test_budget_and_funding_sum_per_currency(people: dict[str, Context]) -> None:
    mia = people["mia"]
    funding = [FundingInput(funder_organisation="test-fund", programme="Test programme",
                            amount=Decimal("1000000.50"), currency="nok", year_from=2021,
                            year_to=2023),
               FundingInput(funder_name="A named funder", amount=Decimal("250000"),
                            currency="NOK"),
               FundingInput(funder_name="EU test fund", amount=Decimal("40000"),
                            currency="EUR"),
               FundingInput(funder_name="In kind", programme="staff time")]
    detail = project_create(mia, "molde", _project(
        mia, budget_amount=Decimal("2000000"), budget_currency="NOK", funding=funding))
    assert detail.budget == Money(Decimal("2000000.00"), "NOK")
    assert [(view.funder, view.funder_organisation) for view in detail.funding] == [
        ("Test fund", "test-fund"), ("A named funder", ""), ("EU test fund", ""),
        ("In kind", "")]
    assert detail.funding[0].line.currency == "NOK"  # upper-cased
    assert isinstance(detail.funding[0].line.amount, Decimal)
    assert detail.funding_totals == [Money(Decimal("40000.00"), "EUR"),
                                     Money(Decimal("1250000.50"), "NOK")]
    # An update without funding keeps it; one with funding replaces it.
    kept = project_update(mia, "test-heat-pumps", _project(mia))
    assert len(kept.funding) == 4 and kept.budget is None
    replaced = project_update(mia, "test-heat-pumps", _project(mia, funding=funding[:1]))
    assert replaced.funding_totals == [Money(Decimal("1000000.50"), "NOK")]


def test_funders_of_bylab_fund_projects_in_the_graph(people: dict[str, Context]) -> None:
    mia = people["mia"]
    funding = [FundingInput(funder_organisation="test-fund", amount=Decimal("5"),
                            currency="NOK"),
               FundingInput(funder_organisation="test-fund", programme="a second line"),
               FundingInput(funder_name="A named funder")]  # no organisation: no node
    project_create(mia, "molde", _project(mia, domains=["energy"], place_ids=["NO-1506"],
                                          funding=funding))

    def edges(**filters: str) -> set[tuple[str, str, str]]:
        graph = registry_graph(mia, **filters)
        return {(edge.source, edge.target, edge.relation) for edge in graph.edges}

    funds = ("actor:test-fund", "project:test-heat-pumps", "funds")
    runs = ("actor:molde", "project:test-heat-pumps", "runs")
    assert {funds, runs} <= edges()
    assert [edge for edge in registry_graph(mia).edges if edge.relation == "funds"] == [
        Edge(*funds)]  # one edge for its two lines
    assert {funds, runs} <= edges(term="energy", region="NO-15")
    assert not {funds, runs} & edges(term="water")
    assert funds in edges(actor_kind="network") and runs not in edges(actor_kind="network")
    assert runs in edges(actor_kind="municipality")
    assert funds not in edges(actor_kind="municipality")


@pytest.mark.parametrize(("fields", "field"), [
    ({"budget_amount": Decimal("10"), "budget_currency": "XYZ"}, "budget_currency"),
    ({"budget_amount": Decimal("10")}, "budget_currency"),
    ({"budget_amount": 10.5, "budget_currency": "NOK"}, "budget_amount"),
    ({"budget_amount": Decimal("-1"), "budget_currency": "NOK"}, "budget_amount"),
    ({"budget_amount": Decimal("1.005"), "budget_currency": "NOK"}, "budget_amount"),
    ({"funding": [FundingInput(amount=Decimal("5"), currency="NOK")]}, "funder"),
    ({"funding": [FundingInput(funder_name="X", amount=Decimal("5"))]}, "currency"),
    ({"funding": [FundingInput(funder_name="X", year_from=2024, year_to=2020)]}, "years"),
    ({"results": [ResultInput("WATER-1", "NO-1506", "2020", "2023")]}, "kpi_code"),
    ({"results": [ResultInput(GHG, "1506", "2020", "2023")]}, "place_id"),
    ({"results": [ResultInput(GHG, "NO-1506", "2020", "2020")]}, "after_period"),
    ({"results": [ResultInput(GHG, "NO-1506", "2020", "2023", reported_before=3.0)]},
     "reported_source"),
    ({"success_factors": {"xx": ["a"]}}, "success_factors"),
])
def test_bad_evidence_names_the_field(people: dict[str, Context], fields: dict[str, object],
                                      field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        project_create(people["mia"], "molde", _project(people["mia"], **fields))
    assert error.value.field == field
    with pytest.raises(NotFound):  # nothing was created
        project_show(people["mia"], "test-heat-pumps")


def test_results_read_the_engine_and_respect_its_access_rule(
        bylab: Bylab, people: dict[str, Context]) -> None:
    _values(bylab, GHG, "NO-1506", {"2019": 5.0, "2023": 4.0})  # lower is better
    _values(bylab, COVERAGE_4G, "NO-1506", {"2019": 90.0, "2023": 80.0}, unit="percent")
    _values(bylab, NO_DEFINITION, "NO-1506", {"2019": 40.0, "2023": 41.0}, unit="person / km2")
    _values(bylab, GHG, "NO-1508", {"2019": 6.0, "2023": 7.0}, ["private-dataset"])
    mia = people["mia"]
    project_create(mia, "molde", _project(mia, results=[
        ResultInput(GHG, "NO-1506", "2019", "2023"),
        ResultInput(COVERAGE_4G, "NO-1506", "2019", "2023"),
        ResultInput(NO_DEFINITION, "NO-1506", "2019", "2023"),
        ResultInput(GHG, "NO-1508", "2019", "2023"),  # fed by a dataset mia may not see
        ResultInput(GHG, "NO-1505", "2019", "2023", reported_before=3.5,
                    reported_unit="t / person", reported_source="Test report, p. 4")]))
    results = project_show(mia, "test-heat-pumps").results
    assert [view.outcome for view in results] == [
        Outcome.IMPROVED, Outcome.WORSENED, Outcome.NO_DIRECTION, Outcome.NO_DATA,
        Outcome.NO_DATA]
    ghg = results[0]
    assert (ghg.before.value, ghg.after.value, ghg.change) == (5.0, 4.0, -1.0)
    assert ghg.before.origin == Origin.COMPUTED and ghg.after.unit == "t / person"
    assert ghg.after.provenance == (
        "/api/indicators/value?kpi=EN%3A+EN%3A+AQ%3A+2C&place=NO-1506&period=2023")
    hidden = results[3]
    assert hidden.before.value is None and hidden.before.origin == Origin.NONE
    reported = results[4]
    assert (reported.before.value, reported.before.origin) == (3.5, Origin.REPORTED)
    assert reported.after.origin == Origin.NONE and reported.source == "Test report, p. 4"
    # The system sees the private value: the same result then worsened.
    assert project_show(bylab.system_context(), "test-heat-pumps").results[3].outcome == (
        Outcome.WORSENED)


def test_a_computed_value_wins_over_a_reported_one(bylab: Bylab,
                                                   people: dict[str, Context]) -> None:
    _values(bylab, GHG, "NO-1506", {"2023": 4.0})
    mia = people["mia"]
    project_create(mia, "molde", _project(mia, results=[ResultInput(
        GHG, "NO-1506", "2019", "2023", reported_before=4.5, reported_after=9.0,
        reported_unit="t / person", reported_source="Test report")]))
    view = project_show(mia, "test-heat-pumps").results[0]
    assert (view.before.value, view.before.origin) == (4.5, Origin.REPORTED)
    assert (view.after.value, view.after.origin) == (4.0, Origin.COMPUTED)
    assert view.outcome == Outcome.IMPROVED


def test_success_factors_lessons_and_constraints_are_searchable(
        people: dict[str, Context]) -> None:
    mia = people["mia"]
    project_create(mia, "molde", _project(
        mia, success_factors={"en": ["Early involvement of the caretakers"]},
        lessons_learned={"nb": ["Vaktmesterne må med fra start"]}))
    challenge_create(mia, "molde", ChallengeInput(
        name="test-snow", title={"en": "Test snow clearing"},
        constraints={"en": "Procurement must follow the framework agreement"}))
    assert "test-heat-pumps" in {hit.name for hit in registry_search(mia, "caretakers")}
    assert "test-heat-pumps" in {hit.name for hit in registry_search(mia, "vaktmesterne")}
    assert "test-snow" in {hit.name for hit in registry_search(mia, "framework agreement")}
    updated = challenge_update(mia, "test-snow", ChallengeInput(
        name="test-snow", title={"en": "Test snow clearing"}, constraints={}))
    assert updated.constraints == {}


def test_documents_are_checked_stored_and_removed_with_the_project(
        bylab: Bylab, people: dict[str, Context]) -> None:
    mia, ola = people["mia"], people["ola"]
    project_create(mia, "molde", _project(mia))
    document = document_add(mia, "test-heat-pumps", Upload("final report.pdf",
                                                           "application/pdf", PDF),
                            "Final report", "en")
    stored, path = document_get(ola, "test-heat-pumps", document.id)
    assert (stored.title, stored.size_bytes, stored.media_type) == (
        "Final report", len(PDF), "application/pdf")
    assert path.read_bytes() == PDF and path.is_relative_to(bylab.settings.data_dir)
    assert [d.title for d in project_show(ola, "test-heat-pumps").documents] == ["Final report"]
    with pytest.raises(NotAuthorized):
        document_add(ola, "test-heat-pumps", Upload("x.pdf", "application/pdf", PDF))
    bad = [Upload("notes.txt", "text/plain", b"hello"),  # not an allowed kind
           Upload("fake.pdf", "application/pdf", b"MZ\x90\x00"),  # not a PDF inside
           Upload("photo.png", "application/pdf", b"\x89PNG\r\n\x1a\n")]  # type disagrees
    for upload in bad:
        with pytest.raises(InvalidInput) as error:
            document_add(mia, "test-heat-pumps", upload)
        assert error.value.field == "file"
    with pytest.raises(TooLarge):
        document_add(mia, "test-heat-pumps",
                     Upload("big.pdf", "application/pdf", PDF + b"0" * (25 * 2**20)))
    assert len(list(project_files_dir(bylab.settings, project_show(
        mia, "test-heat-pumps").project.id).iterdir())) == 1  # refused files left nothing
    second = document_add(mia, "test-heat-pumps", Upload("plan.pdf", "", PDF))
    document_remove(mia, "test-heat-pumps", second.id)
    assert not document_path(bylab.settings, second).exists()
    folder = path.parent
    follow(ola, "project", "test-heat-pumps")
    project_delete(mia, "test-heat-pumps")
    assert not folder.exists()
    with bylab.db.session() as session:
        assert session.scalar(select(Follow.user_id)) is None
    assert "test-heat-pumps" not in {hit.name for hit in registry_search(mia, "heat pumps")}


def _challenge(mia: Context) -> None:
    challenge_create(mia, "molde", ChallengeInput(name="test-flooding",
                                                  title={"en": "Test flooding"}))


def test_responses_by_other_organisations_and_decisions_by_the_owner(
        bylab: Bylab, people: dict[str, Context]) -> None:
    mia, ola, ada = people["mia"], people["ola"], people["ada"]
    _challenge(mia)
    project_create(ola, "alesund", ProjectInput(name="test-sensors",
                                                title={"en": "Test sensors"}))
    follow(mia, "challenge", "test-flooding")
    case = response_add(ola, "test-flooding", ResponseInput(
        ResponseKind.CASE, "We did this in Ålesund", project="test-sensors"))
    idea = response_add(ada, "test-flooding", ResponseInput(ResponseKind.IDEA, "Green roofs"))
    with pytest.raises(InvalidInput) as own:
        response_add(mia, "test-flooding", ResponseInput(ResponseKind.IDEA, "Us"))
    assert own.value.field == "organisation"
    with pytest.raises(NotAuthorized):
        response_add(bylab.context(), "test-flooding", ResponseInput(ResponseKind.IDEA, "x"))
    with pytest.raises(InvalidInput) as no_project:
        response_add(ola, "test-flooding", ResponseInput(ResponseKind.CASE, "x"))
    assert no_project.value.field == "project"
    with pytest.raises(NotAuthorized):
        response_status_set(ola, "test-flooding", idea.id, "accepted")
    response_status_set(mia, "test-flooding", case.id, "shortlisted")
    with pytest.raises(InvalidInput):
        response_status_set(mia, "test-flooding", case.id, "maybe")
    views = responses_of(ada, "test-flooding")
    assert [(v.organisation.name, v.response.kind, v.response.status, v.response.created_by)
            for v in views] == [("alesund", "case", "shortlisted", "ola"),
                                ("acme", "idea", "open", "ada")]
    assert views[0].project is not None and views[0].project.name == "test-sensors"
    assert views[0].response.status_by == "mia" and views[0].response.status_at is not None
    assert [n.message for n in notification_feed(mia)] == [
        "Acme AS responded to challenge 'Test flooding' with an idea",
        "Ålesund kommune responded to challenge 'Test flooding' with a case"]
    assert notification_feed(ola)[0].message == (
        "mia marked the response of Ålesund kommune to challenge 'Test flooding' shortlisted")


def test_a_member_of_several_organisations_says_which_responds(
        bylab: Bylab, people: dict[str, Context]) -> None:
    accounts.membership_set(bylab.system_context(), "ola", "acme", Role.VIEWER)
    with bylab.db.session() as session:
        ola = bylab.context(actor_for_user(session, session.scalars(
            select(User).where(User.username == "ola")).one()))
    _challenge(people["mia"])
    with pytest.raises(InvalidInput) as which:
        response_add(ola, "test-flooding", ResponseInput(ResponseKind.IDEA, "An idea"))
    assert which.value.field == "organisation"
    response = response_add(ola, "test-flooding", ResponseInput(
        ResponseKind.IDEA, "An idea", organisation="acme"))
    assert responses_of(ola, "test-flooding")[0].organisation.name == "acme"
    assert response.created_by == "ola"

