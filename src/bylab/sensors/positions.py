"""Where a Thing stands and where it stood before, for its page: its HistoricalLocations read
as periods between one and the next. They are as visible as the Thing, and their Locations
show what the SensorThings API shows of them to whoever may see the Thing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import zip_longest
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import NotFound
from bylab.sensors.actions import visible_things_clause
from bylab.sensors.history import thing_location_ids
from bylab.sensors.models import (
    GEOJSON,
    HistoricalLocation,
    HistoricalLocationLocation,
    Location,
    Thing,
)

GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"}


@dataclass(frozen=True)
class PlacedLocation:
    """A Location as the page shows it: its name, its GeoJSON geometry for the map (None when
    it has none a map can draw) and, for a point, its latitude and longitude."""

    name: str
    geometry: dict[str, Any] | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Position:
    """Where the Thing was from ``since`` until ``until``; None where the record does not say
    (``until`` of the current position: now)."""

    locations: list[PlacedLocation]
    since: datetime | None
    until: datetime | None


@dataclass(frozen=True)
class ThingPositions:
    current: Position | None
    earlier: list[Position]  # newest first

    @property
    def drawable(self) -> bool:
        """Whether a map has anything to draw."""
        positions = [self.current, *self.earlier] if self.current else self.earlier
        return any(location.geometry for position in positions
                   for location in position.locations)


def thing_positions(ctx: Context, thing_id: int) -> ThingPositions:
    """Where the Thing (one ``ctx.actor`` may see) stands now, since when, and where it stood
    before. The current position is the Thing's Locations now; it has a ``since`` when the
    latest HistoricalLocation names exactly those."""
    with ctx.db.session() as session:
        if session.scalar(select(Thing.id).where(
                Thing.id == thing_id, visible_things_clause(ctx.actor))) is None:
            raise NotFound("no thing '{thing}'", thing=thing_id)
        histories = _histories(session, thing_id)
        current_ids = sorted(thing_location_ids(session, thing_id))
        wanted = set(current_ids).union(*(location_ids for _, location_ids in histories))
        placed = {location.id: _placed(location) for location in session.scalars(
            select(Location).where(Location.id.in_(wanted)))}
    periods = [(location_ids, since, following[0] if following else None)
               for (since, location_ids), following in zip_longest(histories, histories[1:])]
    current = None
    if periods and periods[-1][0] == current_ids:
        current = _position(placed, *periods.pop())
    elif current_ids:
        current = _position(placed, current_ids, None, None)
    return ThingPositions(current, [_position(placed, *period) for period in reversed(periods)])


def _histories(session: Session, thing_id: int) -> list[tuple[datetime, list[int]]]:
    """The Thing's HistoricalLocations, oldest first: each one's time and Location ids."""
    times = dict(session.execute(
        select(HistoricalLocation.id, HistoricalLocation.time)
        .where(HistoricalLocation.thing_id == thing_id)
        .order_by(HistoricalLocation.time, HistoricalLocation.id)).all())
    location_ids: dict[int, list[int]] = defaultdict(list)
    for history_id, location_id in session.execute(
            select(HistoricalLocationLocation.history_id, HistoricalLocationLocation.location_id)
            .where(HistoricalLocationLocation.history_id.in_(times))
            .order_by(HistoricalLocationLocation.location_id)):
        location_ids[history_id].append(location_id)
    return [(time, location_ids[history_id]) for history_id, time in times.items()]


def _position(placed: dict[int, PlacedLocation], location_ids: list[int],
              since: datetime | None, until: datetime | None) -> Position:
    return Position([placed[location_id] for location_id in location_ids], since, until)


def _placed(location: Location) -> PlacedLocation:
    geometry = _geometry(location) if location.encoding_type == GEOJSON else None
    point = geometry["coordinates"] if geometry and geometry["type"] == "Point" else None
    if point is not None and not _is_coordinate_pair(point):
        geometry = point = None
    return PlacedLocation(location.name, geometry, point[1] if point else None,
                          point[0] if point else None)


def _geometry(location: Location) -> dict[str, Any] | None:
    """The geometry of a Location's GeoJSON (a geometry, or a Feature holding one)."""
    shape = location.location
    if isinstance(shape, dict) and shape.get("type") == "Feature":
        shape = shape.get("geometry")
    if isinstance(shape, dict) and shape.get("type") in GEOMETRY_TYPES:
        return shape
    return None


def _is_coordinate_pair(point: Any) -> bool:
    return (isinstance(point, list) and len(point) >= 2
            and all(isinstance(value, int | float) for value in point[:2]))
