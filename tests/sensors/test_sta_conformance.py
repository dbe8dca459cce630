"""The OGC SensorThings conformance suite (ets-sta10), reading: its Sensing Core and query
option checks as our own tests, in-process.

TEAM Engine cannot run here, so each test mirrors one test method of
``opengeospatial/ets-sta10`` (named in its docstring) with the same requests and checks:
``sensingCore.Capability1Tests`` (of which ``readEntities.Capability1Tests`` is an early
form) and ``filteringExtension.Capability3Tests``, on the suite's own data, made once for the
module through the API by an editor's token. ``test_sta_conformance_write.py`` mirrors the
Create-Update-Delete and Data Array classes.

The checks about HistoricalLocations are their own cases (the ``HistoricalLocations``
parameter covers that set and the navigation to it). Where the suite expects more than the
standard, the test follows the standard and says why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.sensors.ets_sta import (
    ENTITY_SETS,
    HISTORY,
    JSON_VALUED,
    MANDATORY,
    MISSING_ID,
    RELATIONS,
    ROOT,
    SET_OF,
    STA,
    by_set,
    datastream_body,
    editor_client,
    first_id,
    get_ok,
    is_collection,
    names_history,
    observed_body,
    post,
    relation_scope,
    thing_body,
    values,
)


def make_query_data(sta: httpx.Client) -> None:
    """Two Things with two Datastreams each, their Locations swapped by PATCH, and three
    Observations (results 1..12, one a day from 2015-03-01) in every Datastream: 2 Things,
    2 Locations, 4 Datastreams, 4 Sensors, 3 ObservedProperties, 12 Observations and (made
    from the Things' Locations) 2 FeaturesOfInterest."""
    thing_1 = post(sta, "Things", thing_body(1, [-117.05, 51.05], [
        datastream_body("datastream 1", "Lumen", "lm", observed_body("Luminous Flux", 1),
                        "sensor 1", "Light flux sensor"),
        datastream_body("datastream 2", "Centigrade", "C", observed_body("Tempretaure", 2),
                        "sensor 2", "Tempreture sensor")]))
    temperature = get_ok(sta, f"Things({thing_1})/Datastreams")["value"][1]
    observed_2 = get_ok(sta, f"Datastreams({temperature['@iot.id']})/ObservedProperty")
    thing_2 = post(sta, "Things", thing_body(2, [-100.05, 50.05], [
        datastream_body("datastream 3", "Lumen", "lm", observed_body("Second Luminous Flux", 3),
                        "sensor 3", "Second Light flux sensor"),
        datastream_body("datastream 2", "Centigrade", "C", {"@iot.id": observed_2["@iot.id"]},
                        "sensor 4 ", "Second Tempreture sensor")]))
    location_1 = first_id(sta, f"Things({thing_1})/Locations")
    location_2 = first_id(sta, f"Things({thing_2})/Locations")
    for thing, location in ((thing_1, location_2), (thing_2, location_1)):
        answer = sta.patch(f"{STA}/Things({thing})", json={"Locations": [{"@iot.id": location}]})
        assert answer.status_code == 200, answer.text
    datastreams = [d["@iot.id"] for thing in (thing_1, thing_2)
                   for d in values(sta, f"Things({thing})/Datastreams")]
    for index, datastream in enumerate(datastreams):
        for day in range(3 * index + 1, 3 * index + 4):
            post(sta, f"Datastreams({datastream})/Observations",
                 {"phenomenonTime": f"2015-03-{day:02d}T00:00:00Z", "result": day})


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One embedded instance holding the suite's query data, shared by the tests that only
    read it (making it takes seconds; the suite, too, makes it once per class). The storage
    backends meet these requests alike: metadata is filtered in Python, Observations in
    DuckDB."""
    with editor_client(tmp_path_factory.mktemp("conformance") / "data") as client:
        make_query_data(client)
        yield client


TOTALS = {"Things": 2, "Locations": 2, HISTORY: 4, "Datastreams": 4, "Sensors": 4,
          "ObservedProperties": 3, "Observations": 12, "FeaturesOfInterest": 2}
# Below the first entity of a set; the first ObservedProperty may serve one or two Datastreams.
RELATED_TOTALS: dict[tuple[str, str], tuple[int, ...]] = {
    ("Things", "Locations"): (1,), ("Things", HISTORY): (2,), ("Things", "Datastreams"): (2,),
    ("Locations", "Things"): (1,), ("Locations", HISTORY): (2,),
    (HISTORY, "Locations"): (1,), ("Sensors", "Datastreams"): (1,),
    ("ObservedProperties", "Datastreams"): (1, 2), ("Datastreams", "Observations"): (3,),
    ("FeaturesOfInterest", "Observations"): (6,),
}


# --- Sensing Core (sensingCore.Capability1Tests) -----------------------------------------

def check_entity(set_name: str, entity: dict[str, Any]) -> None:
    """Control information, mandatory properties and navigation links of one entity."""
    assert {"@iot.id", "@iot.selfLink"} <= entity.keys(), entity
    assert set(MANDATORY[set_name]) <= entity.keys(), (set_name, entity)
    for navigation in RELATIONS[set_name]:
        assert f"{navigation}@iot.navigationLink" in entity, (set_name, navigation)


def test_check_service_root_uri(reader: httpx.Client) -> None:
    """ETS sensingCore.Capability1Tests.checkServiceRootUri: every entity set, no other, at
    the service root's URL."""
    answer = reader.get(STA)
    assert answer.status_code == 200
    urls = {entry["name"]: entry["url"] for entry in answer.json()["value"]}
    assert set(urls) <= set(ENTITY_SETS) | {"MultiDatastreams"}
    assert all(name in urls for name in ENTITY_SETS)
    assert all(url == f"{ROOT}/{name}" for name, url in urls.items())


@pytest.mark.parametrize("set_name", by_set())
def test_read_entities_and_check_response(reader: httpx.Client, set_name: str) -> None:
    """ETS sensingCore.Capability1Tests.readEntitiesAndCheckResponse (the first two entities;
    the empty HistoricalLocations set passes it, as it passes the suite)."""
    for entity in values(reader, set_name)[:2]:
        check_entity(set_name, entity)


@pytest.mark.parametrize("set_name", by_set())
def test_read_nonexistent_entity(reader: httpx.Client, set_name: str) -> None:
    """ETS sensingCore.Capability1Tests.readNonexistentEntity."""
    assert reader.get(f"{STA}/{set_name}({MISSING_ID})").status_code == 404


@pytest.mark.parametrize("set_name", by_set())
def test_read_entity_and_check_response(reader: httpx.Client, set_name: str) -> None:
    """ETS sensingCore.Capability1Tests.readEntityAndCheckResponse."""
    identifier = values(reader, set_name)[0]["@iot.id"]
    check_entity(set_name, get_ok(reader, f"{set_name}({identifier})"))


@pytest.mark.parametrize("set_name", by_set())
def test_read_property_of_entity_and_check_response(reader: httpx.Client,
                                                    set_name: str) -> None:
    """ETS sensingCore.Capability1Tests.readPropertyOfEntityAndCheckResponse: each mandatory
    property alone, and its raw $value (JSON only for location, feature and
    unitOfMeasurement). The suite's data has no null property; ours has (an Observation's
    resultTime), for which OGC 18-088 §9.2.4 (Usage 4) asks 204 No Content."""
    entity = values(reader, set_name)[0]
    path = f"{set_name}({entity['@iot.id']})"
    for name in MANDATORY[set_name]:
        alone = reader.get(f"{STA}/{path}/{name}")
        raw = reader.get(f"{STA}/{path}/{name}/$value")
        if entity[name] is None:
            assert (alone.status_code, raw.status_code) == (204, 204), name
            continue
        assert alone.status_code == 200 and alone.json() == {name: entity[name]}, name
        assert raw.status_code == 200, name
        assert raw.text.startswith("{") if name in JSON_VALUED else "{" not in raw.text, name


def _walk(sta: httpx.Client, steps: list[str], ids: list[int], depth: int = 4) -> int:
    """The suite's resource path walk: every path of up to ``depth`` steps answers 200, a
    collection is not empty and its $ref lists self links only; returns the paths read."""
    path = "/".join([f"{step}({identifier})" for step, identifier in zip(steps, ids)]
                    + [steps[-1]])
    answer = get_ok(sta, path)
    if not is_collection(steps[-1]):
        return 1
    assert answer["value"], f"{path} is empty"
    for reference in get_ok(sta, f"{path}/$ref")["value"][:2]:
        assert list(reference) == ["@iot.selfLink"], (path, reference)
    if len(steps) == depth:
        return 1
    read = 1
    for navigation in RELATIONS[SET_OF[steps[-1]]]:
        if SET_OF[navigation] != HISTORY or HISTORY in steps:
            read += _walk(sta, [*steps, navigation], [*ids, answer["value"][0]["@iot.id"]])
    return read


@pytest.mark.parametrize("set_name", [name for name in ENTITY_SETS if name != HISTORY])
def test_check_resource_paths(reader: httpx.Client, set_name: str) -> None:
    """ETS sensingCore.Capability1Tests.checkResourcePaths from one entity set, four levels
    deep (the paths through HistoricalLocations are the next test's)."""
    assert _walk(reader, [set_name], []) > 1


def test_check_resource_paths_through_historical_locations(reader: httpx.Client) -> None:
    """ETS sensingCore.Capability1Tests.checkResourcePaths, the paths that reach
    HistoricalLocations: the suite wants every collection on the way to hold something."""
    for parent in ("Things", "Locations"):
        _walk(reader, [parent, HISTORY], [first_id(reader, parent) or 0])


# --- Filtering: query options (filteringExtension.Capability3Tests) ----------------------

def collections_below(subject: str) -> list[tuple[str, str]]:
    return [(parent, navigation) for parent, navigation in relation_scope(subject)
            if is_collection(navigation)]


def related_path(reader: httpx.Client, parent: str, navigation: str) -> str | None:
    """``Parent(first id)/navigation``; None when the parent set is empty (the suite then
    checks nothing)."""
    identifier = first_id(reader, parent)
    return None if identifier is None else f"{parent}({identifier})/{navigation}"


def check_selected(set_name: str, entity: dict[str, Any], selected: list[str]) -> None:
    for name in MANDATORY[set_name]:
        assert (name in entity) == (name in selected), (set_name, name, selected, entity)
    for navigation in RELATIONS[set_name]:
        assert f"{navigation}@iot.navigationLink" not in entity and navigation not in entity


def entities_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return answer["value"][:2] if "value" in answer else [answer]


def check_select(reader: httpx.Client, path: str, set_name: str) -> None:
    """Each mandatory property alone, then growing lists of them."""
    properties = list(MANDATORY[set_name])
    for selected in [[name] for name in properties] + [properties[:end] for end in
                                                      range(1, len(properties) + 1)]:
        for entity in entities_of(get_ok(reader, path, **{"$select": ",".join(selected)})):
            check_selected(set_name, entity, selected)


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_select_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithSelectQO: $select on a set
    and below its first entity."""
    check_select(reader, subject, subject)
    for parent, navigation in relation_scope(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            check_select(reader, path, SET_OF[navigation])


def check_expanded(set_name: str, entity: dict[str, Any], expand: list[str]) -> None:
    """Expanded navigation properties are inline with their mandatory properties (and the
    second level inside the first expanded entity); the others stay links."""
    first_levels = {item.split("/")[0] for item in expand}
    for navigation in RELATIONS[set_name]:
        if navigation not in first_levels:
            assert f"{navigation}@iot.navigationLink" in entity, (set_name, navigation)
            continue
        inline = entity[navigation]
        assert isinstance(inline, list) == is_collection(navigation), (navigation, inline)
        items = (inline if isinstance(inline, list) else [inline])[:2]
        for item in items:
            assert set(MANDATORY[SET_OF[navigation]]) <= item.keys(), (navigation, item)
        for deeper in [item.split("/")[1] for item in expand
                       if item.startswith(f"{navigation}/")]:
            assert items, f"{navigation} is empty: nothing to expand {deeper} in"
            nested = items[0][deeper]
            for item in (nested if isinstance(nested, list) else [nested])[:2]:
                assert set(MANDATORY[SET_OF[deeper]]) <= item.keys(), (deeper, item)


def expansions(set_name: str, with_history: bool) -> list[list[str]]:
    """The suite's $expand lists: each navigation property, growing lists of them, each
    two-level path and growing lists of those."""
    single = [name for name in RELATIONS[set_name] if with_history or not names_history(name)]
    double = [f"{name}/{deeper}" for name in single for deeper in RELATIONS[SET_OF[name]]
              if with_history or not names_history(deeper)]
    return ([[name] for name in single] + [single[:end] for end in range(1, len(single) + 1)]
            + [[path] for path in double] + [double[:end] for end in range(1, len(double) + 1)])


def check_expand(reader: httpx.Client, path: str, set_name: str, with_history: bool) -> None:
    for expand in expansions(set_name, with_history):
        for entity in entities_of(get_ok(reader, path, **{"$expand": ",".join(expand)})):
            check_expanded(set_name, entity, expand)


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_expand_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithExpandQO: one and two levels
    of $expand, on a set and below its first entity."""
    history = subject == HISTORY
    if history:
        for parent in ("Things", "Locations"):
            check_expand(reader, parent, parent, True)
    check_expand(reader, subject, subject, history)
    for parent, navigation in relation_scope(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            check_expand(reader, path, SET_OF[navigation], history)


def check_page(answer: dict[str, Any], expected: int, more: bool, label: Any) -> None:
    assert len(answer["value"]) == expected, (label, answer)
    assert ("@iot.nextLink" in answer) == more, (label, answer.get("@iot.nextLink"))


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_top_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithTopQO: $top and the next link,
    on a set and ($top=3) below its first entity."""
    total = TOTALS[subject]
    for top in (1, 2, 3, 4, 5, 12, 13):
        check_page(get_ok(reader, subject, **{"$top": str(top)}), min(top, total),
                   top < total, (subject, top))
    for parent, navigation in collections_below(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            answer = get_ok(reader, path, **{"$top": "3"})
            related = RELATED_TOTALS[(parent, navigation)]
            assert len(answer["value"]) in {min(3, count) for count in related}, path
            assert ("@iot.nextLink" in answer) == (min(related) > 3), path


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_skip_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithSkipQO: $skip, with no next
    link, on a set and ($skip=1) below its first entity."""
    total = TOTALS[subject]
    for skip in (1, 2, 3, 4, 12):
        check_page(get_ok(reader, subject, **{"$skip": str(skip)}), max(total - skip, 0),
                   False, (subject, skip))
    for parent, navigation in collections_below(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            answer = get_ok(reader, path, **{"$skip": "1"})
            related = RELATED_TOTALS[(parent, navigation)]
            assert len(answer["value"]) in {count - 1 for count in related}, path
            assert "@iot.nextLink" not in answer, path


def sort_key(value: Any) -> tuple[bool, Any]:
    """How the suite compares values: numbers and text as such, JSON objects by their text;
    null after everything."""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    return value is None, value if value is not None else 0


def check_order(entities: list[dict[str, Any]], names: list[str], descending: bool) -> None:
    keys = [[sort_key(entity[name]) for name in names] for entity in entities]
    assert keys == sorted(keys, reverse=descending), (names, descending, keys)


def check_orderby(reader: httpx.Client, path: str, set_name: str) -> None:
    """Each orderable mandatory property (default, asc, desc), then growing lists of them."""
    properties = [name for name in MANDATORY[set_name] if name != "unitOfMeasurement"]
    for names in [[name] for name in properties] + [properties[:end] for end in
                                                   range(1, len(properties) + 1)]:
        for suffix, descending in (("", False), (" asc", False), (" desc", True)):
            orderby = ",".join(f"{name}{suffix}" for name in names)
            check_order(values(reader, path, **{"$orderby": orderby}), names, descending)


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_orderby_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithOrderbyQO: $orderby on one and
    several properties, ascending and descending, on a set and below its first entity."""
    check_orderby(reader, subject, subject)
    for parent, navigation in collections_below(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            check_orderby(reader, path, SET_OF[navigation])


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_count_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithCountQO: @iot.count with
    $count=true and none with $count=false, on a set and below its first entity."""
    assert get_ok(reader, subject, **{"$count": "true"})["@iot.count"] == TOTALS[subject]
    assert "@iot.count" not in get_ok(reader, subject, **{"$count": "false"})
    for parent, navigation in collections_below(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            count = get_ok(reader, path, **{"$count": "true"})["@iot.count"]
            assert count in RELATED_TOTALS[(parent, navigation)], path
            assert "@iot.count" not in get_ok(reader, path, **{"$count": "false"}), path


# The suite's EntityPropertiesSampleValue: one value per mandatory property ("'…'" is text).
SAMPLES: dict[str, tuple[str, ...]] = {
    "Things": ("'thing 1'", "'thing 1'"),
    "Locations": ("'location 2'", "'location 2'", "'application/vnd.geo+json'", ""),
    HISTORY: ("2015-10-14T21:30:00.104Z",),
    "Datastreams": ("'datastream 1'", "'datastream 1'", "",
                    "'http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement'"),
    "Sensors": ("'sensor 1'", "'sensor 1'", "'http://schema.org/description'",
                "'Light flux sensor'"),
    "ObservedProperties": (
        "'Luminous Flux'",
        "'http://www.qudt.org/qudt/owl/1.0.0/quantity/Instances.html/LuminousFlux'",
        "'observedProperty 1'"),
    "Observations": ("2015-03-02T00:00:00.000Z", "'2'", "2015-03-02T00:00:00.000Z"),
    "FeaturesOfInterest": ("'Generated using location details: location 1'",
                           "'Generated using location details: location 1'",
                           "'application/vnd.geo+json'", ""),
}
OPERATORS = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
             "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b}


def as_text(value: Any) -> str:
    """A result as text, the way a text literal compares with it: 2.0 is '2'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_filter(reader: httpx.Client, path: str, set_name: str) -> None:
    """Every comparison operator with the sample value of each property: each entity
    returned has the property, and it compares as asked."""
    for name, sample in zip(MANDATORY[set_name], SAMPLES[set_name], strict=True):
        if name in JSON_VALUED:
            continue
        for operator, holds in OPERATORS.items():
            for entity in values(reader, path, **{"$filter": f"{name} {operator} {sample}"}):
                value = entity.get(name)
                assert value is not None, (path, name, entity)
                if sample.startswith("'"):
                    assert holds(as_text(value), sample[1:-1]), (path, name, operator, value)
                else:
                    assert holds(as_time(value), as_time(sample)), (path, name, operator, value)


@pytest.mark.parametrize("subject", by_set())
def test_read_entities_with_filter_qo(reader: httpx.Client, subject: str) -> None:
    """ETS filteringExtension.Capability3Tests.readEntitiesWithFilterQO: lt, le, eq, ge and gt
    on each property (not the JSON ones), on a set and below its first entity."""
    check_filter(reader, subject, subject)
    for parent, navigation in collections_below(subject):
        if (path := related_path(reader, parent, navigation)) is not None:
            check_filter(reader, path, SET_OF[navigation])


def test_check_queries_priority_ordering(reader: httpx.Client) -> None:
    """ETS filteringExtension.Capability3Tests.checkQueriesPriorityOrdering: $filter before
    $count, then $orderby, $skip and $top. The suite compares the results with the text '3',
    as text: of 1..12, the six from 4 to 9 are greater."""
    answer = get_ok(reader, "Observations", **{
        "$count": "true", "$top": "1", "$skip": "2", "$orderby": "phenomenonTime asc",
        "$filter": "result gt '3'"})
    assert answer["@iot.count"] == 6
    assert [observation["result"] for observation in answer["value"]] == [6]
