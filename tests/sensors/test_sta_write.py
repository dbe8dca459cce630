"""SensorThings Create-Update-Delete over HTTP, in-process, on both storage backends: deep
insert, POST below an entity, PATCH, DELETE with its cascade, and who may do what."""

from __future__ import annotations

from typing import Any

import httpx

from tests.connectors.test_pages import _login

STA = "/sta/v1.1"
ROOT = "http://testserver/sta/v1.1"


def _token(tokens: dict[str, str], username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[username]}"}


def _station(name: str = "Harbour") -> dict[str, Any]:
    """A Thing with its Location and a Datastream whose Sensor and ObservedProperty are new."""
    return {
        "name": name, "description": "Air quality at the harbour",
        "properties": {"operator": "Molde kommune"},
        "Locations": [{"name": "Harbour", "description": "Quay 3",
                       "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [7.16, 62.73]}}],
        "Datastreams": [{
            "name": "NO2 at the harbour", "description": "Hourly NO2",
            "observationType":
                "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "microgram per cubic metre", "symbol": "µg/m³",
                                  "definition": "http://unitsofmeasure.org/ucum.html#para-30"},
            "Sensor": {"name": f"{name} NO2 monitor", "description": "Chemiluminescence",
                       "encodingType": "text/plain", "metadata": "none"},
            "ObservedProperty": {"name": f"{name} NO2", "description": "Nitrogen dioxide",
                                 "definition": "http://vocab.nerc.ac.uk/collection/P01/"},
            "Observations": [{"phenomenonTime": "2024-05-01T10:00:00Z", "result": 21.5}],
        }],
    }


def _id_of(response: httpx.Response) -> int:
    location = response.headers["Location"]
    return int(location.rsplit("(", 1)[1].rstrip(")"))


def test_deep_insert_then_post_below_patch_and_delete_with_cascade(
        client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia = _token(accounts_setup, "mia")
    created = client.post(f"{STA}/Things", json=_station(), headers=mia)
    assert created.status_code == 201, created.text
    thing_id = _id_of(created)
    assert created.headers["Location"] == f"{ROOT}/Things({thing_id})"
    assert created.json()["name"] == "Harbour"
    thing = client.get(f"{STA}/Things({thing_id})", headers=mia,
                       params={"$expand": "Locations,Datastreams/Observations"}).json()
    assert [location["name"] for location in thing["Locations"]] == ["Harbour"]
    (datastream,) = thing["Datastreams"]
    assert [o["result"] for o in datastream["Observations"]] == [21.5]
    stream = f"{STA}/Datastreams({datastream['@iot.id']})"

    # POST to a navigation path; no FeatureOfInterest: one is made from the Thing's Location.
    posted = client.post(f"{stream}/Observations", headers=mia,
                         json={"phenomenonTime": "2024-05-01T11:00:00Z", "result": 30})
    assert posted.status_code == 201, posted.text
    observation = posted.headers["Location"]
    feature = client.get(f"{observation}/FeatureOfInterest", headers=mia).json()
    assert feature["feature"] == {"type": "Point", "coordinates": [7.16, 62.73]}
    assert client.get(f"{stream}", headers=mia).json()["phenomenonTime"] == \
        "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z"

    # PATCH changes what it carries only.
    patched = client.patch(f"{STA}/Things({thing_id})", headers=mia,
                           json={"description": "Moved to quay 4"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Harbour"
    assert patched.json()["description"] == "Moved to quay 4"
    changed = client.patch(observation, headers=mia, json={"result": 31.5})
    assert changed.status_code == 200 and changed.json()["result"] == 31.5
    moved = client.patch(observation, headers=mia,
                         json={"phenomenonTime": "2024-05-01T12:00:00Z"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["phenomenonTime"] == "2024-05-01T12:00:00.000Z"
    assert moved.json()["@iot.id"] == int(observation.rsplit("(", 1)[1].rstrip(")"))
    taken = client.patch(observation, headers=mia,
                         json={"phenomenonTime": "2024-05-01T10:00:00Z"})
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "phenomenonTime"

    # DELETE an Observation, then the Thing: its Datastreams and Observations go with it.
    assert client.delete(observation, headers=mia).status_code == 200
    assert client.get(observation, headers=mia).status_code == 404
    results = client.get(f"{stream}/Observations", headers=mia).json()["value"]
    assert [o["result"] for o in results] == [21.5]
    assert client.delete(f"{STA}/Things({thing_id})", headers=mia).status_code == 200
    assert client.get(f"{STA}/Things({thing_id})", headers=mia).status_code == 404
    assert client.get(stream, headers=mia).status_code == 404
    assert client.get(f"{STA}/Observations", headers=mia).json()["value"] == []
    # The Location stays (the standard deletes a Thing's Datastreams, not where it was).
    assert client.get(f"{STA}/Locations", headers=mia).json()["value"][0]["name"] == "Harbour"


def test_links_by_id_and_integrity_errors_name_the_field(
        client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia = _token(accounts_setup, "mia")
    sensor = client.post(f"{STA}/Sensors", headers=mia, json={
        "name": "Shared monitor", "description": "d", "encodingType": "text/plain",
        "metadata": "m"})
    assert sensor.status_code == 201, sensor.text
    observed = client.post(f"{STA}/ObservedProperties", headers=mia, json={
        "name": "PM10", "description": "d", "definition": "urn:pm10"})
    thing = client.post(f"{STA}/Things", headers=mia, json={"name": "Quay", "description": ""})
    datastream = client.post(f"{STA}/Datastreams", headers=mia, json={
        "name": "PM10 at the quay", "description": "d", "observationType": "OM_Measurement",
        "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": ""},
        "Thing": {"@iot.id": _id_of(thing)}, "Sensor": {"@iot.id": _id_of(sensor)},
        "ObservedProperty": {"@iot.id": _id_of(observed)}})
    assert datastream.status_code == 201, datastream.text
    stream_id = _id_of(datastream)
    feature = client.post(f"{STA}/FeaturesOfInterest", headers=mia, json={
        "name": "Quay", "description": "", "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": [7.1, 62.7]}})
    observation = client.post(f"{STA}/Observations", headers=mia, json={
        "phenomenonTime": "2024-05-02T00:00:00Z", "result": 3,
        "Datastream": {"@iot.id": stream_id}, "FeatureOfInterest": {"@iot.id": _id_of(feature)}})
    assert observation.status_code == 201, observation.text

    cases = [
        ("Things", {"description": "no name"}, "name"),
        ("Datastreams", {"name": "x", "description": "", "observationType": "o",
                         "unitOfMeasurement": {}, "Thing": {"@iot.id": 999},
                         "Sensor": {"@iot.id": _id_of(sensor)},
                         "ObservedProperty": {"@iot.id": _id_of(observed)}}, "Thing"),
        ("Observations", {"result": 1, "Datastream": {"@iot.id": 999}}, "Datastream"),
        ("Observations", {"result": None, "Datastream": {"@iot.id": stream_id}}, "result"),
        ("Observations", {"result": 1, "phenomenonTime": "yesterday",
                          "Datastream": {"@iot.id": stream_id}}, "phenomenonTime"),
        # No FeatureOfInterest given and the Thing has no Location to make one from.
        ("Observations", {"result": 1, "Datastream": {"@iot.id": stream_id}},
         "FeatureOfInterest"),
        ("Things", {"name": "Odd", "description": "", "colour": "red"}, "colour"),
    ]
    for set_name, body, field in cases:
        answer = client.post(f"{STA}/{set_name}", headers=mia, json=body)
        assert answer.status_code == 400, (set_name, body, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text

    # Deleting the FeatureOfInterest deletes its Observations; the Sensor, its Datastreams.
    assert client.delete(f"{STA}/FeaturesOfInterest({_id_of(feature)})",
                         headers=mia).status_code == 200
    assert client.get(f"{STA}/Datastreams({stream_id})/Observations",
                      headers=mia).json()["value"] == []
    assert client.delete(f"{STA}/Sensors({_id_of(sensor)})", headers=mia).status_code == 200
    assert client.get(f"{STA}/Datastreams({stream_id})", headers=mia).status_code == 404
    assert client.get(f"{STA}/Things({_id_of(thing)})", headers=mia).status_code == 200
    # PUT gives the whole entity: a missing mandatory property is refused.
    assert client.put(f"{STA}/Things({_id_of(thing)})", headers=mia,
                      json={"name": "Quay"}).json()["error"]["field"] == "description"
    replaced = client.put(f"{STA}/Things({_id_of(thing)})", headers=mia,
                          json={"name": "Quay", "description": "Replaced"})
    assert replaced.status_code == 200 and replaced.json()["description"] == "Replaced"


def test_writes_need_an_editor_of_the_owner_and_private_things_stay_hidden(
        client: httpx.Client, accounts_setup: dict[str, str], stations: dict[str, int]) -> None:
    mia, ola = _token(accounts_setup, "mia"), _token(accounts_setup, "ola")
    body = {"name": "Anonymous station", "description": ""}
    assert client.post(f"{STA}/Things", json=body).status_code in (401, 403)
    hidden = stations["Hidden/pm25"]  # Molde's private station
    observation = {"result": 1.0, "phenomenonTime": "2024-01-01T00:00:00Z"}
    assert client.post(f"{STA}/Datastreams({hidden})/Observations",
                       json=observation).status_code in (401, 403)
    # Ålesund's editor neither sees nor changes Molde's private station.
    assert client.post(f"{STA}/Datastreams({hidden})/Observations", headers=ola,
                       json=observation).status_code == 404
    assert client.patch(f"{STA}/Datastreams({hidden})", headers=ola,
                        json={"name": "mine"}).status_code == 404
    assert client.delete(f"{STA}/Datastreams({hidden})", headers=ola).status_code == 404
    # ...nor the public station of no organisation (only system administrators edit it).
    public = stations["Valand/pm25"]
    assert client.delete(f"{STA}/Datastreams({public})", headers=ola).status_code == 403
    assert client.delete(f"{STA}/Datastreams({public})").status_code in (401, 403)
    # A Thing Molde's editor creates is Molde's, private: invisible to Ålesund and visitors.
    created = client.post(f"{STA}/Things", headers=mia, json=body)
    assert created.status_code == 201
    link = created.headers["Location"].removeprefix("http://testserver")
    assert client.get(link, headers=ola).status_code == 404
    assert client.get(link).status_code == 404
    assert client.get(link, headers=mia).status_code == 200
    # A session login writes with the session's CSRF header, and not without it.
    csrf = _login(client, "mia")
    via_cookie = {"name": "Via cookie", "description": ""}
    assert client.post(f"{STA}/Things", json=via_cookie).status_code == 403
    assert client.post(f"{STA}/Things", json=via_cookie,
                       headers={"X-CSRF-Token": csrf}).status_code == 201


def test_what_nothing_links_to_stays_with_the_organisation_that_made_it(
        client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia, ola = _token(accounts_setup, "mia"), _token(accounts_setup, "ola")
    sensor = client.post(f"{STA}/Sensors", headers=mia, json={
        "name": "Molde's spare monitor", "description": "", "encodingType": "text/plain",
        "metadata": ""})
    link = sensor.headers["Location"].removeprefix("http://testserver")
    assert client.get(link, headers=mia).status_code == 200
    assert client.get(link, headers=ola).status_code == 404
    assert client.get(link).status_code == 404
    assert client.patch(link, headers=ola, json={"name": "Mine"}).status_code == 404
    assert client.delete(link, headers=ola).status_code == 404
    stream = _station("Ola's")["Datastreams"][0] | {"Sensor": {"@iot.id": _id_of(sensor)}}
    linked = client.post(f"{STA}/Things", headers=ola, json={
        "name": "Ola's station", "description": "", "Datastreams": [stream]})
    assert linked.status_code == 400 and linked.json()["error"]["field"] == "Sensor"

    # A private Thing's Location stays when the Thing is deleted, and stays Molde's.
    thing = client.post(f"{STA}/Things", headers=mia, json=_station("Pier"))
    (location,) = client.get(f"{STA}/Things({_id_of(thing)})/Locations",
                             headers=mia).json()["value"]
    assert client.delete(f"{STA}/Things({_id_of(thing)})", headers=mia).status_code == 200
    where = f"{STA}/Locations({location['@iot.id']})"
    assert client.get(where, headers=mia).status_code == 200
    assert client.get(where, headers=ola).status_code == 404
    assert client.get(f"{STA}/Locations", headers=ola).json()["value"] == []
