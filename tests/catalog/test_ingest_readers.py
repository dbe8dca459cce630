"""Every reader on small real files: encodings, delimiters, decimal commas, Excel, GeoJSON,
Parquet and gzip; stored values are checked against the source data."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bylab.catalog.ingest import ingest_file
from bylab.catalog.ingest.text_encoding import detect_encoding
from bylab.settings import Settings
from tests.conftest import TEST_DATA

CATALOG_DATA = TEST_DATA / "catalog"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key="test")


def _rows(parquet: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT * FROM read_parquet('{parquet}')").fetchall()


def _types(columns: list[dict[str, object]]) -> dict[str, object]:
    return {str(column["name"]): column["type"] for column in columns}


def test_semicolon_cp1252_csv_with_crlf(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "no_population_molde_region_cp1252.csv"
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    with open(source, encoding="cp1252", newline="") as raw:
        expected = list(csv.reader(raw, delimiter=";"))[1:]
    rows = _rows(target)
    assert result.row_count == len(expected) == len(rows)
    assert [row[1] for row in rows] == [line[1] for line in expected]  # Ålesund intact
    assert [row[3] for row in rows] == [int(line[3]) for line in expected]
    types = _types(result.columns)
    assert types["municipality_code"] == "VARCHAR"  # a code, not a number
    assert types["population"] == "BIGINT"
    assert types["summed_from_former_municipalities"] == "BOOLEAN"
    assert result.sha256 and result.byte_size == target.stat().st_size


def test_decimal_comma_becomes_double(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "no_broadband_coverage_cp1252_decimal_comma.csv"
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    with open(source, encoding="cp1252", newline="") as raw:
        expected = list(csv.reader(raw, delimiter=";"))[1:]
    assert _types(result.columns)["fiber"] == "DOUBLE"
    rows = _rows(target)
    assert [row[3] for row in rows] == [float(line[3].replace(",", ".")) for line in expected]
    assert {row[1] for row in rows} >= {"HÅ", "KVITSØY", "TYSVÆR"}


def test_polish_cp1250_is_recognised() -> None:
    sample = (CATALOG_DATA / "pl_voivodeships_cp1250.csv").read_bytes()
    assert detect_encoding(sample, complete=True) == "cp1250"
    norwegian = (CATALOG_DATA / "no_population_molde_region_cp1252.csv").read_bytes()
    assert detect_encoding(norwegian, complete=True) == "cp1252"


def test_polish_names_and_zero_padded_codes(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "pl_voivodeships_cp1250.csv"
    target = tmp_path / "out.parquet"
    ingest_file(source, source.name, target, settings)
    stored = dict(_rows(target))
    assert stored["02"] == "dolnośląskie" and stored["10"] == "łódzkie"
    assert stored["26"] == "świętokrzyskie"


def test_utf8_bom_tab_separated(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "se_ev_charging_utf8_bom.tsv"
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    assert result.columns[0]["name"] == "municipality_code"  # no BOM in the name
    first = _rows(target)[0]
    assert first[:2] == ("0114", "Upplands Väsby") and first[3] == 6.01


def test_gzipped_csv(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "no_population_molde_region_cp1252.csv"
    packed = tmp_path / "population.csv.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    target = tmp_path / "out.parquet"
    result = ingest_file(packed, packed.name, target, settings)
    assert result.row_count == 50
    assert _rows(target)[0][:4] == ("1505", "Kristiansund", 2005, 22327)


def test_quoted_fields_with_delimiters_and_newlines(settings: Settings,
                                                     tmp_path: Path) -> None:
    # Hand-written from real values (Klimatkollen: Vallentuna's climate plan link holds a comma).
    source = tmp_path / "plans.csv"
    source.write_text(
        'municipality_code,municipality_name,climate_plan_link\n'
        '0115,Vallentuna,"https://dok.vallentuna.se/file/2.%20bygga,%20bo"\n'
        '0114,"Upplands\nVäsby",x\n', encoding="utf-8")
    target = tmp_path / "out.parquet"
    ingest_file(source, source.name, target, settings)
    rows = _rows(target)
    assert rows[0][2] == "https://dok.vallentuna.se/file/2.%20bygga,%20bo"
    assert rows[1][1] == "Upplands\nVäsby"


def test_excel_first_sheet_types_and_nulls(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "se_population_2023_2024.xlsx"
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    types = _types(result.columns)
    assert types == {"municipality_code": "VARCHAR", "municipality_name": "VARCHAR",
                     "year": "BIGINT", "reference_date": "DATE", "population": "BIGINT",
                     "population_female": "BIGINT", "population_male": "BIGINT"}
    rows = _rows(target)
    assert rows[0][0] == "0114" and rows[0][4] == 50110 and rows[0][5] is None
    assert rows[1][5] == 24928 and str(rows[1][3]) == "2024-12-31"
    nullable = {column["name"]: column["nullable"] for column in result.columns}
    assert nullable["population_female"] and not nullable["population"]


def test_geojson_geometry_and_properties(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "no_kommuner_molde_region.geojson"
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    assert result.is_spatial and result.row_count == 4
    assert [column["name"] for column in result.columns][-1] == "geometry"
    document = json.loads(source.read_text(encoding="utf-8"))
    stored = {row[1]: row for row in _rows(target)}
    for feature in document["features"]:
        row = stored[feature["properties"]["kommunenummer"]]
        assert row[2] == feature["properties"]["name"]
        assert json.loads(row[-1]) == feature["geometry"]


def test_parquet_is_validated_and_copied(settings: Settings, tmp_path: Path) -> None:
    with open(CATALOG_DATA / "se_ev_charging_utf8_bom.tsv", encoding="utf-8-sig") as raw:
        records = list(csv.DictReader(raw, delimiter="\t"))
    source = tmp_path / "charging.parquet"
    pq.write_table(pa.Table.from_pylist(records), source)
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    assert result.row_count == len(records)
    assert _rows(target)[0][1] == records[0]["municipality_name"]


def test_progress_is_reported_in_bytes(settings: Settings, tmp_path: Path) -> None:
    source = CATALOG_DATA / "no_broadband_coverage_cp1252_decimal_comma.csv"
    reports: list[tuple[int, int | None, str]] = []
    ingest_file(source, source.name, tmp_path / "out.parquet", settings,
                lambda done, total, unit: reports.append((done, total, unit)))
    size = source.stat().st_size
    assert reports and reports[-1] == (size, size, "bytes")
    assert all(done <= size for done, _total, _unit in reports)
