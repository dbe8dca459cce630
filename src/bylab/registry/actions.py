"""Registry actions: create, show and list projects, challenges and solutions, and move a
project through its stages with the history kept. Anyone may read; editors of an
organisation create records for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.actions import check_name, organisation_get
from bylab.auth.models import Organisation
from bylab.catalog.queries import fold_text
from bylab.core import Context
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.registry.models import Challenge, Project, ProjectPartner, Solution, Stage, StageChange
from bylab.registry.taxonomy import check_terms


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


@dataclass(frozen=True)
class ChallengeInput:
    name: str
    title: dict[str, str]
    needs: dict[str, str] = field(default_factory=dict)
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


def _check_title(title: dict[str, str]) -> dict[str, str]:
    cleaned = {lang: text.strip() for lang, text in title.items() if text and text.strip()}
    if not cleaned:
        raise InvalidInput("give a title in at least one language", field="title")
    return cleaned


def _owner_for_edit(session: Session, ctx: Context, organisation: str) -> Organisation:
    owner = organisation_get(session, organisation)
    if not ctx.actor.can_edit(owner.id):
        raise NotAuthorized(f"only editors of '{owner.name}' may add records for it")
    return owner


def _check_free(session: Session, model: type[Project | Challenge | Solution],
                name: str) -> None:
    check_name(name)
    if session.scalar(select(model.id).where(model.name == name)):
        raise Conflict(f"a record named '{name}' exists already", field="name")


def _search_text(*parts: str | dict[str, str] | Sequence[str]) -> str:
    flat: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            flat += part.values()
        elif isinstance(part, str):
            flat.append(part)
        else:
            flat += part
    return fold_text(" ".join(flat))


def project_create(ctx: Context, organisation: str, data: ProjectInput) -> ProjectDetail:
    """Create a project of ``organisation`` (editors of it only); its first stage is the
    start of its history."""
    with ctx.db.session() as session:
        owner = _owner_for_edit(session, ctx, organisation)
        _check_free(session, Project, data.name)
        partners = [(organisation_get(session, p.organisation), p.role) for p in data.partners]
        title = _check_title(data.title)
        project = Project(
            name=data.name, organisation_id=owner.id, title=title,
            description=dict(data.description),
            domains=check_terms(list(data.domains), "domains"),
            technologies=check_terms(list(data.technologies), "technologies"),
            place_ids=list(data.place_ids), links=list(data.links), stage=Stage(data.stage),
            as_of=data.as_of, source=data.source, created_by=ctx.actor.username or "",
            search_text=_search_text(data.name, title, data.description, owner.title,
                                     [org.title for org, _ in partners]))
        session.add(project)
        session.flush()
        for partner, role in partners:
            session.add(ProjectPartner(project_id=project.id, organisation_id=partner.id,
                                       role=role))
        session.add(StageChange(project_id=project.id, stage=project.stage,
                                reason="created", changed_by=project.created_by))
    return project_show(ctx, project.id)


Record = TypeVar("Record", Project, Challenge, Solution)


def _record_get(session: Session, model: type[Record], name_or_id: str, kind: str) -> Record:
    record = session.scalar(select(model).where(
        (model.id == name_or_id) | (model.name == name_or_id)))
    if record is None:
        raise NotFound(f"no {kind} '{name_or_id}'", field=kind)
    return record


def _project_get(session: Session, name_or_id: str) -> Project:
    return _record_get(session, Project, name_or_id, "project")


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
        return ProjectDetail(project, session.get_one(Organisation, project.organisation_id),
                             [PartnerView(org, role) for org, role in partners], list(history))


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
        project = _project_get(session, name_or_id)
        if not ctx.actor.can_edit(project.organisation_id):
            raise NotAuthorized("only editors of the project's organisation may change it")
        if stage == project.stage:
            raise Conflict(f"the project is at stage '{stage}' already", field="stage")
        if stage == Stage.STOPPED and not reason.strip():
            raise InvalidInput("say why the project stopped", field="reason")
        project.stage = stage
        session.add(StageChange(project_id=project.id, stage=stage, reason=reason.strip(),
                                changed_by=ctx.actor.username or ""))
    return project_show(ctx, project.id)


def challenge_create(ctx: Context, organisation: str, data: ChallengeInput) -> Challenge:
    """Record a challenge ``organisation`` owns (editors of it only)."""
    with ctx.db.session() as session:
        owner = _owner_for_edit(session, ctx, organisation)
        _check_free(session, Challenge, data.name)
        title = _check_title(data.title)
        challenge = Challenge(
            name=data.name, organisation_id=owner.id, title=title, needs=dict(data.needs),
            deadline=data.deadline, domains=check_terms(list(data.domains), "domains"),
            kpi_codes=list(data.kpi_codes), as_of=data.as_of, source=data.source,
            created_by=ctx.actor.username or "",
            search_text=_search_text(data.name, title, data.needs, owner.title))
        session.add(challenge)
    return challenge


def challenge_show(ctx: Context, name_or_id: str) -> Challenge:
    with ctx.db.session() as session:
        return _record_get(session, Challenge, name_or_id, "challenge")


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
        owner = _owner_for_edit(session, ctx, organisation)
        _check_free(session, Solution, data.name)
        title = _check_title(data.title)
        solution = Solution(
            name=data.name, organisation_id=owner.id, title=title,
            description=dict(data.description),
            domains=check_terms(list(data.domains), "domains"),
            technologies=check_terms(list(data.technologies), "technologies"),
            project_ids=[_project_get(session, ref).id for ref in data.project_ids],
            created_by=ctx.actor.username or "",
            search_text=_search_text(data.name, title, data.description, owner.title))
        session.add(solution)
    return solution


def solution_show(ctx: Context, name_or_id: str) -> Solution:
    with ctx.db.session() as session:
        return _record_get(session, Solution, name_or_id, "solution")


def solution_list(ctx: Context, domain: str | None = None) -> list[Solution]:
    """Solutions by name, optionally of one domain."""
    return _records_in_domain(ctx, Solution, domain)
