"""The OGC SensorThings conformance suite (ets-sta10), writing: its Create-Update-Delete and
Data Array checks as our own tests, in-process, on both storage backends.

Each test mirrors one test method of ``opengeospatial/ets-sta10`` (named in its docstring):
``createUpdateDelete.Capability2Tests``, ``createUpdateDelete.ResultTypesTests`` and
``dataArrayExtension.DataArrayTests``, writing with an editor's API token. Where one ETS
method checks several things, the parts are split into tests of their own, each naming it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sensors.ets_sta import (
    ENTITY_SETS,
    HISTORY,
    MANDATORY,
    MISSING_ID,
    STA,
    by_set,
    datastream_body,
    first_id,
    get_ok,
    observed_body,
    post,
    refused,
    thing_body,
    values,
)


@pytest.fixture
def sta(client: httpx.Client, accounts_setup: dict[str, str]) -> httpx.Client:
    """The in-process client, writing and reading as Molde's editor."""
    client.headers["Authorization"] = f"Bearer {accounts_setup['mia']}"
    return client


# --- Create-Update-Delete (createUpdateDelete.Capability2Tests) --------------------------

UNIT = {"name": "Celsius", "symbol": "degC",
        "definition": "http://qudt.org/vocab/unit#DegreeCelsius"}
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
LUMINOUS_FLUX = {"name": "Luminous Flux",
                 "definition": "http://www.qudt.org/qudt/owl/1.0.0/quantity/Instances.html"
                               "#LuminousFlux",
                 "description": "Luminous Flux or Luminous Power is the measure of the "
                                "perceived power of light."}
FLUXOMATIC = {"name": "Acme Fluxomatic 1000", "description": "Acme Fluxomatic 1000",
              "encodingType": "application/pdf", "metadata": "Light flux sensor"}
WEATHER_STATION = {"name": "A weather station.", "description": "A weather station.",
                   "encodingType": "application/vnd.geo+json",
                   "feature": {"type": "Point", "coordinates": [-114.05, 51.05]}}


def datastream_of(**links: Any) -> dict[str, Any]:
    """The suite's "test datastream." body, with the links given."""
    return {"name": "test datastream.", "description": "test datastream.",
            "observationType": MEASUREMENT, "unitOfMeasurement": UNIT, **links}


def create_entities(sta: httpx.Client) -> dict[str, list[int]]:
    """The suite's createEntities: one entity of each set by POST, linked by id; an
    Observation without FeatureOfInterest gets one made from its Thing's Location, and the
    next one the same. Returns the ids made, by entity set."""
    made: dict[str, list[int]] = {name: [] for name in ENTITY_SETS}
    made["Things"].append(post(sta, "Things", {"name": "Test Thing",
                                               "description": "This is a Test Thing"}))
    location = {"name": "bow river", "description": "bow river",
                "encodingType": "application/vnd.geo+json",
                "location": {"type": "Point", "coordinates": [-114.05, 51.05]}}
    made["Locations"].append(post(sta, "Locations", location))
    made["Sensors"].append(post(sta, "Sensors", {
        "name": "Fuguro Barometer", "description": "Fuguro Barometer",
        "encodingType": "application/pdf", "metadata": "Barometer"}))
    made["ObservedProperties"].append(post(sta, "ObservedProperties", {
        "name": "DewPoint Temperature", "definition": "http://dbpedia.org/page/Dew_point",
        "description": "The dewpoint temperature is the temperature to which the air must "
                       "be cooled for dew to form."}))
    made["FeaturesOfInterest"].append(post(sta, "FeaturesOfInterest", {
        **WEATHER_STATION, "feature": {"type": "Point", "coordinates": [10, 10]}}))
    datastream = post(sta, "Datastreams", datastream_of(
        Thing={"@iot.id": made["Things"][0]},
        ObservedProperty={"@iot.id": made["ObservedProperties"][0]},
        Sensor={"@iot.id": made["Sensors"][0]}))
    made["Datastreams"].append(datastream)
    made["Observations"].append(post(sta, "Observations", {
        "phenomenonTime": "2015-03-01T00:40:00.000Z", "result": 8,
        "Datastream": {"@iot.id": datastream},
        "FeatureOfInterest": {"@iot.id": made["FeaturesOfInterest"][0]}}))
    patched = sta.patch(f"{STA}/Things({made['Things'][0]})",
                        json={"Locations": [{"@iot.id": made["Locations"][0]}]})
    assert patched.status_code == 200, patched.text
    automatic = None
    for body, result_time in (({"phenomenonTime": "2015-03-01T00:00:00.000Z", "result": 100,
                                "resultTime": "2015-03-01T01:00:00.000Z"},
                               "2015-03-01T01:00:00.000Z"),
                              ({"phenomenonTime": "2015-05-01T00:00:00.000Z", "result": 105},
                               None)):
        identifier = post(sta, "Observations", {**body, "Datastream": {"@iot.id": datastream}})
        assert get_ok(sta, f"Observations({identifier})")["resultTime"] == result_time
        feature = get_ok(sta, f"Observations({identifier})/FeatureOfInterest")
        assert feature["feature"] == location["location"]
        assert automatic in (None, feature["@iot.id"])
        automatic = feature["@iot.id"]
        made["Observations"].append(identifier)
    made["FeaturesOfInterest"].append(automatic or 0)
    return made


def test_create_entities(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.createEntities (without its HistoricalLocation,
    see test_historical_locations_are_written_and_deleted)."""
    made = create_entities(sta)
    assert all(made[name] for name in ENTITY_SETS if name != HISTORY)


def check_related(sta: httpx.Client, path: str, expected: dict[str, Any]) -> int:
    """The entity at ``path`` (the first, for a collection) has the expected properties."""
    answer = get_ok(sta, path)
    entity = answer["value"][0] if "value" in answer else answer
    assert {name: entity[name] for name in expected} == expected, (path, entity)
    return entity["@iot.id"]  # type: ignore[no-any-return]


def test_create_entities_with_deep_insert(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.createEntitiesWithDeepInsert: a Thing with its
    Location, Datastream, Sensor and ObservedProperty inline, then an Observation with its
    FeatureOfInterest inline. (The suite's second deep insert, a Datastream whose Sensor and
    ObservedProperty repeat these names, is test_deep_insert_repeating_names; the
    Observation goes to this Datastream instead of that one.)"""
    west_roof = {"name": "West Roof", "description": "West Roof",
                 "location": {"type": "Point", "coordinates": [-117.05, 51.05]},
                 "encodingType": "application/vnd.geo+json"}
    exposure = {"name": "Light exposure.", "description": "Light exposure.",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": {"name": "Lumen", "symbol": "lm",
                                      "definition": "http://www.qudt.org/qudt/owl/1.0.0/unit/"
                                                    "Instances.html#Lumen"}}
    thing = post(sta, "Things", {
        "name": "Office Building", "description": "Office Building",
        "properties": {"reference": "Third Floor"}, "Locations": [west_roof],
        "Datastreams": [{**exposure, "ObservedProperty": LUMINOUS_FLUX,
                         "Sensor": FLUXOMATIC}]})
    datastream = check_related(sta, f"Things({thing})/Datastreams", exposure)
    check_related(sta, f"Things({thing})/Locations", west_roof)
    check_related(sta, f"Datastreams({datastream})/Sensor", FLUXOMATIC)
    check_related(sta, f"Datastreams({datastream})/ObservedProperty", LUMINOUS_FLUX)
    observation = post(sta, "Observations", {
        "phenomenonTime": "2015-03-01T00:00:00Z", "result": 100,
        "FeatureOfInterest": WEATHER_STATION, "Datastream": {"@iot.id": datastream}})
    check_related(sta, f"Observations({observation})/FeatureOfInterest", WEATHER_STATION)


def test_deep_insert_repeating_names(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.createEntitiesWithDeepInsert, its second deep
    insert: a Datastream whose new Sensor, ObservedProperty and Observation come inline, with
    names the first deep insert used already, for that one's Thing (located, so the
    Observation gets its FeatureOfInterest from there)."""
    west_roof = {"name": "West Roof", "description": "West Roof",
                 "location": {"type": "Point", "coordinates": [-117.05, 51.05]},
                 "encodingType": "application/vnd.geo+json"}
    thing = post(sta, "Things", {"name": "Office Building", "description": "Office Building",
                                 "Locations": [west_roof],
                                 "Datastreams": [datastream_of(ObservedProperty=LUMINOUS_FLUX,
                                                                 Sensor=FLUXOMATIC)]})
    datastream = post(sta, "Datastreams", datastream_of(
        Thing={"@iot.id": thing}, ObservedProperty=LUMINOUS_FLUX, Sensor=FLUXOMATIC,
        Observations=[{"phenomenonTime": "2015-03-01T00:10:00Z", "result": 10}]))
    check_related(sta, f"Datastreams({datastream})/Observations",
                  {"phenomenonTime": "2015-03-01T00:10:00.000Z", "result": 10})


def check_empty(sta: httpx.Client, *set_names: str) -> None:
    for set_name in set_names:
        assert values(sta, set_name) == [], f"{set_name} made although the request failed"


def test_create_invalid_entities_with_deep_insert(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.createInvalidEntitiesWithDeepInsert: a deep
    insert missing a mandatory related entity is refused (400 or 409) and makes nothing."""
    assert refused(sta.post(f"{STA}/Things", json={
        "name": "Office Building", "description": "Office Building",
        "Locations": [{"name": "West Roof", "description": "West Roof",
                       "location": {"type": "Point", "coordinates": [-117.05, 51.05]},
                       "encodingType": "application/vnd.geo+json"}],
        "Datastreams": [{**datastream_of(), "ObservedProperty": LUMINOUS_FLUX}]}))
    check_empty(sta, "Things", "Locations", HISTORY, "Datastreams", "ObservedProperties")
    thing = post(sta, "Things", {"name": "Office Building", "description": "Office Building"})
    observations = [{"phenomenonTime": "2015-03-01T00:10:00Z", "result": 10}]
    for links in ({"Thing": {"@iot.id": thing}, "ObservedProperty": LUMINOUS_FLUX},
                  {"Thing": {"@iot.id": thing}, "Sensor": FLUXOMATIC},
                  {"ObservedProperty": LUMINOUS_FLUX, "Sensor": FLUXOMATIC}):
        answer = sta.post(f"{STA}/Datastreams",
                          json=datastream_of(**links, Observations=observations))
        assert refused(answer), (links, answer.text)
    check_empty(sta, "Datastreams", "Sensors", "Observations", "FeaturesOfInterest",
                "ObservedProperties")
    datastream = post(sta, "Datastreams", datastream_of(
        Thing={"@iot.id": thing}, ObservedProperty=LUMINOUS_FLUX, Sensor=FLUXOMATIC))
    unnamed_encoding = {key: value for key, value in WEATHER_STATION.items()
                        if key != "encodingType"}
    for extra in ({}, {"FeatureOfInterest": unnamed_encoding}):
        assert refused(sta.post(f"{STA}/Observations", json={
            "phenomenonTime": "2015-03-01T00:00:00Z", "result": 100,
            "Datastream": {"@iot.id": datastream}, **extra})), extra
    check_empty(sta, "Observations", "FeaturesOfInterest")


def test_create_invalid_entities(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.createInvalidEntities: a Datastream without
    its Sensor, ObservedProperty or Thing, an Observation without Datastream, and one
    without FeatureOfInterest whose Thing has no Location are refused (400 or 409)."""
    made = create_entities(sta)
    links = {"Thing": {"@iot.id": made["Things"][0]},
             "ObservedProperty": {"@iot.id": made["ObservedProperties"][0]},
             "Sensor": {"@iot.id": made["Sensors"][0]}}
    for missing in links:
        body = datastream_of(**{name: link for name, link in links.items() if name != missing})
        assert refused(sta.post(f"{STA}/Datastreams", json=body)), missing
    thing = post(sta, "Things", {"name": "This is a Test Thing From TestNG",
                                 "description": "This is a Test Thing From TestNG"})
    datastream = post(sta, "Datastreams", datastream_of(**{**links,
                                                             "Thing": {"@iot.id": thing}}))
    assert refused(sta.post(f"{STA}/Observations", json={
        "phenomenonTime": "2015-03-01T00:40:00.000Z", "result": 8,
        "FeatureOfInterest": {"@iot.id": made["FeaturesOfInterest"][0]}}))
    assert refused(sta.post(f"{STA}/Observations", json={
        "phenomenonTime": "2015-03-01T00:00:00.000Z", "result": 100,
        "Datastream": {"@iot.id": datastream}}))


def check_update(sta: httpx.Client, method: str, path: str, body: dict[str, Any],
                 changed: dict[str, Any]) -> None:
    """PATCH or PUT answers 200; what the body changes is changed, the other mandatory
    properties are as they were (the suite checks these after PATCH only)."""
    before = get_ok(sta, path)
    answer = sta.request(method, f"{STA}/{path}", json=body)
    assert answer.status_code == 200, (path, answer.text)
    after = get_ok(sta, path)
    for name in MANDATORY[path.split("(")[0]]:
        expected = changed.get(name, before[name])
        if name in changed or method == "PATCH":
            assert after[name] == expected, (path, name, after[name])


def test_patch_entities(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.patchEntities: PATCH changes what it carries
    and nothing else (the Observation's and HistoricalLocation's cases are split off)."""
    made = create_entities(sta)
    point = {"type": "Point", "coordinates": [114.05, -50]}
    feature = {"type": "Point", "coordinates": [114.05, -51.05]}
    entropy = {"name": "Entropy2", "symbol": "S2",
               "definition": "http://qudt.org/vocab/unit#Entropy2"}
    for set_name, changed in (
            ("Things", {"description": "This is a PATCHED Test Thing From TestNG"}),
            ("Locations", {"location": point}), ("Sensors", {"metadata": "PATCHED"}),
            ("ObservedProperties", {"description": "PATCHED"}),
            ("FeaturesOfInterest", {"feature": feature}),
            ("Datastreams", {"description": "Patched Description"}),
            ("Datastreams", {"unitOfMeasurement": entropy})):
        check_update(sta, "PATCH", f"{set_name}({made[set_name][0]})", changed, changed)


def test_patch_observation_phenomenon_time(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.patchEntities, its Observation: a new
    phenomenonTime."""
    made = create_entities(sta)
    changed = {"phenomenonTime": "2015-07-01T00:40:00.000Z"}
    check_update(sta, "PATCH", f"Observations({made['Observations'][0]})", changed, changed)


def test_put_entities(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.putEntities: PUT sets what its body gives (the
    Observation's and HistoricalLocation's cases are split off)."""
    made = create_entities(sta)
    for set_name, body in (
            ("Things", {"name": "This is a Updated Test Thing From TestNG",
                        "description": "This is a Updated Test Thing From TestNG"}),
            ("Locations", {"encodingType": "application/vnd.geo+json", "name": "UPDATED NAME",
                           "description": "UPDATED DESCRIPTION",
                           "location": {"type": "Point", "coordinates": [-114.05, 50]}}),
            ("Sensors", {"name": "UPDATED", "description": "UPDATED",
                         "encodingType": "application/pdf", "metadata": "UPDATED"}),
            # The suite's body names "name" twice; a JSON reader keeps the last.
            ("ObservedProperties", {"name": "POIUYTREW", "definition": "ZXCVB",
                                    "description": "POIUYTREW"}),
            ("FeaturesOfInterest", {"encodingType": "application/vnd.geo+json",
                                    "feature": {"type": "Point",
                                                "coordinates": [-114.05, 51.05]},
                                    "description": "POIUYTREW", "name": "POIUYTREW"}),
            ("Datastreams", {"name": "Data coming from sensor on ISS.",
                             "description": "Data coming from sensor on ISS.",
                             "observationType": "http://www.opengis.net/def/observationType/"
                                                "OGC-OM/2.0/OM_Observation",
                             "unitOfMeasurement": {"name": "Entropy", "symbol": "S",
                                                   "definition": "http://qudt.org/vocab/"
                                                                 "unit#Entropy"}})):
        changed = {name: value for name, value in body.items() if name != "encodingType"}
        check_update(sta, "PUT", f"{set_name}({made[set_name][0]})", body, changed)


def test_put_observation(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.putEntities, its Observation: the result "99"
    (a string) and a new phenomenonTime."""
    made = create_entities(sta)
    body = {"result": "99", "phenomenonTime": "2015-08-01T00:40:00.000Z"}
    check_update(sta, "PUT", f"Observations({made['Observations'][0]})", body, body)


def delete_entity(sta: httpx.Client, path: str) -> None:
    """DELETE answers 200, and the entity is gone (404)."""
    answer = sta.delete(f"{STA}/{path}")
    assert answer.status_code == 200, (path, answer.text)
    assert sta.get(f"{STA}/{path}").status_code == 404, path


def test_delete_entities(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.deleteEntities, first part: every entity made
    by createEntities is deleted, Observations first, Things last (the integrity part is
    test_delete_integrity_constraint)."""
    made = create_entities(sta)
    for set_name in ("Observations", "FeaturesOfInterest", "Datastreams", "ObservedProperties",
                     "Sensors", "Locations", "Things"):
        for identifier in made[set_name]:
            delete_entity(sta, f"{set_name}({identifier})")


def make_for_delete(sta: httpx.Client) -> dict[str, int]:
    """The suite's createEntitiesForDelete: a Thing with its Location, a Datastream with
    Sensor and ObservedProperty, one Observation and its FeatureOfInterest; ids by set."""
    thing = post(sta, "Things", thing_body(1, [-117.05, 51.05], [
        datastream_body("datastream 1", "Lumen", "lm", observed_body("Luminous Flux", 1),
                        "sensor 1", "Light flux sensor")]))
    datastream = first_id(sta, f"Things({thing})/Datastreams")
    observation = post(sta, f"Datastreams({datastream})/Observations",
                       {"phenomenonTime": "2015-03-01T00:00:00Z", "result": 1})
    return {"Things": thing, "Locations": first_id(sta, f"Things({thing})/Locations") or 0,
            "Datastreams": datastream or 0,
            "Sensors": get_ok(sta, f"Datastreams({datastream})/Sensor")["@iot.id"],
            "ObservedProperties": get_ok(
                sta, f"Datastreams({datastream})/ObservedProperty")["@iot.id"],
            "Observations": observation,
            "FeaturesOfInterest": get_ok(
                sta, f"Observations({observation})/FeatureOfInterest")["@iot.id"]}


# What deleting an entity of each set takes with it (the suite's integrity constraint).
DELETED_WITH = {
    "Things": {"Things", "Datastreams", "Observations"},
    "Datastreams": {"Datastreams", "Observations"},
    "Locations": {"Locations"},
    "Sensors": {"Sensors", "Datastreams", "Observations"},
    "ObservedProperties": {"ObservedProperties", "Datastreams", "Observations"},
    "FeaturesOfInterest": {"FeaturesOfInterest", "Observations"},
    "Observations": {"Observations"},
}


@pytest.mark.parametrize("set_name", list(DELETED_WITH))
def test_delete_integrity_constraint(sta: httpx.Client, set_name: str) -> None:
    """ETS createUpdateDelete.Capability2Tests.deleteEntities, its integrity part
    (checkDeleteIntegrityConstraint): deleting one entity empties the sets the standard
    deletes with it and leaves the others (HistoricalLocations: see
    test_historical_locations_are_written_and_deleted)."""
    made = make_for_delete(sta)
    delete_entity(sta, f"{set_name}({made[set_name]})")
    for other in made:
        assert bool(values(sta, other)) == (other not in DELETED_WITH[set_name]), other


def test_historical_locations_are_written_and_deleted(sta: httpx.Client) -> None:
    """The HistoricalLocation parts of ETS createUpdateDelete.Capability2Tests: a Thing made
    with a Location has a HistoricalLocation (createEntitiesForDelete); one is created by
    POST (createEntities), changed by PATCH and PUT (patchEntities, putEntities) and deleted
    (deleteEntities), and deleting a Datastream leaves it (checkDeleteIntegrityConstraint)."""
    made = make_for_delete(sta)
    assert first_id(sta, f"Things({made['Things']})/{HISTORY}") is not None
    history = post(sta, HISTORY, {"time": "2015-03-01T00:40:00.000Z",
                                  "Thing": {"@iot.id": made["Things"]},
                                  "Locations": [{"@iot.id": made["Locations"]}]})
    for method, time in (("PATCH", "2015-07-01T00:00:00.000Z"),
                         ("PUT", "2015-08-01T00:00:00.000Z")):
        check_update(sta, method, f"{HISTORY}({history})", {"time": time}, {"time": time})
    delete_entity(sta, f"Datastreams({made['Datastreams']})")
    assert values(sta, HISTORY)
    delete_entity(sta, f"{HISTORY}({history})")


def test_invalid_patch_entities(sta: httpx.Client) -> None:
    """ETS createUpdateDelete.Capability2Tests.invalidPatchEntities: a PATCH carrying related
    entities inline is refused with 400 (OGC 18-088 §10.3: links by @iot.id only)."""
    made = create_entities(sta)
    thing = {"@iot.id": made["Things"][0]}
    lumen = {"unitOfMeasurement": {"name": "Lumen", "symbol": "lm",
                                   "definition": "http://www.qudt.org/qudt/owl/1.0.0/unit/"
                                                 "Instances.html#Lumen"}}
    cases = [
        ("Things", {"Locations": [{"name": "West Roof", "description": "West Roof",
                                   "location": {"type": "Point",
                                                "coordinates": [-117.05, 51.05]},
                                   "encodingType": "application/vnd.geo+json"}]}),
        ("Things", {"Datastreams": [lumen]}),
        ("Sensors", {"Datastreams": [{**lumen, "Thing": thing}]}),
        ("ObservedProperties", {"Datastreams": [{**lumen, "Thing": thing}]}),
        ("Datastreams", {"ObservedProperty": {
            "name": "Count is a dimensionless property.",
            "definition": "http://qudt.org/vocab/unit#Dimensionless",
            "description": "Count is a dimensionless property."}}),
        ("Datastreams", {"Sensor": {"name": "Acme Traffic 2000",
                                    "description": "Acme Traffic 2000",
                                    "encodingType": "application/pdf",
                                    "metadata": "Traffic counting device"}}),
        ("Datastreams", {"Thing": {"name": "test", "description": "test"}}),
        ("Datastreams", {"Observations": [{"phenomenonTime": "2015-03-01T00:00:00Z",
                                           "result": 92122, "resultQuality": "High"}]}),
    ]
    for set_name, body in cases:
        answer = sta.patch(f"{STA}/{set_name}({made[set_name][0]})", json=body)
        assert answer.status_code == 400, (set_name, body, answer.text)


@pytest.mark.parametrize("set_name", by_set())
def test_delete_noneexistent_entities(sta: httpx.Client, set_name: str) -> None:
    """ETS createUpdateDelete.Capability2Tests.deleteNoneexistentEntities."""
    assert sta.delete(f"{STA}/{set_name}({MISSING_ID})").status_code == 404



@pytest.mark.parametrize("results", [
    pytest.param([True, False], id="testBooleanResult"),
    pytest.param(["fourty two"], id="testStringResult"),
    pytest.param([1, 1.23], id="testNumericResult"),
    pytest.param([{"number": 1.23, "string": "One comma twentythree", "boolean": True}],
                 id="testObjectResult"),
    pytest.param([[1.23, "One comma twentythree", True]], id="testArrayResult"),
])
def test_result_types(sta: httpx.Client, results: list[Any]) -> None:
    """ETS createUpdateDelete.ResultTypesTests (the method named by the parameter): an
    Observation (phenomenonTime left to the service) is read back with the result it was
    given (1 reads back as 1, not 1.0)."""
    datastream = first_id(sta, f"Things({make_for_delete(sta)['Things']})/Datastreams")
    for result in results:
        identifier = post(sta, "Observations", {"result": result,
                                                "Datastream": {"@iot.id": datastream}})
        read = get_ok(sta, f"Observations({identifier})")["result"]
        assert read == result and type(read) is type(result)

# --- Data Array (dataArrayExtension.DataArrayTests) --------------------------------------

@pytest.fixture
def array_data(sta: httpx.Client) -> dict[str, list[int]]:
    """The suite's DataArrayTests.createEntities: a Thing and its Location, two Sensors, one
    ObservedProperty, two Datastreams, two FeaturesOfInterest and four Observations."""
    thing = post(sta, "Things", {"name": "Thing 1", "description": "The first thing."})
    point = {"type": "Point", "coordinates": [8, 51]}
    post(sta, "Locations", {"name": "Location 1.0", "description": "Location of Thing 1.",
                            "encodingType": "application/vnd.geo+json", "location": point,
                            "Things": [{"@iot.id": thing}]})
    sensors = [post(sta, "Sensors", {"name": f"Sensor {n}", "description": f"Sensor {n}.",
                                     "encodingType": "text", "metadata": "Some metadata."})
               for n in (1, 2)]
    observed = post(sta, "ObservedProperties", {
        "name": "Temperature", "definition": "http://ucom.org/temperature",
        "description": "The temperature of the thing."})
    datastreams = [post(sta, "Datastreams", {
        "name": f"Datastream {n}", "description": f"The temperature of thing 1, sensor {n}.",
        "observationType": "someType",
        "unitOfMeasurement": {"name": "degree celcius", "symbol": "°C", "definition": "ucum:T"},
        "Thing": {"@iot.id": thing}, "Sensor": {"@iot.id": sensor},
        "ObservedProperty": {"@iot.id": observed}}) for n, sensor in ((1, sensors[0]),
                                                                      (2, sensors[1]))]
    features = [post(sta, "FeaturesOfInterest", {
        "name": f"Feature {n}", "description": f"Feature {n} for thing 1, sensor {n}",
        "encodingType": "application/vnd.geo+json", "feature": point}) for n in (1, 2)]
    for day, (datastream, feature) in enumerate(
            [(0, 0), (1, 0), (0, 1), (1, 1)], start=1):
        post(sta, "Observations", {
            "result": day, "phenomenonTime": f"2016-01-0{day}T01:01:01.000Z",
            "Datastream": {"@iot.id": datastreams[datastream]},
            "FeatureOfInterest": {"@iot.id": features[feature]}})
    return {"Datastreams": datastreams, "FeaturesOfInterest": features}


def data_array_blocks(sta: httpx.Client) -> list[dict[str, Any]]:
    answer = get_ok(sta, "Observations", **{"$count": "true", "$top": "3",
                                            "$resultFormat": "dataArray"})
    assert "@iot.count" in answer and "@iot.nextLink" in answer, answer
    return answer["value"]  # type: ignore[no-any-return]


def test_get_data_array(sta: httpx.Client, array_data: dict[str, list[int]]) -> None:
    """ETS dataArrayExtension.DataArrayTests.testGetDataArray: $count, a next link, and per
    Datastream a block whose components are distinct names (id, phenomenonTime, result and
    resultTime among them), whose dataArray@iot.count counts its rows, and whose rows have
    one value per component."""
    blocks = data_array_blocks(sta)
    assert blocks
    for block in blocks:
        assert "Datastream@iot.navigationLink" in block
        components = block["components"]
        assert all(isinstance(name, str) for name in components)
        assert len(set(components)) == len(components)
        assert {"id", "phenomenonTime", "result", "resultTime"} <= set(components)
        assert block["dataArray@iot.count"] == len(block["dataArray"])
        assert all(len(row) == len(components) for row in block["dataArray"])


def test_get_data_array_optional_components(sta: httpx.Client,
                                            array_data: dict[str, list[int]]) -> None:
    """ETS dataArrayExtension.DataArrayTests.testGetDataArray, its other components: the
    suite wants resultQuality, validTime and parameters too."""
    for block in data_array_blocks(sta):
        assert {"resultQuality", "validTime", "parameters"} <= set(block["components"])


def test_post_data_array(sta: httpx.Client, array_data: dict[str, list[int]]) -> None:
    """ETS dataArrayExtension.DataArrayTests.testPostDataArray: CreateObservations answers
    201 with a link per row, "error" for the row naming no valid FeatureOfInterest; the rows
    without one share the FeatureOfInterest made from their Thing's Location."""
    first, second = array_data["Datastreams"]
    document = [
        {"Datastream": {"@iot.id": first},
         "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
         "dataArray@iot.count": 2,
         "dataArray": [["2010-12-23T10:20:00-0700", 20, array_data["FeaturesOfInterest"][0]],
                       ["2010-12-23T10:21:00-0700", 30, "probablyNotAValidId"]]},
        {"Datastream": {"@iot.id": second}, "components": ["phenomenonTime", "result"],
         "dataArray@iot.count": 2,
         "dataArray": [["2010-12-23T10:20:00-0700", 65], ["2010-12-23T10:21:00-0700", 60]]}]
    answer = sta.post(f"{STA}/CreateObservations", json=document)
    assert answer.status_code == 201, answer.text
    lines = answer.json()
    assert all(isinstance(line, str) for line in lines) and len(lines) == 4
    assert [line.lower().startswith("error") for line in lines] == [False, True, False, False]
    features = []
    for line in lines[:1] + lines[2:]:
        assert sta.get(line).status_code == 200, line
        features.append(sta.get(f"{line}/FeatureOfInterest").json()["@iot.id"])
    assert features[1] == features[2]
