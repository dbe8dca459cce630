"""SensorThings v1.1 Update (PATCH) and Delete, on one entity: ``Things(1)``.

PATCH changes the properties it carries and nothing else. DELETE removes what the standard
says goes with the entity: a Thing takes its Datastreams, a Datastream its Observations, a
Sensor or an ObservedProperty the Datastreams that use it, a FeatureOfInterest the
Observations of it. Whoever changes an entity must edit for every organisation whose Things
the change reaches; entities nobody links to yet are open to every editor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.sensors import actions
from bylab.sensors.history import history_after_change, history_forget_location, thing_location_ids
from bylab.sensors.models import (
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    ObservedProperty,
    Sensor,
    Thing,
    ThingLocation,
)
from bylab.sensors.sta import observation_get, resource_segments
from bylab.sensors.sta_graph import Entity, Graph, load_graph
from bylab.sensors.sta_entities import (
    Document,
    check_document,
    instant,
    json_object,
    link_id,
    observation_values,
    text,
)
from bylab.sensors.sta_write import (
    Creator,
    PendingObservations,
    phenomenon_time_ms,
    require_writer,
)

MODELS: dict[str, type[Any]] = {
    "Things": Thing, "Locations": Location, "HistoricalLocations": HistoricalLocation,
    "Sensors": Sensor,
    "ObservedProperties": ObservedProperty, "Datastreams": Datastream,
    "FeaturesOfInterest": FeatureOfInterest,
}
# SensorThings property -> model attribute, and whether it holds text, a JSON object or a time.
ATTRIBUTES: dict[str, tuple[str, type]] = {
    "name": ("name", str), "description": ("description", str),
    "encodingType": ("encoding_type", str), "metadata": ("sensor_metadata", str),
    "definition": ("definition", str), "observationType": ("observation_type", str),
    "properties": ("properties", dict), "location": ("location", dict),
    "feature": ("feature", dict), "unitOfMeasurement": ("unit_of_measurement", dict),
    "time": ("time", datetime),
}
SHARED = {"Locations", "Sensors", "ObservedProperties", "FeaturesOfInterest"}
DATASTREAM_LINKS = {"Thing": "thing_id", "Sensor": "sensor_id",
                    "ObservedProperty": "observed_property_id"}


@dataclass(frozen=True)
class Target:
    set_name: str
    identifier: int
    entity: Entity


def _target(ctx: Context, graph: Graph, path: str) -> Target:
    segments = resource_segments(path)
    if len(segments) != 1 or segments[0][1] is None:
        raise InvalidInput("PATCH and DELETE address one entity, e.g. Things(1)", field="path")
    set_name, identifier = segments[0]
    assert identifier is not None
    if set_name == "Observations":
        return Target(set_name, identifier, observation_get(ctx, graph, identifier))
    if set_name not in MODELS:
        raise NotFound("no entity set '{name}' that can be changed", name=set_name)
    return Target(set_name, identifier, graph.get(set_name, identifier))


def _thing_ids_reached(session: Session, target: Target) -> set[int]:
    """The Things whose data a change of the target touches."""
    identifier = target.identifier
    match target.set_name:
        case "Things":
            return {identifier}
        case "Datastreams" | "HistoricalLocations":
            return {target.entity["_thing"]}
        case "Observations":
            return {target.entity["_datastream_thing"]}
        case "Locations":
            query = select(ThingLocation.thing_id).where(ThingLocation.location_id == identifier)
        case "Sensors":
            query = select(Datastream.thing_id).where(Datastream.sensor_id == identifier)
        case "ObservedProperties":
            query = select(Datastream.thing_id).where(
                Datastream.observed_property_id == identifier)
        case _:
            query = select(Datastream.thing_id).where(Datastream.feature_id == identifier)
    return set(session.scalars(query))


def _require_editor_of(ctx: Context, session: Session, thing_ids: set[int]) -> None:
    owners = set(session.scalars(select(Thing.organisation_id).where(Thing.id.in_(thing_ids))))
    for organisation_id in sorted(owners, key=str):
        actions.require_editor(ctx, organisation_id)


def _prepared(ctx: Context, session: Session, graph: Graph, path: str) -> Target:
    """The entity a PATCH or DELETE addresses, once the actor may change it: an editor of
    the organisations of the Things it reaches, and of the one that made it (a Location,
    Sensor, ObservedProperty or FeatureOfInterest made by no organisation is the system
    administrators')."""
    target = _target(ctx, graph, path)
    if target.set_name == "Observations":
        datastream = session.get(Datastream, target.entity["_datastream"])
        assert datastream is not None
        target.entity["_datastream_thing"] = datastream.thing_id
    _require_editor_of(ctx, session, _thing_ids_reached(session, target))
    if target.set_name in SHARED:
        row = session.get(MODELS[target.set_name], target.identifier)
        assert row is not None
        actions.require_editor(ctx, row.organisation_id)
    return target


# --- update --------------------------------------------------------------------------------

def sta_update(ctx: Context, path: str, document: Any, *, replace: bool = False
               ) -> tuple[str, int]:
    """Change the properties and links a PATCH body carries; returns the entity set and id.
    With ``replace`` (PUT) the body is the whole entity: every mandatory property in it."""
    require_writer(ctx)
    graph = load_graph(ctx)
    changed_observation = None
    with ctx.db.session() as session:
        target = _prepared(ctx, session, graph, path)
        body = check_document(target.set_name, document, creating=replace)
        if target.set_name == "Observations":
            changed_observation = _observation_update(ctx, session, graph, target, body)
        else:
            _entity_update(ctx, session, graph, target, body)
    if changed_observation is not None:
        actions.observation_store(ctx).replace([target.identifier], changed_observation)
        actions.datastream_spans_refresh(ctx, {target.entity["_datastream"]})
    return target.set_name, target.identifier


def _entity_update(ctx: Context, session: Session, graph: Graph, target: Target,
                   body: Document) -> None:
    row = session.get(MODELS[target.set_name], target.identifier)
    if row is None:
        raise NotFound("no {set_name}({identifier})", set_name=target.set_name,
                       identifier=target.identifier)
    for name in body:
        if name in ATTRIBUTES and hasattr(row, ATTRIBUTES[name][0]):
            attribute, kind = ATTRIBUTES[name]
            value = _attribute_value(body, name, kind)
            setattr(row, attribute, value)
    creator = Creator(ctx, session, graph)
    with creator.owned_by(_owner(session, target.set_name, row)):
        if target.set_name == "Datastreams":
            _relink_datastream(creator, row, body)
        for name in ("Locations", "Things"):
            if name in body and target.set_name in {"Things", "Locations"}:
                _relink_locations(creator, target, body, name)
    for name in ("Datastreams", "Observations"):
        if name in body:
            raise InvalidInput("change {name} by PATCHing them, not through their "
                               "{set_name}", field=name, name=name, set_name=target.set_name)
    if target.set_name == "HistoricalLocations":
        for name in ("Thing", "Locations"):
            if name in body:
                raise InvalidInput("a HistoricalLocation's {name} cannot change: delete it "
                                   "and create another", field=name, name=name)


def _attribute_value(body: Document, name: str, kind: type) -> Any:
    if kind is str:
        return text(body, name)
    if kind is dict:
        return json_object(body, name)
    moment = instant(body, name)
    if moment is None:
        raise InvalidInput("'{name}' cannot be null", field=name, name=name)
    return moment


def _owner(session: Session, set_name: str, row: Any) -> str | None:
    """The organisation what a PATCH makes inline belongs to."""
    if set_name in {"Datastreams", "HistoricalLocations"}:
        thing = session.get(Thing, row.thing_id)
        return thing.organisation_id if thing else None
    return row.organisation_id  # type: ignore[no-any-return]


def _relink_datastream(creator: Creator, datastream: Datastream, body: Document) -> None:
    sets = {"Thing": "Things", "Sensor": "Sensors", "ObservedProperty": "ObservedProperties"}
    for name, attribute in DATASTREAM_LINKS.items():
        if name not in body:
            continue
        identifier = _linked_by_id(creator, sets[name], body[name], name)
        if name == "Thing":
            creator.editable_thing(identifier, name)
        setattr(datastream, attribute, identifier)


def _linked_by_id(creator: Creator, set_name: str, value: Any, name: str) -> int:
    """The entity a PATCH links to, given as ``{"@iot.id": n}``: a PATCH creates no related
    entity inline (OGC 18-088 §10.3 answers such a nested update with 400)."""
    if link_id(value, name) is None:
        raise InvalidInput("a PATCH links {name} by {{\"@iot.id\": …}}; it cannot create "
                           "them inline", field=name, name=name)
    return creator.linked(set_name, value, name)


def _relink_locations(creator: Creator, target: Target, body: Document, name: str) -> None:
    """A Thing's Locations (or a Location's Things) given in a PATCH replace the old ones."""
    if not isinstance(body[name], list):
        raise InvalidInput("'{name}' must be a list of entities", field=name, name=name)
    if target.set_name == "Things":
        linked = {_linked_by_id(creator, "Locations", item, name) for item in body[name]}
        pairs = {(target.identifier, location) for location in linked}
        column = ThingLocation.thing_id
    else:
        linked = set()
        for item in body[name]:
            identifier = link_id(item, name)
            if identifier is None:
                raise InvalidInput("link Things by {\"@iot.id\": …}", field=name)
            linked.add(creator.editable_thing(identifier, name).id)
        pairs = {(thing, target.identifier) for thing in linked}
        column = ThingLocation.location_id
    session = creator.session
    reached = {thing for thing, _ in pairs} | set(session.scalars(
        select(ThingLocation.thing_id).where(column == target.identifier)))
    before = {thing: thing_location_ids(session, thing) for thing in reached}
    session.execute(delete(ThingLocation).where(column == target.identifier))
    session.add_all(ThingLocation(thing_id=thing, location_id=location)
                    for thing, location in sorted(pairs))
    for thing in sorted(reached):
        history_after_change(session, thing, before[thing])


def _observation_update(ctx: Context, session: Session, graph: Graph, target: Target,
                        body: Document) -> pa.Table:
    """The changed Observation, to store in place of the old one (keeping its id, if its
    phenomenonTime changes too). Its Datastream is in its id and cannot change."""
    entity = target.entity
    datastream = link_id(body["Datastream"], "Datastream") if body.get("Datastream") else None
    if datastream not in (None, entity["_datastream"]):
        raise InvalidInput("an Observation's {name} identifies it and cannot change: "
                           "delete it and create another", field="Datastream",
                           name="Datastream")
    moment = instant(body, "phenomenonTime") or datetime.fromisoformat(
        entity["phenomenonTime"])
    time_ms = phenomenon_time_ms(ctx, moment)
    result_time = instant(body, "resultTime") if "resultTime" in body else (
        datetime.fromisoformat(entity["resultTime"].replace("Z", "+00:00"))
        if entity["resultTime"] else None)
    feature = entity["_feature"]
    if body.get("FeatureOfInterest") is not None:
        feature = _linked_by_id(Creator(ctx, session, graph), "FeaturesOfInterest",
                                body["FeatureOfInterest"], "FeatureOfInterest")
    changed = PendingObservations()
    changed.add(entity["_datastream"], time_ms,
                observation_values(body, entity["_values"]),
                int(result_time.timestamp() * 1000) if result_time else None, feature)
    return changed.table()


# --- delete --------------------------------------------------------------------------------

def sta_delete(ctx: Context, path: str) -> None:
    """Delete one entity and what the standard deletes with it."""
    require_writer(ctx)
    graph = load_graph(ctx)
    store = actions.observation_store(ctx)
    refresh: set[int] = set()
    with ctx.db.session() as session:
        target = _prepared(ctx, session, graph, path)
        identifier = target.identifier
        match target.set_name:
            case "Observations":
                store.delete([identifier])
                refresh.add(target.entity["_datastream"])
            case "FeaturesOfInterest":
                refresh = _delete_feature_observations(ctx, session, identifier)
            case "Things":
                _delete_datastreams(ctx, session, Datastream.thing_id == identifier)
                session.execute(delete(ThingLocation).where(ThingLocation.thing_id == identifier))
            case "Datastreams":
                _delete_datastreams(ctx, session, Datastream.id == identifier)
            case "Sensors":
                _delete_datastreams(ctx, session, Datastream.sensor_id == identifier)
            case "ObservedProperties":
                _delete_datastreams(ctx, session,
                                    Datastream.observed_property_id == identifier)
            case "Locations":
                session.execute(delete(ThingLocation).where(
                    ThingLocation.location_id == identifier))
                history_forget_location(session, identifier)
        if target.set_name in MODELS:
            row = session.get(MODELS[target.set_name], identifier)
            if row is not None:
                session.delete(row)
    if refresh:
        actions.datastream_spans_refresh(ctx, refresh)


def _delete_datastreams(ctx: Context, session: Session, condition: Any) -> None:
    datastream_ids = list(session.scalars(select(Datastream.id).where(condition)))
    actions.observation_store(ctx).delete_datastreams(datastream_ids)
    session.execute(delete(Datastream).where(Datastream.id.in_(datastream_ids)))


def _delete_feature_observations(ctx: Context, session: Session, feature_id: int) -> set[int]:
    """Delete the Observations of a FeatureOfInterest (of any Datastream: the actor must edit
    for all of their Things); returns the Datastreams they were in."""
    store = actions.observation_store(ctx)
    scan = store.scan()
    rows = [] if scan is None else ctx.tables.connection().execute(
        f"SELECT id, datastream_id FROM {scan} WHERE feature_id = ?", [feature_id]).fetchall()
    datastream_ids = {row[1] for row in rows}
    _require_editor_of(ctx, session, set(session.scalars(
        select(Datastream.thing_id).where(Datastream.id.in_(datastream_ids)))))
    for datastream in session.scalars(select(Datastream).where(
            Datastream.feature_id == feature_id)):
        datastream.feature_id = None
    store.delete(row[0] for row in rows)
    return datastream_ids
