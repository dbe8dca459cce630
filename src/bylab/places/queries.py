"""Reading places: show, search, children, boundaries as GeoJSON. Places are public facts, so
every actor may read them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, undefer

from bylab.catalog.queries import fold_text
from bylab.core import Context
from bylab.errors import NotFound
from bylab.places.boundaries import simplified_geojson
from bylab.places.models import Place

LEVEL_ORDER = {"country": 0, "county": 1, "district": 2, "municipality": 3}


def place_get(session: Session, place_id: str) -> Place:
    place = session.get(Place, place_id)
    if place is None:
        raise NotFound("no place with id '{place}'", field="id", place=place_id)
    return place


def place_show(ctx: Context, place_id: str) -> Place:
    """One place by id (e.g. ``NO-1506``); NotFound for an unknown id."""
    with ctx.db.session() as session:
        return place_get(session, place_id)


def place_find(ctx: Context, place_id: str) -> Place | None:
    """One place by id, or None."""
    with ctx.db.session() as session:
        return session.get(Place, place_id)


def valid_on_clause(valid_on: date) -> Any:
    """Places valid on a date (an open start or end counts as valid)."""
    return (
        or_(Place.valid_from.is_(None), Place.valid_from <= valid_on)
        & or_(Place.valid_to.is_(None), Place.valid_to > valid_on)
    )


def _filtered(
    statement: Select,  # type: ignore[type-arg]
    country: str | None,
    level: str | None,
    parent_id: str | None,
    valid_on: date | None,
) -> Select:  # type: ignore[type-arg]
    if country:
        statement = statement.where(Place.country == country.upper())
    if level:
        statement = statement.where(Place.level == level)
    if parent_id:
        statement = statement.where(Place.parent_id == parent_id)
    if valid_on:
        statement = statement.where(valid_on_clause(valid_on))
    return statement


def place_search(
    ctx: Context,
    text: str = "",
    country: str | None = None,
    level: str | None = None,
    parent_id: str | None = None,
    valid_on: date | None = None,
    limit: int = 100,
) -> list[Place]:
    """Places whose name, id or code contains ``text`` (accents ignored: 'alesund' finds
    Ålesund), filtered by country, level, parent and validity date. Exact codes first, then
    current places before former ones, then by name."""
    statement = _filtered(select(Place), country, level, parent_id, valid_on)
    with ctx.db.session() as session:
        candidates = list(session.scalars(statement))
    needle = fold_text(text.strip())
    matches = [place for place in candidates if not needle or needle in _search_text(place)]
    matches.sort(key=lambda place: _rank(place, needle))
    return matches[:limit]


def _search_text(place: Place) -> str:
    return fold_text(" ".join([place.id, place.code, place.name, *place.names.values()]))


def _rank(place: Place, needle: str) -> tuple[int, int, int, str]:
    exact = 0 if needle and needle in {fold_text(place.code), fold_text(place.id)} else 1
    former = 1 if place.valid_to is not None else 0
    return exact, former, LEVEL_ORDER.get(place.level, 9), fold_text(place.name)


def place_children(ctx: Context, place_id: str, valid_on: date | None = None) -> list[Place]:
    """The places whose parent is ``place_id`` (optionally only those valid on a date)."""
    with ctx.db.session() as session:
        place_get(session, place_id)
        statement = _filtered(select(Place), None, None, place_id, valid_on)
        children = list(session.scalars(statement))
    children.sort(key=lambda child: (child.valid_to is not None, fold_text(child.name)))
    return children


def place_boundary(
    ctx: Context, place_id: str, simplify_deg: float = 0.0
) -> dict[str, Any] | None:
    """The place's boundary as a GeoJSON geometry, or None when no source has one."""
    with ctx.db.session() as session:
        place = session.scalar(
            select(Place).options(undefer(Place.boundary_geojson)).where(Place.id == place_id)
        )
        if place is None:
            raise NotFound("no place with id '{place}'", field="id", place=place_id)
        text = place.boundary_geojson
    return simplified_geojson(text, simplify_deg) if text else None


def places_feature_collection(
    ctx: Context,
    country: str | None = None,
    level: str | None = None,
    parent_id: str | None = None,
    valid_on: date | None = None,
    simplify_deg: float = 0.0,
    ids: list[str] | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the matching places that have a boundary."""
    statement = _filtered(
        select(Place).options(undefer(Place.boundary_geojson)), country, level, parent_id,
        valid_on,
    ).where(Place.boundary_geojson.is_not(None))
    if ids:
        statement = statement.where(Place.id.in_(ids))
    with ctx.db.session() as session:
        places = list(session.scalars(statement.order_by(Place.id)))
    return {
        "type": "FeatureCollection",
        "features": [_feature(place, simplify_deg) for place in places],
    }


def _feature(place: Place, simplify_deg: float) -> dict[str, Any]:
    assert place.boundary_geojson is not None
    return {
        "type": "Feature",
        "id": place.id,
        "geometry": simplified_geojson(place.boundary_geojson, simplify_deg),
        "properties": {
            "id": place.id,
            "name": place.name,
            "code": place.code,
            "level": place.level,
            "parent_id": place.parent_id,
            "valid_from": place.valid_from.isoformat() if place.valid_from else None,
            "valid_to": place.valid_to.isoformat() if place.valid_to else None,
            "area_km2_approximate": place.area_km2,
        },
    }
