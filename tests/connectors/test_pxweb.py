"""The PxWeb client against httpx.MockTransport replaying the recorded responses."""

from __future__ import annotations

import json

import httpx
import pytest

from bylab.connectors.jsonstat import parse_document
from bylab.connectors.pxweb import (
    ApiVersion,
    PxWebSource,
    ResponseFormat,
    Selection,
    pxweb_fetch,
    selections_from_query,
)
from bylab.errors import BylabError, InvalidInput
from tests.connectors.conftest import SCB_V1, SCB_V2

SCB_V1_BASE = "https://api.scb.se/OV0104/v1/doris/en/ssd"
SCB_V2_BASE = "https://statistikdatabasen.scb.se/api/v2"
# The selection that was recorded in SCB_V1 (SOURCES.md: Sweden, total age, 2016–2017).
V1_SOURCE = PxWebSource(
    base_url=SCB_V1_BASE, table="BE/BE0101/BE0101A/BefolkningNy",
    selections=[Selection("Region", ["00"]), Selection("Alder", ["tot"]),
                Selection("Tid", ["2016", "2017"])],
    response_format=ResponseFormat.JSON)
V2_SOURCE = PxWebSource(
    base_url=SCB_V2_BASE, table="TAB638", language="sv",
    selections=[Selection("Region", ["00"]), Selection("Civilstand", ["OG"]),
                Selection("Alder", ["0"]), Selection("Kon", ["1"]),
                Selection("ContentsCode", ["BE0101N1"]), Selection("Tid", ["2024"])])


def _replaying(recorded: bytes, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=recorded,
                              headers={"content-type": "application/json; charset=utf-8"})
    return httpx.MockTransport(handle)


def test_v1_query_body_and_answer() -> None:
    seen: list[httpx.Request] = []
    answer = pxweb_fetch(V1_SOURCE, _replaying(SCB_V1.read_bytes(), seen))
    [request] = seen
    assert V1_SOURCE.api_version == ApiVersion.V1
    assert request.method == "POST"
    assert str(request.url) == f"{SCB_V1_BASE}/BE/BE0101/BE0101A/BefolkningNy"
    assert json.loads(request.content) == {
        "query": [
            {"code": "Region", "selection": {"filter": "item", "values": ["00"]}},
            {"code": "Alder", "selection": {"filter": "item", "values": ["tot"]}},
            {"code": "Tid", "selection": {"filter": "item", "values": ["2016", "2017"]}},
        ],
        "response": {"format": "json"},
    }
    values = parse_document(answer, "answer").table.column("value").to_pylist()
    assert values == [9_995_153, 10_120_242]


def test_v2_query_body_parameters_and_answer() -> None:
    seen: list[httpx.Request] = []
    answer = pxweb_fetch(V2_SOURCE, _replaying(SCB_V2.read_bytes(), seen))
    [request] = seen
    assert V2_SOURCE.api_version == ApiVersion.V2
    assert request.url.path == "/api/v2/tables/TAB638/data"
    assert dict(request.url.params) == {"outputFormat": "json-stat2", "lang": "sv"}
    body = json.loads(request.content)
    assert body["selection"][0] == {"variableCode": "Region", "valueCodes": ["00"]}
    assert [item["variableCode"] for item in body["selection"]] == [
        "Region", "Civilstand", "Alder", "Kon", "ContentsCode", "Tid"]
    assert parse_document(answer, "answer").table.column("value").to_pylist() == [50_937]


@pytest.mark.parametrize(("status", "error_type"), [(404, InvalidInput), (400, InvalidInput),
                                                    (503, BylabError)])
def test_http_errors_name_the_url(status: int, error_type: type[BylabError]) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text="Not found"))
    with pytest.raises(error_type) as caught:
        pxweb_fetch(V2_SOURCE, transport)
    assert caught.value.file == f"{SCB_V2_BASE}/tables/TAB638/data"
    assert f"HTTP {status}" in caught.value.message
    assert isinstance(caught.value, InvalidInput) == (status < 500)


def test_timeout_and_unreachable_server() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(BylabError, match="no answer within 5 s") as caught:
        pxweb_fetch(V1_SOURCE, httpx.MockTransport(time_out), timeout_s=5)
    assert caught.value.file == f"{SCB_V1_BASE}/BE/BE0101/BE0101A/BefolkningNy"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(BylabError, match="could not reach the server"):
        pxweb_fetch(V1_SOURCE, httpx.MockTransport(refuse))


def test_answer_that_is_not_json() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>"))
    with pytest.raises(InvalidInput, match="not JSON"):
        pxweb_fetch(V1_SOURCE, transport)


def test_saved_queries_in_both_forms() -> None:
    v1 = selections_from_query({"query": [{"code": "Region", "selection": {
        "filter": "agg:KommSummer", "values": ["K-1506"]}}], "response": {"format": "json-stat2"}},
        "q.json")
    assert v1 == [Selection("Region", ["K-1506"], filter="agg:KommSummer")]
    v2 = selections_from_query({"selection": [{"variableCode": "Tid", "valueCodes": ["top(3)"]}]},
                               "q.json")
    assert v2 == [Selection("Tid", ["top(3)"])]
    with pytest.raises(InvalidInput) as caught:
        selections_from_query({"query": [{"code": "Tid", "selection": {"values": "2024"}}]},
                              "q.json")
    assert caught.value.field == "query.0.selection.values"
