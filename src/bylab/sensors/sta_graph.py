"""The metadata a SensorThings request may see, read once per request: visible Things and
what hangs from them, as SensorThings property dicts (``sta.py`` filters and renders them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.actor import Actor
from bylab.core import Context
from bylab.errors import NotFound
from bylab.sensors.actions import visible_things_clause
from bylab.sensors.models import (
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    HistoricalLocationLocation,
    Location,
    ObservedProperty,
    Sensor,
    Thing,
    ThingLocation,
)

Entity = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the visible metadata ------------------------------------------------------------------

@dataclass
class Graph:
    """The metadata entities the actor may see, as SensorThings property dicts. Keys starting
    with ``_`` hold the ids of related entities and are never output."""

    sets: dict[str, dict[int, Entity]]
    thing_locations: list[tuple[int, int]]
    history_locations: list[tuple[int, int]] = field(default_factory=list)

    def get(self, set_name: str, entity_id: int) -> Entity:
        found = self.sets[set_name].get(entity_id)
        if found is None:
            raise NotFound("no {set_name}({identifier})", set_name=set_name,
                           identifier=entity_id)
        return found


def load_graph(ctx: Context) -> Graph:
    """What the actor may see: visible Things and what hangs from them (their Locations of
    now and before), and the Locations, Sensors, ObservedProperties and FeaturesOfInterest of
    their organisations that nothing links to yet."""
    with ctx.db.session() as session:
        things = list(session.scalars(select(Thing).where(visible_things_clause(ctx.actor))))
        thing_ids = [thing.id for thing in things]
        datastreams = list(session.scalars(
            select(Datastream).where(Datastream.thing_id.in_(thing_ids))))
        links = [(link.thing_id, link.location_id) for link in session.scalars(
            select(ThingLocation).where(ThingLocation.thing_id.in_(thing_ids)))]
        histories, history_links = _histories(session, thing_ids)
        locations = list(session.scalars(select(Location).where(Location.id.in_(
            {location for _, location in links} | {location for _, location in history_links}))))
        sensors = list(session.scalars(select(Sensor).where(
            Sensor.id.in_({d.sensor_id for d in datastreams}))))
        properties = list(session.scalars(select(ObservedProperty).where(
            ObservedProperty.id.in_({d.observed_property_id for d in datastreams}))))
        features = list(session.scalars(select(FeatureOfInterest).where(
            FeatureOfInterest.id.in_({d.feature_id for d in datastreams}))))
        locations += _unlinked_own(session, ctx.actor, Location, ThingLocation.location_id)
        sensors += _unlinked_own(session, ctx.actor, Sensor, Datastream.sensor_id)
        properties += _unlinked_own(session, ctx.actor, ObservedProperty,
                                    Datastream.observed_property_id)
        features += _unlinked_own(session, ctx.actor, FeatureOfInterest, Datastream.feature_id)
        sets = {
            "Things": {t.id: _thing(t) for t in things},
            "Locations": {location.id: _location(location) for location in locations},
            "Datastreams": {d.id: _datastream(d) for d in datastreams},
            "Sensors": {s.id: _sensor(s) for s in sensors},
            "ObservedProperties": {p.id: _observed_property(p) for p in properties},
            "FeaturesOfInterest": {f.id: _feature(f) for f in features},
            "HistoricalLocations": {h.id: _historical_location(h) for h in histories},
        }
    return Graph(sets, links, history_links)


def _histories(session: Session, thing_ids: list[int]
               ) -> tuple[list[HistoricalLocation], list[tuple[int, int]]]:
    """The HistoricalLocations of these Things, and (HistoricalLocation, Location) links."""
    histories = list(session.scalars(select(HistoricalLocation).where(
        HistoricalLocation.thing_id.in_(thing_ids))))
    links = [(link.history_id, link.location_id) for link in session.scalars(
        select(HistoricalLocationLocation).where(HistoricalLocationLocation.history_id.in_(
            [history.id for history in histories])))]
    return histories, links


def _unlinked_own(session: Session, actor: Actor, model: type[Any], used_by: Any
                  ) -> list[Any]:
    """Entities nothing links to yet, of the actor's organisations (all, for a system
    administrator): made by one request, linked by a later one."""
    if not actor.is_sysadmin and not actor.member_org_ids:
        return []
    used = select(used_by).where(used_by.is_not(None))
    query = select(model).where(model.id.not_in(used))
    if not actor.is_sysadmin:
        query = query.where(model.organisation_id.in_(sorted(actor.member_org_ids)))
    return list(session.scalars(query))


def _thing(thing: Thing) -> Entity:
    return {"@iot.id": thing.id, "name": thing.name, "description": thing.description,
            "properties": thing.properties}


def _location(location: Location) -> Entity:
    return {"@iot.id": location.id, "name": location.name, "description": location.description,
            "encodingType": location.encoding_type, "location": location.location,
            "properties": location.properties}


def _historical_location(history: HistoricalLocation) -> Entity:
    return {"@iot.id": history.id, "time": iso(history.time), "_thing": history.thing_id}


def _datastream(datastream: Datastream) -> Entity:
    span = None
    if datastream.phenomenon_start and datastream.phenomenon_end:
        span = f"{iso(datastream.phenomenon_start)}/{iso(datastream.phenomenon_end)}"
    return {"@iot.id": datastream.id, "name": datastream.name,
            "description": datastream.description,
            "observationType": datastream.observation_type,
            "unitOfMeasurement": datastream.unit_of_measurement, "observedArea": None,
            "phenomenonTime": span, "resultTime": None, "properties": datastream.properties,
            "_thing": datastream.thing_id, "_sensor": datastream.sensor_id,
            "_property": datastream.observed_property_id, "_feature": datastream.feature_id}


def _sensor(sensor: Sensor) -> Entity:
    return {"@iot.id": sensor.id, "name": sensor.name, "description": sensor.description,
            "encodingType": sensor.encoding_type, "metadata": sensor.sensor_metadata,
            "properties": sensor.properties}


def _observed_property(observed: ObservedProperty) -> Entity:
    return {"@iot.id": observed.id, "name": observed.name, "definition": observed.definition,
            "description": observed.description, "properties": observed.properties}


def _feature(feature: FeatureOfInterest) -> Entity:
    return {"@iot.id": feature.id, "name": feature.name, "description": feature.description,
            "encodingType": feature.encoding_type, "feature": feature.feature,
            "properties": feature.properties}
