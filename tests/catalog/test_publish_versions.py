"""Publishing, versions and downloads on both storage backends: old versions stay
downloadable, and every download format gives back the real values."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from bylab.auth.actions import actor_from_token
from bylab.catalog.export import dataset_export, dataset_preview
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_add_version, dataset_publish
from bylab.catalog.queries import DatasetQuery, dataset_search, dataset_show
from bylab.core import Bylab
from bylab.errors import InvalidInput, NotFound
from tests.conftest import TEST_DATA

CATALOG_DATA = TEST_DATA / "catalog"
POPULATION = CATALOG_DATA / "no_population_molde_region_cp1252.csv"
KOMMUNER = CATALOG_DATA / "no_kommuner_molde_region.geojson"


def _population_rows() -> list[list[str]]:
    with open(POPULATION, encoding="cp1252", newline="") as raw:
        return list(csv.reader(raw, delimiter=";"))


@pytest.fixture
def mia(bylab: Bylab, accounts_setup: dict[str, str]):  # noqa: ANN201
    return bylab.context(actor_from_token(bylab.context(), accounts_setup["mia"]))


def test_versions_are_kept_and_downloadable(bylab: Bylab, mia) -> None:  # noqa: ANN001
    metadata = DatasetMetadata(name="population", title={"en": "Population"},
                               organisation="molde", visibility="public")
    dataset = dataset_publish(mia, metadata, POPULATION)
    first_modified = dataset.modified
    version = dataset_add_version(mia, "population",
                                  CATALOG_DATA / "se_population_2023_2024.xlsx",
                                  note="Swedish figures")
    assert version.version == 2 and version.note == "Swedish figures"
    shown = dataset_show(bylab.context(), "population")
    # SQLite gives naive UTC datetimes back, PostgreSQL aware ones
    assert shown.latest_version == 2
    assert shown.modified.replace(tzinfo=None) >= first_modified.replace(tzinfo=None)
    assert [v.version for v in shown.versions] == [1, 2]
    old = io.StringIO(dataset_export(bylab.context(), "population", "csv", version=1)
                      .path.read_text(encoding="utf-8"))
    assert list(csv.reader(old))[1][:4] == _population_rows()[1][:4]
    new_rows = dataset_preview(bylab.context(), "population", limit=2).rows
    assert new_rows[0][:2] == ["0114", "Upplands Väsby"]
    found = dataset_search(bylab.context(), DatasetQuery(text="reference_date"))
    assert [d.name for d in found.datasets] == ["population"]  # column names are searchable


def test_every_download_format_round_trips(bylab: Bylab, mia) -> None:  # noqa: ANN001
    dataset_publish(mia, DatasetMetadata(name="population", title={"en": "Population"},
                                         organisation="molde"), POPULATION)
    expected = _population_rows()
    csv_file = dataset_export(mia, "population", "csv")
    with open(csv_file.path, encoding="utf-8", newline="") as raw:
        rows = list(csv.reader(raw))
    assert rows[0] == expected[0]
    assert [row[:4] for row in rows[1:]] == [row[:4] for row in expected[1:]]
    records = json.loads(dataset_export(mia, "population", "json").path.read_text())
    assert [(r["municipality_name"], r["population"]) for r in records] == [
        (row[1], int(row[3])) for row in expected[1:]]
    parquet = dataset_export(mia, "population", "parquet")
    scan = f"read_parquet('{parquet.path}')"
    stored = duckdb.sql(f"SELECT sum(population) FROM {scan}").fetchall()[0]
    assert stored[0] == sum(int(row[3]) for row in expected[1:])
    with pytest.raises(InvalidInput):
        dataset_export(mia, "population", "geojson")
    with pytest.raises(InvalidInput):
        dataset_export(mia, "population", "xml")


def test_geojson_round_trip_and_spatial_flag(bylab: Bylab, mia) -> None:  # noqa: ANN001
    dataset = dataset_publish(mia, DatasetMetadata(name="kommuner", title={"nb": "Kommuner"},
                                                   organisation="molde"), KOMMUNER)
    assert dataset.is_spatial
    exported = json.loads(dataset_export(mia, "kommuner", "geojson").path.read_text())
    original = json.loads(KOMMUNER.read_text(encoding="utf-8"))
    assert exported["type"] == "FeatureCollection"
    assert [f["properties"] for f in exported["features"]] == [
        f["properties"] for f in original["features"]]
    assert [f["geometry"] for f in exported["features"]] == [
        f["geometry"] for f in original["features"]]


def test_private_data_is_not_readable_by_others(bylab: Bylab, mia,  # noqa: ANN001
                                                accounts_setup: dict[str, str]) -> None:
    dataset_publish(mia, DatasetMetadata(name="internal", title={"en": "Internal"},
                                         organisation="molde"), POPULATION)
    ada = bylab.context(actor_from_token(bylab.context(), accounts_setup["ada"]))
    for ctx in (ada, bylab.context()):
        with pytest.raises(NotFound):
            dataset_export(ctx, "internal", "csv")
        with pytest.raises(NotFound):
            dataset_preview(ctx, "internal")
    assert dataset_preview(mia, "internal", limit=1, offset=49).rows[0][1] == "Haram"


def test_failed_database_write_removes_the_new_file(bylab: Bylab, mia,  # noqa: ANN001
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = dataset_publish(mia, DatasetMetadata(name="population", title={"en": "P"},
                                                   organisation="molde"), POPULATION)
    from bylab.catalog import publish

    def failing_record(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(publish, "_record_version", failing_record)
    with pytest.raises(RuntimeError):
        dataset_add_version(mia, "population", POPULATION)
    folder = bylab.tables.root / dataset.id
    assert sorted(path.name for path in folder.glob("*.parquet")) == ["v1.parquet"]
    assert not any(path.name.endswith(".tmp") for path in folder.iterdir())
    assert dataset_show(mia, "population").latest_version == 1


def test_bad_file_leaves_no_trace_on_this_backend(bylab: Bylab, mia,  # noqa: ANN001
                                                  tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a;b\n1;2\n3\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        dataset_publish(mia, DatasetMetadata(name="ragged", title={"en": "R"},
                                             organisation="molde"), ragged)
    assert refused.value.row == 3
    with pytest.raises(NotFound):
        dataset_show(mia, "ragged")
    assert not any(bylab.tables.root.iterdir())


def test_timestamps_with_zone_preview_and_export(bylab: Bylab, mia) -> None:  # noqa: ANN001
    source = CATALOG_DATA / "no_air_quality_valand_hourly.csv"
    dataset = dataset_publish(mia, DatasetMetadata(name="air", title={"en": "Air"},
                                                   organisation="molde"), source)
    columns = {column["name"]: column for column in dataset.versions[-1].columns}
    assert columns["timestamp_utc"]["type"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["temperature_c"]["nullable"] and columns["pm25_ugm3"]["type"] == "DOUBLE"
    first = dataset_preview(mia, "air", limit=1).rows[0]
    assert first[:3] == ["Valand", "2016-12-31 23:00:00+00", 21.4]
    records = json.loads(dataset_export(mia, "air", "json").path.read_text())
    assert records[1]["temperature_c"] == 4.6 and records[0]["temperature_c"] is None
