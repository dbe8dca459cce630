"""Web pages and REST API of the places capability."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from bylab.places.history import place_crosswalk, place_history
from bylab.places.models import Place, PlaceLevel
from bylab.indicators.actions import indicator_coverage
from bylab.places.queries import (
    place_boundary,
    place_children,
    place_find,
    place_search,
    place_show,
    places_feature_collection,
)
from bylab.web.security import ContextDep
from bylab.web.templating import render

router = APIRouter()
AREA_NOTE = "approximate: geodesic area of a simplified boundary"
MAX_SIMPLIFY_DEG = 0.1


class PlaceOut(BaseModel):
    id: str
    country: str
    level: str
    code: str
    code_scheme: str
    name: str
    names: dict[str, str]
    parent_id: str | None
    valid_from: date | None
    valid_to: date | None
    lau_code: str | None
    nuts_code: str | None
    area_km2: float | None
    area_note: str | None
    centroid: tuple[float, float] | None  # lon, lat
    source: str

    @classmethod
    def of(cls, place: Place) -> PlaceOut:
        centroid = None
        if place.centroid_lon is not None and place.centroid_lat is not None:
            centroid = (place.centroid_lon, place.centroid_lat)
        return cls(
            id=place.id, country=place.country, level=place.level, code=place.code,
            code_scheme=place.code_scheme, name=place.name, names=place.names,
            parent_id=place.parent_id, valid_from=place.valid_from, valid_to=place.valid_to,
            lau_code=place.lau_code, nuts_code=place.nuts_code, area_km2=place.area_km2,
            area_note=AREA_NOTE if place.area_km2 is not None else None, centroid=centroid,
            source=place.source,
        )


class PlaceDetailOut(PlaceOut):
    children: list[str]
    boundary: dict[str, Any] | None


class HistoryStepOut(BaseModel):
    from_id: str
    from_name: str
    to_id: str
    to_name: str
    kind: str
    effective: date
    area_share: float | None
    source: str
    note: str
    depth: int


class HistoryOut(BaseModel):
    place: PlaceOut
    predecessors: list[HistoryStepOut]
    successors: list[HistoryStepOut]


class CrosswalkItemOut(BaseModel):
    place: PlaceOut
    share: float | None
    split: bool


class CrosswalkOut(BaseModel):
    from_id: str
    to_date: date
    matches: list[CrosswalkItemOut]


@router.get("/api/places", tags=["places"])
def api_places(
    ctx: ContextDep,
    q: str = "",
    country: str | None = None,
    level: PlaceLevel | None = None,
    parent: str | None = None,
    valid_on: date | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 100,
) -> list[PlaceOut]:
    """Search places by name or code (accents ignored), filtered by country (NO, SE, PL),
    level, parent id and the date they are valid on."""
    places = place_search(ctx, q, country, level, parent, valid_on, limit)
    return [PlaceOut.of(place) for place in places]


@router.get("/api/places.geojson", tags=["places"])
def api_places_geojson(
    ctx: ContextDep,
    parent: str | None = None,
    level: PlaceLevel | None = None,
    country: str | None = None,
    valid_on: date | None = None,
    id: Annotated[list[str] | None, Query()] = None,
    simplify: Annotated[float, Query(ge=0, le=MAX_SIMPLIFY_DEG,
                                     description="Tolerance in degrees")] = 0.0,
) -> JSONResponse:
    """Boundaries as a GeoJSON FeatureCollection, e.g. ``?parent=NO-15&level=municipality``.
    Areas in the properties are approximate (simplified boundaries)."""
    collection = places_feature_collection(ctx, country, level, parent, valid_on, simplify, id)
    return JSONResponse(collection, media_type="application/geo+json")


@router.get("/api/places/{place_id}", tags=["places"])
def api_place(ctx: ContextDep, place_id: str, boundary: bool = False) -> PlaceDetailOut:
    """One place; ``?boundary=true`` adds its boundary as a GeoJSON geometry."""
    place = place_show(ctx, place_id)
    children = [child.id for child in place_children(ctx, place_id)]
    return PlaceDetailOut(
        **PlaceOut.of(place).model_dump(), children=children,
        boundary=place_boundary(ctx, place_id) if boundary else None,
    )


@router.get("/api/places/{place_id}/history", tags=["places"])
def api_place_history(ctx: ContextDep, place_id: str) -> HistoryOut:
    """Predecessors and successors of a place (mergers, splits, renumbering), transitively."""
    history = place_history(ctx, place_id)
    return HistoryOut(
        place=PlaceOut.of(history.place),
        predecessors=[_step_out(step) for step in history.predecessors],
        successors=[_step_out(step) for step in history.successors],
    )


def _step_out(step: Any) -> HistoryStepOut:
    return HistoryStepOut(
        from_id=step.from_place.id, from_name=step.from_place.name, to_id=step.to_place.id,
        to_name=step.to_place.name, kind=step.kind, effective=step.effective,
        area_share=step.area_share, source=step.source, note=step.note, depth=step.depth,
    )


@router.get("/api/places/{place_id}/crosswalk", tags=["places"])
def api_place_crosswalk(
    ctx: ContextDep, place_id: str, to: Annotated[date, Query(description="YYYY-MM-DD")]
) -> CrosswalkOut:
    """The place(s) valid on the date ``to`` that cover this place, with area shares."""
    matches = place_crosswalk(ctx, place_id, to)
    return CrosswalkOut(
        from_id=place_id, to_date=to,
        matches=[CrosswalkItemOut(place=PlaceOut.of(match.place), share=match.share,
                                  split=match.split) for match in matches],
    )


@router.get("/places", response_class=HTMLResponse, include_in_schema=False)
def places_page(
    request: Request,
    ctx: ContextDep,
    q: str = "",
    country: str = "",
    level: str = "",
) -> HTMLResponse:
    searching = bool(q or country or level)
    level_filter = level if level in set(PlaceLevel) else None
    if searching:
        places = place_search(ctx, q, country or None, level_filter, limit=300)
        region = None
    else:
        region = place_find(ctx, ctx.settings.default_region)
        places = place_children(ctx, region.id, date.today()) if region else []
    return render(request, "places/places.html", places=places, region=region, q=q,
                  country=country, level=level, levels=list(PlaceLevel), searching=searching,
                  today=date.today().isoformat())


@router.get("/places/{place_id}", response_class=HTMLResponse, include_in_schema=False)
def place_page(request: Request, ctx: ContextDep, place_id: str) -> HTMLResponse:
    place = place_show(ctx, place_id)
    parent = place_find(ctx, place.parent_id) if place.parent_id else None
    coverage = indicator_coverage(ctx, place_id)
    return render(
        request, "places/place.html", place=place, parent=parent,
        children=place_children(ctx, place_id), history=place_history(ctx, place_id),
        boundary=place_boundary(ctx, place_id), area_note=AREA_NOTE,
        today=date.today().isoformat(), coverage=coverage,
        computed=[item for item in coverage.kpis + coverage.context
                  if item.status == "computed"],
    )
