"""The two readers of a CreateObservations JSON document give the same answer: DuckDB's
column-wise reading (dataarray_json.py), taken for the common shape, and the general reading
through Python objects, taken for any other document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bylab.core import Bylab, Context
from bylab.sensors.actions import Unit, datastream_create, thing_create
from bylab.sensors.dataarray import (DUCKDB_BODY_BYTES, JSON, _checked, _feature_ids,
                                     _json_rows, _parsed, read_body)
from bylab.sensors.dataarray_json import JsonBlocks, read_json_blocks
from bylab.testing.backends import embedded_instance

FILE = "document.json"


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bylab]:
    bylab = embedded_instance(tmp_path_factory.mktemp("readers") / "data")
    ctx = bylab.system_context()
    for thing, coordinates in (("North", (5.7, 58.9)), ("South", (7.1, 62.7))):
        thing_create(ctx, thing, coordinates=coordinates)
        datastream_create(ctx, thing, f"{thing}/pm25", f"PM2.5 at {thing}",
                          observed_property="PM2.5", unit=Unit("µg/m³", "µg/m³"),
                          sensor="Monitor")
    yield bylab
    bylab.close()


@pytest.fixture(scope="module")
def ctx(instance: Bylab) -> Context:
    return instance.system_context()


def _outcome(ctx: Context, document: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """Each row's id, each refusal (row, field, message) and the rows to store."""
    created, batch = _checked(ctx, document, FILE)
    refusals = [(error.row, error.field, error.message) for error in created.refused]
    return created.ids.to_pylist(), refusals, batch.to_pylist()


def _both(ctx: Context, document: list[dict[str, Any]]
          ) -> tuple[tuple[list[Any], ...], tuple[list[Any], ...], bool]:
    """The outcome read from the body's bytes and from Python objects (as the general reader
    parses them), and whether DuckDB's reading kept the document (the common shape)."""
    body = json.dumps(document).encode()
    read = read_json_blocks(body)
    assert read is not None
    fast = _json_rows(read, FILE) is not None
    return _outcome(ctx, read), _outcome(ctx, _parsed(body, FILE)), fast


MOMENTS = st.datetimes(datetime(1990, 1, 1), datetime(2040, 1, 1),
                       timezones=st.sampled_from([UTC, None])).map(
    lambda moment: moment.isoformat().replace("+00:00", "Z"))
TIMES = st.one_of(MOMENTS, st.sampled_from(["yesterday", "2022-05-01", "2999-01-01T00:00:00Z",
                                            "2022-05-01T10:00:00-0700", ""]))
NUMBERS = st.one_of(st.integers(-2**60, 2**60), st.floats(allow_subnormal=True))
COMPONENTS = st.tuples(st.permutations(["phenomenonTime", "result"]),
                       st.sets(st.sampled_from(["resultTime", "FeatureOfInterest/id"]))).map(
    lambda chosen: [*chosen[0], *sorted(chosen[1])])


def _rows(components: list[str], values: dict[str, st.SearchStrategy[Any]],
          misshapen: bool) -> st.SearchStrategy[list[Any]]:
    row = st.fixed_dictionaries({name: values[name] for name in components}).map(
        lambda by_name: [by_name[name] for name in components])
    if misshapen:
        row = st.one_of(row, row.map(lambda values: values[:-1]), st.none())
    return st.lists(row, max_size=6)


@st.composite
def documents(draw: st.DrawFn, common: bool) -> list[dict[str, Any]]:
    """Documents of the common shape, or (``common`` false) of any values and row shapes."""
    features = st.sampled_from([1, 2, 3, 99, 2**40])
    if common:
        values = {"phenomenonTime": TIMES, "result": NUMBERS,
                  "resultTime": st.one_of(st.none(), TIMES),
                  "FeatureOfInterest/id": st.one_of(st.none(), features)}
    else:
        anything = st.one_of(st.none(), st.booleans(), st.text(max_size=4), NUMBERS,
                             st.lists(st.integers(), max_size=2),
                             st.dictionaries(st.text(max_size=2), NUMBERS, max_size=2))
        values = {"phenomenonTime": st.one_of(TIMES, anything, st.text(max_size=25)),
                  "result": anything, "resultTime": st.one_of(TIMES, anything),
                  "FeatureOfInterest/id": st.one_of(features, anything)}
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        components = draw(COMPONENTS)
        blocks.append({"Datastream": {"@iot.id": draw(st.sampled_from([1, 2, "2"]))},
                       "components": components,
                       "dataArray": draw(_rows(components, values, not common))})
    return blocks


@settings(max_examples=60, deadline=None)
@given(document=documents(common=True))
def test_common_documents_are_read_by_duckdb_with_the_same_outcome(
        ctx: Context, document: list[dict[str, Any]]) -> None:
    from_bytes, from_objects, fast = _both(ctx, document)
    assert fast
    assert from_bytes == from_objects


@settings(max_examples=60, deadline=None)
@given(document=documents(common=False))
def test_any_document_has_the_same_outcome_from_either_reader(
        ctx: Context, document: list[dict[str, Any]]) -> None:
    from_bytes, from_objects, _fast = _both(ctx, document)
    assert from_bytes == from_objects


def test_the_duckdb_reading_checks_each_row(ctx: Context) -> None:
    """Bad time, future time, non-finite result, unknown FeatureOfInterest: refused per row
    with its number counted over the document, the good rows kept."""
    feature = min(_feature_ids(ctx))
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps([
        {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"],
         "dataArray": [["2022-01-01T00:00:00Z", 1], ["noon", 2]]},
        {"Datastream": {"@iot.id": 2},
         "components": ["result", "phenomenonTime", "FeatureOfInterest/id", "resultTime"],
         "dataArray": [[3.5, "2022-01-01T00:00:00+01:00", feature, None],
                       [float("nan"), "2022-01-01T01:00:00Z", None, None],
                       [4, soon, None, None], [5, "2022-01-01T02:00:00Z", 12345, None],
                       [6, "2022-01-01T03:00:00Z", None, "later"]]}]).encode()
    read = read_json_blocks(body)
    assert read is not None and _json_rows(read, FILE) is not None
    ids, refusals, stored = _outcome(ctx, read)
    assert [identifier is None for identifier in ids] == [False, True, False, True, True,
                                                          True, True]
    assert refusals == [
        (2, "phenomenonTime", "'noon' is not an ISO 8601 time"),
        (4, "result", "'nan' is not a finite number"),
        (5, "phenomenonTime", f"'{soon}' is in the future"),
        (6, "FeatureOfInterest/id", "no FeaturesOfInterest(12345)"),
        (7, "resultTime", "'later' is not an ISO 8601 time")]
    assert [(row["datastream_id"], row["result"], row["feature_id"]) for row in stored] == [
        (1, 1.0, stored[0]["feature_id"]), (2, 3.5, feature)]
    assert stored[1]["phenomenon_time"] == datetime(2021, 12, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize("body", [
    b'[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], '
    b'"dataArray": [["2022-01-01T00:00:00Z\\n", 1]]}]',  # an escape kept in a time
    b'[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], '
    b'"dataArray": [["2022-01-01T00:00:00Z", "one"]]}]',  # a result that is text
    b'[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], '
    b'"dataArray": [["2022-01-01T00:00:00Z"]]}]',  # a short row
    b'[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result", '
    b'"parameters"], "dataArray": [["2022-01-01T00:00:00Z", 1, {"a": 1}]]}]',
])
def test_other_shapes_go_to_the_general_reader(ctx: Context, body: bytes) -> None:
    read = read_json_blocks(body)
    assert read is not None and _json_rows(read, FILE) is None
    assert _outcome(ctx, read) == _outcome(ctx, json.loads(body))


def test_an_escape_duckdb_decodes_is_read_by_duckdb(ctx: Context) -> None:
    body = (b'[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], '
            b'"dataArray": [["2022-01-01T00:00:00\\u005a", 1]]}]')
    read = read_json_blocks(body)
    assert read is not None and _json_rows(read, FILE) is not None
    assert _outcome(ctx, read) == _outcome(ctx, json.loads(body))
    assert _outcome(ctx, read)[1] == []


def test_a_large_body_is_read_by_duckdb_a_small_one_by_orjson() -> None:
    block = {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"],
             "dataArray": [["2022-01-01T00:00:00Z", 1.5]]}
    small = json.dumps([block]).encode()
    assert read_body(small, JSON, FILE) == [block]
    large = json.dumps([block] * (DUCKDB_BODY_BYTES // len(small) + 1)).encode()
    assert isinstance(read_body(large, JSON, FILE), JsonBlocks)


@pytest.mark.parametrize("body", [b"[{", b'{"Datastream": 1}', b"[1, 2]",
                                  b'[{"Datastream": {"@iot.id": 1}}]',
                                  b'[{"dataArray": [1]}]'])
def test_what_duckdb_does_not_read_goes_to_the_general_reader(body: bytes) -> None:
    assert read_json_blocks(body) is None
