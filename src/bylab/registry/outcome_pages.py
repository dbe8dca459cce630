"""The registry's forms for a project's evidence (funding lines, KPI results, documents) and
for responses to challenges. Each posts, calls one action and goes back to the record's page;
bad input shows the error page naming the field."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from bylab.errors import InvalidInput
from bylab.registry import outcomes
from bylab.registry.actions import record_path
from bylab.registry.checks import check_amount
from bylab.registry.funding import FundingInput
from bylab.registry.models import FundingLine, KpiResult, ResponseKind
from bylab.registry.outcome_routes import read_upload
from bylab.registry.responses import ResponseInput, response_add, response_status_set
from bylab.registry.results import ResultInput
from bylab.web.security import ContextDep, check_csrf

router = APIRouter(include_in_schema=False)
TextField = Annotated[str, Form()]


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = [*request.session.get("flash", []), message]


def _back(kind: str, name: str, anchor: str) -> Response:
    return RedirectResponse(f"{record_path(kind, name)}#{anchor}", status_code=303)


def _login_first(request: Request, ctx: ContextDep) -> Response | None:
    if ctx.actor.is_anonymous:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return None


def _year(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise InvalidInput("'{text}' is not a year", field=field, text=text)
    return int(text)


def _number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        raise InvalidInput("'{text}' is not a number", field=field, text=text) from None


@router.post("/registry/projects/{name}/funding")
def funding_submit(request: Request, ctx: ContextDep, name: str,
                   funder_organisation: TextField = "", funder_name: TextField = "",
                   programme: TextField = "", amount: TextField = "", currency: TextField = "",
                   year_from: TextField = "", year_to: TextField = "",
                   csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    if redirect := _login_first(request, ctx):
        return redirect
    outcomes.funding_add(ctx, name, FundingInput(
        funder_organisation=funder_organisation, funder_name=funder_name, programme=programme,
        amount=check_amount(amount.replace(" ", ""), "amount"), currency=currency,
        year_from=_year(year_from, "years"), year_to=_year(year_to, "years")))
    _flash(request, "funding added")
    return _back("project", name, "funding")


@router.post("/registry/projects/{name}/results")
def result_submit(request: Request, ctx: ContextDep, name: str, kpi_code: TextField,
                  place_id: TextField, before_period: TextField, after_period: TextField,
                  reported_before: TextField = "", reported_after: TextField = "",
                  reported_unit: TextField = "", reported_source: TextField = "",
                  csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    if redirect := _login_first(request, ctx):
        return redirect
    outcomes.result_add(ctx, name, ResultInput(
        kpi_code.strip(), place_id.strip().upper(), before_period, after_period,
        _number(reported_before, "reported_before"), _number(reported_after, "reported_after"),
        reported_unit, reported_source))
    _flash(request, "result added")
    return _back("project", name, "results")


PARTS: dict[str, type[FundingLine | KpiResult]] = {"funding": FundingLine,
                                                   "results": KpiResult}


@router.post("/registry/projects/{name}/parts/{part}/{part_id}/remove")
def part_remove_submit(request: Request, ctx: ContextDep, name: str, part: str, part_id: int,
                       csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    if part not in PARTS:
        raise InvalidInput("the part to remove must be one of: {parts}", field="part",
                           parts=", ".join(PARTS))
    outcomes.part_remove(ctx, name, PARTS[part], part_id)
    _flash(request, "removed")
    return _back("project", name, part)


@router.post("/registry/projects/{name}/documents")
async def document_submit(request: Request, ctx: ContextDep, name: str,
                          file: UploadFile, title: TextField = "", language: TextField = "",
                          csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    if redirect := _login_first(request, ctx):
        return redirect
    upload = await read_upload(ctx, file)
    outcomes.document_add(ctx, name, upload, title, language)
    _flash(request, "document added")
    return _back("project", name, "documents")


@router.post("/registry/projects/{name}/documents/{document_id}/remove")
def document_remove_submit(request: Request, ctx: ContextDep, name: str, document_id: str,
                           csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    outcomes.document_remove(ctx, name, document_id)
    _flash(request, "document removed")
    return _back("project", name, "documents")


@router.post("/registry/challenges/{name}/responses")
def response_submit(request: Request, ctx: ContextDep, name: str, kind: TextField,
                    text: TextField = "", project: TextField = "", solution: TextField = "",
                    organisation: TextField = "", csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    if redirect := _login_first(request, ctx):
        return redirect
    if kind not in set(ResponseKind):
        raise InvalidInput("unknown kind of response '{kind}'", field="kind", kind=kind)
    response_add(ctx, name, ResponseInput(ResponseKind(kind), text, project, solution,
                                          organisation))
    _flash(request, "response sent")
    return _back("challenge", name, "responses")


@router.post("/registry/challenges/{name}/responses/{response_id}/status")
def response_status_submit(request: Request, ctx: ContextDep, name: str, response_id: int,
                           status: TextField, csrf_token: TextField = "") -> Response:
    check_csrf(request, csrf_token)
    response_status_set(ctx, name, response_id, status)
    _flash(request, "response updated")
    return _back("challenge", name, "responses")
