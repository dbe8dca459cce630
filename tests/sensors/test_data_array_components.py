"""The Data Array components beyond numbers: results of any JSON type and the optional
Observation properties resultQuality, validTime and parameters, written with
CreateObservations and read with $resultFormat=dataArray."""

from __future__ import annotations

from typing import Any

import httpx

from bylab.core import Bylab
from bylab.sensors.dataarray import observations_create

STA = "/sta/v1.1"
ROOT = "http://testserver/sta/v1.1"
COMPONENTS = ["phenomenonTime", "result", "resultQuality", "validTime", "parameters"]
ROWS: list[list[Any]] = [
    ["2022-05-01T10:00:00Z", "fourty two", {"level": "good"},
     "2022-05-01T10:00:00+02:00/2022-05-01T11:00:00Z", {"height_m": 2}],
    ["2022-05-01T11:00:00Z", True, None, None, None],
    ["2022-05-01T12:00:00Z", {"number": 1.23, "boolean": True}, "checked", None, {}],
    ["2022-05-01T13:00:00Z", [1.23, "x", True], None, None, None],
    ["2022-05-01T14:00:00Z", 7, None, None, None],
    ["2022-05-01T15:00:00Z", None, None, None, None],
    ["2022-05-01T16:00:00Z", 1, None, "2022-05-01T17:00:00Z/2022-05-01T16:00:00Z", None],
    ["2022-05-01T17:00:00Z", 1, None, "yesterday", None],
    ["2022-05-01T18:00:00Z", 1, None, None, [1, 2]],
]


def _document(datastream_id: int, rows: list[list[Any]]) -> list[dict[str, Any]]:
    return [{"Datastream": {"@iot.id": datastream_id}, "components": COMPONENTS,
             "dataArray": rows}]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_rows_of_any_result_and_the_optional_properties_are_stored(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    mia = _bearer(accounts_setup["mia"])
    created = client.post(f"{STA}/CreateObservations",
                          json=_document(stations["Hidden/pm25"], ROWS), headers=mia)
    assert created.status_code == 201, created.text
    links = created.json()
    assert [link == "error" for link in links] == [False] * 5 + [True] * 4
    first = client.get(links[0], headers=mia).json()
    assert (first["result"], first["resultQuality"], first["parameters"]) == (
        "fourty two", {"level": "good"}, {"height_m": 2})
    assert first["validTime"] == "2022-05-01T08:00:00.000Z/2022-05-01T11:00:00.000Z"
    read_back = [client.get(link, headers=mia).json() for link in links[1:5]]
    assert [observation["result"] for observation in read_back] == [
        True, {"number": 1.23, "boolean": True}, [1.23, "x", True], 7]
    assert [observation["resultQuality"] for observation in read_back] == [
        None, "checked", None, None]
    assert read_back[1]["parameters"] == {}


def test_each_refused_row_names_its_row_and_field(bylab: Bylab,
                                                  stations: dict[str, int]) -> None:
    created = observations_create(bylab.system_context(),
                                  _document(stations["Hidden/pm25"], ROWS), "rows.json")
    assert [(error.row, error.field) for error in created.refused] == [
        (6, "result"), (7, "validTime"), (8, "validTime"), (9, "parameters")]
    assert [error.message for error in created.refused] == [
        "'None' is not a finite number", "'validTime' ends before it starts",
        "'validTime' must be an ISO 8601 time interval: start/end, both with a time zone",
        "'parameters' must be a JSON object"]
    assert created.new == 5


def test_a_result_holding_a_number_that_is_not_finite_is_refused(
        bylab: Bylab, stations: dict[str, int]) -> None:
    document = _document(stations["Hidden/pm25"], [
        ["2022-06-01T00:00:00Z", {"a": float("nan")}, None, None, None],
        ["2022-06-01T01:00:00Z", float("inf"), None, None, None],
        ["2022-06-01T02:00:00Z", "NaN", None, None, None]])
    created = observations_create(bylab.system_context(), document)
    assert [(error.row, error.field, error.message) for error in created.refused] == [
        (1, "result", "'result' holds a number that is not finite (NaN or infinity)"),
        (2, "result", "'inf' is not a finite number")]
    assert created.new == 1  # the text "NaN" is a result like any other


def test_data_array_reads_the_optional_components(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    mia = _bearer(accounts_setup["mia"])
    hidden = stations["Hidden/pm25"]
    client.post(f"{STA}/CreateObservations", json=_document(hidden, ROWS[:1]), headers=mia)
    answer = client.get(f"{STA}/Datastreams({hidden})/Observations", headers=mia, params={
        "$resultFormat": "dataArray", "$filter": "phenomenonTime ge 2022-01-01T00:00:00Z",
        "$select": "result,resultQuality,validTime,parameters,id"}).json()
    block = answer["value"][0]
    assert block["components"] == ["result", "resultQuality", "validTime", "parameters", "id"]
    assert block["dataArray"][0][:4] == [
        "fourty two", {"level": "good"}, "2022-05-01T08:00:00.000Z/2022-05-01T11:00:00.000Z",
        {"height_m": 2}]
    default = client.get(f"{STA}/Datastreams({hidden})/Observations", headers=mia, params={
        "$resultFormat": "dataArray", "$top": "1"}).json()["value"][0]
    assert default["components"] == ["id", "phenomenonTime", "resultTime", "result",
                                     "resultQuality", "validTime", "parameters"]
    assert default["dataArray"][0][4:] == [None, None, None]
