"""SensorThings HistoricalLocations (OGC 18-088 §8.2.3, §10): every change of a Thing's
Locations records one; they read and navigate like the other sets, can be created, changed
and deleted, and are as visible as their Thing. In-process, on both storage backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.sensors.test_sta_write import _id_of, _station, _token

STA = "/sta/v1.1"
HISTORY = "HistoricalLocations"


def _values(client: httpx.Client, path: str, headers: dict[str, str] | None = None,
            **params: str) -> list[dict[str, Any]]:
    answer = client.get(f"{STA}/{path}", headers=headers, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()["value"]  # type: ignore[no-any-return]


def _location_names(client: httpx.Client, history_id: int, headers: dict[str, str]
                    ) -> list[str]:
    return sorted(location["name"] for location in
                  _values(client, f"{HISTORY}({history_id})/Locations", headers))


def _ok(answer: httpx.Response) -> httpx.Response:
    assert answer.status_code in (200, 201), answer.text
    return answer


def test_things_made_with_a_location_have_history_visible_as_the_thing(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    """``thing_create`` (the CLI's, the harvester's and the demo's way in) records where the
    Thing is; a private Thing's history is hidden from those who may not see the Thing."""
    (valand,) = _values(client, "Things", **{"$filter": "name eq 'Valand'"})
    (history,) = _values(client, HISTORY, **{"$expand": "Thing,Locations"})
    assert history["Thing"]["name"] == "Valand"
    assert [location["location"]["coordinates"] for location in history["Locations"]] == [
        [5.73, 58.97]]
    moment = datetime.fromisoformat(history["time"].replace("Z", "+00:00"))
    assert datetime.now(UTC) - moment < timedelta(minutes=10)
    location_id = history["Locations"][0]["@iot.id"]
    assert [h["@iot.id"] for h in _values(client, f"Locations({location_id})/{HISTORY}")] == [
        history["@iot.id"]]
    expanded = client.get(f"{STA}/Things({valand['@iot.id']})",
                          params={"$expand": f"{HISTORY}($expand=Locations)"}).json()
    assert [len(h["Locations"]) for h in expanded[HISTORY]] == [1]
    mia = _token(accounts_setup, "mia")  # editor of Molde, which owns the private "Hidden"
    hidden = [h["@iot.id"] for h in _values(client, HISTORY, mia, **{"$expand": "Thing"})
              if h["Thing"]["name"] == "Hidden"]
    assert len(hidden) == 1
    assert client.get(f"{STA}/{HISTORY}({hidden[0]})").status_code == 404
    assert client.get(f"{STA}/{HISTORY}({hidden[0]})/Locations").status_code == 404
    assert client.get(f"{STA}/{HISTORY}({hidden[0]})", headers=mia).status_code == 200


def test_each_change_of_a_things_locations_records_one(
        client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia = _token(accounts_setup, "mia")
    thing_id = _id_of(_ok(client.post(f"{STA}/Things", json=_station(), headers=mia)))
    harbour = _values(client, f"Things({thing_id})/Locations", mia)[0]["@iot.id"]
    quay = _id_of(_ok(client.post(
        f"{STA}/Things({thing_id})/Locations", headers=mia,
        json={"name": "Quay 5", "description": "Moved", "encodingType": "application/geo+json",
              "location": {"type": "Point", "coordinates": [7.17, 62.73]}})))
    for body in ({"Locations": [{"@iot.id": quay}]},
                 {"Locations": [{"@iot.id": quay}]}):  # the same again: no change, no record
        _ok(client.patch(f"{STA}/Things({thing_id})", json=body, headers=mia))
    _ok(client.patch(f"{STA}/Locations({harbour})", json={"Things": [{"@iot.id": thing_id}]},
                     headers=mia))
    history = _values(client, f"Things({thing_id})/{HISTORY}", mia, **{"$orderby": "id"})
    ids = [h["@iot.id"] for h in history]
    assert [_location_names(client, h, mia) for h in ids] == [
        ["Harbour"], ["Harbour", "Quay 5"], ["Quay 5"], ["Harbour", "Quay 5"]]
    assert [h["time"] for h in history] == sorted(h["time"] for h in history)
    _ok(client.delete(f"{STA}/Locations({quay})", headers=mia))
    remaining = [h["@iot.id"] for h in _values(client, f"Things({thing_id})/{HISTORY}", mia)]
    assert remaining == [ids[0], ids[1], ids[3]]  # the one naming only Quay 5 went with it
    assert [_location_names(client, h, mia) for h in remaining] == [["Harbour"]] * 3
    _ok(client.delete(f"{STA}/Things({thing_id})", headers=mia))
    assert _values(client, HISTORY, mia) == []


def test_historical_locations_are_created_changed_and_deleted_by_editors(
        client: httpx.Client, accounts_setup: dict[str, str]) -> None:
    mia = _token(accounts_setup, "mia")
    thing_id = _id_of(_ok(client.post(f"{STA}/Things", json=_station(), headers=mia)))
    location = _values(client, f"Things({thing_id})/Locations", mia)[0]["@iot.id"]
    body = {"time": "2015-03-01T00:40:00Z", "Thing": {"@iot.id": thing_id},
            "Locations": [{"@iot.id": location}]}
    assert client.post(f"{STA}/{HISTORY}", json=body).status_code == 403  # anonymous
    made = _ok(client.post(f"{STA}/{HISTORY}", json=body, headers=mia))
    history_id = _id_of(made)
    assert made.json()["time"] == "2015-03-01T00:40:00.000Z"
    for change, field in (({"Thing": {"@iot.id": thing_id}}, "Thing"), ({"time": None}, "time"),
                          ({"time": "yesterday"}, "time")):
        refused = client.patch(f"{STA}/{HISTORY}({history_id})", json=change, headers=mia)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == field
    for missing, field in (({"Locations": []}, "Locations"), ({"Thing": None}, "Thing")):
        refused = client.post(f"{STA}/{HISTORY}", json={**body, **missing}, headers=mia)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == field
    patched = _ok(client.patch(f"{STA}/{HISTORY}({history_id})", headers=mia,
                               json={"time": "2015-07-01T00:00:00Z"}))
    assert patched.json()["time"] == "2015-07-01T00:00:00.000Z"
    below = _ok(client.post(f"{STA}/Things({thing_id})/{HISTORY}", headers=mia,
                            json={"time": "2016-01-01T00:00:00Z",
                                  "Locations": [{"@iot.id": location}]}))
    assert client.get(f"{STA}/{HISTORY}({_id_of(below)})/Thing",
                      headers=mia).json()["@iot.id"] == thing_id
    _ok(client.delete(f"{STA}/{HISTORY}({history_id})", headers=mia))
    assert client.get(f"{STA}/{HISTORY}({history_id})", headers=mia).status_code == 404
    assert client.get(f"{STA}/Locations({location})", headers=mia).status_code == 200
