"""Exports beside the CSV contract: a JSON-stat 2.0 dataset (checked against the rules of the
JSON-stat 2.0 format and read back by pyjstat, an independent reader) and FIWARE Smart Data
Models KeyPerformanceIndicator entities (checked against the model's schema constraints)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings

import httpx
import jsonschema
import pytest
from pyjstat import pyjstat

from bylab.core import Bylab

# The constraints of https://smart-data-models.github.io/dataModel.KeyPerformanceIndicator/
# KeyPerformanceIndicator/schema.json (v0.2.1) on the properties bylab writes, restated here
# because the published schema references remote common definitions.
FIWARE_KPI_SCHEMA = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string", "pattern": "^urn:ngsi-ld:KeyPerformanceIndicator:"},
        "type": {"enum": ["KeyPerformanceIndicator"]},
        "name": {"type": "string"}, "alternateName": {"type": "string"},
        "description": {"type": "string"},
        "category": {"type": "array", "minItems": 1, "items": {"enum": [
            "actionable", "directional", "financial", "input", "lagging", "leading", "output",
            "practical", "process", "qualitative", "quantitative"]}},
        "organization": {"type": "string"}, "area": {"type": "string"},
        "calculatedBy": {"type": "string"}, "calculationFormula": {"type": "string"},
        "calculationFrequency": {"enum": ["hourly", "daily", "weekly", "monthly", "yearly",
                                          "quarterly", "bimonthly", "biweekly"]},
        "calculationMethod": {"enum": ["manual", "automatic", "semiautomatic"]},
        "calculationPeriod": {"type": "object", "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"}}},
        "kpiValue": {"type": ["string", "number", "boolean", "object", "array"]},
        "dateModified": {"type": "string", "format": "date-time"},
        "address": {"type": "object",
                    "properties": {"addressCountry": {"type": "string"}}},
    },
}


def _cli(demo: Bylab, *options: str) -> str:
    environment = {**os.environ, "BYLAB_DATA_DIR": str(demo.settings.data_dir)}
    done = subprocess.run([sys.executable, "-m", "bylab.cli", "indicators", "export",
                           *options], env=environment, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


def _check_jsonstat_dataset(document: dict) -> None:
    """The JSON-stat 2.0 rules for a dataset response."""
    assert document["version"] == "2.0" and document["class"] == "dataset"
    assert len(document["id"]) == len(document["size"]) == len(set(document["id"]))
    assert set(document["dimension"]) == set(document["id"])
    for name, size in zip(document["id"], document["size"], strict=True):
        category = document["dimension"][name]["category"]
        index = category["index"]
        assert len(index) == size and len(set(index)) == size
        assert set(category.get("label", {})) <= set(index)
        assert set(category.get("unit", {})) <= set(index)
    for role, names in document["role"].items():
        assert role in ("time", "geo", "metric") and set(names) <= set(document["id"])
    for unit in document["dimension"][document["role"]["metric"][0]]["category"]["unit"].values():
        assert isinstance(unit["label"], str)
    assert len(document["value"]) == math.prod(document["size"])


def test_jsonstat_holds_the_same_values_as_the_api(demo: Bylab, api: httpx.Client) -> None:
    params = {"place": "NO-4001"}
    document = api.get("/api/indicators/export", params={**params, "format": "jsonstat"}).json()
    _check_jsonstat_dataset(document)
    assert document["role"] == {"metric": ["kpi"], "geo": ["place"], "time": ["period"]}
    served = api.get("/api/indicators/values", params=params).json()
    units = document["dimension"]["kpi"]["category"]["unit"]
    assert {code: unit["label"] for code, unit in units.items()} == {
        item["kpi_code"]: item["unit"] for item in served}
    with warnings.catch_warnings():  # pyjstat's write() calls its own deprecated decoder
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = pyjstat.Dataset.read(json.dumps(document)).write("dataframe", naming="id")
    read = {(row.kpi, row.place, row.period): row.value for row in frame.itertuples()
            if not (isinstance(row.value, float) and math.isnan(row.value))}
    assert read == {(item["kpi_code"], item["place_code"], item["period"]): item["value"]
                    for item in served}
    assert json.loads(_cli(demo, "--format", "jsonstat", "--place", "NO-4001"))["value"] == (
        document["value"])


def test_fiware_entities_follow_the_key_performance_indicator_model(
        demo: Bylab, api: httpx.Client) -> None:
    params = {"place": "SE-0180", "kpi": "EC-I-T-8A"}
    entities = api.get("/api/indicators/export", params={**params, "format": "fiware"}).json()
    served = api.get("/api/indicators/values", params=params).json()
    checker = jsonschema.Draft202012Validator(
        FIWARE_KPI_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for entity in entities:
        checker.validate(entity)
    assert [entity["kpiValue"] for entity in entities] == [item["value"] for item in served]
    first = entities[0]
    assert first["id"] == "urn:ngsi-ld:KeyPerformanceIndicator:bylab:EC-I-T-8A:SE-0180:2015"
    assert first["calculationPeriod"] == {"from": "2015-01-01", "to": "2015-12-31"}
    assert first["alternateName"] == "EC: I: T: 8A" and "percent" in first["description"]
    assert len({entity["id"] for entity in entities}) == len(entities)
    assert json.loads(_cli(demo, "--format", "fiware", "--place", "SE-0180", "--kpi",
                           "EC-I-T-8A")) == entities


def test_csv_export_over_rest_keeps_the_contract(api: httpx.Client) -> None:
    response = api.get("/api/indicators/export", params={"place": "NO-4001", "kpi": "EC-P-EM-1C"})
    assert response.headers["content-type"].startswith("text/csv")
    header, *lines = response.text.splitlines()
    assert header.split(",")[:6] == ["kpi_code", "place_code", "place_name", "period", "value",
                                     "unit"]
    assert len(lines) == 15
    assert api.get("/api/indicators/export", params={"format": "xml"}).status_code == 422


@pytest.mark.parametrize("fmt", ["jsonstat", "fiware"])
def test_empty_exports_are_valid(api: httpx.Client, fmt: str) -> None:
    document = api.get("/api/indicators/export",
                       params={"place": "NO-9999", "format": fmt}).json()
    if fmt == "jsonstat":
        _check_jsonstat_dataset(document)
    else:
        assert document == []
