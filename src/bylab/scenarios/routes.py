"""Web pages and API routes of bylab.scenarios: the scenario list, the editor with live fan
charts, and a REST API to run, save, share, export and solve scenarios."""

from __future__ import annotations

import io
import json
from datetime import date
from urllib.parse import urlencode
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from bylab.auth.actions import organisation_list
from bylab.catalog.models import Visibility
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput, invalid_input_from
from bylab.indicators.actions import kpi_show
from bylab.mobility.network import NetworkKind, NetworkSpec
from bylab.mobility.runs import run_start
from bylab.scenarios.actions import (
    ScenarioResult,
    TargetCheck,
    scenario_baseline,
    scenario_data,
    scenario_run,
)
from bylab.scenarios.editor import (
    HORIZONS,
    MILESTONES,
    EditorForm,
    SolverAsk,
    apply_solution,
    editor_result,
    field_number,
    form_from_query,
    form_from_spec,
    solver_ask,
)
from bylab.places.queries import place_children, places_feature_collection
from bylab.scenarios.export import result_document, write_csv
from bylab.scenarios.levers import GHG, KPIS_WITH_LEVERS, LEVERS, lever_show
from bylab.scenarios.models import SavedScenario
from bylab.scenarios.sharing import (
    scenario_delete,
    scenario_list,
    scenario_save,
    scenario_share_set,
    scenario_shared_with,
    scenario_show,
)
from bylab.scenarios.solver import SolveResult, scenario_solve
from bylab.scenarios.traffic import (
    DerivedDemand,
    TrafficComparison,
    TrafficRuns,
    traffic_compare,
    traffic_submit,
)
from bylab.scenarios.spec import (
    ScenarioSpec,
    preset_show,
    preset_texts,
    spec_from_dict,
    spec_from_yaml,
    spec_to_yaml,
)
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import render

router = APIRouter()
EDITOR_MAX_DRAWS = 5000
DrawsQuery = Annotated[int, Query(ge=1, le=100_000, description="Monte Carlo draws")]
SeedQuery = Annotated[int | None, Query(description="random seed (same seed, same numbers)")]
FormatQuery = Annotated[str, Query(pattern="^(json|csv)$", description="json or csv")]


# ---------------------------------------------------------------- API models

class SavedOut(BaseModel):
    name: str
    title: str
    organisation_id: str
    visibility: str
    created_by: str
    modified: str

    @classmethod
    def of(cls, saved: SavedScenario) -> SavedOut:
        return cls(name=saved.name, title=saved.title, organisation_id=saved.organisation_id,
                   visibility=saved.visibility, created_by=saved.created_by,
                   modified=saved.modified.isoformat())


class SaveIn(BaseModel):
    organisation: str = Field(description="name of the owning organisation")
    visibility: Visibility = Visibility.PRIVATE
    shared_with: list[str] = Field(default_factory=list)
    scenario: dict[str, Any] = Field(description="the scenario, as in a scenario file")


class SharingIn(BaseModel):
    visibility: Visibility
    shared_with: list[str] = Field(default_factory=list)


class SolveIn(BaseModel):
    scenario: dict[str, Any]
    place: str
    kpi: str
    target: float
    year: int
    probability: float = 0.8
    bounds: dict[str, tuple[float, float]]
    draws: int = Field(default=1000, ge=1, le=100_000)
    seed: int = 0


class TrafficIn(BaseModel):
    scenario: dict[str, Any] = Field(description="the scenario, as in a scenario file")
    place: str = Field(description="one of the scenario's places")
    year: int = Field(description="the year whose demand to simulate")
    organisation: str = Field(description="organisation running it (you edit for it)")
    network: NetworkSpec = Field(default_factory=NetworkSpec,
                                 description="a generated network (grid or spider)")
    seed: int = Field(default=1, ge=0, le=2**31 - 1)
    population: int | None = Field(default=None, ge=1, le=10_000_000,
                                   description="overrides the population from the place's data")


def _traffic_started(ctx: Context, runs: TrafficRuns) -> dict[str, Any]:
    """Start both queued runs in the background and describe them."""
    for run in (runs.run, runs.baseline):
        run_start(ctx, run.id)
    return {"run_id": runs.run.id, "baseline_id": runs.baseline.id,
            "status_url": f"/api/scenarios/traffic?run={runs.run.id}"
                          f"&baseline={runs.baseline.id}",
            "scenario": _demand_document(runs.demand),
            "baseline": _demand_document(runs.baseline_demand)}


def _demand_document(derived: DerivedDemand) -> dict[str, Any]:
    return {"demand": derived.demand.model_dump(mode="json"),
            "car_trips": derived.demand.car_trips(), "modal_shift": derived.modal_shift,
            "assumptions": derived.assumptions}


def _comparison_document(compared: TrafficComparison) -> dict[str, Any]:
    def run_document(run: Any) -> dict[str, Any]:
        return {"id": run.id, "title": run.title, "status": run.status, "phase": run.phase,
                "progress": run.progress, "error": run.error, "url": f"/mobility/runs/{run.id}",
                "dataset_id": run.dataset_id}
    return {"finished": compared.finished, "run": run_document(compared.run),
            "baseline": run_document(compared.baseline), "indicators": compared.rows,
            "synthetic": True}


def _results_response(results: list[ScenarioResult], format: str, as_list: bool = False
                      ) -> Response:
    """CSV of every result under one header, or JSON: one document (a list ``as_list``)."""
    if format == "csv":
        buffer = io.StringIO()
        write_csv(results, buffer)
        return PlainTextResponse(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    documents = [result_document(result) for result in results]
    return Response(json.dumps(documents if as_list else documents[0], ensure_ascii=False),
                    media_type="application/json")


async def _spec_of(request: Request) -> ScenarioSpec:
    """The scenario in the request body: YAML (content type containing 'yaml') or JSON."""
    body = (await request.body()).decode("utf-8", errors="replace")
    if "yaml" in request.headers.get("content-type", ""):
        return spec_from_yaml(body, "request body")
    try:
        return spec_from_dict(json.loads(body), "request body")
    except json.JSONDecodeError as error:
        raise InvalidInput("not valid JSON: {problem}", file="request body",
                           problem=str(error)) from None


# ---------------------------------------------------------------- API

@router.get("/api/scenarios/levers", tags=["scenarios"])
def api_levers() -> list[dict[str, Any]]:
    """The levers with their effect models: coefficient factors with sources or the label
    'assumption'."""
    return [{"key": lever.key, "title": lever.title, "unit": lever.unit,
             "minimum": lever.minimum, "maximum": lever.maximum, "note": lever.note,
             "effects": [{"kpi_code": effect.kpi_code, "kind": effect.kind.value,
                          "exposure": effect.exposure.value,
                          "coefficient": effect.coefficient, "note": effect.note,
                          "factors": [vars(factor) for factor in effect.factors]}
                         for effect in lever.effects]} for lever in LEVERS]


@router.get("/api/scenarios/presets", tags=["scenarios"])
def api_presets() -> dict[str, dict[str, Any]]:
    """The preset scenarios by name."""
    return {name: preset_show(name).model_dump(mode="json") for name in preset_texts()}


@router.get("/api/scenarios/baseline", tags=["scenarios"])
def api_baseline(ctx: ContextDep, place: str, horizon: int = 2050) -> PlainTextResponse:
    """The zero-lever scenario of a place, as a YAML scenario file."""
    return PlainTextResponse(spec_to_yaml(scenario_baseline(ctx, place, horizon)),
                             media_type="application/yaml")


@router.post("/api/scenarios/run", tags=["scenarios"])
async def api_run(request: Request, ctx: ContextDep, draws: DrawsQuery = 1000,
                  seed: SeedQuery = None, format: FormatQuery = "json") -> Response:
    """Run the scenario in the body (JSON, or YAML with a YAML content type) without saving
    it; results as JSON or CSV."""
    spec = await _spec_of(request)
    result = await run_in_threadpool(scenario_run, ctx, spec, draws, seed)
    return _results_response([result], format)


@router.post("/api/scenarios/solve", tags=["scenarios"])
def api_solve(ctx: ContextDep, body: SolveIn) -> dict[str, Any]:
    """The smallest lever values within bounds that reach a target with the probability."""
    spec = spec_from_dict(body.scenario, "scenario")
    solved = scenario_solve(ctx, spec, TargetCheck(body.place, body.kpi, body.target,
                                                   body.year), body.probability,
                            body.bounds, body.draws, body.seed)
    return {"lever_values": solved.lever_values, "fraction": solved.fraction,
            "probability": solved.probability, "reachable": solved.reachable,
            "scenario": solved.spec.model_dump(mode="json")}


@router.get("/api/scenarios/compare", tags=["scenarios"])
def api_compare(ctx: ContextDep, names: Annotated[list[str], Query(min_length=1)],
                draws: DrawsQuery = 1000, seed: SeedQuery = None,
                format: FormatQuery = "csv") -> Response:
    """Run several scenarios side by side (saved ones you may see, or presets by name), each
    with the same seed; one CSV (or a JSON list) with a ``scenario`` column to tell them
    apart."""
    names = list(dict.fromkeys(names))
    saved = {item.name for item in scenario_list(ctx)}
    specs = [scenario_show(ctx, name)[1] if name in saved else preset_show(name)
             for name in names]
    return _results_response([scenario_run(ctx, spec, draws, seed) for spec in specs], format,
                             as_list=True)


@router.post("/api/scenarios/traffic", tags=["scenarios"], status_code=202)
def api_traffic(request: Request, ctx: ContextDep, body: TrafficIn) -> dict[str, Any]:
    """Simulate the car traffic of one place in one year with SUMO, for the scenario and for
    its zero-lever baseline: the demand is derived from the scenario (population, mode share
    after the modal shift; assumptions listed). Poll ``status_url`` for the comparison."""
    check_csrf(request, None)
    if body.network.kind == NetworkKind.OSM:
        raise InvalidInput("over HTTP the network is generated (grid or spider)",
                           field="network.kind")
    spec = spec_from_dict(body.scenario, "scenario")
    return _traffic_started(ctx, traffic_submit(ctx, spec, body.place, body.year,
                                                body.organisation, body.network, body.seed,
                                                body.population))


@router.get("/api/scenarios/traffic", tags=["scenarios"])
def api_traffic_status(ctx: ContextDep, run: str, baseline: str) -> dict[str, Any]:
    """The status of a scenario's traffic run and its baseline run and, once both succeeded,
    travel time index, delays and CO₂ side by side (synthetic demand)."""
    return _comparison_document(traffic_compare(ctx, run, baseline))


@router.get("/api/scenarios", tags=["scenarios"])
def api_list(ctx: ContextDep) -> list[SavedOut]:
    """The saved scenarios you may see."""
    return [SavedOut.of(saved) for saved in scenario_list(ctx)]


@router.post("/api/scenarios", tags=["scenarios"], status_code=201)
def api_save(request: Request, ctx: ContextDep, body: SaveIn) -> SavedOut:
    """Save (or replace) a scenario for an organisation you edit for."""
    check_csrf(request, None)
    spec = spec_from_dict(body.scenario, "scenario")
    return SavedOut.of(scenario_save(ctx, spec, body.organisation, body.visibility,
                                     body.shared_with))


@router.get("/api/scenarios/{name}", tags=["scenarios"])
def api_show(ctx: ContextDep, name: str) -> dict[str, Any]:
    """A saved scenario you may see, with whom it is shared."""
    saved, spec = scenario_show(ctx, name)
    return {**SavedOut.of(saved).model_dump(), "shared_with": scenario_shared_with(ctx, saved),
            "scenario": spec.model_dump(mode="json")}


@router.get("/api/scenarios/{name}/results", tags=["scenarios"])
def api_results(ctx: ContextDep, name: str, draws: DrawsQuery = 1000, seed: SeedQuery = None,
                format: FormatQuery = "json") -> Response:
    """Run a saved scenario; results as JSON or CSV."""
    _saved, spec = scenario_show(ctx, name)
    return _results_response([scenario_run(ctx, spec, draws, seed)], format)


@router.put("/api/scenarios/{name}/sharing", tags=["scenarios"])
def api_sharing(request: Request, ctx: ContextDep, name: str, body: SharingIn) -> SavedOut:
    """Set who may see a saved scenario."""
    check_csrf(request, None)
    return SavedOut.of(scenario_share_set(ctx, name, body.visibility, body.shared_with))


@router.delete("/api/scenarios/{name}", tags=["scenarios"], status_code=204)
def api_delete(request: Request, ctx: ContextDep, name: str) -> Response:
    """Delete a saved scenario."""
    check_csrf(request, None)
    scenario_delete(ctx, name)
    return Response(status_code=204)


# ---------------------------------------------------------------- pages

@router.get("/scenarios", response_class=HTMLResponse, include_in_schema=False)
def scenarios_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    return render(request, "scenarios/list.html", saved=scenario_list(ctx),
                  presets={name: preset_show(name) for name in preset_texts()})


def _initial_form(ctx: Context, query: dict[str, str]) -> EditorForm:
    place = query.get("place", "").strip().upper() or None
    if query.get("saved"):
        return form_from_spec(scenario_show(ctx, query["saved"])[1], place)
    if query.get("preset"):
        return form_from_spec(preset_show(query["preset"]), place)
    return form_from_query(query)


@router.get("/scenarios/editor", response_class=HTMLResponse, include_in_schema=False)
def editor_page(request: Request, ctx: ContextDep) -> Response:
    if "csrf_token" in request.query_params:
        # The editor's one form also carries the save buttons' CSRF token; a run without
        # JavaScript submits it by GET. Keep it out of history, Referer headers and logs.
        kept = [(key, value) for key, value in request.query_params.multi_items()
                if key != "csrf_token"]
        return RedirectResponse(f"{request.url.path}?{urlencode(kept)}", status_code=303)
    query = dict(request.query_params)
    form = _initial_form(ctx, query)
    ask, solved, solve_error = None, None, None
    try:
        ask = solver_ask(query, request.query_params.getlist("solve_lever"))
        solved = _solve(ctx, form, ask) if ask and form.place else None
    except InvalidInput as error:
        solve_error = error
    editable = [organisation for organisation in organisation_list(ctx)
                if ctx.actor.can_edit(organisation.id)] if not ctx.actor.is_anonymous else []
    return render(request, "scenarios/editor.html", form=form, levers=LEVERS,
                  milestones=MILESTONES, horizons=HORIZONS, presets=list(preset_texts()),
                  organisations=editable, visibilities=list(Visibility), ask=ask,
                  solved=solved, solve_error=solve_error, target_kpis=[kpi_show(code) for code in KPIS_WITH_LEVERS],
                  **_results(ctx, form))


def _solve(ctx: Context, form: EditorForm, ask: SolverAsk) -> SolveResult:
    """Solve the editor's question and put the lever values found into the form."""
    bounds = {key: (0.0, lever_show(key).maximum) for key in ask.levers}
    solved = scenario_solve(ctx, form.to_spec(), TargetCheck(form.place, ask.kpi, ask.value,
                                                             ask.year),
                            ask.probability, bounds, form.draws, form.seed)
    apply_solution(form, solved)
    return solved


def _results(ctx: Context, form: EditorForm) -> dict[str, Any]:
    """The charts of the editor's scenario, or the error that prevents them."""
    if not form.place:
        return {"outcome": None, "error": None}
    try:
        if not 1 <= form.draws <= EDITOR_MAX_DRAWS:
            raise InvalidInput("draws must be between 1 and {limit}", field="draws",
                               limit=EDITOR_MAX_DRAWS)
        spec = form.to_spec()
        outcome = editor_result(spec, scenario_data(ctx, spec), form.draws, form.seed)
    except BylabError as error:
        return {"outcome": None, "error": error}
    return {"outcome": outcome, "error": None}


@router.get("/scenarios/chart", response_class=HTMLResponse, include_in_schema=False)
def chart_fragment(request: Request, ctx: ContextDep) -> HTMLResponse:
    """The editor's results (fan charts, tables, targets) for the form's values: the page
    re-fetches this fragment whenever an input changes."""
    form = form_from_query(dict(request.query_params))
    return render(request, "scenarios/results.html", form=form, **_results(ctx, form))


def _map_spec(ctx: Context, preset: str | None, saved: str | None,
              parent: str | None) -> ScenarioSpec:
    spec = scenario_show(ctx, saved)[1] if saved else preset_show(preset or "fossil-free-2045")
    if parent:
        today = date.today()
        places = [place.id for place in place_children(ctx, parent.strip().upper(), today)]
        spec = spec.model_copy(update={"places": places or spec.places})
    return spec


@router.get("/scenarios/map", response_class=HTMLResponse, include_in_schema=False)
def map_page(request: Request, ctx: ContextDep, preset: str | None = None,
             saved: str | None = None, parent: str | None = None, kpi: str = GHG,
             year: int | None = None) -> HTMLResponse:
    """The scenario's median of one KPI in one year on a map of its places, with the table
    of the same numbers (500 draws, seed 1)."""
    spec = _map_spec(ctx, preset, saved, parent)
    result = scenario_run(ctx, spec, 500, 1)
    year = year or spec.horizon
    rows = {row.place_code: row for row in result.rows
            if row.year == year and kpi_show(row.kpi_code).slug == kpi_show(kpi).slug}
    shapes = places_feature_collection(ctx, ids=list(rows), simplify_deg=0.002)
    for feature in shapes["features"]:
        feature["properties"]["p50"] = rows[feature["id"]].p50
    return render(request, "scenarios/map.html", spec=spec, rows=list(rows.values()),
                  shapes=shapes, kpi=kpi_show(kpi), year=year, preset=preset, saved=saved,
                  parent=parent or "", presets=list(preset_texts()),
                  kpis=[kpi_show(code) for code in spec.kpi_codes],
                  names=result.place_names)


async def _posted_fields(request: Request) -> dict[str, str]:
    """The fields of a posted editor form, once its CSRF token is checked."""
    submitted = await request.form()
    fields = {key: str(value) for key, value in submitted.items()}
    check_csrf(request, fields.get("csrf_token"))
    return fields


@router.post("/scenarios", include_in_schema=False)
async def save_page(request: Request, ctx: ContextDep) -> Response:
    fields = await _posted_fields(request)
    form = form_from_query(fields)
    visibility = Visibility(fields.get("visibility", Visibility.PRIVATE.value))
    shared = [name.strip() for name in fields.get("shared_with", "").split(",") if name.strip()]
    saved = await run_in_threadpool(scenario_save, ctx, form.to_spec(),
                                    fields.get("organisation", ""), visibility, shared)
    request.session["flash"] = [*request.session.get("flash", []), "scenario saved"]
    return RedirectResponse(f"/scenarios/editor?saved={saved.name}", status_code=303)


@router.post("/scenarios/traffic", include_in_schema=False)
async def traffic_page_start(request: Request, ctx: ContextDep) -> Response:
    """The editor's "simulate traffic" button: runs for the scenario and its baseline."""
    fields = await _posted_fields(request)
    form = form_from_query(fields)
    year = int(field_number(fields, "traffic_year", MILESTONES[0]))
    try:
        network = NetworkSpec(size=int(field_number(fields, "traffic_size", 5)))
    except ValidationError as error:
        raise invalid_input_from(error) from None
    runs = await run_in_threadpool(traffic_submit, ctx, form.to_spec(), form.place, year,
                                   fields.get("organisation", ""), network)
    started = _traffic_started(ctx, runs)
    return RedirectResponse(f"/scenarios/traffic?run={started['run_id']}"
                            f"&baseline={started['baseline_id']}", status_code=303)


@router.get("/scenarios/traffic", response_class=HTMLResponse, include_in_schema=False)
def traffic_page(request: Request, ctx: ContextDep, run: str, baseline: str) -> HTMLResponse:
    """The scenario's traffic run beside its baseline run; reloads itself until both end."""
    return render(request, "scenarios/traffic.html", compared=traffic_compare(ctx, run, baseline))


@router.get("/scenarios/{name}.yaml", include_in_schema=False)
def saved_yaml(ctx: ContextDep, name: str) -> PlainTextResponse:
    _saved, spec = scenario_show(ctx, name)
    return PlainTextResponse(spec_to_yaml(spec), media_type="application/yaml")
