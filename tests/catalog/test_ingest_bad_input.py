"""Bad files are refused with an error naming the file and the row/field, and leave nothing
behind: no dataset, no version, no file in the table store or the uploads folder. Bad
inputs are made here from real fixture rows, not committed."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bylab.auth import actions as accounts
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset, DatasetVersion
from bylab.catalog.publish import dataset_add_version, dataset_publish
from bylab.core import Bylab
from bylab.errors import Conflict, InvalidInput, TooLarge
from bylab.testing.backends import embedded_instance
from tests.conftest import TEST_DATA

CATALOG_DATA = TEST_DATA / "catalog"
POPULATION = CATALOG_DATA / "no_population_molde_region_cp1252.csv"
# Real rows of the population fixture, as UTF-8 text.
POPULATION_TEXT = POPULATION.read_text(encoding="cp1252").replace("\r\n", "\n")
HEADER, FIRST_ROW, SECOND_ROW, *OTHER_ROWS = POPULATION_TEXT.splitlines()


def _metadata(name: str = "population") -> DatasetMetadata:
    return DatasetMetadata(name=name, title={"en": "Population"}, organisation="molde")


@pytest.fixture
def instance(tmp_path: Path) -> Bylab:
    bylab = embedded_instance(tmp_path / "data", max_upload_bytes=2_000_000, max_columns=12)
    accounts.organisation_create(bylab.system_context(), "molde", "Molde kommune")
    yield bylab
    bylab.close()


def _stored_files(bylab: Bylab) -> list[Path]:
    folders = [bylab.settings.tables_dir, bylab.settings.uploads_dir]
    return [path for folder in folders if folder.exists() for path in folder.rglob("*")
            if path.is_file() and path.name != ".versions.lock"]


def _assert_nothing_stored(bylab: Bylab) -> None:
    with bylab.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 0
        assert session.scalar(select(func.count()).select_from(DatasetVersion)) == 0
    assert _stored_files(bylab) == []
    assert not any(bylab.settings.tables_dir.iterdir())


def _refused(bylab: Bylab, path: Path, error_type: type[Exception] = InvalidInput):
    with pytest.raises(error_type) as refused:
        dataset_publish(bylab.system_context(), _metadata(), path)
    _assert_nothing_stored(bylab)
    assert refused.value.file == path.name
    return refused.value


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_ragged_row_names_the_line(instance: Bylab, tmp_path: Path) -> None:
    short = ";".join(SECOND_ROW.split(";")[:-2])
    path = _write(tmp_path, "ragged.csv", "\n".join([HEADER, FIRST_ROW, short, *OTHER_ROWS]))
    error = _refused(instance, path)
    assert error.row == 3 and "line 3" in str(error)


def test_mixed_types_are_stored_as_text_with_a_warning(instance: Bylab,
                                                        tmp_path: Path) -> None:
    fields = SECOND_ROW.split(";")
    fields[3] = "ca. 22500"  # a population written as text
    path = _write(tmp_path, "mixed.csv",
                  "\n".join([HEADER, FIRST_ROW, ";".join(fields), *OTHER_ROWS]))
    dataset = dataset_publish(instance.system_context(), _metadata(), path)
    columns = {column["name"]: column for column in dataset.versions[-1].columns}
    assert columns["population"]["type"] == "VARCHAR"
    assert "line 3" in columns["population"]["warning"]
    assert "ca. 22500" in columns["population"]["warning"]
    assert columns["population_male"]["type"] == "BIGINT" and "warning" not in columns["year"]


def test_mixed_types_late_in_a_large_file(instance: Bylab, tmp_path: Path) -> None:
    # Beyond the sniffed sample: DuckDB finds it, the column becomes text.
    rows = [FIRST_ROW] * 30_000
    fields = FIRST_ROW.split(";")
    fields[4] = "n/a"
    rows.append(";".join(fields))
    path = _write(tmp_path, "late.csv", "\n".join([HEADER, *rows]))
    dataset = dataset_publish(instance.system_context(), _metadata(), path)
    columns = {column["name"]: column for column in dataset.versions[-1].columns}
    assert columns["population_female"]["type"] == "VARCHAR"
    assert "line 30002" in columns["population_female"]["warning"]
    assert dataset.versions[-1].row_count == 30_001


def test_undecodable_bytes_name_offset_and_line(instance: Bylab, tmp_path: Path) -> None:
    head = "\n".join([HEADER, FIRST_ROW]) + "\n"
    # UTF-8 sample, then a cp1252 'Å' on line 3 of a file longer than the sniffed sample.
    body = ("\n".join(OTHER_ROWS) + "\n") * 400
    bad = SECOND_ROW.replace("Kristiansund", "\xc5lesund")
    raw = head.encode() + body.encode() + bad.encode("cp1252") + b"\n"
    path = tmp_path / "mixed-encoding.csv"
    path.write_bytes(raw)
    error = _refused(instance, path)
    offset = len(head.encode()) + len(body.encode()) + bad.index("\xc5")
    assert f"byte offset {offset}" in str(error)
    assert error.row == 2 + body.count("\n") + 1


@pytest.mark.parametrize("content,kind", [
    (b"<!DOCTYPE html><html><table><tr><td>1505</td></tr></table></html>", "HTML"),
    (HEADER.encode() + b"\n" + FIRST_ROW.encode(), "CSV"),
])
def test_excel_that_is_really_html_or_csv(instance: Bylab, tmp_path: Path, content: bytes,
                                          kind: str) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    error = _refused(instance, path)
    assert kind in str(error)


@pytest.mark.parametrize("problem,expected", [
    ({"type": "Polygon", "coordinates": [[[6.9, 62.7], [7.2]]]}, "malformed geometry"),
    ({"type": "Polygon", "coordinates": []}, "empty geometry"),
    (None, "no geometry"),
    ({"type": "Point", "coordinates": [395000.0, 6960000.0]}, "longitude/latitude"),
])
def test_invalid_geojson_names_the_feature(instance: Bylab, tmp_path: Path,
                                           problem: dict | None, expected: str) -> None:
    document = json.loads((CATALOG_DATA / "no_kommuner_molde_region.geojson").read_text())
    document["features"][2]["geometry"] = problem
    path = _write(tmp_path, "kommuner.geojson", json.dumps(document))
    error = _refused(instance, path)
    assert error.row == 2 and error.field == "features[2].geometry"
    assert expected in error.message


def test_geojson_that_is_not_a_feature_collection(instance: Bylab, tmp_path: Path) -> None:
    path = _write(tmp_path, "point.geojson", '{"type": "Point", "coordinates": [7.16, 62.74]}')
    assert _refused(instance, path).field == "type"
    broken = _write(tmp_path, "broken.geojson", '{"type": "FeatureCollection",\n "features": [')
    assert _refused(instance, broken).row == 2


@pytest.mark.parametrize("content", ["", "\n", HEADER + "\n"])
def test_empty_file_or_header_only(instance: Bylab, tmp_path: Path, content: str) -> None:
    error = _refused(instance, _write(tmp_path, "empty.csv", content))
    assert "empty" in str(error) or "no data rows" in str(error)


def test_file_over_the_size_limit(instance: Bylab, tmp_path: Path) -> None:
    rows = "\n".join([HEADER] + [FIRST_ROW] * 40_000)
    error = _refused(instance, _write(tmp_path, "big.csv", rows), TooLarge)
    assert "limit" in str(error)


def test_gzip_bomb_stops_early(instance: Bylab, tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as packed:
        packed.write(HEADER.encode() + b"\n")
        packed.write(b"0" * 50_000_000)
    error = _refused(instance, path, TooLarge)
    assert "bytes" in str(error) or "bomb" in str(error)


def test_xlsx_zip_bomb(instance: Bylab, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * 30_000_000)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(buffer.getvalue())
    _refused(instance, path, TooLarge)


def test_too_many_columns(instance: Bylab, tmp_path: Path) -> None:
    header = ";".join(f"age_{age}" for age in range(20))
    error = _refused(instance, _write(tmp_path, "wide.csv", header + "\n" + ";".join(["1"] * 20)))
    assert "20 columns" in str(error) and "12" in str(error)


def test_duplicate_column_names(instance: Bylab, tmp_path: Path) -> None:
    header = HEADER.replace("population_male", "Population")
    error = _refused(instance, _write(tmp_path, "dup.csv", header + "\n" + FIRST_ROW))
    assert error.field == "Population" and "4" in str(error) and "6" in str(error)


def test_duplicate_dataset_name_reads_no_file(instance: Bylab, tmp_path: Path) -> None:
    ctx = instance.system_context()
    dataset_publish(ctx, _metadata(), POPULATION)
    files_before = _stored_files(instance)
    with pytest.raises(Conflict):
        dataset_publish(ctx, _metadata(), POPULATION)
    assert _stored_files(instance) == files_before


def test_bad_new_version_adds_nothing(instance: Bylab, tmp_path: Path) -> None:
    ctx = instance.system_context()
    dataset = dataset_publish(ctx, _metadata(), POPULATION)
    files_before = sorted(_stored_files(instance))
    ragged = _write(tmp_path, "ragged.csv", "\n".join([HEADER, FIRST_ROW, "1505;x"]))
    with pytest.raises(InvalidInput) as refused:
        dataset_add_version(ctx, "population", ragged)
    assert refused.value.file == "ragged.csv" and refused.value.row == 3
    assert sorted(_stored_files(instance)) == files_before
    with instance.db.session() as session:
        versions = session.scalars(select(DatasetVersion.version)
                                   .where(DatasetVersion.dataset_id == dataset.id)).all()
        assert versions == [1]
        assert session.get(Dataset, dataset.id).latest_version == 1


def test_self_intersecting_geometry_is_kept_with_a_warning(instance: Bylab,
                                                           tmp_path: Path) -> None:
    """Simplified official boundaries often self-intersect: keep them, and say so."""
    document = json.loads((CATALOG_DATA / "no_kommuner_molde_region.geojson").read_text())
    bow_tie = {"type": "Polygon", "coordinates": [[[6.9, 62.7], [7.2, 62.8], [6.9, 62.8],
                                                   [7.2, 62.7], [6.9, 62.7]]]}
    document["features"][2]["geometry"] = bow_tie
    path = _write(tmp_path, "kommuner.geojson", json.dumps(document))
    dataset = dataset_publish(instance.system_context(), _metadata(), path)
    with instance.db.session() as session:
        version = session.scalar(select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id))
    geometry_column = next(column for column in version.columns
                           if column["name"] == "geometry")
    assert "1 of" in geometry_column["warning"]
    assert "feature 2: Self-intersection" in geometry_column["warning"]
