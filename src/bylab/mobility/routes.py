"""REST API and pages of bylab.mobility: SUMO runs as background jobs and their results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from bylab.auth.actions import organisation_list
from bylab.catalog.pages import saved_upload
from bylab.core import Context
from bylab.errors import InvalidInput, invalid_input_from
from bylab.mobility.demand import DemandInput, ModeShare
from bylab.mobility.kpi import SimulatedValue, kpi_of, simulated_values
from bylab.mobility.models import MobilityRun
from bylab.mobility.network import NetworkKind, NetworkSpec
from bylab.mobility.runs import (
    RESULT_UNITS,
    RunRequest,
    run_cancel,
    run_get,
    run_list,
    run_start,
    run_submit,
)
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import render

router = APIRouter(tags=["mobility"])


class RunSummaryOut(BaseModel):
    id: str
    kind: str
    title: str
    place_id: str | None
    status: str
    phase: str
    progress: float
    created: datetime
    finished: datetime | None
    dataset_id: str | None


class RunOut(RunSummaryOut):
    organisation_id: str
    seed: int
    network: dict[str, Any]
    demand: dict[str, Any]
    provenance: dict[str, Any]
    results: dict[str, Any]
    error: str
    created_by: str
    started: datetime | None


def _summary(run: MobilityRun) -> RunSummaryOut:
    return RunSummaryOut.model_validate(run, from_attributes=True)


def _detail(run: MobilityRun) -> RunOut:
    return RunOut.model_validate(run, from_attributes=True)


def _check_no_server_paths(body: RunRequest) -> None:
    """Over HTTP a network is generated: a path would name a file on the server."""
    if body.network.kind == NetworkKind.OSM:
        raise InvalidInput("an OpenStreetMap import reads a local file: use "
                           "`bylab mobility run --osm FILE` on the server", field="network.kind")


@router.get("/api/mobility/runs")
def api_runs(ctx: ContextDep) -> list[RunSummaryOut]:
    """The runs of your organisations, newest first."""
    return [_summary(run) for run in run_list(ctx)]


@router.post("/api/mobility/runs", status_code=202)
def api_run_start(request: Request, ctx: ContextDep, body: RunRequest) -> RunOut:
    """Start a SUMO simulation in the background (editors of `organisation`); poll
    `GET /api/mobility/runs/{id}` for its progress and results."""
    check_csrf(request, None)
    _check_no_server_paths(body)
    return _queued(ctx, run_submit(ctx, body))


@router.post("/api/mobility/calibrations", status_code=202)
def api_calibration_start(
    request: Request, ctx: ContextDep,
    run: Annotated[str, Form(description="The run request, as JSON (as for /api/mobility/runs)")],
    counts: Annotated[UploadFile, File(description="CSV with edge_id, hour, count")],
) -> RunOut:
    """Start a calibration in the background: fit the demand to the counts with SUMO's
    routeSampler, simulate it and report GEH per counter before and after."""
    check_csrf(request, None)
    try:
        body = RunRequest.model_validate_json(run)
    except ValidationError as error:
        raise invalid_input_from(error) from None
    _check_no_server_paths(body)
    with saved_upload(counts, ctx.settings.uploads_dir) as path:
        submitted = run_submit(ctx, body, path, counts.filename)
    return _queued(ctx, submitted)


def _queued(ctx: Context, run: MobilityRun) -> RunOut:
    run_start(ctx, run.id)
    return _detail(run)


@router.get("/api/mobility/runs/{run_id}")
def api_run(ctx: ContextDep, run_id: str) -> RunOut:
    return _detail(run_get(ctx, run_id))


@router.get("/api/mobility/simulated-values")
def api_simulated_values(ctx: ContextDep, kpi: str | None = None,
                         place: str | None = None) -> list[SimulatedValue]:
    """KPI values and inputs from your organisations' succeeded SUMO runs (SYNTHETIC: never
    among the measured values of `/api/indicators/values`), of a KPI (code or slug) and a
    place when given."""
    return simulated_values(ctx, kpi, place)


@router.post("/api/mobility/runs/{run_id}/cancel")
def api_run_cancel(request: Request, ctx: ContextDep, run_id: str) -> RunOut:
    """Cancel a queued or running run (it stops within a second)."""
    check_csrf(request, None)
    return _detail(run_cancel(ctx, run_id))


@router.get("/mobility", response_class=HTMLResponse, include_in_schema=False)
def page_runs(request: Request, ctx: ContextDep) -> HTMLResponse:
    return render(request, "mobility/runs.html", runs=run_list(ctx),
                  organisations=_editable_organisations(ctx), defaults=ModeShare(),
                  network=NetworkSpec())


def _editable_organisations(ctx: Context) -> list[Any]:
    if ctx.actor.is_anonymous:
        return []
    return [organisation for organisation in organisation_list(ctx)
            if ctx.actor.can_edit(organisation.id)]


@router.post("/mobility/runs", include_in_schema=False)
def page_run_start(
    request: Request, ctx: ContextDep, organisation: Annotated[str, Form()],
    population: Annotated[int, Form()], car: Annotated[float, Form()],
    public_transport: Annotated[float, Form()], bicycle: Annotated[float, Form()],
    walk: Annotated[float, Form()], size: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """The "start a run" form of /mobility (mode shares in %) for organisation editors."""
    check_csrf(request, csrf_token)
    total = car + public_transport + bicycle + walk
    if abs(total - 100) > 1e-6:
        raise InvalidInput("the mode shares must add up to 100 % (they add up to {total:g} %)",
                           field="car", total=total)
    try:
        shares = ModeShare(car=car / 100, public_transport=public_transport / 100,
                           bicycle=bicycle / 100, walk=walk / 100)
        body = RunRequest(organisation=organisation, network=NetworkSpec(size=size),
                          demand=DemandInput(population=population, mode_share=shares))
    except ValidationError as error:
        raise invalid_input_from(error) from None
    run = run_submit(ctx, body)
    run_start(ctx, run.id)
    return RedirectResponse(f"/mobility/runs/{run.id}", status_code=303)


@router.get("/mobility/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
def page_run(request: Request, ctx: ContextDep, run_id: str) -> HTMLResponse:
    return render(request, "mobility/run.html", run=run_get(ctx, run_id), units=RESULT_UNITS,
                  kpi_of=kpi_of)


@router.post("/mobility/runs/{run_id}/cancel", include_in_schema=False)
def page_run_cancel(request: Request, ctx: ContextDep, run_id: str,
                    csrf_token: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(request, csrf_token)
    run_cancel(ctx, run_id)
    return RedirectResponse(f"/mobility/runs/{run_id}", status_code=303)
