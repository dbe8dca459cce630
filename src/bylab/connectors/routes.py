"""Harvest sources over HTTP: the REST API (/api/harvest/…) and the pages (/harvest…)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bylab.auth.actions import organisation_list, organisation_show
from bylab.catalog.metadata import LICENCES
from bylab.catalog.models import Visibility
from bylab.connectors.models import HarvestDeadLetter, HarvestRun, HarvestSource, SourceKind
from bylab.connectors.replay import dead_letters_replay
from bylab.connectors.sources import (
    SourceInput,
    dead_letters,
    source_create,
    source_delete,
    source_get,
    source_list,
    source_run,
    source_runs,
    source_update,
)
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput, NotAuthorized, invalid_input_from
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import render

router = APIRouter(tags=["harvest"])
DEAD_LETTERS_SHOWN = 50


class SourceOut(BaseModel):
    id: str
    name: str
    organisation_id: str
    kind: str
    url: str
    table: str
    query: dict[str, Any]
    dataset: str
    title: str
    visibility: str
    licence_id: str
    country: str
    schedule: str
    next_run_at: datetime | None
    known_variables: list[str]

    @classmethod
    def of(cls, source: HarvestSource) -> SourceOut:
        return cls(id=source.id, name=source.name, organisation_id=source.organisation_id,
                   kind=source.kind, url=source.url, table=source.table_ref, query=source.query,
                   dataset=source.dataset_name, title=source.title,
                   visibility=source.visibility, licence_id=source.licence_id,
                   country=source.country, schedule=source.schedule,
                   next_run_at=source.next_run_at, known_variables=source.known_variables)


class RunOut(BaseModel):
    id: str
    trigger: str
    started: datetime
    finished: datetime | None
    status: str
    rows_read: int
    rows_stored: int
    rows_rejected: int
    dataset_version: int | None
    message: str
    notes: list[str]

    @classmethod
    def of(cls, run: HarvestRun) -> RunOut:
        return cls.model_validate(run, from_attributes=True)


class DeadLetterOut(BaseModel):
    id: str
    location: str
    reason: str
    payload: dict[str, Any]
    created: datetime
    replayed_at: datetime | None
    replayed_by: str
    tried_at: datetime | None

    @classmethod
    def of(cls, letter: HarvestDeadLetter) -> DeadLetterOut:
        return cls.model_validate(letter, from_attributes=True)


# --- REST API ------------------------------------------------------------------------------

@router.get("/api/harvest/sources")
def api_sources(ctx: ContextDep) -> list[SourceOut]:
    """The harvest sources of your organisations."""
    return [SourceOut.of(source) for source in source_list(ctx)]


@router.post("/api/harvest/sources", status_code=201)
def api_source_create(request: Request, ctx: ContextDep, body: SourceInput) -> SourceOut:
    """Save a harvest source (editors of `organisation`)."""
    check_csrf(request, None)
    return SourceOut.of(source_create(ctx, body))


@router.get("/api/harvest/sources/{name_or_id}")
def api_source(ctx: ContextDep, name_or_id: str) -> SourceOut:
    return SourceOut.of(source_get(ctx, name_or_id))


@router.put("/api/harvest/sources/{name_or_id}")
def api_source_update(request: Request, ctx: ContextDep, name_or_id: str,
                      body: SourceInput) -> SourceOut:
    check_csrf(request, None)
    return SourceOut.of(source_update(ctx, name_or_id, body))


@router.delete("/api/harvest/sources/{name_or_id}", status_code=204)
def api_source_delete(request: Request, ctx: ContextDep, name_or_id: str) -> Response:
    check_csrf(request, None)
    source_delete(ctx, name_or_id)
    return Response(status_code=204)


@router.post("/api/harvest/sources/{name_or_id}/runs", status_code=201)
def api_source_run(request: Request, ctx: ContextDep, name_or_id: str) -> RunOut:
    """Run the source now; the answer is the logged run (a failure has status `failed`)."""
    check_csrf(request, None)
    return RunOut.of(source_run(ctx, name_or_id))


@router.get("/api/harvest/sources/{name_or_id}/runs")
def api_source_runs(ctx: ContextDep, name_or_id: str, limit: int = 50) -> list[RunOut]:
    return [RunOut.of(run) for run in source_runs(ctx, name_or_id, min(max(limit, 1), 500))]


@router.get("/api/harvest/runs/{run_id}/dead-letters")
def api_dead_letters(ctx: ContextDep, run_id: str) -> list[DeadLetterOut]:
    """Rows, cells or packages the run could not store, with the reason."""
    return [DeadLetterOut.of(letter) for letter in dead_letters(ctx, run_id)]


class ReplayIn(BaseModel):
    letter: str | None = Field(default=None, description="Replay only this dead letter (id)")
    value: str | None = Field(default=None, description="The corrected value of its cell or "
                              "observation result (JSON text, e.g. 5.3)")
    note: str | None = Field(default=None, description="Where a table cell's corrected value "
                             "comes from (required with a cell's value)")


class ReplayOut(BaseModel):
    run_id: str
    source: str
    replayed: list[str]
    still_failing: list[str]
    version: int | None
    summary: str


@router.post("/api/harvest/runs/{run_id}/dead-letters/replay")
def api_dead_letters_replay(request: Request, ctx: ContextDep, run_id: str,
                            body: ReplayIn | None = None) -> ReplayOut:
    """Replay the run's dead letters (or one) once their cause is fixed: those that now
    succeed are stored and marked replayed; the others keep their reason, updated."""
    check_csrf(request, None)
    body = body or ReplayIn()
    report = dead_letters_replay(ctx, run_id, body.letter, body.value, body.note)
    return ReplayOut(run_id=report.run_id, source=report.source, replayed=report.replayed,
                     still_failing=report.still_failing, version=report.version,
                     summary=report.summary())


# --- pages ---------------------------------------------------------------------------------

def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path, safe='')}", status_code=303)


def _editor_organisations(ctx: Context) -> list[Any]:
    return [organisation for organisation in organisation_list(ctx)
            if ctx.actor.can_edit(organisation.id)]


def _form_values(form: FormData) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


def _input_from_form(values: dict[str, str]) -> SourceInput:
    try:
        query = json.loads(values.get("query") or "{}")
    except json.JSONDecodeError as error:
        raise InvalidInput("not JSON ({problem}, line {line})", field="query",
                           problem=error.msg, line=error.lineno) from None
    if not isinstance(query, dict):
        raise InvalidInput("a JSON object", field="query")
    fields = {key: values.get(key, "").strip() for key in (
        "name", "kind", "url", "organisation", "dataset", "table", "title", "country",
        "schedule")}
    try:
        return SourceInput(**fields, query=query,
                           visibility=values.get("visibility") or Visibility.PRIVATE,
                           licence_id=values.get("licence_id") or "CC-BY-4.0")
    except ValidationError as error:
        raise invalid_input_from(error) from None


def _render_list(request: Request, ctx: Context, values: dict[str, str],
                 error: BylabError | None = None) -> HTMLResponse:
    return render(request, "connectors/sources.html",
                  status_code=error.status_code if error else 200,
                  sources=source_list(ctx), organisations=_editor_organisations(ctx),
                  kinds=list(SourceKind), visibilities=list(Visibility),
                  licences=list(LICENCES), form=values, error=error)


@router.get("/harvest", response_class=HTMLResponse)
def sources_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    return _render_list(request, ctx, {"kind": "pxweb", "visibility": "private",
                                       "licence_id": "CC-BY-4.0"})


@router.post("/harvest", response_class=HTMLResponse)
async def source_create_submit(request: Request, ctx: ContextDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    if ctx.actor.is_anonymous:
        return _login_redirect(request)
    values = _form_values(form)
    try:
        source = await run_in_threadpool(source_create, ctx, _input_from_form(values))
    except BylabError as error:
        return _render_list(request, ctx, values, error)
    return RedirectResponse(f"/harvest/{source.name}", status_code=303)


@router.get("/harvest/{name}", response_class=HTMLResponse)
def source_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    return _render_source(request, ctx, name)


def _render_source(request: Request, ctx: Context, name: str,
                   correction: dict[str, str] | None = None,
                   error: BylabError | None = None) -> HTMLResponse:
    """The source page; ``correction`` is a refused cell correction form's values, shown
    again beside ``error`` at its dead letter."""
    source = source_get(ctx, name)
    runs = source_runs(ctx, source.id)
    letters = {run.id: dead_letters(ctx, run.id, DEAD_LETTERS_SHOWN)
               for run in runs[:5] if run.rows_rejected}
    return render(request, "connectors/source.html",
                  status_code=error.status_code if error else 200, source=source, runs=runs,
                  letters=letters, can_edit=ctx.actor.can_edit(source.organisation_id),
                  query_text=json.dumps(source.query, ensure_ascii=False, indent=2),
                  correction=correction or {}, error=error)


def _values_of(source: HarvestSource, organisation_name: str) -> dict[str, str]:
    return {"name": source.name, "kind": source.kind, "url": source.url,
            "table": source.table_ref, "organisation": organisation_name,
            "dataset": source.dataset_name, "title": source.title,
            "visibility": source.visibility, "licence_id": source.licence_id,
            "country": source.country, "schedule": source.schedule,
            "query": json.dumps(source.query, ensure_ascii=False, indent=2)}


def _render_edit(request: Request, ctx: Context, values: dict[str, str],
                 error: BylabError | None = None) -> HTMLResponse:
    return render(request, "connectors/source_edit.html",
                  status_code=error.status_code if error else 200,
                  organisations=_editor_organisations(ctx), kinds=list(SourceKind),
                  visibilities=list(Visibility), licences=list(LICENCES), form=values,
                  error=error)


@router.get("/harvest/{name}/edit", response_class=HTMLResponse)
def source_edit_page(request: Request, ctx: ContextDep, name: str) -> Response:
    source = source_get(ctx, name)
    if not ctx.actor.can_edit(source.organisation_id):
        raise NotAuthorized("you need the editor role in the source's organisation")
    organisation = organisation_show(ctx, source.organisation_id)
    return _render_edit(request, ctx, _values_of(source, organisation.name))


@router.post("/harvest/{name}/edit", response_class=HTMLResponse)
async def source_edit_submit(request: Request, ctx: ContextDep, name: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    values = {**_form_values(form), "name": name}
    try:
        await run_in_threadpool(source_update, ctx, name, _input_from_form(values))
    except BylabError as error:
        return _render_edit(request, ctx, values, error)
    return RedirectResponse(f"/harvest/{name}", status_code=303)


@router.post("/harvest/{name}/run", response_class=HTMLResponse)
async def source_run_submit(request: Request, ctx: ContextDep, name: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    await run_in_threadpool(source_run, ctx, name)
    return RedirectResponse(f"/harvest/{name}", status_code=303)


@router.post("/harvest/runs/{run_id}/replay", response_class=HTMLResponse)
async def dead_letters_replay_submit(request: Request, ctx: ContextDep, run_id: str
                                     ) -> Response:
    """Replay all the run's dead letters, or one table cell with its corrected value and
    note (a refused correction shows the page again with the error at that letter)."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    values = _form_values(form)
    letter = values.get("letter") or None
    try:
        report = await run_in_threadpool(dead_letters_replay, ctx, run_id, letter,
                                         values.get("value") if letter else None,
                                         values.get("note"))
    except InvalidInput as error:
        if not letter or not values.get("source"):
            raise
        return _render_source(request, ctx, values["source"], values, error)
    return RedirectResponse(f"/harvest/{report.source}", status_code=303)


@router.post("/harvest/{name}/delete", response_class=HTMLResponse)
async def source_delete_submit(request: Request, ctx: ContextDep, name: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    await run_in_threadpool(source_delete, ctx, name)
    return RedirectResponse("/harvest", status_code=303)
