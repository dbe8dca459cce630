"""Registry actions: create, show and list projects, challenges and solutions, and move a
project through its stages with the history kept. Anyone may read; editors of an
organisation create records for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from bylab.auth.actions import check_name, organisation_get
from bylab.auth.models import Organisation
from bylab.catalog.queries import fold_text
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.registry.checks import check_kpi_codes, check_place_ids, check_text_lists
from bylab.registry.documents import documents_of, project_files_remove
from bylab.registry.funding import (
    FundingInput,
    FundingView,
    Money,
    check_money,
    funding_of,
    funding_replace,
    totals_by_currency,
)
from bylab.registry.models import (
    Challenge,
    Comment,
    Follow,
    Project,
    ProjectDocument,
    ProjectPartner,
    Solution,
    Stage,
    StageChange,
)
from bylab.registry.index import index_record
from bylab.registry.results import (
    ResultInput,
    ResultView,
    results_evaluated,
    results_of,
    results_replace,
)
from bylab.registry.notify import notify_followers
from bylab.registry.taxonomy import check_terms
from bylab.web.i18n import N_


@dataclass(frozen=True)
class PartnerInput:
    organisation: str  # name or id
    role: str = ""


@dataclass(frozen=True)
class PartnerView:
    organisation: Organisation
    role: str


@dataclass(frozen=True)
class ProjectDetail:
    project: Project
    owner: Organisation
    partners: list[PartnerView] = field(default_factory=list)
    history: list[StageChange] = field(default_factory=list)
    funding: list[FundingView] = field(default_factory=list)
    funding_totals: list[Money] = field(default_factory=list)  # one per currency
    results: list[ResultView] = field(default_factory=list)
    documents: list[ProjectDocument] = field(default_factory=list)

    @property
    def budget(self) -> Money | None:
        project = self.project
        return (Money(project.budget_amount, project.budget_currency)
                if project.budget_amount is not None else None)


@dataclass(frozen=True)
class ProjectInput:
    name: str
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    domains: Sequence[str] = ()
    technologies: Sequence[str] = ()
    place_ids: Sequence[str] = ()
    partners: Sequence[PartnerInput] = ()
    links: Sequence[str] = ()
    stage: Stage = Stage.IDEA
    as_of: date | None = None
    source: str = ""
    budget_amount: Decimal | None = None
    budget_currency: str = ""  # ISO 4217
    success_factors: dict[str, list[str]] = field(default_factory=dict)  # by language
    lessons_learned: dict[str, list[str]] = field(default_factory=dict)
    # None keeps what the project has (on update); a sequence replaces it.
    funding: Sequence[FundingInput] | None = None
    results: Sequence[ResultInput] | None = None


@dataclass(frozen=True)
class ChallengeInput:
    name: str
    title: dict[str, str]
    needs: dict[str, str] = field(default_factory=dict)
    constraints: dict[str, str] = field(default_factory=dict)  # by language
    deadline: date | None = None
    domains: Sequence[str] = ()
    kpi_codes: Sequence[str] = ()
    as_of: date | None = None
    source: str = ""


@dataclass(frozen=True)
class SolutionInput:
    name: str
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    domains: Sequence[str] = ()
    technologies: Sequence[str] = ()
    project_ids: Sequence[str] = ()  # names or ids of projects it is deployed in


def record_path(record_type: str, name: str) -> str:
    """The address of a record's page."""
    return f"/registry/{record_type}s/{name}"


def _check_title(title: dict[str, str]) -> dict[str, str]:
    cleaned = {lang: text.strip() for lang, text in title.items() if text and text.strip()}
    if not cleaned:
        raise InvalidInput("give a title in at least one language", field="title")
    return cleaned


def _owner_for_edit(session: Session, ctx: Context, organisation: str) -> Organisation:
    owner = organisation_get(session, organisation)
    if not ctx.actor.can_edit(owner.id):
        raise NotAuthorized("only editors of '{organisation}' may add records for it",
                            organisation=owner.name)
    return owner


def _check_free(session: Session, model: type[Project | Challenge | Solution],
                name: str) -> None:
    check_name(name)
    if session.scalar(select(model.id).where(model.name == name)):
        raise Conflict("a record named '{name}' exists already", field="name", name=name)


def _nonblank(texts: dict[str, str]) -> dict[str, str]:
    return {lang: text.strip() for lang, text in texts.items() if text and text.strip()}


SearchPart = str | dict[str, str] | dict[str, list[str]] | Sequence[str]


def _search_text(*parts: SearchPart) -> str:
    flat: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            for value in part.values():
                flat += [value] if isinstance(value, str) else value
        elif isinstance(part, str):
            flat.append(part)
        else:
            flat += part
    return fold_text(" ".join(flat))


def _project_search_text(project: Project, owner_title: str,
                         partner_titles: Sequence[str]) -> str:
    return _search_text(project.name, project.title, project.description, owner_title,
                        partner_titles, project.success_factors, project.lessons_learned)


def _challenge_search_text(challenge: Challenge, owner_title: str) -> str:
    return _search_text(challenge.name, challenge.title, challenge.needs, challenge.constraints,
                        owner_title)


def _solution_search_text(solution: Solution, owner_title: str) -> str:
    return _search_text(solution.name, solution.title, solution.description, owner_title)


def _set_outcomes(session: Session, ctx: Context, project: Project, data: ProjectInput) -> None:
    """Budget, success factors and lessons of ``data``; its funding and results unless
    None (kept as they are)."""
    budget = check_money(data.budget_amount, data.budget_currency, "budget_amount",
                         "budget_currency")
    project.budget_amount = budget.amount if budget else None
    project.budget_currency = budget.currency if budget else ""
    project.success_factors = check_text_lists(data.success_factors, "success_factors")
    project.lessons_learned = check_text_lists(data.lessons_learned, "lessons_learned")
    if data.funding is not None:
        funding_replace(session, project, data.funding)
    if data.results is not None:
        results_replace(session, project, data.results, ctx.actor.username or "")


def project_create(ctx: Context, organisation: str, data: ProjectInput) -> ProjectDetail:
    """Create a project of ``organisation`` (editors of it only); its first stage is the
    start of its history."""
    with ctx.db.session() as session:
        project = project_add(session, ctx, organisation, data)
    return project_show(ctx, project.id)


def project_add(session: Session, ctx: Context, organisation: str,
                data: ProjectInput) -> Project:
    """``project_create`` within the caller's transaction."""
    owner = _owner_for_edit(session, ctx, organisation)
    _check_free(session, Project, data.name)
    partners = [(organisation_get(session, p.organisation), p.role) for p in data.partners]
    title = _check_title(data.title)
    project = Project(
        name=data.name, organisation_id=owner.id, title=title,
        description=dict(data.description),
        domains=check_terms(list(data.domains), "domains"),
        technologies=check_terms(list(data.technologies), "technologies"),
        place_ids=check_place_ids(session, data.place_ids), links=list(data.links),
        stage=Stage(data.stage),
        as_of=data.as_of, source=data.source, created_by=ctx.actor.username or "")
    session.add(project)
    session.flush()
    _set_outcomes(session, ctx, project, data)
    project.search_text = _project_search_text(project, owner.title,
                                               [org.title for org, _ in partners])
    index_record(session, "project", project)
    for partner, role in partners:
        session.add(ProjectPartner(project_id=project.id, organisation_id=partner.id,
                                   role=role))
    session.add(StageChange(project_id=project.id, stage=project.stage,
                            reason="created", changed_by=project.created_by))
    return project


Record = TypeVar("Record", Project, Challenge, Solution)
# A message for each kind of record, so that each is a sentence of its own to translate.
_NO_RECORD = {"project": N_("no project '{name}'"), "challenge": N_("no challenge '{name}'"),
              "solution": N_("no solution '{name}'")}
_EDITORS_ONLY = {
    "project": N_("only editors of the project's organisation may change it"),
    "challenge": N_("only editors of the challenge's organisation may change it"),
    "solution": N_("only editors of the solution's organisation may change it")}


def record_get(session: Session, model: type[Record], name_or_id: str, kind: str) -> Record:
    record = session.scalar(select(model).where(
        (model.id == name_or_id) | (model.name == name_or_id)))
    if record is None:
        raise NotFound(_NO_RECORD[kind], field=kind, name=name_or_id)
    return record


def _project_get(session: Session, name_or_id: str) -> Project:
    return record_get(session, Project, name_or_id, "project")


def record_for_edit(session: Session, ctx: Context, model: type[Record], name_or_id: str,
              kind: str) -> Record:
    record = record_get(session, model, name_or_id, kind)
    if not ctx.actor.can_edit(record.organisation_id):
        raise NotAuthorized(_EDITORS_ONLY[kind])
    return record


def project_update(ctx: Context, name_or_id: str, data: ProjectInput) -> ProjectDetail:
    """Change a project's texts, terms, places and links (editors of its owner). Its name,
    owner, partners and stage stay (the stage moves through ``project_stage_set``)."""
    with ctx.db.session() as session:
        project = record_for_edit(session, ctx, Project, name_or_id, "project")
        owner = session.get_one(Organisation, project.organisation_id)
        project.title = _check_title(data.title)
        project.description = dict(data.description)
        project.domains = check_terms(list(data.domains), "domains")
        project.technologies = check_terms(list(data.technologies), "technologies")
        project.place_ids = check_place_ids(session, data.place_ids)
        project.links = list(data.links)
        _set_outcomes(session, ctx, project, data)
        partner_titles = session.scalars(select(Organisation.title).join(
            ProjectPartner, ProjectPartner.organisation_id == Organisation.id).where(
            ProjectPartner.project_id == project.id))
        project.search_text = _project_search_text(project, owner.title, list(partner_titles))
        index_record(session, "project", project)
    return project_show(ctx, project.id)


def project_delete(ctx: Context, name_or_id: str) -> None:
    """Delete a project (editors of its owner) with its partners, history, funding,
    results and documents; its files go once the deletion has committed."""
    with ctx.db.session() as session:
        project = record_for_edit(session, ctx, Project, name_or_id, "project")
        project_id, settings = project.id, ctx.settings
        index_record(session, "project", project, remove=True)
        for about_it in (Follow, Comment):  # they name the record without a foreign key
            session.execute(delete(about_it).where(about_it.target_type == "project",
                                                   about_it.target_id == project_id))
        session.delete(project)
        event.listen(session, "after_commit",
                     lambda _session: project_files_remove(settings, project_id), once=True)


def challenge_update(ctx: Context, name_or_id: str, data: ChallengeInput) -> Challenge:
    """Change a challenge's texts, domains, KPIs and deadline (editors of its owner)."""
    with ctx.db.session() as session:
        challenge = record_for_edit(session, ctx, Challenge, name_or_id, "challenge")
        owner = session.get_one(Organisation, challenge.organisation_id)
        challenge.title = _check_title(data.title)
        challenge.needs = dict(data.needs)
        challenge.constraints = _nonblank(data.constraints)
        challenge.domains = check_terms(list(data.domains), "domains")
        challenge.kpi_codes = check_kpi_codes(data.kpi_codes)
        challenge.deadline = data.deadline
        challenge.search_text = _challenge_search_text(challenge, owner.title)
        index_record(session, "challenge", challenge)
    return challenge


def solution_update(ctx: Context, name_or_id: str, data: SolutionInput) -> Solution:
    """Change a solution's texts, terms and the projects it is deployed in (editors of its
    owner)."""
    with ctx.db.session() as session:
        solution = record_for_edit(session, ctx, Solution, name_or_id, "solution")
        owner = session.get_one(Organisation, solution.organisation_id)
        solution.title = _check_title(data.title)
        solution.description = dict(data.description)
        solution.domains = check_terms(list(data.domains), "domains")
        solution.technologies = check_terms(list(data.technologies), "technologies")
        solution.project_ids = [_project_get(session, ref).id for ref in data.project_ids]
        solution.search_text = _solution_search_text(solution, owner.title)
        index_record(session, "solution", solution)
    return solution


@dataclass(frozen=True)
class ActorRecords:
    organisation: Organisation
    projects: list[Project]
    partner_in: list[tuple[Project, str]]  # project, role
    challenges: list[Challenge]
    solutions: list[Solution]


def actor_show(ctx: Context, name_or_id: str) -> ActorRecords:
    """An organisation with the projects it runs or is a partner in, its challenges and its
    solutions."""
    with ctx.db.session() as session:
        org = organisation_get(session, name_or_id)
        owned = [list(session.scalars(select(model).where(model.organisation_id == org.id)
                                      .order_by(model.name)))
                 for model in (Project, Challenge, Solution)]
        partner_in = session.execute(
            select(Project, ProjectPartner.role)
            .join(ProjectPartner, ProjectPartner.project_id == Project.id)
            .where(ProjectPartner.organisation_id == org.id).order_by(Project.name))
        return ActorRecords(org, owned[0], [(p, role) for p, role in partner_in],
                            owned[1], owned[2])


def project_show(ctx: Context, name_or_id: str) -> ProjectDetail:
    """A project with its owner, partners and stage history (oldest first)."""
    with ctx.db.session() as session:
        project = _project_get(session, name_or_id)
        partners = session.execute(
            select(Organisation, ProjectPartner.role)
            .join(ProjectPartner, ProjectPartner.organisation_id == Organisation.id)
            .where(ProjectPartner.project_id == project.id).order_by(Organisation.name))
        history = session.scalars(select(StageChange).where(
            StageChange.project_id == project.id).order_by(StageChange.id))
        funding = funding_of(session, project.id)
        return ProjectDetail(project, session.get_one(Organisation, project.organisation_id),
                             [PartnerView(org, role) for org, role in partners], list(history),
                             funding, totals_by_currency(view.line for view in funding),
                             results_evaluated(session, ctx, results_of(session, project.id)),
                             documents_of(session, project.id))


def project_list(ctx: Context, domain: str | None = None,
                 organisation: str | None = None) -> list[Project]:
    """Projects by title, optionally of one domain or one owner organisation."""
    with ctx.db.session() as session:
        query = select(Project).order_by(Project.name)
        if organisation:
            query = query.where(Project.organisation_id == organisation_get(
                session, organisation).id)
        projects = list(session.scalars(query))
    return [p for p in projects if domain is None or domain in p.domains]


def project_stage_set(ctx: Context, name_or_id: str, stage: Stage,
                      reason: str = "") -> ProjectDetail:
    """Move a project to another stage (editors of its owner). Stopping needs a reason.
    Every change is kept in the history with who made it and when."""
    stage = Stage(stage)
    with ctx.db.session() as session:
        project = record_for_edit(session, ctx, Project, name_or_id, "project")
        if stage == project.stage:
            raise Conflict("the project is at stage '{stage}' already", field="stage",
                           stage=stage)
        if stage == Stage.STOPPED and not reason.strip():
            raise InvalidInput("say why the project stopped", field="reason")
        project.stage = stage
        session.add(StageChange(project_id=project.id, stage=stage, reason=reason.strip(),
                                changed_by=ctx.actor.username or ""))
        title = project.title.get("en") or next(iter(project.title.values()))
        because = f": {reason.strip()}" if reason.strip() else ""
        notify_followers(ctx, session, "project", project.id,
                         f"{ctx.actor.username} moved project '{title}' to stage "
                         f"'{stage}'{because}", record_path("project", project.name))
    return project_show(ctx, project.id)


def challenge_create(ctx: Context, organisation: str, data: ChallengeInput) -> Challenge:
    """Record a challenge ``organisation`` owns (editors of it only)."""
    with ctx.db.session() as session:
        return challenge_add(session, ctx, organisation, data)


def challenge_add(session: Session, ctx: Context, organisation: str,
                  data: ChallengeInput) -> Challenge:
    """``challenge_create`` within the caller's transaction."""
    owner = _owner_for_edit(session, ctx, organisation)
    _check_free(session, Challenge, data.name)
    title = _check_title(data.title)
    challenge = Challenge(
        name=data.name, organisation_id=owner.id, title=title, needs=dict(data.needs),
        constraints=_nonblank(data.constraints), deadline=data.deadline,
        domains=check_terms(list(data.domains), "domains"),
        kpi_codes=check_kpi_codes(data.kpi_codes), as_of=data.as_of, source=data.source,
        created_by=ctx.actor.username or "")
    challenge.search_text = _challenge_search_text(challenge, owner.title)
    session.add(challenge)
    index_record(session, "challenge", challenge)
    return challenge


def challenge_show(ctx: Context, name_or_id: str) -> Challenge:
    with ctx.db.session() as session:
        return record_get(session, Challenge, name_or_id, "challenge")


def _records_in_domain(ctx: Context, model: type[Record], domain: str | None) -> list[Record]:
    with ctx.db.session() as session:
        records = list(session.scalars(select(model).order_by(model.name)))
    return [record for record in records if domain is None or domain in record.domains]


def challenge_list(ctx: Context, domain: str | None = None) -> list[Challenge]:
    """Challenges by name, optionally of one domain."""
    return _records_in_domain(ctx, Challenge, domain)


def solution_create(ctx: Context, organisation: str, data: SolutionInput) -> Solution:
    """Record a solution ``organisation`` offers (editors of it only), with the projects
    it is deployed in."""
    with ctx.db.session() as session:
        return solution_add(session, ctx, organisation, data)


def solution_add(session: Session, ctx: Context, organisation: str,
                 data: SolutionInput) -> Solution:
    """``solution_create`` within the caller's transaction."""
    owner = _owner_for_edit(session, ctx, organisation)
    _check_free(session, Solution, data.name)
    title = _check_title(data.title)
    solution = Solution(
        name=data.name, organisation_id=owner.id, title=title,
        description=dict(data.description),
        domains=check_terms(list(data.domains), "domains"),
        technologies=check_terms(list(data.technologies), "technologies"),
        project_ids=[_project_get(session, ref).id for ref in data.project_ids],
        created_by=ctx.actor.username or "")
    solution.search_text = _solution_search_text(solution, owner.title)
    session.add(solution)
    index_record(session, "solution", solution)
    return solution


def solution_show(ctx: Context, name_or_id: str) -> Solution:
    with ctx.db.session() as session:
        return record_get(session, Solution, name_or_id, "solution")


def solution_list(ctx: Context, domain: str | None = None) -> list[Solution]:
    """Solutions by name, optionally of one domain."""
    return _records_in_domain(ctx, Solution, domain)
