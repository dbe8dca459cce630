"""The OGC SensorThings API v1.1 read interface (Sensing core and the request-data classes).

Handlers are framework-neutral: ``sta_get`` takes a context, the resource path, the query
options and the service root URL and returns a JSON document (or a plain value for
``$value``); ``routes.py`` adapts it to HTTP. Metadata entities visible to the actor are read
once per request and filtered in Python; Observations are queried in DuckDB over the day
partitions a ``phenomenonTime`` filter allows. Creating, changing and deleting entities is
in ``sta_write.py`` and ``sta_change.py``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from typing import Any
from urllib.parse import quote, urlencode

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.web.i18n import N_
from bylab.sensors.actions import observation_store
from bylab.sensors.dataarray import data_array_blocks, read_components
from bylab.sensors.aggregate import Apply, apply_bounds, apply_query, parse_apply
from bylab.sensors.odata import (
    Expand,
    Node,
    bind_related,
    evaluate,
    parse_expand,
    parse_filter,
    parse_orderby,
    paths_of,
    time_bounds,
    to_sql,
)
from bylab.sensors.sta_entities import ObservationValues
from bylab.sensors.sta_graph import Entity, Graph, iso, load_graph  # noqa: F401 (routes)
from bylab.sensors.observation_ids import ID_TIME_BITS

SERVICE_PATH = "/sta/v1.1"
DEFAULT_TOP = 100
MAX_TOP = 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    # Extensions: the Data Array class of the standard, and $apply, which has no OGC class,
    # named by the OData Data Aggregation specification it follows.
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
    "http://docs.oasis-open.org/odata/odata-data-aggregation-ext/v4.0/",
]
RESULT_FORMATS = {"dataArray"}
QUERY_OPTIONS = {"$top", "$skip", "$count", "$filter", "$orderby", "$select", "$expand",
                 "$apply", "$resultFormat"}
TO_ONE = {"Thing", "Sensor", "ObservedProperty", "Datastream", "FeatureOfInterest"}


@dataclass(frozen=True)
class EntityType:
    properties: tuple[str, ...]
    navigation: dict[str, str]  # navigation property -> entity set it leads to


ENTITY_TYPES = {
    "Things": EntityType(("name", "description", "properties"),
                         {"Locations": "Locations", "HistoricalLocations": "HistoricalLocations",
                          "Datastreams": "Datastreams"}),
    "Locations": EntityType(("name", "description", "encodingType", "location", "properties"),
                            {"Things": "Things", "HistoricalLocations": "HistoricalLocations"}),
    # Made by every write that changes a Thing's Locations (history.py).
    "HistoricalLocations": EntityType(("time",), {"Thing": "Things", "Locations": "Locations"}),
    "Datastreams": EntityType(
        ("name", "description", "observationType", "unitOfMeasurement", "observedArea",
         "phenomenonTime", "resultTime", "properties"),
        {"Thing": "Things", "Sensor": "Sensors", "ObservedProperty": "ObservedProperties",
         "Observations": "Observations"}),
    "Sensors": EntityType(("name", "description", "encodingType", "metadata", "properties"),
                          {"Datastreams": "Datastreams"}),
    "ObservedProperties": EntityType(("name", "definition", "description", "properties"),
                                     {"Datastreams": "Datastreams"}),
    "Observations": EntityType(("phenomenonTime", "resultTime", "result", "resultQuality",
                                "validTime", "parameters"),
                               {"Datastream": "Datastreams",
                                "FeatureOfInterest": "FeaturesOfInterest"}),
    "FeaturesOfInterest": EntityType(
        ("name", "description", "encodingType", "feature", "properties"),
        {"Observations": "Observations"}),
}
OBSERVATION_COLUMNS = {"id": "id", "@iot.id": "id", "phenomenonTime": "phenomenon_time",
                       "resultTime": "result_time", "result": "result",
                       "Datastream/id": "datastream_id", "Datastream/@iot.id": "datastream_id",
                       "FeatureOfInterest/id": "feature_id"}
OBSERVATION_SELECT = ("id, datastream_id, phenomenon_time, result, result_time, feature_id, "
                      "result_json, result_quality, valid_time, parameters")
EXACT_INTEGERS = 2**53  # floats hold every integer up to this exactly
SEGMENT = re.compile(r"^(?P<name>\$?[A-Za-z]+)(?:\((?P<id>\d+|'\d+')\))?$")


# --- query options -------------------------------------------------------------------------

@dataclass
class Options:
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    filter: Node | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    select: list[str] | None = None
    expand: list[Expand] = field(default_factory=list)
    apply: Apply | None = None  # the aggregation extension, on Observations only
    data_array: bool = False  # $resultFormat=dataArray, on Observations only


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise InvalidInput("{option} must be a whole number ≥ 0, got '{text}'", field=name,
                           option=name, text=text)
    return int(text)


class UnsupportedOption(InvalidInput):
    """A ``$`` query option bylab does not offer: OGC 18-088 (requirement
    request-data/query-status-code) asks the service to fail the request with 501 Not
    Implemented. A malformed value of an option it offers stays a 400."""

    status_code = 501


def parse_options(params: Mapping[str, str]) -> Options:
    unknown = [name for name in params if name.startswith("$") and name not in QUERY_OPTIONS]
    if unknown:
        raise UnsupportedOption(N_("unknown query option {option}"), field=unknown[0],
                                option=unknown[0])
    count = params.get("$count", "false").lower()
    if count not in {"true", "false"}:
        raise InvalidInput("$count must be true or false", field="$count")
    options = Options(top=min(_integer(params, "$top", DEFAULT_TOP), MAX_TOP),
                      skip=_integer(params, "$skip", 0), count=count == "true")
    if text := params.get("$filter"):
        options.filter = parse_filter(text)
    if text := params.get("$orderby"):
        options.orderby = parse_orderby(text)
    if text := params.get("$select"):
        options.select = [name.strip() for name in text.split(",") if name.strip()]
    if text := params.get("$expand"):
        options.expand = parse_expand(text)
    if text := params.get("$apply"):
        options.apply = parse_apply(text)
    if (text := params.get("$resultFormat")) is not None:
        if text not in RESULT_FORMATS:
            raise InvalidInput("$resultFormat must be one of {formats}",
                               field="$resultFormat", formats=", ".join(RESULT_FORMATS))
        options.data_array = True
    return options


# --- observations --------------------------------------------------------------------------

@dataclass(frozen=True)
class ObservationScope:
    """Which observations a collection holds: of these datastreams (and one feature)."""

    datastream_ids: tuple[int, ...]
    feature_id: int | None = None


def observation_entity(row: tuple[Any, ...]) -> Entity:
    """An Observation from a row of ``OBSERVATION_SELECT``; ``_values`` keeps the stored form
    of its result and optional properties."""
    identifier, datastream_id, phenomenon_time, result, result_time, feature_id, *rest = row
    values = ObservationValues(result, *rest)
    return {"@iot.id": identifier, "phenomenonTime": iso(phenomenon_time),
            "resultTime": iso(result_time), "result": _result(values),
            "resultQuality": _decoded(values.result_quality), "validTime": values.valid_time,
            "parameters": _decoded(values.parameters),
            "_datastream": datastream_id, "_feature": feature_id, "_values": values}


def _result(values: ObservationValues) -> Any:
    """The result as given: a number that is a whole one reads back as 1, not 1.0."""
    if values.result_json is not None:
        return json.loads(values.result_json)
    number = values.result
    if number is not None and number.is_integer() and abs(number) <= EXACT_INTEGERS:
        return int(number)
    return number


def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _observation_where(scope: ObservationScope, options: Options,
                       parameters: list[Any]) -> str:
    ids = ", ".join(str(int(identifier)) for identifier in scope.datastream_ids)
    clauses = [f"datastream_id IN ({ids})"]
    if scope.feature_id is not None:
        clauses.append(f"feature_id = {int(scope.feature_id)}")
    if options.filter is not None:
        clauses.append(to_sql(options.filter, OBSERVATION_COLUMNS, parameters))
    return " AND ".join(clauses)


def _days(options: Options) -> tuple[date | None, date | None]:
    low, high = time_bounds(options.filter, "phenomenonTime")
    if options.apply is not None:
        apply_low, apply_high = apply_bounds(options.apply, "phenomenonTime")
        low = max(filter(None, (low, apply_low)), default=None)
        high = min(filter(None, (high, apply_high)), default=None)
    return (low.astimezone(UTC).date() if low else None,
            high.astimezone(UTC).date() if high else None)


def aggregated_page(ctx: Context, scope: ObservationScope, options: Options
                    ) -> tuple[list[Entity], int | None, bool]:
    """One page of the rows ``$apply`` makes of the observations in scope."""
    assert options.apply is not None
    scan = observation_store(ctx).scan(*_days(options)) if scope.datastream_ids else None
    if scan is None:
        return [], (0 if options.count else None), False
    parameters: list[Any] = []
    where = _observation_where(scope, options, parameters)
    sql, names = apply_query(options.apply, scan, where, OBSERVATION_COLUMNS, parameters)
    connection = ctx.tables.connection()
    rows = connection.execute(f"{sql} LIMIT ? OFFSET ?",
                              [*parameters, options.top + 1, options.skip]).fetchall()
    total = None
    if options.count:
        total = int(connection.execute(f"SELECT count(*) FROM ({sql})",
                                       parameters).fetchall()[0][0])
    page = [dict(zip(names, row, strict=True)) for row in rows[:options.top]]
    return page, total, len(rows) > options.top


def observations_page(ctx: Context, scope: ObservationScope, options: Options
                      ) -> tuple[list[Entity], int | None, bool]:
    """One page of observations, the total if asked for, and whether more follow."""
    scan = observation_store(ctx).scan(*_days(options)) if scope.datastream_ids else None
    if scan is None:
        return [], (0 if options.count else None), False
    parameters: list[Any] = []
    where = _observation_where(scope, options, parameters)
    order = ", ".join(
        f"{_observation_column(name)} {'DESC' if descending else 'ASC'}"
        for name, descending in options.orderby) or "id"
    connection = ctx.tables.connection()
    connection.execute("SET parquet_metadata_cache = true")
    rows = connection.execute(
        f"SELECT {OBSERVATION_SELECT} FROM {scan} WHERE {where} "
        f"ORDER BY {order}, id LIMIT ? OFFSET ?",
        [*parameters, options.top + 1, options.skip]).fetchall()
    total = None
    if options.count:
        total = int(connection.execute(f"SELECT count(*) FROM {scan} WHERE {where}",
                                       parameters).fetchall()[0][0])
    return [observation_entity(row) for row in rows[:options.top]], total, len(rows) > options.top


def _observation_column(name: str) -> str:
    column = OBSERVATION_COLUMNS.get(name)
    if column is None:
        raise InvalidInput("cannot order Observations by '{name}'", field="$orderby",
                           name=name)
    return column


def observation_get(ctx: Context, graph: Graph, identifier: int) -> Entity:
    datastream_id = identifier >> ID_TIME_BITS
    store = observation_store(ctx)
    day = store.observation_day(identifier)
    scan = store.scan(day, day)
    if datastream_id not in graph.sets["Datastreams"] or scan is None:
        raise NotFound("no Observations({identifier})", identifier=identifier)
    rows = ctx.tables.connection().execute(
        f"SELECT {OBSERVATION_SELECT} FROM {scan} WHERE id = ?", [identifier]).fetchall()
    if not rows:
        raise NotFound("no Observations({identifier})", identifier=identifier)
    return observation_entity(rows[0])


# --- navigation ----------------------------------------------------------------------------

Related = list[Entity] | ObservationScope | Entity | None


def related(graph: Graph, set_name: str, entity: Entity, navigation: str) -> Related:
    """What a navigation property of an entity leads to."""
    identifier = entity["@iot.id"]
    sets = graph.sets
    datastreams = sets["Datastreams"].values()
    match set_name, navigation:
        case "Things", "Locations":
            return [sets["Locations"][loc] for thing, loc in graph.thing_locations
                    if thing == identifier and loc in sets["Locations"]]
        case "Things", "HistoricalLocations":
            return [h for h in sets["HistoricalLocations"].values() if h["_thing"] == identifier]
        case "Locations", "HistoricalLocations":
            return [sets["HistoricalLocations"][history] for history, loc
                    in graph.history_locations
                    if loc == identifier and history in sets["HistoricalLocations"]]
        case "HistoricalLocations", "Thing":
            return sets["Things"].get(entity["_thing"])
        case "HistoricalLocations", "Locations":
            return [sets["Locations"][loc] for history, loc in graph.history_locations
                    if history == identifier and loc in sets["Locations"]]
        case "Things", "Datastreams":
            return [d for d in datastreams if d["_thing"] == identifier]
        case "Locations", "Things":
            return [sets["Things"][thing] for thing, loc in graph.thing_locations
                    if loc == identifier and thing in sets["Things"]]
        case "Datastreams", "Thing":
            return sets["Things"].get(entity["_thing"])
        case "Datastreams", "Sensor":
            return sets["Sensors"].get(entity["_sensor"])
        case "Datastreams", "ObservedProperty":
            return sets["ObservedProperties"].get(entity["_property"])
        case "Datastreams", "Observations":
            return ObservationScope((identifier,))
        case "Sensors", "Datastreams":
            return [d for d in datastreams if d["_sensor"] == identifier]
        case "ObservedProperties", "Datastreams":
            return [d for d in datastreams if d["_property"] == identifier]
        case "FeaturesOfInterest", "Observations":
            return ObservationScope(tuple(sets["Datastreams"]), identifier)
        case "Observations", "Datastream":
            return sets["Datastreams"].get(entity["_datastream"])
        case "Observations", "FeatureOfInterest":
            return sets["FeaturesOfInterest"].get(entity["_feature"])
    raise NotFound("{set_name} have no '{name}'", set_name=set_name, name=navigation)


def _bound_filter(graph: Graph, set_name: str, options: Options) -> Options:
    """The options with the filter's conditions on related entities (``Locations/location``
    of Things, ``FeatureOfInterest/feature`` of Observations) decided on the metadata: an
    entity matches when any related entity does; Observations get the ids of the matching
    FeaturesOfInterest for their SQL scan."""
    if options.filter is None:
        return options

    def resolve(navigation: str, condition: Node) -> Node | None:
        target = ENTITY_TYPES[set_name].navigation.get(navigation)
        if target in (None, "Observations"):
            return None
        if set_name == "Observations":
            if paths_of(condition) <= OBSERVATION_COLUMNS.keys():
                return None
            return ("in", f"{navigation}/id", frozenset(
                identifier for identifier, entity in graph.sets[target].items()
                if evaluate(condition, {navigation: entity})))
        return ("in", "id", frozenset(
            identifier for identifier, entity in graph.sets[set_name].items()
            if any(evaluate(condition, {navigation: other})
                   for other in _listed(related(graph, set_name, entity, navigation)))))
    return replace(options, filter=bind_related(options.filter, resolve))


def _listed(value: Related) -> list[Entity]:
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


# --- rendering -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    ctx: Context
    graph: Graph
    root: str  # absolute URL of the service root, e.g. http://host/sta/v1.1
    path: str  # absolute URL of the resource, for next links
    params: Mapping[str, str]


def self_link(request: Request, set_name: str, entity: Entity) -> str:
    return f"{request.root}/{set_name}({entity['@iot.id']})"


def render(request: Request, set_name: str, entity: Entity, options: Options) -> Entity:
    entity_type = ENTITY_TYPES[set_name]
    link = self_link(request, set_name, entity)
    out: Entity = {"@iot.id": entity["@iot.id"], "@iot.selfLink": link}
    out.update((name, entity.get(name)) for name in entity_type.properties)
    out.update((f"{nav}@iot.navigationLink", f"{link}/{nav}") for nav in entity_type.navigation)
    if options.select is not None:
        wanted = set(options.select)
        if "id" in wanted:
            wanted.add("@iot.id")
        out = {key: value for key, value in out.items()
               if key in wanted or key.split("@iot.navigationLink")[0] in wanted}
    for navigation, group in _by_navigation(options.expand).items():
        out.update(_expanded(request, set_name, entity, navigation, group))
    return out


def _by_navigation(expands: list[Expand]) -> dict[str, list[Expand]]:
    """$expand items by their first step: ``A/B,A/C`` expands A once, with B and C in it."""
    groups: dict[str, list[Expand]] = {}
    for expand in expands:
        groups.setdefault(expand.navigation.partition("/")[0], []).append(expand)
    return groups


def _nested_options(group: list[Expand]) -> Options:
    """The options of an expanded navigation property A: its own, ``A($top=1)``, and the
    deeper paths ``A/B`` to expand in it (in ``A/B($top=1)`` the options belong to B)."""
    own = [expand.options for expand in group if "/" not in expand.navigation]
    nested = parse_options(own[0]) if own else Options()
    nested.expand += [Expand(expand.navigation.partition("/")[2], expand.options)
                      for expand in group if "/" in expand.navigation]
    return nested


def _expanded(request: Request, set_name: str, entity: Entity, navigation: str,
              group: list[Expand]) -> Entity:
    target = ENTITY_TYPES[set_name].navigation.get(navigation)
    if target is None:
        raise InvalidInput("{set_name} have no {navigation} to expand", field="$expand",
                           set_name=set_name, navigation=navigation)
    nested = _bound_filter(request.graph, target, _nested_options(group))
    value = related(request.graph, set_name, entity, navigation)
    if value is None or (isinstance(value, dict)):
        return {navigation: render(request, target, value, nested) if value else None}
    page, total, _more = _page(request, value, nested)
    out: Entity = {navigation: [render(request, target, item, nested) for item in page]}
    if total is not None:
        out[f"{navigation}@iot.count"] = total
    return out


def _sort_key(name: str) -> Any:
    def key(entity: Entity) -> tuple[bool, Any]:
        value = entity.get("@iot.id" if name in {"id", "@iot.id"} else name)
        return (value is None, value if not isinstance(value, dict | list) else str(value))
    return key


def _page(request: Request, source: list[Entity] | ObservationScope, options: Options
          ) -> tuple[list[Entity], int | None, bool]:
    if options.apply is not None:
        raise InvalidInput("$apply is offered on Observations collections only, not in "
                           "$expand", field="$apply")
    if isinstance(source, ObservationScope):
        return observations_page(request.ctx, source, options)
    items = source
    if options.filter is not None:
        items = [item for item in items if evaluate(options.filter, item)]
    items = sorted(items, key=_sort_key("id"))
    for name, descending in reversed(options.orderby):
        try:
            items = sorted(items, key=_sort_key(name), reverse=descending)
        except TypeError:
            raise InvalidInput("cannot order by '{name}'", field="$orderby",
                               name=name) from None
    end = options.skip + options.top
    total = len(items) if options.count else None
    return items[options.skip:end], total, end < len(items)


def next_link(request: Request, options: Options) -> str:
    params = dict(request.params)
    params["$skip"] = str(options.skip + options.top)
    params["$top"] = str(options.top)
    query = urlencode(params, quote_via=quote, safe="$'(),/:")
    return f"{request.path}?{query}"


def collection(request: Request, set_name: str, source: list[Entity] | ObservationScope,
               options: Options, ref: bool = False) -> Entity:
    options = _bound_filter(request.graph, set_name, options)
    if options.apply is not None:
        return _aggregated_collection(request, source, options)
    if options.data_array:
        return _data_array_collection(request, source, options, ref)
    page, total, more = _page(request, source, options)
    out: Entity = {}
    if total is not None:
        out["@iot.count"] = total
    if ref:
        out["value"] = [{"@iot.selfLink": self_link(request, set_name, item)} for item in page]
    else:
        out["value"] = [render(request, set_name, item, options) for item in page]
    if more:
        out["@iot.nextLink"] = next_link(request, options)
    return out


def _aggregated_collection(request: Request, source: list[Entity] | ObservationScope,
                           options: Options) -> Entity:
    if not isinstance(source, ObservationScope):
        raise InvalidInput("$apply is offered on Observations collections only", field="$apply")
    if options.orderby or options.select is not None or options.expand:
        raise InvalidInput("$apply cannot be combined with $orderby, $select or $expand",
                           field="$apply")
    page, total, more = aggregated_page(request.ctx, source, options)
    out: Entity = {} if total is None else {"@iot.count": total}
    out["value"] = page
    if more:
        out["@iot.nextLink"] = next_link(request, options)
    return out


def _data_array_collection(request: Request, source: list[Entity] | ObservationScope,
                           options: Options, ref: bool) -> Entity:
    if not isinstance(source, ObservationScope) or ref:
        raise InvalidInput("$resultFormat=dataArray is offered on Observations collections "
                           "only", field="$resultFormat")
    if options.expand:
        raise InvalidInput("$resultFormat=dataArray cannot be combined with $expand",
                           field="$resultFormat")
    components = read_components(options.select)
    page, total, more = observations_page(request.ctx, source, options)
    out: Entity = {} if total is None else {"@iot.count": total}
    out["value"] = data_array_blocks(request.root, page, components)
    if more:
        out["@iot.nextLink"] = next_link(request, options)
    return out


# --- resource paths ------------------------------------------------------------------------

def service_root(root: str, extensions: Entity | None = None,
                 claimed: list[str] | None = None) -> Entity:
    """The service root; ``extensions`` maps further classes to their settings (the MQTT
    ones' endpoints, from ``sta_mqtt.server_settings``), ``claimed`` names those of them bylab
    conforms to."""
    return {
        "value": [{"name": name, "url": f"{root}/{name}"} for name in ENTITY_TYPES],
        "serverSettings": {"conformance": CONFORMANCE + (claimed or []), **(extensions or {})},
    }


def resource_segments(path: str) -> list[tuple[str, int | None]]:
    parsed = []
    for segment in path.strip("/").split("/"):
        match = SEGMENT.match(segment)
        if match is None:
            raise NotFound("no resource '{segment}'", segment=segment)
        identifier = match.group("id")
        parsed.append((match.group("name"),
                       int(identifier.strip("'")) if identifier is not None else None))
    return parsed


def _entity_of_set(request: Request, set_name: str, identifier: int) -> Entity:
    if set_name == "Observations":
        return observation_get(request.ctx, request.graph, identifier)
    return request.graph.get(set_name, identifier)


def _pick(request: Request, set_name: str, source: list[Entity] | ObservationScope,
          identifier: int) -> Entity:
    if isinstance(source, ObservationScope):
        entity = observation_get(request.ctx, request.graph, identifier)
        if entity["_datastream"] not in source.datastream_ids or (
                source.feature_id is not None and entity["_feature"] != source.feature_id):
            raise NotFound("no {set_name}({identifier}) here", set_name=set_name,
                           identifier=identifier)
        return entity
    for entity in source:
        if entity["@iot.id"] == identifier:
            return entity
    raise NotFound("no {set_name}({identifier}) here", set_name=set_name,
                   identifier=identifier)


def sta_get(request: Request) -> Entity | str | None:
    """Answer a GET on a resource path below the service root (None: a null property)."""
    segments = resource_segments(request.path.removeprefix(request.root))
    options = parse_options(request.params)
    name, identifier = segments[0]
    if name not in ENTITY_TYPES:
        raise NotFound("no entity set '{name}'", name=name)
    set_name = name
    entity: Entity | None = None
    source: list[Entity] | ObservationScope
    if set_name == "Observations":
        source = ObservationScope(tuple(request.graph.sets["Datastreams"]))
    else:
        source = list(request.graph.sets[set_name].values())
    if identifier is not None:
        entity = _entity_of_set(request, set_name, identifier)
    for position, (name, identifier) in enumerate(segments[1:], start=1):
        last = position == len(segments) - 1
        if name == "$ref" and last:
            if entity is not None:
                return {"@iot.selfLink": self_link(request, set_name, entity)}
            return collection(request, set_name, source, options, ref=True)
        if entity is None:
            raise NotFound("no resource '{name}' here", name=name)
        entity_type = ENTITY_TYPES[set_name]
        if name in entity_type.navigation:
            value = related(request.graph, set_name, entity, name)
            set_name = entity_type.navigation[name]
            if name in TO_ONE:
                if value is None or identifier is not None:
                    raise NotFound("no {name} here", name=name)
                entity = value  # type: ignore[assignment]
            else:
                source = value  # type: ignore[assignment]
                entity = _pick(request, set_name, source, identifier) if identifier else None
            continue
        if name in entity_type.properties and identifier is None:
            return _property(segments[position + 1:], name, entity.get(name))
        raise NotFound("{set_name} have no '{name}'", set_name=set_name, name=name)
    if entity is not None:
        if options.data_array:
            raise InvalidInput("$resultFormat=dataArray is offered on Observations "
                               "collections only", field="$resultFormat")
        if options.apply is not None:
            raise InvalidInput("$apply is offered on Observations collections only",
                               field="$apply")
        return render(request, set_name, entity, options)
    return collection(request, set_name, source, options)


def _property(rest: list[tuple[str, int | None]], name: str, value: Any) -> Entity | str | None:
    """A property, or its raw ``$value``; None (204 No Content) when it is null, as OGC
    18-088 §9.2.4 asks."""
    if value is None and rest in ([], [("$value", None)]):
        return None
    if not rest:
        return {name: value}
    if rest == [("$value", None)]:
        return value if isinstance(value, str) else json.dumps(value)
    raise NotFound("nothing below a property but $value")
