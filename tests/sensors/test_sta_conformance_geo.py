"""The OGC SensorThings conformance suite (ets-sta10), the geospatial functions of the
filtering class: its ``filteringExtension.GeoTests`` as our own tests, in-process.

Each ``test_geo_*``/``test_st_*`` mirrors the test method of ``opengeospatial/ets-sta10``
named in its docstring, on the suite's own data (its ``createEntities``), made once for the
module through the API by an editor's token. The suite computes in the plane of the
coordinates, in degrees (FROST-Server uses PostGIS geometry, not geography): the line from
(5 52) to (5 53) is 1 long. The tests after the mirrored ones are bylab's own: the same
functions through a to-many path, combined with other conditions, and wrong input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sensors.ets_sta import STA, editor_client, post, values

GEOJSON = "application/vnd.geo+json"
# The suite's Locations 0-7 (FeaturesOfInterest 0-7 have the same geometries): points, a
# polygon, and three lines. Locations 0 and 1 are Thing 1's, 2, 3 and 4 those of Things 2, 3
# and 4; the lines belong to no Thing.
GEOMETRIES: list[tuple[dict[str, Any], int | None]] = [
    ({"type": "Point", "coordinates": [8, 51]}, 0),
    ({"type": "Point", "coordinates": [8, 52]}, 0),
    ({"type": "Point", "coordinates": [8, 53]}, 1),
    ({"type": "Point", "coordinates": [8, 54]}, 2),
    ({"type": "Polygon", "coordinates": [[[8, 53], [7, 52], [7, 53], [8, 53]]]}, 3),
    ({"type": "LineString", "coordinates": [[5, 52], [5, 53]]}, None),
    ({"type": "LineString", "coordinates": [[5, 52], [6, 53]]}, None),
    ({"type": "LineString", "coordinates": [[4, 52], [8, 52]]}, None),
]
BOX = "geography'POLYGON((7.5 51.5, 7.5 53.5, 8.5 53.5, 8.5 51.5, 7.5 51.5))'"

Made = dict[str, list[int]]


def make_geo_data(sta: httpx.Client) -> Made:
    """The suite's createEntities: 4 Things, a Sensor, an ObservedProperty, 3 Datastreams
    (of Things 1-3), Locations and FeaturesOfInterest 0-7, and Observations 0-3 (results
    1-4, one a day from 2016-01-01) of FeaturesOfInterest 0-3. Returns the ids by set."""
    made: Made = {"Things": [], "Datastreams": [], "Locations": [], "FeaturesOfInterest": [],
                  "Observations": []}
    for number, word in enumerate(("first", "second", "third", "fourt"), start=1):
        made["Things"].append(post(sta, "Things", {"name": f"Thing {number}",
                                                   "description": f"The {word} thing."}))
    sensor = post(sta, "Sensors", {"name": "Sensor 1", "description": "The first sensor.",
                                   "encodingType": "text", "metadata": "Some metadata."})
    observed = post(sta, "ObservedProperties", {
        "name": "Temperature", "definition": "http://ucom.org/temperature",
        "description": "The temperature of the thing."})
    for number in range(1, 4):
        made["Datastreams"].append(post(sta, "Datastreams", {
            "name": f"Datastream {number}",
            "description": f"The temperature of thing {number}, sensor 1.",
            "observationType": "someType",
            "unitOfMeasurement": {"name": "degree celcius", "symbol": "°C",
                                  "definition": "ucum:T"},
            "Thing": {"@iot.id": made["Things"][number - 1]}, "Sensor": {"@iot.id": sensor},
            "ObservedProperty": {"@iot.id": observed}}))
    for index, (geometry, thing) in enumerate(GEOMETRIES):
        location: dict[str, Any] = {"name": f"Location {index}", "description": "A place.",
                                    "encodingType": GEOJSON, "location": geometry}
        if thing is not None:
            location["Things"] = [{"@iot.id": made["Things"][thing]}]
        made["Locations"].append(post(sta, "Locations", location))
        made["FeaturesOfInterest"].append(post(sta, "FeaturesOfInterest", {
            "name": f"FoI {index}", "description": f"This should be FoI #{index}.",
            "encodingType": "application/geo+json", "feature": geometry}))
    for index, datastream in enumerate([0, 0, 1, 2]):
        day = f"2016-01-{index + 1:02d}"
        made["Observations"].append(post(sta, "Observations", {
            "result": index + 1, "phenomenonTime": f"{day}T01:01:01.000Z",
            "validTime": f"{day}T01:01:01.000Z/{day}T23:59:59.999Z",
            "Datastream": {"@iot.id": made["Datastreams"][datastream]},
            "FeatureOfInterest": {"@iot.id": made["FeaturesOfInterest"][index]}}))
    return made


@pytest.fixture(scope="module")
def geo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Made]]:
    """One embedded instance holding the suite's data, and the ids made, shared by the tests
    (they only read it)."""
    with editor_client(tmp_path_factory.mktemp("conformance-geo") / "data") as client:
        yield client, make_geo_data(client)


def check(geo: tuple[httpx.Client, Made], set_name: str, expression: str,
          *expected: int) -> None:
    """The suite's filterAndCheck: the filter returns exactly the entities of these indexes
    (in the order they were made)."""
    sta, made = geo
    found = {entity["@iot.id"] for entity in values(sta, set_name, **{"$filter": expression})}
    wanted = {made[set_name][index] for index in expected}
    assert found == wanted, (expression, sorted(made[set_name].index(i) for i in found
                                                if i in made[set_name]))


def test_geo_distance(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testGeoDistance."""
    check(geo, "Locations", "geo.distance(location, geography'POINT(8 54.1)') lt 1", 3)
    check(geo, "Locations", "geo.distance(location, geography'POINT(8 54.1)') gt 1",
          0, 1, 2, 4, 5, 6, 7)
    check(geo, "Observations",
          "geo.distance(FeatureOfInterest/feature, geography'POINT(8 54.1)') lt 1", 3)
    check(geo, "Observations",
          "geo.distance(FeatureOfInterest/feature, geography'POINT(8 54.1)') gt 1", 0, 1, 2)


def test_geo_intersects(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testGeoIntersects."""
    check(geo, "Locations", "geo.intersects(location, geography'LINESTRING(7.5 51, 7.5 54)')",
          4, 7)
    check(geo, "FeaturesOfInterest",
          "geo.intersects(feature, geography'LINESTRING(7.5 51, 7.5 54)')", 4, 7)


@pytest.mark.parametrize("set_name, name", [("Locations", "location"),
                                            ("FeaturesOfInterest", "feature")])
def test_geo_length(geo: tuple[httpx.Client, Made], set_name: str, name: str) -> None:
    """ETS filteringExtension.GeoTests.testGeoLength: a point's and a polygon's length is 0
    (PostGIS's ST_Length), a line's its length in degrees."""
    check(geo, set_name, f"geo.length({name}) gt 1", 6, 7)
    check(geo, set_name, f"geo.length({name}) ge 1", 5, 6, 7)
    check(geo, set_name, f"geo.length({name}) eq 1", 5)
    check(geo, set_name, f"geo.length({name}) ne 1", 0, 1, 2, 3, 4, 6, 7)
    check(geo, set_name, f"geo.length({name}) le 4", 0, 1, 2, 3, 4, 5, 6, 7)
    check(geo, set_name, f"geo.length({name}) lt 4", 0, 1, 2, 3, 4, 5, 6)


def test_st_contains(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStContains."""
    check(geo, "Locations", f"st_contains({BOX}, location)", 1, 2)
    check(geo, "Observations", f"st_contains({BOX}, FeatureOfInterest/feature)", 1, 2)


def test_st_crosses(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStCrosses."""
    line = "geography'LINESTRING(7.5 51.5, 7.5 53.5)'"
    check(geo, "Locations", f"st_crosses({line}, location)", 4, 7)
    check(geo, "FeaturesOfInterest", f"st_crosses({line}, feature)", 4, 7)


def test_st_disjoint(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStDisjoint."""
    check(geo, "Locations", f"st_disjoint({BOX}, location)", 0, 3, 5, 6)
    check(geo, "FeaturesOfInterest", f"st_disjoint({BOX}, feature)", 0, 3, 5, 6)


def test_st_equals(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStEquals."""
    check(geo, "Locations", "st_equals(location, geography'POINT(8 53)')", 2)
    check(geo, "FeaturesOfInterest", "st_equals(feature, geography'POINT(8 53)')", 2)


def test_st_intersects(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStIntersects."""
    line = "geography'LINESTRING(7.5 51, 7.5 54)'"
    check(geo, "Locations", f"st_intersects(location, {line})", 4, 7)
    check(geo, "FeaturesOfInterest", f"st_intersects(feature, {line})", 4, 7)


def test_st_overlaps(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStOverlaps."""
    check(geo, "Locations", f"st_overlaps({BOX}, location)", 4)
    check(geo, "FeaturesOfInterest", f"st_overlaps({BOX}, feature)", 4)


def test_st_relate(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStRelate: the interiors meet (DE-9IM T********)."""
    check(geo, "Locations", f"st_relate({BOX}, location, 'T********')", 1, 2, 4, 7)
    check(geo, "FeaturesOfInterest", f"st_relate({BOX}, feature, 'T********')", 1, 2, 4, 7)


def test_st_touches(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStTouches."""
    triangle = "geography'POLYGON((8 53, 7.5 54.5, 8.5 54.5, 8 53))'"
    check(geo, "Locations", f"st_touches({triangle}, location)", 2, 4)
    check(geo, "FeaturesOfInterest", f"st_touches({triangle}, feature)", 2, 4)


def test_st_within(geo: tuple[httpx.Client, Made]) -> None:
    """ETS filteringExtension.GeoTests.testStWithin."""
    check(geo, "Locations", "st_within(geography'POINT(7.5 52.75)', location)", 4)
    check(geo, "FeaturesOfInterest", "st_within(geography'POINT(7.5 52.75)', feature)", 4)


# --- beyond the suite --------------------------------------------------------------------

def test_things_by_their_locations(geo: tuple[httpx.Client, Made]) -> None:
    """A Thing matches when any of its Locations does (OGC 18-088 §9.3.3.5.1: a path through
    a to-many navigation property); Thing 1 has Locations 0 and 1."""
    check(geo, "Things", f"st_contains({BOX}, Locations/location)", 0, 1)
    check(geo, "Things", "geo.distance(Locations/location, geography'POINT(8 51)') lt 0.5", 0)
    check(geo, "Things", f"not st_intersects(Locations/location, {BOX})", 2)


def test_geo_function_with_other_conditions(geo: tuple[httpx.Client, Made]) -> None:
    """On Observations a geo condition on the FeatureOfInterest goes with conditions on the
    Observation's own columns, in and-ed, or-ed and negated filters, and in an expanded list."""
    check(geo, "Observations", f"st_contains({BOX}, FeatureOfInterest/feature) and "
                               "phenomenonTime gt 2016-01-02T12:00:00Z", 2)
    check(geo, "Observations", f"st_contains({BOX}, FeatureOfInterest/feature) or "
                               "result eq 1", 0, 1, 2)
    check(geo, "Observations", f"not st_contains({BOX}, FeatureOfInterest/feature) and "
                               "result ge 2", 3)
    check(geo, "Observations", "FeatureOfInterest/name eq 'FoI 3'", 3)
    sta, made = geo
    feature_2 = made["FeaturesOfInterest"][2]
    check(geo, "Observations", f"st_equals(FeatureOfInterest/feature, geography'POINT(8 53)')"
                               f" and FeatureOfInterest/id eq {feature_2}", 2)
    thing_1 = values(sta, f"Things({made['Things'][0]})/Datastreams", **{
        "$expand": f"Observations($filter=st_contains({BOX}, FeatureOfInterest/feature))"})
    assert [o["@iot.id"] for o in thing_1[0]["Observations"]] == [made["Observations"][1]]


def test_geography_literal_forms(geo: tuple[httpx.Client, Made]) -> None:
    """OData's geometry'…' literal and an SRID prefix read as the plain literal."""
    check(geo, "Locations", "st_equals(location, geometry'POINT(8 53)')", 2)
    check(geo, "Locations", "st_equals(location, geography'SRID=4326;POINT(8 53)')", 2)


@pytest.mark.parametrize("set_name, expression, named", [
    ("Locations", "st_equals(location, geography'POINT(8 53')", "POINT(8 53"),
    ("Locations", "st_equals(location, geography'CIRCLE(8 53, 1)')", "CIRCLE(8 53, 1)"),
    ("Locations", "geo.length(name) gt 1", "name"),
    ("Observations", "geo.distance(result, geography'POINT(8 53)') lt 1", "result"),
    ("Locations", "st_equals(location, 'POINT(8 53)')", "st_equals"),
    ("Locations", f"st_relate({BOX}, location, 'T*')", "T*"),
    ("Locations", "geo.length(location, location) gt 1", "geo.length"),
    ("Observations", "result eq geography'POINT(8 53)'", "geography"),
    ("Observations", "geo.distance(FeatureOfInterest/feature, geography'POINT(8 53)') lt result",
     "geo.distance"),
])
def test_wrong_geo_input_is_refused(geo: tuple[httpx.Client, Made], set_name: str,
                                    expression: str, named: str) -> None:
    """A malformed WKT literal, a geo function of something not a geometry, a bad DE-9IM
    pattern or the wrong number of arguments: 400, naming the problem."""
    sta, _made = geo
    answer = sta.get(f"{STA}/{set_name}", params={"$filter": expression})
    assert answer.status_code == 400, answer.text
    assert named in answer.text, answer.text
