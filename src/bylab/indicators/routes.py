"""REST API and pages of the indicators capability."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bylab.indicators.actions import (
    Coverage,
    KpiEntry,
    ValueRow,
    indicator_coverage,
    indicator_value_show,
    indicator_values,
    kpi_list,
    kpi_show,
    method_label,
)
from bylab.indicators.api import router as api_router
from bylab.indicators.compare import YEARS_BEFORE, PeerKind, indicator_compare
from bylab.indicators.compare import __doc__ as COMPARE_METHOD
from bylab.indicators.models import IndicatorTarget, TargetKind, TargetScope
from bylab.indicators.reviews import ReviewState, review_list
from bylab.indicators.targets import __doc__ as TARGETS_METHOD
from bylab.indicators.targets import target_add, target_list, target_status
from bylab.mobility.kpi import simulated_values
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import language_of, render

router = APIRouter()
router.include_router(api_router)
UNVERIFIED = "candidate by name similarity, unverified (not from a published crosswalk)"


class IsoCandidateOut(BaseModel):
    number: str
    name: str
    status: str = UNVERIFIED


class KpiOut(BaseModel):
    code: str
    slug: str
    names: dict[str, str]
    name_sources: dict[str, str]  # catalogue | bylab_translation (unverified) | english_fallback
    framework: str
    dimension: str
    subdimension: str
    category: str
    type: str
    unit: str
    catalogue_formula: str
    sdg: str
    sdg_source: str
    iso37120_ref: str
    iso37120_candidates: list[IsoCandidateOut]
    defined: bool
    method: str  # itu_formula | bylab_operationalisation | "" (not operationalised yet)
    method_label: str
    countries: list[str]

    @classmethod
    def of(cls, entry: KpiEntry) -> KpiOut:
        kpi = entry.kpi
        return cls(
            code=kpi.code, slug=entry.slug,
            names={language: kpi.name(language) for language in kpi.names},
            name_sources={language: kpi.name_source(language) for language in kpi.names},
            framework=kpi.framework, dimension=kpi.dimension, subdimension=kpi.subdimension,
            category=kpi.category, type=kpi.kind, unit=kpi.unit_text,
            catalogue_formula=kpi.formula_text, sdg=kpi.sdg,
            sdg_source="KS mapping (not ITU)" if kpi.sdg_is_ks_mapping else "ITU KPI page",
            iso37120_ref=kpi.iso37120_ref,
            iso37120_candidates=[IsoCandidateOut(number=item.number, name=item.name)
                                 for item in kpi.iso_candidates],
            defined=entry.definition is not None, method=entry.method,
            method_label=method_label(entry.method), countries=list(entry.countries))


class DefinitionOut(BaseModel):
    file: str
    method: str
    method_label: str
    cites: str
    cites_source: str
    formula: str
    unit: str
    unit_label: str
    direction: str
    period: str
    inputs: dict[str, dict[str, str]]
    periods_from: str
    notes: str


class KpiDetailOut(KpiOut):
    definition: DefinitionOut | None


class ValueOut(BaseModel):
    kpi_code: str
    place_code: str
    place_name: str
    period: str
    value: float | None
    unit: str
    method: str
    status: str
    reason: str
    computed_at: datetime


class ValueDetailOut(ValueOut):
    dataset_ids: list[str]
    provenance: dict[str, Any]
    reviews: list[ReviewState]  # newest first; each current or invalidated


@router.get("/api/indicators/kpis", tags=["indicators"])
def api_kpis() -> list[KpiOut]:
    """The 91 U4SSC KPIs (then bylab's context indicators) with bylab's definition status."""
    return [KpiOut.of(entry) for entry in kpi_list()]


@router.get("/api/indicators/kpis/{code}", tags=["indicators"])
def api_kpi(code: str) -> KpiDetailOut:
    """One KPI by code ('EN: EN: AQ: 2C', URL-encoded) or slug ('EN-EN-AQ-2C')."""
    entry = kpi_show(code)
    definition = None
    if entry.definition is not None:
        item = entry.definition
        definition = DefinitionOut(
            file=item.file, method=item.method.value, method_label=method_label(item.method),
            cites=item.cites, cites_source=item.cites_source, formula=item.formula,
            unit=item.unit, unit_label=item.unit_label, direction=item.direction.value,
            period=item.period, periods_from=item.period_input, notes=item.notes,
            inputs={name: {"unit": spec.unit, "description": spec.description}
                    for name, spec in item.inputs.items()})
    return KpiDetailOut(**KpiOut.of(entry).model_dump(), definition=definition)


@router.get("/api/indicators/values", tags=["indicators"])
def api_values(ctx: ContextDep, place: str | None = None, kpi: str | None = None,
               period: str | None = None, include_missing: bool = False) -> list[ValueOut]:
    """Stored KPI values you may see (the rows of `bylab indicators export`)."""
    rows = indicator_values(ctx, place, kpi, period, include_missing)
    return [ValueOut(**row.__dict__) for row in rows]


@router.get("/api/indicators/value", tags=["indicators"])
def api_value(ctx: ContextDep, kpi: str, place: str, period: str) -> ValueDetailOut:
    """One value (or missing record) with its provenance (datasets, versions, source rows)
    and its reviews."""
    stored = indicator_value_show(ctx, kpi, place, period)
    row = indicator_values(ctx, place, kpi, period, include_missing=True)[0]
    reviews = review_list(ctx, stored.place_id, stored.kpi_code, stored.period)
    return ValueDetailOut(**row.__dict__, dataset_ids=stored.dataset_ids,
                          provenance=stored.provenance,
                          reviews=reviews)


@router.get("/api/indicators/coverage", tags=["indicators"])
def api_coverage(ctx: ContextDep, place: str) -> dict[str, Any]:
    """How many of the 91 U4SSC KPIs are computed for a place, by dimension, and why the
    others are not."""
    return coverage_json(indicator_coverage(ctx, place))


def coverage_json(coverage: Coverage) -> dict[str, Any]:
    def item(status: Any) -> dict[str, Any]:
        return {"code": status.entry.kpi.code, "name": status.entry.kpi.name(),
                "dimension": status.entry.kpi.dimension, "status": status.status,
                "latest_period": status.latest_period, "latest_value": status.latest_value,
                "reason": status.reason}

    return {"place_code": coverage.place_id, "place_name": coverage.place_name,
            "total": coverage.total, "computed": coverage.computed,
            "by_dimension": coverage.by_dimension,
            "kpis": [item(status) for status in coverage.kpis],
            "context_indicators": [item(status) for status in coverage.context]}


# ---------------------------------------------------------------- pages

@router.get("/indicators", response_class=HTMLResponse, include_in_schema=False)
def page_kpis(request: Request) -> HTMLResponse:
    entries = kpi_list()
    return render(request, "indicators/kpis.html", entries=entries,
                  defined=sum(entry.definition is not None for entry in entries),
                  method_label=method_label)


@router.get("/indicators/{code}", response_class=HTMLResponse, include_in_schema=False)
def page_kpi(request: Request, ctx: ContextDep, code: str) -> HTMLResponse:
    entry = kpi_show(code)
    rows = indicator_values(ctx, kpi=entry.kpi.code) if entry.definition else []
    latest: dict[str, ValueRow] = {}
    for row in rows:  # ordered by place, then period: the last one per place is the latest
        latest[row.place_code] = row
    from bylab.dashboard.routes import kpi_page_charts

    return render(request, "indicators/kpi.html", entry=entry, rows=list(latest.values()),
                  period_count=len(rows), method_label=method_label, unverified=UNVERIFIED,
                  simulated=simulated_values(ctx, kpi=entry.kpi.code),
                  **kpi_page_charts(ctx, entry, rows, language_of(request)))


# ---------------------------------------------------------------- targets and comparison

class TargetIn(BaseModel):
    kpi: str  # code or slug
    place_id: str  # the place; the parent (scope "children"); the country code ("country")
    target_value: float
    target_year: int
    kind: TargetKind
    source: str
    scope: TargetScope = TargetScope.PLACE


class TargetOut(BaseModel):
    id: int
    kpi_code: str
    scope: str
    place_id: str
    target_value: float
    target_year: int
    kind: str
    source: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, target: IndicatorTarget) -> TargetOut:
        return cls(**{name: getattr(target, name) for name in cls.model_fields})


class StatusOut(BaseModel):
    target: TargetOut
    place_id: str
    status: str
    latest_period: str | None
    latest_value: float | None
    gap: float | None
    slope_per_year: float | None
    projected_value: float | None


@router.get("/api/indicators/targets", tags=["indicators"])
def api_targets(ctx: ContextDep, place: str | None = None,
                kpi: str | None = None) -> list[TargetOut]:
    """Targets, those applying to a place (its own, its parent's, its country's) and of a KPI
    when given."""
    return [TargetOut.of(target) for target in target_list(ctx, place, kpi)]


@router.post("/api/indicators/targets", tags=["indicators"], status_code=201)
def api_target_add(request: Request, ctx: ContextDep, body: TargetIn) -> TargetOut:
    """Add a target (system administrators, or editors of the organisation whose place is
    `place_id`)."""
    check_csrf(request, None)
    target = target_add(ctx, body.kpi, body.place_id, body.target_value, body.target_year,
                        body.kind, body.source, body.scope)
    return TargetOut.of(target)


@router.get("/api/indicators/status", tags=["indicators"], description=TARGETS_METHOD)
def api_status(ctx: ContextDep, place: str, kpi: str | None = None) -> list[StatusOut]:
    """Status of a place against each target that applies to it."""
    return [StatusOut(target=TargetOut.of(item.target),
                      **{name: getattr(item, name) for name in StatusOut.model_fields
                         if name != "target"})
            for item in target_status(ctx, place, kpi)]


@router.get("/api/indicators/compare", tags=["indicators"], description=COMPARE_METHOD)
def api_compare(ctx: ContextDep, peers: PeerKind, place: str | None = None,
                kpi: str | None = None, period: str | None = None,
                ids: Annotated[list[str] | None, Query()] = None,
                years_before: int = YEARS_BEFORE) -> dict[str, Any]:
    """Rank, percentile and 0–100 score of a place among its peers."""
    if ids and len(ids) == 1 and "," in ids[0]:
        ids = ids[0].split(",")
    comparison = indicator_compare(ctx, peers, place, kpi, period, ids, years_before)
    return asdict(comparison)
