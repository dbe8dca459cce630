"""REST API of indicator reviews (sign-off), exports and the national crosswalk; included by
``bylab.indicators.routes``."""

from __future__ import annotations

import io

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from bylab.indicators.actions import indicator_values
from bylab.indicators.crosswalk import STATUS, crosswalk_list
from bylab.indicators.exports import MEDIA_TYPES, ExportFormat, write_export
from bylab.indicators.models import Verdict
from bylab.indicators.reviews import ReviewState, review_add, review_list
from bylab.web.security import ContextDep, check_csrf

router = APIRouter()


class ReviewIn(BaseModel):
    kpi: str  # code or slug
    place: str
    period: str
    verdict: Verdict
    comment: str = ""


@router.post("/api/indicators/reviews", tags=["indicators"], status_code=201)
def api_review_add(request: Request, ctx: ContextDep, body: ReviewIn) -> ReviewState:
    """Approve or question a stored value as a named verifier (an editor of the place's
    organisation or of one above it). The review is invalidated when the value's inputs
    change."""
    check_csrf(request, None)
    return review_add(ctx, body.kpi, body.place, body.period, body.verdict, body.comment)


@router.get("/api/indicators/reviews", tags=["indicators"])
def api_reviews(ctx: ContextDep, place: str | None = None, kpi: str | None = None,
                period: str | None = None) -> list[ReviewState]:
    """Reviews of values you may see, newest first, each `current` or `invalidated`."""
    return review_list(ctx, place, kpi, period)


@router.get("/api/indicators/export", tags=["indicators"])
def api_export(ctx: ContextDep, format: ExportFormat = ExportFormat.CSV,
               place: str | None = None, kpi: str | None = None,
               period: str | None = None) -> Response:
    """Stored values you may see as CSV (the columns of `bylab indicators export`), a
    JSON-stat 2.0 dataset, or FIWARE Smart Data Models KeyPerformanceIndicator entities."""
    output = io.StringIO()
    write_export(indicator_values(ctx, place, kpi, period), format, output)
    return Response(output.getvalue(), media_type=MEDIA_TYPES[format])


class CrosswalkOut(BaseModel):
    system: str
    country: str
    id: str
    name: str
    unit: str
    kpi: str
    iso37120: str
    comparability: str  # identical | comparable_with_caveat | not_comparable
    caveat: str
    justification: str
    source: str  # where the id, name and unit were seen; empty for the older entries
    status: str = STATUS


@router.get("/api/indicators/crosswalk", tags=["indicators"])
def api_crosswalk(kpi: str | None = None, system: str | None = None) -> list[CrosswalkOut]:
    """National indicators (Kolada, KOSTRA, GUS BDL) mapped to U4SSC KPIs and ISO 37120 with
    their comparability: bylab's own mapping, unverified."""
    return [CrosswalkOut(country=entry.country, **entry.model_dump())
            for entry in crosswalk_list(kpi, system)]
