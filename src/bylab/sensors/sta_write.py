"""SensorThings v1.1 Create (POST), with deep insert: an entity set or a collection below an
entity (``Datastreams(1)/Observations``), related entities inline or linked by ``{"@iot.id"}``.

Writing needs a signed-in actor (API token, or session with the CSRF header); what is linked
must be visible to them, and what belongs to a Thing needs an editor of the Thing's
organisation. Things created here are private to that organisation. One request is one
database transaction; its Observations are stored once the metadata is committed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.actions import organisation_get
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.sensors import actions
from bylab.sensors.history import history_after_change, history_record, thing_location_ids
from bylab.sensors.models import (
    Datastream,
    FeatureOfInterest,
    Location,
    ObservedProperty,
    Sensor,
    SensorVisibility,
    Thing,
    ThingLocation,
)
from bylab.sensors.sta import resource_segments
from bylab.sensors.sta_graph import Graph, load_graph
from bylab.sensors.sta_entities import (
    Document,
    check_document,
    entity_list,
    instant,
    ObservationValues,
    json_object,
    link_id,
    observation_values,
    text,
)
from bylab.sensors.observation_ids import ID_TIME_BITS
from bylab.sensors.store import LATER_COLUMNS

TIME = pa.timestamp("ms", tz="UTC")
# POST below an entity: (entity set, navigation) -> (set created, link to the parent).
NAVIGATION_POSTS = {
    ("Things", "Datastreams"): ("Datastreams", "Thing"),
    ("Things", "Locations"): ("Locations", "Things"),
    ("Locations", "Things"): ("Things", "Locations"),
    ("Things", "HistoricalLocations"): ("HistoricalLocations", "Thing"),
    ("Sensors", "Datastreams"): ("Datastreams", "Sensor"),
    ("ObservedProperties", "Datastreams"): ("Datastreams", "ObservedProperty"),
    ("Datastreams", "Observations"): ("Observations", "Datastream"),
    ("FeaturesOfInterest", "Observations"): ("Observations", "FeatureOfInterest"),
}
Fixed = dict[str, int]  # links set by the resource path: navigation property -> id


def require_writer(ctx: Context) -> None:
    """Writing needs a signed-in editor of some organisation (or a system administrator)."""
    if ctx.actor.is_anonymous:
        raise NotAuthorized("log in or send an API token to change SensorThings data")
    if not ctx.actor.is_sysadmin and not any(
            ctx.actor.can_edit(organisation) for organisation in ctx.actor.roles):
        raise NotAuthorized("only editors of an organisation may change SensorThings data")


@dataclass
class PendingObservations:
    """Observation rows to store after the metadata transaction commits."""

    datastream_ids: list[int] = field(default_factory=list)
    times_ms: list[int] = field(default_factory=list)
    values: list[ObservationValues] = field(default_factory=list)
    result_times_ms: list[int | None] = field(default_factory=list)
    feature_ids: list[int] = field(default_factory=list)

    def add(self, datastream_id: int, time_ms: int, values: ObservationValues,
            result_time_ms: int | None, feature_id: int) -> None:
        self.datastream_ids.append(datastream_id)
        self.times_ms.append(time_ms)
        self.values.append(values)
        self.result_times_ms.append(result_time_ms)
        self.feature_ids.append(feature_id)

    def table(self) -> pa.Table:
        texts = {name: pa.array([getattr(item, name) for item in self.values], pa.string())
                 for name in LATER_COLUMNS}
        return pa.table({
            "datastream_id": pa.array(self.datastream_ids, pa.int32()),
            "phenomenon_time": pa.array(self.times_ms, pa.int64()).cast(TIME),
            "result": pa.array([item.result for item in self.values], pa.float64()),
            "result_time": pa.array(self.result_times_ms, pa.int64()).cast(TIME),
            "feature_id": pa.array(self.feature_ids, pa.int32()),
            **texts,
        })


@dataclass
class Creator:
    ctx: Context
    session: Session
    graph: Graph
    pending: PendingObservations = field(default_factory=PendingObservations)
    # The organisation of the Thing being created or written to: what is made inline is its.
    owners: list[str | None] = field(default_factory=list)

    @contextmanager
    def owned_by(self, organisation_id: str | None) -> Iterator[None]:
        self.owners.append(organisation_id)
        try:
            yield
        finally:
            self.owners.pop()

    def owner_for(self, document: Document) -> str | None:
        """Who owns an entity made in this request: the Thing's organisation when it is made
        inline, or as ``owner`` decides."""
        if self.owners:
            return self.owners[-1]
        return self.owner(json_object(document, "properties"))

    def create(self, set_name: str, document: Any, fixed: Fixed) -> int:
        creators = {"Things": self.thing, "Locations": self.location,
                    "HistoricalLocations": self.historical_location, "Sensors": self.sensor,
                    "ObservedProperties": self.observed_property,
                    "Datastreams": self.datastream, "Observations": self.observation,
                    "FeaturesOfInterest": self.feature}
        if set_name not in creators:
            raise InvalidInput("{set_name} cannot be created", field=set_name,
                               set_name=set_name)
        return creators[set_name](check_document(set_name, document, creating=True), fixed)

    def linked(self, set_name: str, value: Any, field_name: str) -> int:
        """The id of a linked entity (visible to the actor), or of one created inline."""
        identifier = link_id(value, field_name)
        if identifier is None:
            return self.create(set_name, value, {})
        if identifier not in self.graph.sets[set_name]:
            raise InvalidInput("no {set_name}({identifier}) to link", field=field_name,
                               set_name=set_name, identifier=identifier)
        return identifier

    def editable_thing(self, identifier: int, field_name: str) -> Thing:
        thing = self.session.get(Thing, identifier)
        if thing is None or identifier not in self.graph.sets["Things"]:
            raise InvalidInput("no Things({identifier}) to link", field=field_name,
                               identifier=identifier)
        actions.require_editor(self.ctx, thing.organisation_id)
        return thing

    # --- one method per entity set --------------------------------------------------------

    def thing(self, document: Document, fixed: Fixed) -> int:
        properties = json_object(document, "properties")
        thing = Thing(name=text(document, "name"), description=text(document, "description"),
                      properties=properties, visibility=SensorVisibility.PRIVATE,
                      organisation_id=self.owner(properties))
        self.session.add(thing)
        self.session.flush()
        self.graph.sets["Things"][thing.id] = {"@iot.id": thing.id}
        with self.owned_by(thing.organisation_id):
            location_ids = [self.linked("Locations", item, "Locations")
                            for item in entity_list(document, "Locations")]
            if "Locations" in fixed:
                location_ids.append(fixed["Locations"])
            for location_id in dict.fromkeys(location_ids):
                self.session.add(ThingLocation(thing_id=thing.id, location_id=location_id))
            self.session.flush()
            if location_ids:
                history_record(self.session, thing.id, location_ids)
            for item in entity_list(document, "Datastreams"):
                self.create("Datastreams", item, {"Thing": thing.id})
        return thing.id

    def owner(self, properties: dict[str, Any]) -> str | None:
        """The organisation a new Thing belongs to: ``properties.organisation`` (name or
        id), or the one organisation the actor edits for."""
        named = properties.get("organisation")
        if named is not None:
            try:
                organisation_id: str | None = organisation_get(self.session, str(named)).id
            except NotFound:
                raise InvalidInput("no organisation '{name}'",
                                   field="properties.organisation",
                                   name=named) from None
        else:
            editable = sorted(org for org in self.ctx.actor.roles if self.ctx.actor.can_edit(org))
            if len(editable) > 1:
                raise InvalidInput("you edit for several organisations: name the owner in "
                                   "properties.organisation", field="properties.organisation")
            organisation_id = editable[0] if editable else None
        actions.require_editor(self.ctx, organisation_id)
        return organisation_id

    def location(self, document: Document, fixed: Fixed) -> int:
        owner = self.editable_thing(fixed["Things"], "Things").organisation_id \
            if "Things" in fixed else self.owner_for(document)
        location = Location(name=text(document, "name"),
                            description=text(document, "description"),
                            encoding_type=text(document, "encodingType"),
                            location=json_object(document, "location"),
                            properties=json_object(document, "properties"),
                            organisation_id=owner)
        self.session.add(location)
        self.session.flush()
        self.graph.sets["Locations"][location.id] = {"@iot.id": location.id}
        thing_ids = [link_id(item, "Things") for item in entity_list(document, "Things")]
        if "Things" in fixed:
            thing_ids.append(fixed["Things"])
        for thing_id in dict.fromkeys(thing_ids):
            if thing_id is None:
                raise InvalidInput("link Things to a new Location by {\"@iot.id\": …}",
                                   field="Things")
            self.editable_thing(thing_id, "Things")
            before = thing_location_ids(self.session, thing_id)
            self.session.add(ThingLocation(thing_id=thing_id, location_id=location.id))
            history_after_change(self.session, thing_id, before)
        return location.id

    def historical_location(self, document: Document, fixed: Fixed) -> int:
        """A HistoricalLocation given by the client: its Thing (by id) and Locations."""
        thing_id = fixed.get("Thing")
        if thing_id is None:
            if document.get("Thing") is None:
                raise InvalidInput("'Thing' is mandatory for HistoricalLocations", field="Thing")
            thing_id = link_id(document["Thing"], "Thing")
            if thing_id is None:
                raise InvalidInput("link a HistoricalLocation's Thing by {\"@iot.id\": …}",
                                   field="Thing")
        thing = self.editable_thing(thing_id, "Thing")
        with self.owned_by(thing.organisation_id):
            location_ids = [self.linked("Locations", item, "Locations")
                            for item in entity_list(document, "Locations")]
        if not location_ids:
            raise InvalidInput("'Locations' is mandatory for HistoricalLocations",
                               field="Locations")
        identifier = history_record(self.session, thing.id, location_ids,
                                    instant(document, "time"))
        self.graph.sets["HistoricalLocations"][identifier] = {"@iot.id": identifier}
        return identifier

    def sensor(self, document: Document, fixed: Fixed) -> int:
        metadata = document.get("metadata")
        sensor = Sensor(name=text(document, "name"), description=text(document, "description"),
                        encoding_type=text(document, "encodingType"),
                        sensor_metadata=metadata if isinstance(metadata, str)
                        else str(metadata), properties=json_object(document, "properties"),
                        organisation_id=self.owner_for(document))
        return self.added(sensor, "Sensors", document, {"Sensor"})

    def observed_property(self, document: Document, fixed: Fixed) -> int:
        observed = ObservedProperty(name=text(document, "name"),
                                    definition=text(document, "definition"),
                                    description=text(document, "description"),
                                    properties=json_object(document, "properties"),
                                    organisation_id=self.owner_for(document))
        return self.added(observed, "ObservedProperties", document, {"ObservedProperty"})

    def added(self, row: Sensor | ObservedProperty, set_name: str, document: Document,
              link: set[str]) -> int:
        self.session.add(row)
        self.session.flush()
        self.graph.sets[set_name][row.id] = {"@iot.id": row.id}
        for item in entity_list(document, "Datastreams"):
            self.create("Datastreams", item, {name: row.id for name in link})
        return row.id

    def datastream(self, document: Document, fixed: Fixed) -> int:
        thing = self.editable_thing(self.link_or_inline(document, fixed, "Thing", "Things"),
                                    "Thing")
        with self.owned_by(thing.organisation_id):
            links = {name: self.link_or_inline(document, fixed, name, set_name)
                     for name, set_name in (("Sensor", "Sensors"),
                                            ("ObservedProperty", "ObservedProperties"))}
        has_location = self.session.scalar(select(ThingLocation.location_id).where(
            ThingLocation.thing_id == thing.id)) is not None
        datastream = Datastream(
            key=f"sta/{uuid.uuid4().hex}", name=text(document, "name"),
            description=text(document, "description"),
            observation_type=text(document, "observationType"),
            unit_of_measurement=json_object(document, "unitOfMeasurement"),
            thing_id=thing.id, sensor_id=links["Sensor"],
            observed_property_id=links["ObservedProperty"],
            feature_id=actions.thing_feature(self.session, thing).id if has_location else None,
            properties=json_object(document, "properties"))
        self.session.add(datastream)
        self.session.flush()
        self.graph.sets["Datastreams"][datastream.id] = {"@iot.id": datastream.id}
        for item in entity_list(document, "Observations"):
            self.create("Observations", item, {"Datastream": datastream.id})
        return datastream.id

    def link_or_inline(self, document: Document, fixed: Fixed, name: str, set_name: str
                       ) -> int:
        """A mandatory to-one link: set by the path, linked by id, or made inline."""
        if name in fixed:
            return fixed[name]
        if document.get(name) is None:
            raise InvalidInput("'{name}' is mandatory for Datastreams", field=name, name=name)
        return self.linked(set_name, document[name], name)

    def feature(self, document: Document, fixed: Fixed) -> int:
        feature = FeatureOfInterest(name=text(document, "name"),
                                    description=text(document, "description"),
                                    encoding_type=text(document, "encodingType"),
                                    feature=json_object(document, "feature"),
                                    properties=json_object(document, "properties"),
                                    organisation_id=self.owner_for(document))
        self.session.add(feature)
        self.session.flush()
        self.graph.sets["FeaturesOfInterest"][feature.id] = {"@iot.id": feature.id}
        for item in entity_list(document, "Observations"):
            self.create("Observations", item, {"FeatureOfInterest": feature.id})
        return feature.id

    def observation(self, document: Document, fixed: Fixed) -> int:
        datastream_id = fixed.get("Datastream")
        if datastream_id is None:
            if document.get("Datastream") is None:
                raise InvalidInput("'Datastream' is mandatory for Observations",
                                   field="Datastream")
            datastream_id = link_id(document["Datastream"], "Datastream")
            if datastream_id is None:
                raise InvalidInput("link an Observation's Datastream by {\"@iot.id\": …}",
                                   field="Datastream")
        datastream = self.session.get(Datastream, datastream_id)
        if datastream is None or datastream_id not in self.graph.sets["Datastreams"]:
            raise InvalidInput("no Datastreams({identifier}) to link", field="Datastream",
                               identifier=datastream_id)
        thing = self.editable_thing(datastream.thing_id, "Datastream")
        moment = instant(document, "phenomenonTime", datetime.now(UTC))
        assert moment is not None
        time_ms = phenomenon_time_ms(self.ctx, moment)
        result_time = instant(document, "resultTime")
        values = observation_values(document)
        with self.owned_by(thing.organisation_id):
            feature_id = self.observation_feature(document, fixed, datastream)
        self.pending.add(datastream_id, time_ms, values,
                         int(result_time.timestamp() * 1000) if result_time else None,
                         feature_id)
        return (datastream_id << ID_TIME_BITS) | time_ms

    def observation_feature(self, document: Document, fixed: Fixed,
                            datastream: Datastream) -> int:
        """The given FeatureOfInterest, or the Datastream's: where its Thing is."""
        if "FeatureOfInterest" in fixed:
            return fixed["FeatureOfInterest"]
        if document.get("FeatureOfInterest") is not None:
            return self.linked("FeaturesOfInterest", document["FeatureOfInterest"],
                               "FeatureOfInterest")
        if datastream.feature_id is not None:
            return datastream.feature_id
        thing = self.session.get(Thing, datastream.thing_id)
        assert thing is not None
        if self.session.scalar(select(ThingLocation.location_id).where(
                ThingLocation.thing_id == thing.id)) is None:
            raise InvalidInput("no FeatureOfInterest given, and the Datastream's Thing has no "
                               "Location to make one from", field="FeatureOfInterest")
        datastream.feature_id = actions.thing_feature(self.session, thing).id
        return datastream.feature_id


def _target(graph: Graph, path: str) -> tuple[str, Fixed]:
    """The entity set a POST creates in, and the links its path sets."""
    segments = resource_segments(path)
    if len(segments) == 1 and segments[0][1] is None:
        return segments[0][0], {}
    if len(segments) == 2 and segments[0][1] is not None and segments[1][1] is None:
        (parent, parent_id), (navigation, _) = segments
        target = NAVIGATION_POSTS.get((parent, navigation))
        if target is not None:
            if parent_id not in graph.sets.get(parent, {}):
                raise NotFound("no {set_name}({identifier})", set_name=parent,
                               identifier=parent_id)
            return target[0], {target[1]: parent_id}
    raise InvalidInput("POST to an entity set (Things) or to a collection below one entity "
                       "(Datastreams(1)/Observations)", field="path")


def phenomenon_time_ms(ctx: Context, moment: datetime) -> int:
    """An Observation's phenomenonTime as epoch milliseconds, refused in the future."""
    latest = datetime.now(UTC) + timedelta(seconds=ctx.settings.sensor_max_future_s)
    if moment > latest:
        raise InvalidInput("phenomenonTime is in the future", field="phenomenonTime")
    return int(moment.timestamp() * 1000)


def sta_create(ctx: Context, path: str, document: Any) -> tuple[str, int]:
    """Create the entity of a POST body (and what it holds inline) below ``path``, relative
    to the service root; returns its entity set and id."""
    require_writer(ctx)
    graph = load_graph(ctx)
    set_name, fixed = _target(graph, path)
    with ctx.db.session() as session:
        creator = Creator(ctx, session, graph)
        identifier = creator.create(set_name, document, fixed)
    if creator.pending.datastream_ids:
        actions.observations_store_checked(ctx, creator.pending.table())
    if set_name == "Observations":  # the place may hold a moved one, or need a substitute
        identifier = actions.observation_store(ctx).ids_at(pa.array([identifier]))[0].as_py()
    return set_name, identifier
