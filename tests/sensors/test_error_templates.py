"""Error messages of the sensors and of SensorThings are translatable templates (issue 4):
raised with a literal English template whose ``{fields}`` are its keyword arguments, in the
extracted catalogue. SensorThings clients keep the English text and the shape of the error
body; a message once pieced together from English words is one sentence per variant."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.sensors.actions import datastream_create, observations_import, thing_create
from bylab.sensors.dataarray import observations_create, observations_create_strict
from tests.scenarios.test_error_templates import checked_templates
from tests.sensors.conftest import PM25

STA = "/sta/v1.1"
NORWEGIAN = {"block {block} is not an object": "blokk {block} er ikke et objekt"}


def test_sensor_errors_are_catalogued_templates_with_their_fields() -> None:
    templates = checked_templates("bylab.sensors")
    assert len(templates) >= 100
    assert {"no {set_name}({identifier}) here", "unexpected '{token}' in $filter",
            "block {block} is not an object",
            "the table: components must list phenomenonTime and result once each",
            "no time column (expected one of {names})", "'{value}' is not an ISO 8601 time",
            } <= templates


def test_a_sensorthings_error_body_keeps_its_english_text(client: httpx.Client) -> None:
    answer = client.get(f"{STA}/Things", params={"$top": "ten"})
    assert answer.status_code == 400
    assert answer.json() == {"error": {
        "message": "$top must be a whole number ≥ 0, got 'ten'",
        "message_id": "{option} must be a whole number ≥ 0, got '{text}'", "field": "$top"}}
    missing = client.get(f"{STA}/Things(999)/Datastreams?lang=nb")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "no Things(999)",
                                        "message_id": "no {set_name}({identifier})"}}


def test_a_block_and_a_table_body_have_their_own_sentences(embedded: Bylab) -> None:
    ctx = embedded.system_context()
    block = {"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"],
             "dataArray": []}
    with pytest.raises(InvalidInput) as not_an_object:
        observations_create(ctx, [block, 5])
    assert not_an_object.value.message == "block 2 is not an object"
    shown = not_an_object.value.in_language(lambda text: NORWEGIAN.get(text, text))
    assert shown.message == "blokk 2 er ikke et objekt"
    with pytest.raises(InvalidInput) as block_components:
        observations_create(ctx, [{**block, "components": ["result"]}])
    assert block_components.value.message == (
        "block 1: components must list phenomenonTime and result once each")
    with pytest.raises(InvalidInput) as table_components:
        observations_create(ctx, pa.table({"Datastream/id": [1], "result": [1.0]}))
    assert table_components.value.message == table_components.value.message_id == (
        "the table: components must list phenomenonTime and result once each")


def test_a_refused_row_names_its_row_field_and_template(embedded: Bylab) -> None:
    ctx = embedded.system_context()
    thing_create(ctx, "Valand", coordinates=(5.73, 58.97))
    stream = datastream_create(ctx, "Valand", "Valand/pm25", "PM2.5", observed_property="PM2.5",
                               unit=PM25, sensor="Monitor").id
    document = [{"Datastream": {"@iot.id": stream}, "components": ["phenomenonTime", "result"],
                 "dataArray": [["2022-01-01T00:00:00Z", 1.0], ["yesterday", 2.0], ["x"]]}]
    created = observations_create(ctx, document)
    assert [(error.row, error.field, error.message) for error in created.refused] == [
        (2, "phenomenonTime", "'yesterday' is not an ISO 8601 time"),
        (3, "dataArray", "a row must be a list of 2 values, one per component")]
    with pytest.raises(InvalidInput) as refused:
        observations_create_strict(ctx, document, "day.json")
    assert (refused.value.file, refused.value.row) == ("day.json", 2)
    assert refused.value.message_id == "'{value}' is not an ISO 8601 time"


def test_each_missing_import_column_is_its_own_sentence(embedded: Bylab, tmp_path: Path
                                                        ) -> None:
    file = tmp_path / "no-time.csv"
    file.write_text("datastream,result\nValand/pm25,1\n")
    with pytest.raises(InvalidInput) as refused:
        observations_import(embedded.system_context(), file)
    assert refused.value.message == (
        "no time column (expected one of phenomenonTime, phenomenon_time, time)")
    assert refused.value.message_id == "no time column (expected one of {names})"
