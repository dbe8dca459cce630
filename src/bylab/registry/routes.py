"""REST API of the registry: search, projects (with stage changes), challenges, solutions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool
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
    challenge_update,
    project_create,
    project_list,
    project_show,
    project_stage_set,
    project_update,
    solution_create,
    solution_list,
    solution_show,
    solution_update,
)
from bylab.registry.collaboration import (
    comment_add,
    comments_of,
    follow,
    notification_feed,
    notifications_mark_read,
    unfollow,
)
from bylab.registry.embeddings import embedding_status
from bylab.registry.graph import registry_graph
from bylab.registry.relations import (
    RelationView,
    relation_add,
    relation_remove,
    relations_of,
)
from bylab.registry.transfer import (
    MAX_IMPORT_BYTES,
    Format,
    RecordKind,
    registry_export,
    registry_import,
)
from bylab.registry.matching import Match, challenge_matches, project_similar
from bylab.registry.outcome_routes import EVIDENCE_FIELDS, EvidenceIn, EvidenceOut
from bylab.registry.outcome_routes import router as outcome_router
from bylab.registry.models import Challenge, Comment, Notification, Solution, Stage
from bylab.registry.reasons import Reason
from bylab.registry.pages import router as pages_router
from bylab.errors import InvalidInput
from bylab.registry.search import RecordType, SearchHit, registry_search
from bylab.web.security import ContextDep, check_csrf

router = APIRouter(tags=["registry"])


class ReasonOut(BaseModel):
    """One reason: ``kind`` (domain, term, text, embedding, …), ``code`` and ``params`` (to
    show it in any language), ``text`` (in English) and the ``score`` it added."""

    kind: str
    code: str
    params: dict[str, str | int | float]
    text: str
    score: float

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(kind=reason.kind, code=reason.code, params=dict(reason.params),
                   text=reason.text, score=reason.score)


class SearchHitOut(BaseModel):
    type: str
    id: str
    name: str
    title: str
    score: float
    reason: str
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(type=hit.type, id=hit.id, name=hit.name, title=hit.title, score=hit.score,
                   reason=hit.reason, reasons=[ReasonOut.of(reason) for reason in hit.reasons])


class PartnerIn(BaseModel):
    organisation: str
    role: str = ""


class ProjectIn(EvidenceIn):
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
        fields = self.model_dump(exclude={"organisation", "partners", *EVIDENCE_FIELDS})
        return ProjectInput(**fields, **self.evidence(),  # type: ignore[arg-type]
                            partners=[PartnerInput(p.organisation, p.role)
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


class ProjectOut(EvidenceOut):
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
                                    changed_at=c.changed_at) for c in detail.history],
            **EvidenceOut.fields_of(detail))  # type: ignore[arg-type]


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
    constraints: dict[str, str] = Field(default_factory=dict, description="By language.")
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
    constraints: dict[str, str]
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
    """Projects, challenges and solutions matching `q`, best first, each with the reasons it
    matched and by which method (a shared taxonomy term across languages, its text, or the
    similarity of multilingual sentence embeddings): `reason` in English, `reasons` each with
    a `code` and `params` to show it in any language."""
    return [SearchHitOut.of(hit) for hit in registry_search(ctx, q, lang, type)]


class EmbeddingsOut(BaseModel):
    """Whether search and matching use multilingual sentence embeddings here (`active`: the
    setting is on and the package installed), with which `model`, and how many records are
    `pending` (their vectors not computed yet: found by taxonomy terms and text meanwhile)."""

    enabled: bool
    available: bool
    active: bool
    model: str
    pending: int


@router.get("/api/registry/embeddings")
def api_embeddings(ctx: ContextDep) -> EmbeddingsOut:
    """The state of the embedding channel of search and matching."""
    status = embedding_status(ctx)
    return EmbeddingsOut(enabled=status.enabled, available=status.available,
                         active=status.active, model=status.model, pending=status.pending)


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


class ProjectUpdateIn(EvidenceIn):
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    domains: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    place_ids: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)


@router.put("/api/projects/{name_or_id}")
def api_project_update(request: Request, ctx: ContextDep, name_or_id: str,
                       body: ProjectUpdateIn) -> ProjectOut:
    """Replace a project's texts, terms, places and links (editors of its organisation);
    its stage moves through `POST .../stage`."""
    check_csrf(request, None)
    current = project_show(ctx, name_or_id).project
    data = ProjectInput(name=current.name, **body.model_dump(exclude=EVIDENCE_FIELDS),
                        **body.evidence())  # type: ignore[arg-type]
    return ProjectOut.of(project_update(ctx, name_or_id, data))


class ChallengeUpdateIn(BaseModel):
    title: dict[str, str]
    needs: dict[str, str] = Field(default_factory=dict)
    constraints: dict[str, str] = Field(default_factory=dict)
    deadline: date | None = None
    domains: list[str] = Field(default_factory=list)
    kpi_codes: list[str] = Field(default_factory=list)


@router.put("/api/challenges/{name_or_id}")
def api_challenge_update(request: Request, ctx: ContextDep, name_or_id: str,
                         body: ChallengeUpdateIn) -> ChallengeOut:
    """Replace a challenge's texts, domains, KPIs and deadline (editors of its owner)."""
    check_csrf(request, None)
    current = challenge_show(ctx, name_or_id)
    data = ChallengeInput(name=current.name, **body.model_dump())
    return ChallengeOut.of(challenge_update(ctx, name_or_id, data))


class SolutionUpdateIn(BaseModel):
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    domains: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    project_ids: list[str] = Field(default_factory=list, description="Names or ids.")


@router.get("/api/solutions/{name_or_id}")
def api_solution(ctx: ContextDep, name_or_id: str) -> SolutionOut:
    return SolutionOut.of(solution_show(ctx, name_or_id))


@router.put("/api/solutions/{name_or_id}")
def api_solution_update(request: Request, ctx: ContextDep, name_or_id: str,
                        body: SolutionUpdateIn) -> SolutionOut:
    """Replace a solution's texts, terms and the projects it is deployed in (editors of its
    organisation)."""
    check_csrf(request, None)
    current = solution_show(ctx, name_or_id)
    data = SolutionInput(name=current.name, **body.model_dump())
    return SolutionOut.of(solution_update(ctx, name_or_id, data))


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


class MatchOut(BaseModel):
    type: str
    id: str
    name: str
    title: str
    organisation: str
    score: float
    reason: str
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, match: Match) -> MatchOut:
        return cls(type=match.type, id=match.id, name=match.name, title=match.title,
                   organisation=match.organisation, score=match.score, reason=match.reason,
                   reasons=[ReasonOut.of(reason) for reason in match.reasons])


@router.get("/api/challenges/{name_or_id}/matches")
def api_challenge_matches(ctx: ContextDep, name_or_id: str, lang: str | None = None,
                          limit: Annotated[int, Query(ge=1, le=200)] = 30) -> list[MatchOut]:
    """Projects, solutions and actors of other organisations that fit the challenge, best
    first, each with its reasons (shared domain, technology or taxonomy term across
    languages, related KPI, stage reached, similar place size)."""
    return [MatchOut.of(m) for m in challenge_matches(ctx, name_or_id, lang, limit)]


@router.get("/api/projects/{name_or_id}/similar")
def api_project_similar(ctx: ContextDep, name_or_id: str, lang: str | None = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 30) -> list[MatchOut]:
    """Who else does this: projects, solutions and actors of other organisations like the
    project, best first, with reasons."""
    return [MatchOut.of(m) for m in project_similar(ctx, name_or_id, lang, limit)]


TargetPath = Annotated[str, Path(pattern="^(project|challenge|solution)$")]


class CommentIn(BaseModel):
    body: str


class CommentOut(BaseModel):
    id: int
    author: str
    body: str
    created: datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls.model_validate(comment, from_attributes=True)


class FollowOut(BaseModel):
    type: str
    id: str
    following: bool


class NotificationOut(BaseModel):
    id: int
    target_type: str
    target_id: str
    message: str
    by: str
    created: datetime
    read: bool

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        return cls.model_validate(notification, from_attributes=True)


@router.put("/api/{target_type}s/{name_or_id}/follow")
def api_follow(request: Request, ctx: ContextDep, target_type: TargetPath,
               name_or_id: str) -> FollowOut:
    """Follow a project, challenge or solution: its comments and stage changes reach your
    notification feed."""
    check_csrf(request, None)
    target = follow(ctx, target_type, name_or_id)
    return FollowOut(type=target.type, id=target.id, following=True)


@router.delete("/api/{target_type}s/{name_or_id}/follow")
def api_unfollow(request: Request, ctx: ContextDep, target_type: TargetPath,
                 name_or_id: str) -> FollowOut:
    check_csrf(request, None)
    target = unfollow(ctx, target_type, name_or_id)
    return FollowOut(type=target.type, id=target.id, following=False)


@router.get("/api/{target_type}s/{name_or_id}/comments")
def api_comments(ctx: ContextDep, target_type: TargetPath, name_or_id: str) -> list[CommentOut]:
    return [CommentOut.of(c) for c in comments_of(ctx, target_type, name_or_id)]


@router.post("/api/{target_type}s/{name_or_id}/comments", status_code=201)
def api_comment_add(request: Request, ctx: ContextDep, target_type: TargetPath,
                    name_or_id: str, body: CommentIn) -> CommentOut:
    """Comment (logged-in users); you follow the record from then on."""
    check_csrf(request, None)
    return CommentOut.of(comment_add(ctx, target_type, name_or_id, body.body))


@router.get("/api/notifications")
def api_notifications(ctx: ContextDep, unread: bool = False) -> list[NotificationOut]:
    """Your notification feed, newest first."""
    return [NotificationOut.of(n) for n in notification_feed(ctx, unread)]


@router.post("/api/notifications/read")
def api_notifications_read(request: Request, ctx: ContextDep) -> dict[str, int]:
    """Mark every notification read."""
    check_csrf(request, None)
    return {"marked": notifications_mark_read(ctx)}


class GraphNodeOut(BaseModel):
    id: str
    type: str
    name: str
    label: str
    kind: str


class GraphEdgeOut(BaseModel):
    source: str
    target: str
    relation: str


class GraphOut(BaseModel):
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]


@router.get("/api/registry/graph")
def api_graph(ctx: ContextDep, term: str | None = None, place: str | None = None,
              kind: str | None = None) -> GraphOut:
    """Who does what: actors, projects and places as a graph (an actor runs, is a partner in
    or funds a project, ...). `term` keeps projects tagged
    with a taxonomy term (e.g. `digital_twin`), `place` those at a place or in a region
    (e.g. `NO-15`), `kind` actors of one kind (e.g. `company`)."""
    graph = registry_graph(ctx, term, place, kind)
    return GraphOut(nodes=[GraphNodeOut(**node.__dict__) for node in graph.nodes],
                    edges=[GraphEdgeOut(**edge.__dict__) for edge in graph.edges])


class RelationIn(BaseModel):
    kind: str = Field(description="member-of, partner-in, supplier-to, owned-by or funded-by")
    other: str = Field(description="The related organisation's name or id.")
    note: str = ""


class RelationOut(BaseModel):
    subject: str
    kind: str
    label: str
    object: str
    note: str

    @classmethod
    def of(cls, view: RelationView) -> RelationOut:
        return cls(subject=view.subject.name, kind=view.kind.value, label=view.kind.label,
                   object=view.object.name, note=view.note)


@router.get("/api/actors/{name_or_id}/relations")
def api_relations(ctx: ContextDep, name_or_id: str) -> list[RelationOut]:
    """The actor's relations to other actors, both ways (it is the subject or the object)."""
    return [RelationOut.of(view) for view in relations_of(ctx, name_or_id)]


@router.post("/api/actors/{name_or_id}/relations", status_code=201)
def api_relation_add(request: Request, ctx: ContextDep, name_or_id: str,
                     body: RelationIn) -> RelationOut:
    """Record that the actor is `kind` `other` (editors of the actor)."""
    check_csrf(request, None)
    return RelationOut.of(relation_add(ctx, name_or_id, body.kind, body.other, body.note))


@router.delete("/api/actors/{name_or_id}/relations/{kind}/{other}", status_code=204)
def api_relation_remove(request: Request, ctx: ContextDep, name_or_id: str, kind: str,
                        other: str) -> Response:
    check_csrf(request, None)
    relation_remove(ctx, name_or_id, kind, other)
    return Response(status_code=204)


class ImportOut(BaseModel):
    created: int
    skipped: int


@router.get("/api/registry/export")
def api_export(ctx: ContextDep, type: RecordKind = "project",
               format: Format = "json") -> Response:
    """Every project, challenge, solution or actor relation as JSON (the input fields of the API) or CSV
    (texts in `title_en`, `title_nb`, ... columns; lists separated by `;`)."""
    media = "application/json" if format == "json" else "text/csv; charset=utf-8"
    return Response(registry_export(ctx, type, format), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="registry-{type}s.{format}"'})


@router.post("/api/registry/import")
async def api_import(request: Request, ctx: ContextDep, file: UploadFile,
                     type: RecordKind = "project", format: Format | None = None) -> ImportOut:
    """Create records from a CSV or JSON file (the export's layout), all or none; records
    whose name exists are skipped. Errors name the file, row and field."""
    check_csrf(request, None)
    name = file.filename or "upload"
    chosen: Format = format or ("csv" if name.lower().endswith(".csv") else "json")
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", file=name) from None
    report = await run_in_threadpool(registry_import, ctx, type, text, chosen, name)
    return ImportOut(created=report.created, skipped=report.skipped)


router.include_router(outcome_router)
router.include_router(pages_router)
