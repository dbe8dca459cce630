"""REST API of the registry: search, projects (with stage changes), challenges, solutions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from bylab.registry.actions import (
    ChallengeInput,
    PartnerInput,
    ProjectDetail,
    ProjectInput,
    SolutionInput,
    challenge_create,
    challenge_list,
    challenge_show,
    project_create,
    project_list,
    project_show,
    project_stage_set,
    solution_create,
    solution_list,
)
from bylab.registry.models import Challenge, Solution, Stage
from bylab.registry.search import RecordType, SearchHit, registry_search
from bylab.web.security import ContextDep, check_csrf

router = APIRouter(tags=["registry"])


class SearchHitOut(BaseModel):
    type: str
    id: str
    name: str
    title: str
    score: float
    reason: str

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(type=hit.type, id=hit.id, name=hit.name, title=hit.title, score=hit.score,
                   reason=hit.reason)


class PartnerIn(BaseModel):
    organisation: str
    role: str = ""


class ProjectIn(BaseModel):
    organisation: str
    name: str
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    domains: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    place_ids: list[str] = Field(default_factory=list)
    partners: list[PartnerIn] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    stage: Stage = Stage.IDEA
    as_of: date | None = None
    source: str = ""

    def as_input(self) -> ProjectInput:
        fields = self.model_dump(exclude={"organisation", "partners"})
        return ProjectInput(**fields, partners=[PartnerInput(p.organisation, p.role)
                                                for p in self.partners])


class PartnerOut(BaseModel):
    organisation: str
    title: str
    role: str


class StageChangeOut(BaseModel):
    stage: str
    reason: str
    changed_by: str
    changed_at: datetime


class ProjectOut(BaseModel):
    id: str
    name: str
    organisation: str
    title: dict[str, str]
    description: dict[str, str]
    domains: list[str]
    technologies: list[str]
    place_ids: list[str]
    partners: list[PartnerOut]
    links: list[str]
    stage: str
    as_of: date | None
    source: str
    history: list[StageChangeOut]

    @classmethod
    def of(cls, detail: ProjectDetail) -> ProjectOut:
        project = detail.project
        return cls(
            id=project.id, name=project.name, organisation=detail.owner.name,
            title=project.title, description=project.description, domains=project.domains,
            technologies=project.technologies, place_ids=project.place_ids,
            partners=[PartnerOut(organisation=p.organisation.name, title=p.organisation.title,
                                 role=p.role) for p in detail.partners],
            links=project.links, stage=project.stage, as_of=project.as_of,
            source=project.source,
            history=[StageChangeOut(stage=c.stage, reason=c.reason, changed_by=c.changed_by,
                                    changed_at=c.changed_at) for c in detail.history])


class ProjectSummaryOut(BaseModel):
    id: str
    name: str
    title: dict[str, str]
    domains: list[str]
    stage: str
    as_of: date | None


class StageIn(BaseModel):
    stage: Stage
    reason: str = ""


class ChallengeIn(BaseModel):
    organisation: str
    name: str
    title: dict[str, str]
    needs: dict[str, str] = Field(default_factory=dict)
    deadline: date | None = None
    domains: list[str] = Field(default_factory=list)
    kpi_codes: list[str] = Field(default_factory=list)
    as_of: date | None = None
    source: str = ""


class ChallengeOut(BaseModel):
    id: str
    name: str
    organisation_id: str
    title: dict[str, str]
    needs: dict[str, str]
    deadline: date | None
    domains: list[str]
    kpi_codes: list[str]
    as_of: date | None
    source: str

    @classmethod
    def of(cls, challenge: Challenge) -> ChallengeOut:
        return cls.model_validate(challenge, from_attributes=True)


class SolutionIn(BaseModel):
    organisation: str
    name: str
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    domains: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    project_ids: list[str] = Field(default_factory=list)


class SolutionOut(BaseModel):
    id: str
    name: str
    organisation_id: str
    title: dict[str, str]
    description: dict[str, str]
    domains: list[str]
    technologies: list[str]
    project_ids: list[str]

    @classmethod
    def of(cls, solution: Solution) -> SolutionOut:
        return cls.model_validate(solution, from_attributes=True)


@router.get("/api/search")
def api_search(ctx: ContextDep, q: Annotated[str, Query(min_length=1)],
               lang: str | None = None, type: RecordType | None = None) -> list[SearchHitOut]:
    """Projects, challenges and solutions matching `q`, best first, each with the reason it
    matched (a shared taxonomy term across languages, or its text)."""
    return [SearchHitOut.of(hit) for hit in registry_search(ctx, q, lang, type)]


@router.get("/api/projects")
def api_projects(ctx: ContextDep, domain: str | None = None,
                 organisation: str | None = None) -> list[ProjectSummaryOut]:
    return [ProjectSummaryOut.model_validate(p, from_attributes=True)
            for p in project_list(ctx, domain, organisation)]


@router.post("/api/projects", status_code=201)
def api_project_create(request: Request, ctx: ContextDep, body: ProjectIn) -> ProjectOut:
    """Create a project (editors of `organisation`)."""
    check_csrf(request, None)
    return ProjectOut.of(project_create(ctx, body.organisation, body.as_input()))


@router.get("/api/projects/{name_or_id}")
def api_project(ctx: ContextDep, name_or_id: str) -> ProjectOut:
    return ProjectOut.of(project_show(ctx, name_or_id))


@router.post("/api/projects/{name_or_id}/stage")
def api_project_stage(request: Request, ctx: ContextDep, name_or_id: str,
                      body: StageIn) -> ProjectOut:
    """Move the project to another stage; the change is kept in its history."""
    check_csrf(request, None)
    return ProjectOut.of(project_stage_set(ctx, name_or_id, body.stage, body.reason))


@router.get("/api/challenges")
def api_challenges(ctx: ContextDep, domain: str | None = None) -> list[ChallengeOut]:
    return [ChallengeOut.of(c) for c in challenge_list(ctx, domain)]


@router.post("/api/challenges", status_code=201)
def api_challenge_create(request: Request, ctx: ContextDep, body: ChallengeIn) -> ChallengeOut:
    check_csrf(request, None)
    data = ChallengeInput(**body.model_dump(exclude={"organisation"}))
    return ChallengeOut.of(challenge_create(ctx, body.organisation, data))


@router.get("/api/challenges/{name_or_id}")
def api_challenge(ctx: ContextDep, name_or_id: str) -> ChallengeOut:
    return ChallengeOut.of(challenge_show(ctx, name_or_id))


@router.get("/api/solutions")
def api_solutions(ctx: ContextDep, domain: str | None = None) -> list[SolutionOut]:
    return [SolutionOut.of(s) for s in solution_list(ctx, domain)]


@router.post("/api/solutions", status_code=201)
def api_solution_create(request: Request, ctx: ContextDep, body: SolutionIn) -> SolutionOut:
    check_csrf(request, None)
    data = SolutionInput(**body.model_dump(exclude={"organisation"}))
    return SolutionOut.of(solution_create(ctx, body.organisation, data))
