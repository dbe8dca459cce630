"""Observation results of any JSON type, and the optional Observation properties
resultQuality, validTime and parameters (OGC 18-088 §8.2.7): written, stored, read back,
selected, filtered and aggregated; and observation files written before the store had the
columns for them are still read and compacted."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.sensors.actions import observation_store
from bylab.sensors.sta_entities import ObservationValues, observation_values
from bylab.sensors.store import OBSERVATION_SCHEMA, observation_table
from tests.sensors.ets_sta import STA, get_ok, values
from tests.sensors.test_sta_write import _station

RESULTS: list[Any] = [42, 2.5, "fourty two", True, False, {"number": 1.23, "text": "x"},
                      [1.23, "One comma twentythree", True], -7.0]
READ_BACK = [*RESULTS[:-1], -7]  # a whole number reads back as an int
# The previous row schema of the store: no result_json, result_quality, valid_time,
# parameters; result not null.
OLD_SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("datastream_id", pa.int32(), nullable=False),
    pa.field("phenomenon_time", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("result", pa.float64(), nullable=False),
    pa.field("result_time", pa.timestamp("ms", tz="UTC")),
    pa.field("feature_id", pa.int32()),
])


@pytest.fixture
def sta(client: httpx.Client, accounts_setup: dict[str, str]) -> httpx.Client:
    """The in-process client, writing and reading as Molde's editor."""
    client.headers["Authorization"] = f"Bearer {accounts_setup['mia']}"
    return client


@pytest.fixture
def datastream(sta: httpx.Client) -> int:
    made = sta.post(f"{STA}/Things", json=_station())
    assert made.status_code == 201, made.text
    return int(values(sta, f"Things({made.json()['@iot.id']})/Datastreams")[0]["@iot.id"])


def _at(minute: int) -> str:
    return f"2024-05-02T10:{minute:02d}:00Z"


def _post(sta: httpx.Client, datastream: int, **body: Any) -> httpx.Response:
    return sta.post(f"{STA}/Datastreams({datastream})/Observations", json=body)


def _made(sta: httpx.Client, datastream: int, **body: Any) -> int:
    answer = _post(sta, datastream, **body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["@iot.id"])


def _results(sta: httpx.Client, datastream: int, **params: str) -> list[Any]:
    return [item["result"] for item in values(
        sta, f"Datastreams({datastream})/Observations", **params)]


def test_each_result_type_reads_back_as_it_was_given(sta: httpx.Client, datastream: int
                                                      ) -> None:
    made = [_made(sta, datastream, result=result, phenomenonTime=_at(minute))
            for minute, result in enumerate(RESULTS)]
    for identifier, result in zip(made, READ_BACK, strict=True):
        read = get_ok(sta, f"Observations({identifier})")["result"]
        assert read == result and type(read) is type(result), read
    in_collection = _results(sta, datastream, **{"$orderby": "phenomenonTime"})
    assert in_collection == [21.5, *READ_BACK]  # the first is the deep insert's
    text = sta.get(f"{STA}/Observations({made[2]})/result/$value")
    assert (text.status_code, text.text) == (200, "fourty two")
    assert text.headers["content-type"].startswith("text/plain")


def test_result_quality_valid_time_and_parameters_round_trip(sta: httpx.Client,
                                                             datastream: int) -> None:
    identifier = _made(sta, datastream, result=3, phenomenonTime=_at(0),
                       resultQuality={"accuracy": 0.1, "flags": ["calibrated"]},
                       validTime="2024-05-02T12:00:00+02:00/2024-05-02T11:00:00Z",
                       parameters={"height_m": 2, "mode": "auto"})
    expected = {"resultQuality": {"accuracy": 0.1, "flags": ["calibrated"]},
                "validTime": "2024-05-02T10:00:00.000Z/2024-05-02T11:00:00.000Z",
                "parameters": {"height_m": 2, "mode": "auto"}}
    read = get_ok(sta, f"Observations({identifier})")
    assert {name: read[name] for name in expected} == expected
    selected = get_ok(sta, f"Observations({identifier})",
                      **{"$select": "resultQuality,validTime,parameters"})
    assert selected == expected
    (listed,) = values(sta, f"Datastreams({datastream})/Observations",
                       **{"$select": "id,validTime", "$filter": f"id eq {identifier}"})
    assert listed == {"@iot.id": identifier, "validTime": expected["validTime"]}

    changed = sta.patch(f"{STA}/Observations({identifier})",
                        json={"result": "calm", "parameters": {"mode": "manual"}})
    assert changed.status_code == 200, changed.text
    read = get_ok(sta, f"Observations({identifier})")
    assert read["result"] == "calm" and read["parameters"] == {"mode": "manual"}
    assert read["resultQuality"] == expected["resultQuality"]  # not in the PATCH: kept
    assert read["validTime"] == expected["validTime"]
    plain = get_ok(sta, f"Observations({_made(sta, datastream, result=1, phenomenonTime=_at(1))})")
    assert (plain["resultQuality"], plain["validTime"], plain["parameters"]) == (None,) * 3


def test_a_bad_body_is_refused_naming_the_field(sta: httpx.Client, datastream: int) -> None:
    for body, field in (
            ({"result": None}, "result"),
            ({"result": 1, "validTime": "2024-05-02T10:00:00Z"}, "validTime"),
            ({"result": 1, "validTime": "yesterday/today"}, "validTime"),
            ({"result": 1, "validTime": "2024-05-02T11:00:00Z/2024-05-02T10:00:00Z"},
             "validTime"),
            ({"result": 1, "validTime": "2024-05-02T10:00:00/2024-05-02T11:00:00"},
             "validTime"),
            ({"result": 1, "validTime": 20240502}, "validTime"),
            ({"result": 1, "parameters": [1, 2]}, "parameters")):
        answer = _post(sta, datastream, phenomenonTime=_at(5), **body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]["field"] == field, body
    identifier = _made(sta, datastream, result=1, phenomenonTime=_at(5))
    patched = sta.patch(f"{STA}/Observations({identifier})", json={"result": None})
    assert patched.status_code == 400 and patched.json()["error"]["field"] == "result"
    assert _results(sta, datastream) == [21.5, 1]  # nothing else stored


@pytest.mark.parametrize(("body", "field"), [
    ({"result": math.nan}, "result"),
    ({"result": -math.inf}, "result"),
    ({"result": 10**400}, "result"),
    ({"result": None}, "result"),
    ({"result": 1, "resultQuality": {"error": math.inf}}, "resultQuality"),
    ({"result": {"values": [1, math.nan]}}, "result"),
])
def test_non_finite_numbers_and_a_null_result_are_refused(body: dict[str, Any],
                                                          field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        observation_values(body)
    assert refused.value.field == field


def test_an_update_keeps_what_its_body_leaves_out() -> None:
    stored = observation_values({"result": "x", "resultQuality": "high",
                                 "validTime": "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"})
    assert stored == ObservationValues(None, '"x"', '"high"',
                                       "2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z")
    assert observation_values({"result": 4}, stored) == ObservationValues(
        4.0, None, '"high"', stored.valid_time)
    assert observation_values({"resultQuality": None, "parameters": {"a": 1}},
                              stored) == ObservationValues(None, '"x"', None,
                                                           stored.valid_time, '{"a": 1}')


def test_filter_and_order_by_result_of_any_type(sta: httpx.Client, datastream: int) -> None:
    for minute, result in enumerate(RESULTS):
        _made(sta, datastream, result=result, phenomenonTime=_at(minute))

    def matching(condition: str) -> list[Any]:
        return _results(sta, datastream, **{"$filter": condition,
                                            "$orderby": "phenomenonTime"})

    assert matching("result eq 'fourty two'") == ["fourty two"]
    assert matching("result eq true") == [True]
    assert matching("result eq false") == [False]
    assert matching("result gt 20") == [21.5, 42]  # text, booleans and objects never match
    assert matching("result lt 0") == [-7]
    assert matching("result eq 42") == [42]
    assert matching("result eq '42'") == [42]  # a number compared with text: as text
    assert matching("startswith(result, 'four')") == ["fourty two"]
    assert matching("substringof('2', result)") == [21.5, 42, 2.5, *RESULTS[5:7]]  # JSON text
    assert matching("result eq null") == []
    assert matching("result ne null") == _results(sta, datastream,
                                                  **{"$orderby": "phenomenonTime"})
    by_result = _results(sta, datastream, **{"$orderby": "result desc"})
    assert by_result[:4] == [42, 21.5, 2.5, -7]  # the numbers first, then the others
    assert len(by_result) == len(RESULTS) + 1


def test_apply_and_buckets_average_the_numbers_only(bylab: Bylab, sta: httpx.Client,
                                                    datastream: int) -> None:
    for minute, result in enumerate([4, "broken", 8, {"state": "off"}, True]):
        _made(sta, datastream, result=result, phenomenonTime=_at(minute))
    _made(sta, datastream, result="off", phenomenonTime="2024-05-03T00:00:00Z")  # no number
    answer = get_ok(sta, f"Datastreams({datastream})/Observations", **{
        "$filter": "phenomenonTime ge 2024-05-02T00:00:00Z",
        "$apply": "aggregate(result with average as mean, result with max as top, "
                  "$count as observations)"})
    assert answer["value"] == [{"mean": 6.0, "top": 8.0, "observations": 6}]
    buckets = sta.get(f"/api/sensors/datastreams/{datastream}/aggregate",
                      params={"interval": "day", "from": "2024-05-02T00:00:00Z"})
    assert buckets.status_code == 200, buckets.text
    assert [(bucket["mean"], bucket["count"]) for bucket in buckets.json()] == [(6.0, 2)]
    thing = get_ok(sta, f"Datastreams({datastream})/Thing")["@iot.id"]
    page = sta.get(f"/sensors/{thing}")  # its chart of daily means
    assert page.status_code == 200, page.text


def test_files_from_before_the_new_columns_are_read_merged_and_compacted(
        embedded: Bylab) -> None:
    store = observation_store(embedded.system_context())
    first_ms = int(datetime(2021, 3, 1, tzinfo=UTC).timestamp() * 1000)
    times = [first_ms + hour * 3_600_000 for hour in range(30)]  # 1 and 2 March
    old = observation_table([1] * len(times), times, [float(hour) for hour in range(30)])
    old_rows = pa.Table.from_arrays(
        [pa.array([(1 << 42) + time for time in times], pa.int64()),
         *(old[name] for name in OLD_SCHEMA.names[1:])], schema=OLD_SCHEMA)
    for day, rows in (("2021-03-01", old_rows.slice(0, 24)), ("2021-03-02", old_rows.slice(24))):
        folder = store.root / f"day={day}"
        folder.mkdir(parents=True)
        pq.write_table(rows, folder / "part-old.parquet")
    new = pa.table({"datastream_id": pa.array([1, 1], pa.int32()),
                    "phenomenon_time": pa.array([first_ms + 1000, first_ms + 2000],
                                                pa.timestamp("ms", tz="UTC")),
                    "result": pa.array([None, 7.5], pa.float64()),
                    "result_json": pa.array(['"late"', None]),
                    "parameters": pa.array(['{"a": 1}', None])})
    assert store.append(new).num_rows == 2
    assert store.append(new).num_rows == 0  # still told apart from the stored ones

    def read() -> list[tuple[Any, ...]]:
        return embedded.tables.connection().execute(
            f"SELECT phenomenon_time, result, result_json, parameters, valid_time "
            f"FROM {store.scan()} ORDER BY id").fetchall()

    before = read()
    assert len(before) == 32
    assert [row[1:4] for row in before[:4]] == [
        (0.0, None, None), (None, '"late"', '{"a": 1}'), (7.5, None, None), (1.0, None, None)]
    assert store.compact() == 1  # 1 March: the old file and the new one merged
    assert read() == before
    assert store.compact_months(before=date(2021, 4, 1)) == 1
    assert len(store.files()) == 1
    assert read() == before
    assert pq.read_schema(store.files()[0]).names == OBSERVATION_SCHEMA.names
