"""REST API and pages of the indicators capability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
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
from bylab.web.security import ContextDep
from bylab.web.templating import render

router = APIRouter()
UNVERIFIED = "candidate by name similarity, unverified (not from a published crosswalk)"


class IsoCandidateOut(BaseModel):
    number: str
    name: str
    status: str = UNVERIFIED


class KpiOut(BaseModel):
    code: str
    slug: str
    names: dict[str, str]
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
    """One value (or missing record) with its provenance: datasets, versions, source rows."""
    stored = indicator_value_show(ctx, kpi, place, period)
    row = indicator_values(ctx, place, kpi, period, include_missing=True)[0]
    return ValueDetailOut(**row.__dict__, dataset_ids=stored.dataset_ids,
                          provenance=stored.provenance)


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
    return render(request, "indicators/kpi.html", entry=entry, rows=list(latest.values()),
                  period_count=len(rows), method_label=method_label, unverified=UNVERIFIED)
