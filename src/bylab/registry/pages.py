"""The registry's pages: home with search and facets, project, challenge, solution and actor
pages, a challenge's matches, forms to create and edit, stage changes, following, comments,
the notification feed and the who-does-what graph."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from bylab.auth.actions import organisation_list
from bylab.auth.models import Organisation, OrganisationKind
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput, NotAuthorized
from bylab.registry import actions, collaboration, relations
from bylab.registry.checks import check_amount
from bylab.registry.outcome_pages import router as outcome_pages_router
from bylab.registry.responses import responses_of
from bylab.registry.browse import FACETS, registry_browse
from bylab.registry.embeddings import embedding_status
from bylab.registry.graph import graph_svg, registry_graph
from bylab.registry.matching import challenge_matches, kpis_by_code, project_similar
from bylab.registry.models import RelationKind, Stage
from bylab.registry.taxonomy import taxonomy
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import language_of, render

router = APIRouter(include_in_schema=False)
router.include_router(outcome_pages_router)
TargetPath = Annotated[str, Path(pattern="^(project|challenge|solution)$")]


def _terms(kind: str) -> list[tuple[str, Any]]:
    return [(key, term) for key, term in taxonomy().items() if term.kind == kind]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _lines_in(language: str, text: str) -> dict[str, list[str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return {language: lines} if lines else {}


@dataclass
class RecordForm:
    """What the create and edit forms of projects, challenges and solutions hold."""

    organisation: str = ""
    name: str = ""
    language: str = "en"
    title: str = ""
    text: str = ""  # a project's or solution's description, a challenge's needs
    constraints: str = ""  # a challenge's
    factors: str = ""  # a project's critical success factors, one a line
    lessons: str = ""  # a project's lessons learned, one a line
    budget_amount: str = ""
    budget_currency: str = ""
    domains: list[str] = field(default_factory=list)
    technologies: list[str] = field(default_factory=list)
    places: str = ""
    kpi_codes: str = ""
    deadline: str = ""
    stage: str = Stage.IDEA
    projects: str = ""  # names of the projects a solution is deployed in

    @classmethod
    def from_form(cls, form: FormData) -> RecordForm:
        def text(key: str) -> str:
            return str(form.get(key, "")).strip()
        return cls(organisation=text("organisation"), name=text("name"),
                   language=text("language") or "en", title=text("title"), text=text("text"),
                   domains=[str(v) for v in form.getlist("domains")],
                   technologies=[str(v) for v in form.getlist("technologies")],
                   places=text("places"), kpi_codes=text("kpi_codes"),
                   deadline=text("deadline"), stage=text("stage") or Stage.IDEA,
                   projects=text("projects"), constraints=text("constraints"),
                   factors=text("factors"), lessons=text("lessons"),
                   budget_amount=text("budget_amount"),
                   budget_currency=text("budget_currency"))

    def _deadline(self) -> date | None:
        try:
            return date.fromisoformat(self.deadline) if self.deadline else None
        except ValueError:
            raise InvalidInput("give the deadline as a date (YYYY-MM-DD)",
                               field="deadline") from None

    def project(self) -> actions.ProjectInput:
        if self.stage not in set(Stage):
            raise InvalidInput("unknown stage '{stage}'", field="stage", stage=self.stage)
        return actions.ProjectInput(
            name=self.name, title={self.language: self.title},
            description={self.language: self.text} if self.text else {},
            domains=self.domains, technologies=self.technologies,
            place_ids=_split(self.places), stage=Stage(self.stage),
            budget_amount=check_amount(self.budget_amount.replace(" ", ""), "budget_amount"),
            budget_currency=self.budget_currency,
            success_factors=_lines_in(self.language, self.factors),
            lessons_learned=_lines_in(self.language, self.lessons))

    def challenge(self) -> actions.ChallengeInput:
        return actions.ChallengeInput(
            name=self.name, title={self.language: self.title},
            needs={self.language: self.text} if self.text else {}, deadline=self._deadline(),
            constraints={self.language: self.constraints} if self.constraints else {},
            domains=self.domains, kpi_codes=_split(self.kpi_codes))

    def solution(self) -> actions.SolutionInput:
        return actions.SolutionInput(
            name=self.name, title={self.language: self.title},
            description={self.language: self.text} if self.text else {},
            domains=self.domains, technologies=self.technologies,
            project_ids=_split(self.projects))


CREATE: dict[str, Any] = {"project": (actions.project_create, RecordForm.project),
                          "challenge": (actions.challenge_create, RecordForm.challenge),
                          "solution": (actions.solution_create, RecordForm.solution)}


def _editable_organisations(ctx: Context) -> list[Organisation]:
    if ctx.actor.is_anonymous:
        return []
    return [org for org in organisation_list(ctx) if ctx.actor.can_edit(org.id)]


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = [*request.session.get("flash", []), message]


def _render_form(request: Request, ctx: Context, kind: str, form: RecordForm,
                 editing: bool, error: BylabError | None = None) -> HTMLResponse:
    organisations = _editable_organisations(ctx)
    if not organisations:
        raise NotAuthorized("you need the editor role in an organisation to add records")
    return render(request, "registry/form.html", status_code=error.status_code if error else 200,
                  kind=kind, form=form, editing=editing, error=error,
                  organisations=organisations, domains=_terms("domains"),
                  technologies=_terms("technologies"), stages=list(Stage))


@router.get("/registry", response_class=HTMLResponse)
def registry_home(request: Request, ctx: ContextDep, q: str = "") -> HTMLResponse:
    chosen = {facet: request.query_params.get(facet, "") for facet in FACETS}
    lang = language_of(request)
    browse = registry_browse(ctx, q, lang, chosen)
    return render(request, "registry/home.html", q=q, browse=browse, chosen=chosen,
                  terms=taxonomy(), methods=embedding_status(ctx))


@router.get("/registry/{kind}s/new", response_class=HTMLResponse)
def new_page(request: Request, ctx: ContextDep,
             kind: TargetPath) -> Response:
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    return _render_form(request, ctx, kind, RecordForm(), editing=False)


@router.post("/registry/{kind}s/new", response_class=HTMLResponse)
async def new_submit(request: Request, ctx: ContextDep,
                     kind: TargetPath) -> Response:
    form_data = await request.form()
    check_csrf(request, str(form_data.get("csrf_token", "")))
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    form = RecordForm.from_form(form_data)
    create, data_of = CREATE[kind]
    try:
        create(ctx, form.organisation, data_of(form))
    except BylabError as error:
        return _render_form(request, ctx, kind, form, False, error)
    return RedirectResponse(actions.record_path(kind, form.name), status_code=303)


def _project_form(detail: actions.ProjectDetail, lang: str) -> RecordForm:
    project = detail.project
    language = lang if lang in project.title else next(iter(project.title))
    return RecordForm(
        organisation=detail.owner.name, name=project.name, language=language,
        title=project.title[language], text=project.description.get(language, ""),
        domains=list(project.domains), technologies=list(project.technologies),
        places=", ".join(project.place_ids), stage=project.stage,
        factors="\n".join(project.success_factors.get(language, [])),
        lessons="\n".join(project.lessons_learned.get(language, [])),
        budget_amount=str(project.budget_amount or ""), budget_currency=project.budget_currency)


def _challenge_form(challenge: Any, owner: str, lang: str) -> RecordForm:
    language = lang if lang in challenge.title else next(iter(challenge.title))
    return RecordForm(
        organisation=owner, name=challenge.name, language=language,
        title=challenge.title[language], text=challenge.needs.get(language, ""),
        constraints=challenge.constraints.get(language, ""), domains=list(challenge.domains), kpi_codes=", ".join(challenge.kpi_codes),
        deadline=str(challenge.deadline or ""))


def _solution_form(ctx: Context, solution: Any, lang: str) -> RecordForm:
    language = lang if lang in solution.title else next(iter(solution.title))
    projects = [actions.project_show(ctx, project_id).project.name
                for project_id in solution.project_ids]
    return RecordForm(
        organisation=actions.actor_show(ctx, solution.organisation_id).organisation.name,
        name=solution.name, language=language, title=solution.title[language],
        text=solution.description.get(language, ""), domains=list(solution.domains),
        technologies=list(solution.technologies), projects=", ".join(projects))


def _current_form(ctx: Context, kind: str, name: str, lang: str) -> RecordForm:
    if kind == "project":
        return _project_form(actions.project_show(ctx, name), lang)
    if kind == "solution":
        return _solution_form(ctx, actions.solution_show(ctx, name), lang)
    challenge = actions.challenge_show(ctx, name)
    return _challenge_form(challenge, actions.actor_show(ctx, challenge.organisation_id)
                           .organisation.name, lang)


@router.get("/registry/{kind}s/{name}/edit", response_class=HTMLResponse)
def edit_page(request: Request, ctx: ContextDep, name: str,
              kind: TargetPath) -> Response:
    form = _current_form(ctx, kind, name, language_of(request))
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    return _render_form(request, ctx, kind, form, editing=True)


@router.post("/registry/{kind}s/{name}/edit", response_class=HTMLResponse)
async def edit_submit(request: Request, ctx: ContextDep, name: str,
                      kind: TargetPath) -> Response:
    form_data = await request.form()
    check_csrf(request, str(form_data.get("csrf_token", "")))
    current = _current_form(ctx, kind, name, language_of(request))
    form = RecordForm.from_form(form_data)
    form.name, form.organisation, form.stage = current.name, current.organisation, current.stage
    try:
        if kind == "project":
            detail = actions.project_show(ctx, name)
            edited = form.project()
            actions.project_update(ctx, name, replace(
                edited, title={**detail.project.title, form.language: form.title},
                description={**detail.project.description, form.language: form.text},
                success_factors=_other_languages(detail.project.success_factors, form.language)
                | edited.success_factors,
                lessons_learned=_other_languages(detail.project.lessons_learned, form.language)
                | edited.lessons_learned))
        elif kind == "solution":
            solution = actions.solution_show(ctx, name)
            actions.solution_update(ctx, name, replace(
                form.solution(), title={**solution.title, form.language: form.title},
                description={**solution.description, form.language: form.text}))
        else:
            challenge = actions.challenge_show(ctx, name)
            actions.challenge_update(ctx, name, replace(
                form.challenge(), title={**challenge.title, form.language: form.title},
                needs={**challenge.needs, form.language: form.text},
                constraints={**challenge.constraints, form.language: form.constraints}))
    except BylabError as error:
        return _render_form(request, ctx, kind, form, True, error)
    _flash(request, "saved")
    return RedirectResponse(actions.record_path(kind, current.name), status_code=303)


def _other_languages(texts: dict[str, list[str]], language: str) -> dict[str, list[str]]:
    return {lang: lines for lang, lines in texts.items() if lang != language}


def _collaboration(ctx: Context, kind: str, record_id: str, name: str) -> dict[str, Any]:
    return {"following": collaboration.is_following(ctx, kind, record_id),
            "comments": collaboration.comments_of(ctx, kind, name), "kind": kind}


@router.get("/registry/projects/{name}", response_class=HTMLResponse)
def project_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    detail = actions.project_show(ctx, name)
    lang = language_of(request)
    return render(request, "registry/project.html", detail=detail, record=detail.project,
                  similar=project_similar(ctx, detail.project.id, lang, 10),
                  methods=embedding_status(ctx),
                  kpis=kpis_by_code(),
                  funders=organisation_list(ctx) if ctx.actor.can_edit(
                      detail.project.organisation_id) else [],
                  can_edit=ctx.actor.can_edit(detail.project.organisation_id),
                  stages=list(Stage), terms=taxonomy(),
                  **_collaboration(ctx, "project", detail.project.id, name))


@router.get("/registry/challenges/{name}", response_class=HTMLResponse)
def challenge_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    challenge = actions.challenge_show(ctx, name)
    owner = actions.actor_show(ctx, challenge.organisation_id).organisation
    return render(request, "registry/challenge.html", record=challenge, owner=owner,
                  matches=challenge_matches(ctx, challenge.id, language_of(request), 20),
                  methods=embedding_status(ctx),
                  responses=responses_of(ctx, challenge.id),
                  responders=[org for org in organisation_list(ctx)
                              if org.id in ctx.actor.member_org_ids
                              and org.id != challenge.organisation_id],
                  kpis=kpis_by_code(),
                  can_edit=ctx.actor.can_edit(challenge.organisation_id), terms=taxonomy(),
                  **_collaboration(ctx, "challenge", challenge.id, name))


@router.get("/registry/solutions/{name}", response_class=HTMLResponse)
def solution_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    solution = actions.solution_show(ctx, name)
    owner = actions.actor_show(ctx, solution.organisation_id).organisation
    projects = [actions.project_show(ctx, project_id).project
                for project_id in solution.project_ids]
    return render(request, "registry/solution.html", record=solution, owner=owner,
                  projects=projects, terms=taxonomy(),
                  can_edit=ctx.actor.can_edit(solution.organisation_id),
                  **_collaboration(ctx, "solution", solution.id, name))


@router.get("/registry/actors/{name}", response_class=HTMLResponse)
def actor_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    records = actions.actor_show(ctx, name)
    can_edit = ctx.actor.can_edit(records.organisation.id)
    return render(request, "registry/actor.html", actor_records=records,
                  kinds=OrganisationKind, relations=relations.relations_of(ctx, name),
                  relation_kinds=list(RelationKind), can_edit=can_edit,
                  others=organisation_list(ctx) if can_edit else [])


@router.post("/registry/actors/{name}/relations")
def relation_submit(request: Request, ctx: ContextDep, name: str,
                    kind: Annotated[str, Form()], other: Annotated[str, Form()],
                    note: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "add",
                    csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    if action == "remove":
        relations.relation_remove(ctx, name, kind, other)
        _flash(request, "relation removed")
    else:
        relations.relation_add(ctx, name, kind, other, note)
        _flash(request, "relation added")
    return RedirectResponse(f"/registry/actors/{name}#relations", status_code=303)


@router.post("/registry/projects/{name}/stage")
def stage_submit(request: Request, ctx: ContextDep, name: str,
                 stage: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    if stage not in set(Stage):
        raise InvalidInput("unknown stage '{stage}'", field="stage", stage=stage)
    actions.project_stage_set(ctx, name, Stage(stage), reason)
    _flash(request, "stage changed")
    return RedirectResponse(actions.record_path("project", name), status_code=303)


@router.post("/registry/{kind}s/{name}/follow")
def follow_submit(request: Request, ctx: ContextDep, kind: TargetPath, name: str,
                  action: Annotated[str, Form()] = "follow",
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    if action == "unfollow":
        collaboration.unfollow(ctx, kind, name)
    else:
        collaboration.follow(ctx, kind, name)
    return RedirectResponse(actions.record_path(kind, name), status_code=303)


@router.post("/registry/{kind}s/{name}/comments")
def comment_submit(request: Request, ctx: ContextDep, kind: TargetPath, name: str,
                   body: Annotated[str, Form()] = "",
                   csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    collaboration.comment_add(ctx, kind, name, body)
    return RedirectResponse(f"{actions.record_path(kind, name)}#comments", status_code=303)


@router.get("/registry/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, ctx: ContextDep) -> Response:
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    notifications = collaboration.notification_feed(ctx)
    return render(request, "registry/notifications.html", notifications=notifications,
                  paths=collaboration.target_paths(ctx, notifications))


@router.post("/registry/notifications/read")
def notifications_read(request: Request, ctx: ContextDep,
                       csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    collaboration.notifications_mark_read(ctx)
    return RedirectResponse("/registry/notifications", status_code=303)


@router.get("/registry/graph", response_class=HTMLResponse)
def graph_page(request: Request, ctx: ContextDep, term: str = "", place: str = "",
               kind: str = "") -> HTMLResponse:
    graph = registry_graph(ctx, term or None, place or None, kind or None)
    return render(request, "registry/graph.html", graph=graph, svg=graph_svg(graph),
                  term=term, place=place, kind=kind, terms=taxonomy(), kinds=OrganisationKind)
