"""The SensorThings Data Array extension: reading with $resultFormat=dataArray, creating with
CreateObservations over HTTP and `bylab sensors import FILE.json`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bylab.cli import app
from bylab.errors import InvalidInput
from bylab.sensors import dataarray
from bylab.sensors.dataarray import DUCKDB_BODY_BYTES
from bylab.sensors.dataarray_json import read_json_blocks
from tests.web.conftest import csrf_of, log_in

STA = "/sta/v1.1"
ROOT = "http://testserver/sta/v1.1"
DATA_ARRAY = "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_root_advertises_the_extensions(client: httpx.Client) -> None:
    conformance = client.get(STA).json()["serverSettings"]["conformance"]
    assert DATA_ARRAY in conformance
    assert "http://docs.oasis-open.org/odata/odata-data-aggregation-ext/v4.0/" in conformance


def test_observations_as_data_array_grouped_by_datastream(
        client: httpx.Client, stations: dict[str, int]) -> None:
    pm25, temperature = stations["Valand/pm25"], stations["Valand/temperature"]
    answer = client.get(f"{STA}/Observations", params={
        "$resultFormat": "dataArray", "$filter": "phenomenonTime lt 2021-03-01T02:00:00Z",
        "$orderby": "phenomenonTime", "$count": "true"}).json()
    assert answer["@iot.count"] == 4
    assert [block["Datastream@iot.navigationLink"] for block in answer["value"]] == [
        f"{ROOT}/Datastreams({pm25})", f"{ROOT}/Datastreams({temperature})"]
    block = answer["value"][0]
    assert block["components"] == ["id", "phenomenonTime", "resultTime", "result",
                                   "resultQuality", "validTime", "parameters"]
    assert block["dataArray@iot.count"] == 2
    first_id = block["dataArray"][0][0]
    assert block["dataArray"] == [
        [first_id, "2021-03-01T00:00:00.000Z", None, 0, None, None, None],
        [first_id + 3_600_000, "2021-03-01T01:00:00.000Z", None, 1, None, None, None]]
    # The id is that of the observation in the ordinary format.
    single = client.get(f"{STA}/Observations({first_id})").json()
    assert single["result"] == 0.0


def test_data_array_select_paging_and_misuse(client: httpx.Client,
                                            stations: dict[str, int]) -> None:
    url = f"{STA}/Datastreams({stations['Valand/pm25']})/Observations"
    first = client.get(url, params={"$resultFormat": "dataArray", "$top": "3",
                                    "$select": "result,phenomenonTime"}).json()
    assert first["value"][0]["components"] == ["result", "phenomenonTime"]
    assert [row[0] for row in first["value"][0]["dataArray"]] == [0.0, 1.0, 2.0]
    second = client.get(first["@iot.nextLink"]).json()
    assert [row[0] for row in second["value"][0]["dataArray"]] == [3.0, 4.0, 5.0]
    for params, path in (({"$resultFormat": "csv"}, url),
                         ({"$resultFormat": "dataArray", "$select": "name"}, url),
                         ({"$resultFormat": "dataArray"}, f"{STA}/Things"),
                         ({"$resultFormat": "dataArray", "$expand": "Datastream"}, url)):
        refused = client.get(path, params=params)
        assert refused.status_code == 400, (params, path)
        assert "$resultFormat" in refused.text or "$select" in refused.text


def _document(datastream_id: int, rows: list[list[object]],
              components: list[str] | None = None) -> list[dict[str, object]]:
    return [{"Datastream": {"@iot.id": datastream_id},
             "components": components or ["phenomenonTime", "result"],
             "dataArray@iot.count": len(rows), "dataArray": rows}]


def test_create_observations_answers_a_link_or_error_per_row(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    hidden = stations["Hidden/pm25"]  # Molde's; mia edits for Molde
    mia = _bearer(accounts_setup["mia"])
    document = _document(hidden, [
        ["2022-05-01T10:00:00+02:00", 7.5, "2022-05-01T10:05:00Z"],
        ["yesterday", 1.0, None],
        ["2022-05-01T09:00:00Z", None, None],  # a result is mandatory
        ["2022-05-01T09:00:00Z", 3],  # short row
        ["2999-01-01T00:00:00Z", 1.0, None],
        ["2022-05-01T11:00:00Z", 8, None],
    ], components=["phenomenonTime", "result", "resultTime"])
    created = client.post(f"{STA}/CreateObservations", json=document, headers=mia)
    assert created.status_code == 201, created.text
    links = created.json()
    assert links[1:5] == ["error"] * 4
    assert links[0].startswith(f"{ROOT}/Observations(") and links[5].startswith(ROOT)
    stored = client.get(links[0], headers=mia).json()
    assert stored["phenomenonTime"] == "2022-05-01T08:00:00.000Z"
    assert stored["resultTime"] == "2022-05-01T10:05:00.000Z" and stored["result"] == 7.5
    feature = client.get(f"{links[0]}/FeatureOfInterest", headers=mia).json()
    assert feature["name"] == "Hidden"  # the datastream's default feature
    again = client.post(f"{STA}/CreateObservations", json=document, headers=mia).json()
    assert again == links  # stored once, answered with the same links
    count = client.get(f"{STA}/Datastreams({hidden})/Observations",
                       params={"$count": "true", "$top": "0"}, headers=mia).json()
    assert count["@iot.count"] == 12  # ten from the fixture and two new ones


def test_create_observations_needs_an_editor_and_a_sound_document(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    hidden, valand = stations["Hidden/pm25"], stations["Valand/pm25"]
    row = [["2022-05-01T10:00:00Z", 1.0]]
    url = f"{STA}/CreateObservations"
    ola = _bearer(accounts_setup["ola"])  # Ålesund: cannot see Molde's private station
    assert client.post(url, json=_document(hidden, row), headers=ola).status_code == 404
    assert client.post(url, json=_document(hidden, row)).status_code == 403  # anonymous
    mia = _bearer(accounts_setup["mia"])  # sees Valand, which no organisation of hers owns
    assert client.post(url, json=_document(valand, row), headers=mia).status_code == 403
    for bad, field in (({"Datastream": {"@iot.id": hidden}}, "list"),
                       ([{"components": ["phenomenonTime", "result"], "dataArray": row}],
                        "Datastream"),
                       (_document(hidden, row, ["phenomenonTime"]), "components"),
                       (_document(hidden, row, ["phenomenonTime", "result", "Thing/id"]),
                        "Thing/id")):
        refused = client.post(url, json=bad, headers=mia)
        assert refused.status_code == 400 and field in refused.text, refused.text
    mixed = [*_document(hidden, row), *_document(valand, row)]
    assert client.post(url, json=mixed, headers=mia).status_code == 403
    total = client.get(f"{STA}/Datastreams({hidden})/Observations",
                       params={"$count": "true", "$top": "0"}, headers=mia).json()
    assert total["@iot.count"] == 10  # nothing of a refused document was stored


def test_create_observations_with_a_cookie_needs_the_csrf_token(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    log_in(client, "mia")
    document = _document(stations["Hidden/pm25"], [["2022-05-01T10:00:00Z", 1.0]])
    refused = client.post(f"{STA}/CreateObservations", json=document)
    assert refused.status_code == 403 and "CSRF" in refused.text
    token = csrf_of(client.get("/login").text)
    created = client.post(f"{STA}/CreateObservations", json=document,
                          headers={"X-CSRF-Token": token})
    assert created.status_code == 201 and created.json()[0].startswith(ROOT)


def test_cli_imports_a_data_array_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BYLAB_SECRET_KEY", "test-secret")
    runner = CliRunner()
    assert runner.invoke(app, ["sensors", "thing-add", "Valand"]).exit_code == 0
    assert runner.invoke(app, ["sensors", "datastream-add", "Valand", "Valand/pm25",
                               "--name", "PM2.5", "--property", "PM2.5", "--unit-name", "µg/m³",
                               "--unit-symbol", "µg/m³"]).exit_code == 0
    good = tmp_path / "observations.json"
    good.write_text(json.dumps(_document(1, [["2022-01-01T00:00:00Z", 3.5],
                                             ["2022-01-01T01:00:00Z", 4]])))
    imported = runner.invoke(app, ["sensors", "import", str(good)])
    assert "2 rows read, 2 observations new" in imported.stdout, imported.output
    again = runner.invoke(app, ["sensors", "import", str(good)])
    assert "0 observations new, 2 stored before" in again.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_document(1, [["2022-01-02T00:00:00Z", 1.0],
                                            ["2022-01-02T01:00:00Z", None]])))
    refused = runner.invoke(app, ["sensors", "import", str(bad)])
    assert isinstance(refused.exception, InvalidInput)
    assert str(refused.exception).startswith("bad.json, row 2, field 'result'")
    broken = tmp_path / "broken.json"
    broken.write_text('[{"Datastream": ')
    refused = runner.invoke(app, ["sensors", "import", str(broken)])
    assert isinstance(refused.exception, InvalidInput)
    assert str(refused.exception).startswith("broken.json")
    first_row = tmp_path / "first.json"
    first_row.write_text(json.dumps(_document(1, [["2022-01-02T00:00:00Z", 1.0]])))
    stored = runner.invoke(app, ["sensors", "import", str(first_row)])
    assert "1 observations new" in stored.stdout  # the refused file stored nothing



def test_cli_reads_a_large_data_array_file_with_the_fast_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file above DUCKDB_BODY_BYTES goes through DuckDB's reader, as an HTTP body does; a
    bad row deep in it refuses the file by its row number and stores nothing."""
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BYLAB_SECRET_KEY", "test-secret")
    fast_reads = []
    monkeypatch.setattr(dataarray, "read_json_blocks", lambda body: fast_reads.append(
        len(body)) or read_json_blocks(body))
    runner = CliRunner()
    assert runner.invoke(app, ["sensors", "thing-add", "Valand"]).exit_code == 0
    assert runner.invoke(app, ["sensors", "datastream-add", "Valand", "Valand/pm25",
                               "--name", "PM2.5", "--property", "PM2.5", "--unit-name", "µg/m³",
                               "--unit-symbol", "µg/m³"]).exit_code == 0
    rows: list[list[object]] = [[f"2022-01-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:"
                                 f"{minute % 60:02d}:00Z", minute / 10] for minute in range(8000)]
    good_time, rows[6000][0] = rows[6000][0], "not a time"
    large = tmp_path / "large.json"
    large.write_text(json.dumps(_document(1, rows)))
    assert large.stat().st_size >= DUCKDB_BODY_BYTES
    refused = runner.invoke(app, ["sensors", "import", str(large)])
    assert isinstance(refused.exception, InvalidInput)
    assert str(refused.exception).startswith("large.json, row 6001, field 'phenomenonTime'")
    rows[6000][0] = good_time
    large.write_text(json.dumps(_document(1, rows)))
    imported = runner.invoke(app, ["sensors", "import", str(large)])
    assert "8,000 rows read, 8,000 observations new" in imported.stdout, imported.output
    assert len(fast_reads) == 2

def _rows_as_table(datastream_id: int, rows: list[list[object]]) -> pa.Table:
    return pa.table({"Datastream/id": pa.array([datastream_id] * len(rows), pa.int64()),
                     "phenomenonTime": [row[0] for row in rows],
                     "result": pa.array([row[1] for row in rows], pa.float64())})


def _arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def test_create_observations_from_a_table_body_by_content_type(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    hidden = stations["Hidden/pm25"]
    mia = _bearer(accounts_setup["mia"])
    url = f"{STA}/CreateObservations"
    rows: list[list[object]] = [["2022-06-01T10:00:00Z", 1.5], ["2022-06-01T11:00:00Z", 2.5],
                                ["2999-01-01T00:00:00Z", 1.0], ["2022-06-01T12:00:00Z", None],
                                ["2022-06-01T13:00:00Z", float("nan")]]
    arrow = client.post(url, content=_arrow_stream(_rows_as_table(hidden, rows)), headers={
        **mia, "Content-Type": "application/vnd.apache.arrow.stream"})
    assert arrow.status_code == 201, arrow.text
    links = arrow.json()
    assert links[2:] == ["error"] * 3 and links[0].startswith(f"{ROOT}/Observations(")
    # The same rows as JSON are answered with the same links: the same rules, the same ids.
    as_json = client.post(url, json=_document(hidden, rows[:2]), headers=mia)
    assert as_json.json() == links[:2]
    stored = client.get(links[1], headers=mia).json()
    assert (stored["phenomenonTime"], stored["result"]) == ("2022-06-01T11:00:00.000Z", 2.5)

    later = [["2022-06-02T10:00:00+02:00", 3.0], ["2022-06-02T11:00:00Z", 4.0]]
    parquet = client.post(url, content=_parquet(_rows_as_table(hidden, later)), headers={
        **mia, "Content-Type": "application/vnd.apache.parquet"})
    assert parquet.status_code == 201 and "error" not in parquet.json()
    csv_body = ("Datastream/id,phenomenonTime,result,resultTime\n"
                f"{hidden},2022-06-03T10:00:00Z,5.5,2022-06-03T10:01:00Z\n"
                f"{hidden},2022-06-03T11:00:00Z,NaN,\n"
                f"{hidden},2022-06-03T12:00:00Z,high,\n"
                f"{hidden},noon,6,\n")
    csv = client.post(url, content=csv_body.encode(), headers={**mia, "Content-Type":
                                                                "text/csv; charset=utf-8"})
    assert csv.status_code == 201, csv.text
    assert [link == "error" for link in csv.json()] == [False, True, True, True]
    first = client.get(csv.json()[0], headers=mia).json()
    assert first["resultTime"] == "2022-06-03T10:01:00.000Z"
    count = client.get(f"{STA}/Datastreams({hidden})/Observations",
                       params={"$count": "true", "$top": "0"}, headers=mia).json()
    assert count["@iot.count"] == 10 + 2 + 2 + 1


def test_a_table_body_is_refused_whole_when_malformed_or_not_allowed(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    hidden, valand = stations["Hidden/pm25"], stations["Valand/pm25"]
    mia = _bearer(accounts_setup["mia"])
    url = f"{STA}/CreateObservations"
    arrow = {**mia, "Content-Type": "application/vnd.apache.arrow.stream"}
    row = [["2022-06-01T10:00:00Z", 1.5]]
    mixed = pa.concat_tables([_rows_as_table(hidden, row), _rows_as_table(valand, row)])
    assert client.post(url, content=_arrow_stream(mixed), headers=arrow).status_code == 403
    no_result = _rows_as_table(hidden, row).drop_columns(["result"])
    refused = client.post(url, content=_arrow_stream(no_result), headers=arrow)
    assert refused.status_code == 400 and "components" in refused.text
    extra = _rows_as_table(hidden, row).append_column("parameters", pa.array(["x"]))
    refused = client.post(url, content=_arrow_stream(extra), headers=arrow)
    assert refused.status_code == 400 and "parameters" in refused.text
    nameless = pa.table({"Datastream/id": pa.array([hidden, None], pa.int64()),
                         "phenomenonTime": ["2022-06-01T10:00:00Z", "2022-06-01T11:00:00Z"],
                         "result": [1.0, 2.0]})
    refused = client.post(url, content=_arrow_stream(nameless), headers=arrow)
    assert refused.status_code == 400, refused.text
    assert (refused.json()["error"]["row"], refused.json()["error"]["field"]) == (
        2, "Datastream/id")
    broken = client.post(url, content=b"not arrow", headers=arrow)
    assert broken.status_code == 400 and "application/vnd.apache.arrow.stream" in broken.text
    unknown = client.post(url, content=b"x", headers={**mia, "Content-Type": "text/plain"})
    assert unknown.status_code == 400 and "Content-Type" in unknown.text
    not_json = client.post(url, content=b"[{", headers={**mia,
                                                       "Content-Type": "application/json"})
    assert not_json.status_code == 400 and "not JSON" in not_json.text
    total = client.get(f"{STA}/Datastreams({hidden})/Observations",
                       params={"$count": "true", "$top": "0"}, headers=mia).json()
    assert total["@iot.count"] == 10  # nothing of a refused body was stored


def test_json_with_nan_is_refused_per_row(client: httpx.Client, stations: dict[str, int],
                                          accounts_setup: dict[str, str]) -> None:
    body = ('[{"Datastream": {"@iot.id": %d}, "components": ["phenomenonTime", "result"], '
            '"dataArray": [["2022-07-01T00:00:00Z", NaN], ["2022-07-01T01:00:00Z", 1]]}]'
            % stations["Hidden/pm25"])
    answer = client.post(f"{STA}/CreateObservations", content=body.encode(), headers={
        **_bearer(accounts_setup["mia"]), "Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text
    assert answer.json()[0] == "error" and answer.json()[1].startswith(ROOT)


def test_a_large_document_is_answered_row_by_row(
        client: httpx.Client, stations: dict[str, int], accounts_setup: dict[str, str]) -> None:
    """A body large enough for DuckDB's reader (dataarray_json.py) is answered as any."""
    hidden = stations["Hidden/pm25"]
    rows: list[list[object]] = [[f"2023-01-{1 + minute // 1440:02d}T{minute // 60 % 24:02d}:"
                                 f"{minute % 60:02d}:00Z", minute / 4] for minute in range(9000)]
    rows[10][0], rows[20][1] = "noon", None
    body = json.dumps(_document(hidden, rows)).encode()
    assert len(body) > DUCKDB_BODY_BYTES
    created = client.post(f"{STA}/CreateObservations", content=body, headers={
        **_bearer(accounts_setup["mia"]), "Content-Type": "application/json"})
    assert created.status_code == 201, created.text
    links = created.json()
    assert len(links) == 9000 and [n for n, link in enumerate(links) if link == "error"] == [
        10, 20]
    stored = client.get(links[1], headers=_bearer(accounts_setup["mia"])).json()
    assert (stored["phenomenonTime"], stored["result"]) == ("2023-01-01T00:01:00.000Z", 0.25)
