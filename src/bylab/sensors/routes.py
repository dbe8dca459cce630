"""The SensorThings API (/sta/v1.1), the dead-letter API and the sensor pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bylab.sensors import actions
from bylab.sensors.aggregate import datastream_aggregate
from bylab.sensors.dataarray import observations_create, read_body
from bylab.sensors.positions import thing_positions
from bylab.sensors.sta import SERVICE_PATH, Request as StaRequest, load_graph, service_root, sta_get
from bylab.sensors.sta_change import sta_delete, sta_update
from bylab.sensors.sta_mqtt import claimed_classes, server_settings
from bylab.sensors.sta_write import sta_create
from bylab.web.security import ContextDep, check_csrf
from bylab.web.templating import render

router = APIRouter(tags=["sensors"])


def _service_root_url(request: Request, configured: str) -> str:
    base = configured.rstrip("/") or str(request.base_url).rstrip("/")
    return base + SERVICE_PATH


@router.get(SERVICE_PATH, include_in_schema=False)
def sta_root(request: Request, ctx: ContextDep) -> dict[str, Any]:
    """SensorThings service root: the entity sets and the conformance classes."""
    return service_root(_service_root_url(request, ctx.settings.base_url),
                        server_settings(ctx.settings), claimed_classes(ctx.settings))


@router.get(SERVICE_PATH + "/{resource:path}", include_in_schema=False)
def sta_resource(request: Request, ctx: ContextDep, resource: str) -> Response:
    """A SensorThings resource path (entity sets, entities, navigation, properties, $ref)."""
    root = _service_root_url(request, ctx.settings.base_url)
    answer = sta_get(StaRequest(ctx=ctx, graph=load_graph(ctx), root=root,
                                path=f"{root}/{resource}", params=request.query_params))
    if answer is None:
        return Response(status_code=204)
    if isinstance(answer, str):
        return PlainTextResponse(answer)
    return JSONResponse(answer)


@router.post(SERVICE_PATH + "/CreateObservations", include_in_schema=False, status_code=201)
async def sta_create_observations(request: Request, ctx: ContextDep) -> Response:
    """The Data Array extension's bulk create: one Observation link or "error" per row, in
    order (editors of the owning organisation; with an API token or the CSRF header). The
    body is JSON, or (a bylab extension) the same rows as an Arrow IPC stream, Parquet or CSV
    table, by its Content-Type."""
    check_csrf(request, None)
    root = _service_root_url(request, ctx.settings.base_url)
    body = await request.body()
    document = await run_in_threadpool(read_body, body, request.headers.get("content-type"))
    created = await run_in_threadpool(observations_create, ctx, document)
    # One link per row: a million rows answer fastest serialised at once (no model check).
    return Response(orjson.dumps(created.links(root)), status_code=201,
                    media_type="application/json")


def _entity_response(request: Request, ctx: ContextDep, set_name: str, identifier: int,
                     status_code: int) -> JSONResponse:
    """The entity as a GET answers it, with its link in ``Location``."""
    root = _service_root_url(request, ctx.settings.base_url)
    link = f"{root}/{set_name}({identifier})"
    answer = sta_get(StaRequest(ctx=ctx, graph=load_graph(ctx), root=root, path=link,
                                params={}))
    return JSONResponse(answer, status_code=status_code, headers={"Location": link})


@router.post(SERVICE_PATH + "/{resource:path}", include_in_schema=False)
def sta_post(request: Request, ctx: ContextDep, resource: str,
             document: Annotated[Any, Body()]) -> Response:
    """Create an entity (with related ones inline: deep insert); 201 with its Location."""
    check_csrf(request, None)
    set_name, identifier = sta_create(ctx, resource, document)
    return _entity_response(request, ctx, set_name, identifier, 201)


@router.patch(SERVICE_PATH + "/{resource:path}", include_in_schema=False)
def sta_patch(request: Request, ctx: ContextDep, resource: str,
              document: Annotated[Any, Body()]) -> Response:
    """Change the properties and links the body carries."""
    check_csrf(request, None)
    set_name, identifier = sta_update(ctx, resource, document)
    return _entity_response(request, ctx, set_name, identifier, 200)


@router.delete(SERVICE_PATH + "/{resource:path}", include_in_schema=False)
def sta_delete_entity(request: Request, ctx: ContextDep, resource: str) -> Response:
    """Delete an entity and what the standard deletes with it."""
    check_csrf(request, None)
    sta_delete(ctx, resource)
    return Response(status_code=200)


@router.put(SERVICE_PATH + "/{resource:path}", include_in_schema=False)
def sta_put(request: Request, ctx: ContextDep, resource: str,
            document: Annotated[Any, Body()]) -> Response:
    """Replace an entity's properties: the body is the whole entity (as PATCH, with every
    mandatory property)."""
    check_csrf(request, None)
    set_name, identifier = sta_update(ctx, resource, document, replace=True)
    return _entity_response(request, ctx, set_name, identifier, 200)


class BucketOut(BaseModel):
    start: datetime
    mean: float
    min: float
    max: float
    count: int


@router.get("/api/sensors/datastreams/{datastream_id}/aggregate")
def api_datastream_aggregate(
        ctx: ContextDep, datastream_id: int,
        interval: Literal["day", "month", "year"] = "day",
        first: Annotated[datetime | None, Query(alias="from")] = None,
        last: Annotated[datetime | None, Query(alias="to")] = None) -> list[BucketOut]:
    """Mean, min, max and count of a datastream's results per day, month or year (UTC), from
    ``from`` (included) to ``to`` (excluded)."""
    return [BucketOut(start=bucket.start, mean=bucket.mean, min=bucket.min, max=bucket.max,
                      count=bucket.count)
            for bucket in datastream_aggregate(ctx, datastream_id, interval, first, last)]


class DeadLetterOut(BaseModel):
    id: int
    source: str
    payload: str
    reason: str
    received_at: str
    replayed_at: str | None


@router.get("/api/sensors/dead-letters")
def api_dead_letters(ctx: ContextDep, include_replayed: bool = False) -> list[DeadLetterOut]:
    """Observations that could not be stored, with the reason (system administrators)."""
    return [DeadLetterOut(id=letter.id, source=letter.source, payload=letter.payload,
                          reason=letter.reason, received_at=letter.received_at.isoformat(),
                          replayed_at=letter.replayed_at.isoformat() if letter.replayed_at
                          else None)
            for letter in actions.dead_letter_list(ctx, include_replayed)]


class ReplayIn(BaseModel):
    ids: list[int] | None = None  # none: every open dead letter


@router.post("/api/sensors/dead-letters/replay")
def api_dead_letters_replay(request: Request, ctx: ContextDep,
                            body: Annotated[ReplayIn, Body()]) -> dict[str, int]:
    """Try dead letters again; the ones that now pass are stored."""
    check_csrf(request, None)
    result = actions.dead_letter_replay(ctx, body.ids)
    return {"stored": result.stored, "still_bad": result.still_bad}


@router.get("/sensors", response_class=HTMLResponse, include_in_schema=False)
def sensors_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    return render(request, "sensors/things.html", things=actions.thing_list(ctx))


@router.get("/sensors/{thing_id}", response_class=HTMLResponse, include_in_schema=False)
def thing_page(request: Request, ctx: ContextDep, thing_id: int) -> HTMLResponse:
    summary = actions.thing_show(ctx, thing_id)
    charts = [(datastream, _sparkline(actions.datastream_daily_means(ctx, datastream)))
              for datastream in summary.datastreams]
    return render(request, "sensors/thing.html", summary=summary, charts=charts,
                  positions=thing_positions(ctx, thing_id))


def _sparkline(points: list[tuple[Any, float]], width: int = 600, height: int = 120
               ) -> dict[str, Any]:
    """SVG polyline points for daily means, with the range, drawn without JavaScript."""
    if not points:
        return {"points": "", "low": None, "high": None, "days": []}
    values = [value for _, value in points]
    low, high = min(values), max(values)
    spread = (high - low) or 1.0
    step = width / max(len(points) - 1, 1)
    coordinates = " ".join(f"{index * step:.1f},{height - (value - low) / spread * height:.1f}"
                           for index, value in enumerate(values))
    return {"points": coordinates, "low": low, "high": high, "days": points,
            "width": width, "height": height}
