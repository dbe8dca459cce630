"""REST API of a project's evidence (budget, funding, KPI results, documents) and of the
responses to challenges. The project and challenge bodies of ``routes.py`` carry the
schemas defined here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, PlainSerializer
from starlette.concurrency import run_in_threadpool

from bylab.core import Context
from bylab.errors import NotAuthorized, TooLarge
from bylab.registry.actions import ProjectDetail, project_delete, project_show
from bylab.registry.documents import Upload, document_limit
from bylab.registry.funding import FundingInput, FundingView, Money
from bylab.indicators.specs import Direction
from bylab.registry.models import ProjectDocument, ResponseKind, ResponseStatus
from bylab.registry.outcomes import document_add, document_get, document_remove
from bylab.registry.responses import (
    ResponseInput,
    ResponseView,
    response_add,
    response_status_set,
    responses_of,
)
from bylab.registry.results import Origin, Outcome, ResultInput, ResultSide, ResultView
from bylab.web.security import ContextDep, check_csrf

router = APIRouter(tags=["registry"])

# Exact decimals in Python and the database; JSON numbers on the wire (amounts are capped so
# that every cent is exact as a double).
Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class MoneyOut(BaseModel):
    amount: Amount
    currency: str = Field(description="ISO 4217 code.")

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency)


class FundingIn(BaseModel):
    funder_organisation: str = Field("", description="Name or id of an organisation of bylab.")
    funder_name: str = Field("", description="A funder that is not an organisation of bylab.")
    programme: str = ""
    amount: Decimal | None = None
    currency: str = Field("", description="ISO 4217 code, needed with an amount.")
    year_from: int | None = None
    year_to: int | None = None

    def as_input(self) -> FundingInput:
        return FundingInput(**self.model_dump())


class FundingOut(BaseModel):
    id: int
    funder: str
    funder_organisation: str
    programme: str
    amount: Amount | None
    currency: str
    year_from: int | None
    year_to: int | None

    @classmethod
    def of(cls, view: FundingView) -> FundingOut:
        line = view.line
        return cls(id=line.id, funder=view.funder, funder_organisation=view.funder_organisation,
                   programme=line.programme, amount=line.amount, currency=line.currency,
                   year_from=line.year_from, year_to=line.year_to)


class ResultIn(BaseModel):
    kpi_code: str = Field(description="U4SSC KPI code, e.g. 'EN: EN: AQ: 2C'.")
    place_id: str
    before_period: str
    after_period: str
    reported_before: float | None = Field(
        None, description="The project's own figure, shown only where bylab computed none.")
    reported_after: float | None = None
    reported_unit: str = ""
    reported_source: str = Field("", description="Needed with a reported figure.")

    def as_input(self) -> ResultInput:
        return ResultInput(**self.model_dump())


class EvidenceIn(BaseModel):
    """The evidence part of a project's input. Funding and results left out (null) stay as
    they are on an update."""

    budget_amount: Decimal | None = None
    budget_currency: str = Field("", description="ISO 4217 code, needed with a budget.")
    success_factors: dict[str, list[str]] = Field(default_factory=dict,
                                                  description="Texts by language.")
    lessons_learned: dict[str, list[str]] = Field(default_factory=dict)
    funding: list[FundingIn] | None = None
    results: list[ResultIn] | None = None

    def evidence(self) -> dict[str, object]:
        return {"budget_amount": self.budget_amount, "budget_currency": self.budget_currency,
                "success_factors": self.success_factors,
                "lessons_learned": self.lessons_learned,
                "funding": None if self.funding is None else [
                    line.as_input() for line in self.funding],
                "results": None if self.results is None else [
                    result.as_input() for result in self.results]}


EVIDENCE_FIELDS = set(EvidenceIn.model_fields)


class ResultSideOut(BaseModel):
    period: str
    value: float | None
    unit: str
    origin: Origin = Field(description="Computed by bylab, reported by the project, or none.")
    provenance: str = Field(description="Address of a computed value with its provenance.")

    @classmethod
    def of(cls, side: ResultSide) -> ResultSideOut:
        return cls(period=side.period, value=side.value, unit=side.unit, origin=side.origin,
                   provenance=side.provenance)


class ResultOut(BaseModel):
    id: int
    kpi_code: str
    place_id: str
    direction: Direction
    before: ResultSideOut
    after: ResultSideOut
    change: float | None
    outcome: Outcome
    reported_source: str

    @classmethod
    def of(cls, view: ResultView) -> ResultOut:
        return cls(id=view.result.id, kpi_code=view.result.kpi_code,
                   place_id=view.result.place_id, direction=view.direction,
                   before=ResultSideOut.of(view.before), after=ResultSideOut.of(view.after),
                   change=view.change, outcome=view.outcome, reported_source=view.source)


def document_url(project_name: str, document_id: str) -> str:
    return f"/api/projects/{project_name}/documents/{document_id}"


class DocumentOut(BaseModel):
    id: str
    title: str
    language: str
    filename: str
    media_type: str
    size_bytes: int
    created_by: str
    created: datetime
    url: str

    @classmethod
    def of(cls, project_name: str, document: ProjectDocument) -> DocumentOut:
        return cls(id=document.id, title=document.title, language=document.language,
                   filename=document.filename, media_type=document.media_type,
                   size_bytes=document.size_bytes, created_by=document.created_by,
                   created=document.created, url=document_url(project_name, document.id))


class EvidenceOut(BaseModel):
    """The evidence part of a project's API body."""

    budget: MoneyOut | None
    funding: list[FundingOut]
    funding_totals: list[MoneyOut] = Field(description="One sum per currency.")
    results: list[ResultOut]
    success_factors: dict[str, list[str]]
    lessons_learned: dict[str, list[str]]
    documents: list[DocumentOut]

    @classmethod
    def fields_of(cls, detail: ProjectDetail) -> dict[str, object]:
        name = detail.project.name
        return {
            "budget": MoneyOut.of(detail.budget) if detail.budget else None,
            "funding": [FundingOut.of(view) for view in detail.funding],
            "funding_totals": [MoneyOut.of(money) for money in detail.funding_totals],
            "results": [ResultOut.of(view) for view in detail.results],
            "success_factors": detail.project.success_factors,
            "lessons_learned": detail.project.lessons_learned,
            "documents": [DocumentOut.of(name, d) for d in detail.documents]}


@router.delete("/api/projects/{name_or_id}", status_code=204)
def api_project_delete(request: Request, ctx: ContextDep, name_or_id: str) -> Response:
    """Delete a project with its funding, results and documents (editors of its owner)."""
    check_csrf(request, None)
    project_delete(ctx, name_or_id)
    return Response(status_code=204)


@router.get("/api/projects/{name_or_id}/documents")
def api_documents(ctx: ContextDep, name_or_id: str) -> list[DocumentOut]:
    detail = project_show(ctx, name_or_id)
    return [DocumentOut.of(detail.project.name, d) for d in detail.documents]


async def read_upload(ctx: Context, file: UploadFile) -> Upload:
    if ctx.actor.is_anonymous:  # refuse before reading a body that could never be stored
        raise NotAuthorized("log in or send an API token to add documents")
    limit = document_limit(ctx.settings)
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise TooLarge("a document holds at most {megabytes} MB", field="file",
                       megabytes=limit // 2**20)
    return Upload(file.filename or "", file.content_type or "", content)


@router.post("/api/projects/{name_or_id}/documents", status_code=201)
async def api_document_add(request: Request, ctx: ContextDep, name_or_id: str,
                           file: UploadFile, title: Annotated[str, Form()] = "",
                           language: Annotated[str, Form()] = "") -> DocumentOut:
    """Attach a PDF, office document or picture (editors of the project's owner)."""
    check_csrf(request, None)
    upload = await read_upload(ctx, file)
    document = await run_in_threadpool(document_add, ctx, name_or_id, upload, title, language)
    return DocumentOut.of(project_show(ctx, name_or_id).project.name, document)


@router.get("/api/projects/{name_or_id}/documents/{document_id}",
            response_class=FileResponse)
def api_document_file(ctx: ContextDep, name_or_id: str, document_id: str) -> FileResponse:
    """The document's file, as an attachment."""
    document, path = document_get(ctx, name_or_id, document_id)
    return FileResponse(path, media_type=document.media_type, filename=document.filename,
                        headers={"X-Content-Type-Options": "nosniff"})


@router.delete("/api/projects/{name_or_id}/documents/{document_id}", status_code=204)
def api_document_remove(request: Request, ctx: ContextDep, name_or_id: str,
                        document_id: str) -> Response:
    check_csrf(request, None)
    document_remove(ctx, name_or_id, document_id)
    return Response(status_code=204)


class ResponseIn(BaseModel):
    kind: ResponseKind
    text: str = ""
    project: str = Field("", description="For a case: the project's name or id.")
    solution: str = Field("", description="For a solution: the solution's name or id.")
    organisation: str = Field("", description="The responding organisation, when you are a "
                                              "member of several.")


class ResponseOut(BaseModel):
    id: int
    kind: ResponseKind
    text: str
    organisation: str
    project: str | None
    solution: str | None
    status: ResponseStatus
    created_by: str
    created: datetime
    status_by: str
    status_at: datetime | None

    @classmethod
    def of(cls, view: ResponseView) -> ResponseOut:
        response = view.response
        return cls(id=response.id, kind=response.kind, text=response.text,
                   organisation=view.organisation.name,
                   project=view.project.name if view.project else None,
                   solution=view.solution.name if view.solution else None,
                   status=response.status, created_by=response.created_by,
                   created=response.created, status_by=response.status_by,
                   status_at=response.status_at)


class ResponseStatusIn(BaseModel):
    status: ResponseStatus


def _response_out(ctx: Context, challenge: str, response_id: int) -> ResponseOut:
    return next(ResponseOut.of(view) for view in responses_of(ctx, challenge)
                if view.response.id == response_id)


@router.get("/api/challenges/{name_or_id}/responses")
def api_responses(ctx: ContextDep, name_or_id: str) -> list[ResponseOut]:
    """Ideas, cases and solutions other organisations gave, oldest first."""
    return [ResponseOut.of(view) for view in responses_of(ctx, name_or_id)]


@router.post("/api/challenges/{name_or_id}/responses", status_code=201)
def api_response_add(request: Request, ctx: ContextDep, name_or_id: str,
                     body: ResponseIn) -> ResponseOut:
    """Respond with an idea, a case (a project) or a solution (members of an organisation
    other than the challenge owner); the challenge's followers are notified."""
    check_csrf(request, None)
    response = response_add(ctx, name_or_id, ResponseInput(**body.model_dump()))
    return _response_out(ctx, name_or_id, response.id)


@router.put("/api/challenges/{name_or_id}/responses/{response_id}/status")
def api_response_status(request: Request, ctx: ContextDep, name_or_id: str, response_id: int,
                        body: ResponseStatusIn) -> ResponseOut:
    """Shortlist, decline or accept a response (editors of the challenge owner)."""
    check_csrf(request, None)
    response_status_set(ctx, name_or_id, response_id, body.status)
    return _response_out(ctx, name_or_id, response_id)
