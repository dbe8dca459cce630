"""The fast CSV reader (pyarrow) stores exactly what DuckDB's reader stores, or declines.

Each case runs both readers on the same file and compares the stored rows and types. The
real fixtures (tests/data/catalog, transcoded to UTF-8) must take the fast path; the
hand-written edge cases below are made-up values, not data.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from bylab.catalog.ingest import csv_arrow_reader, ingest_file
from bylab.catalog.ingest.csv_arrow_reader import arrow_csv_to_parquet
from bylab.catalog.ingest.csv_reader import csv_to_parquet
from bylab.catalog.ingest.csv_sniff import CsvDialect, sniff_csv
from bylab.catalog.ingest.progress import ByteProgress
from bylab.settings import Settings
from tests.conftest import TEST_DATA

CATALOG_DATA = TEST_DATA / "catalog"
REAL_CSV = [
    ("no_population_molde_region_cp1252.csv", "cp1252"),
    ("no_broadband_coverage_cp1252_decimal_comma.csv", "cp1252"),
    ("pl_voivodeships_cp1250.csv", "cp1250"),
    ("se_ev_charging_utf8_bom.tsv", "utf-8"),
    ("no_air_quality_valand_hourly.csv", "utf-8"),
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key="test")


def _stored(path: Path) -> tuple[list[tuple], list[str]]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    scan = f"read_parquet('{path}')"
    rows = connection.execute(f"SELECT * FROM {scan}").fetchall()
    types = [row[1] for row in connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    # NaN != NaN; compare it as a marker
    rows = [tuple("NaN" if isinstance(value, float) and math.isnan(value) else value
                  for value in row) for row in rows]
    return rows, types


def _sniffed(source: Path, first_row_only: bool = False) -> CsvDialect:
    lines = source.read_bytes().decode("utf-8", "replace").splitlines(keepends=True)
    # Types from the first data row only, as when an odd value lies beyond the sample.
    return sniff_csv("".join(lines[:2] if first_row_only else lines), source.name, 100)


def _both_readers(source: Path, tmp_path: Path,
                  first_row_only: bool = False) -> tuple[object, object]:
    """(DuckDB's rows and types or its error, the fast reader's or None when it declines)."""
    dialect = _sniffed(source, first_row_only)
    duck_target, arrow_target = tmp_path / "duck.parquet", tmp_path / "arrow.parquet"
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    try:
        csv_to_parquet(connection, source, dialect, duck_target, source.name, ByteProgress(None, 1))
        duck: object = _stored(duck_target)
    except Exception as error:  # noqa: BLE001 - compared below
        duck = type(error).__name__
    accepted = arrow_csv_to_parquet(source, dialect, arrow_target, ByteProgress(None, 1))
    return duck, _stored(arrow_target) if accepted else None


@pytest.mark.parametrize("name,encoding", REAL_CSV)
def test_real_files_take_the_fast_path_and_match_duckdb(tmp_path: Path, name: str,
                                                        encoding: str) -> None:
    source = tmp_path / name
    source.write_text((CATALOG_DATA / name).read_text(encoding=encoding), encoding="utf-8")
    duck, arrow = _both_readers(source, tmp_path)
    assert arrow is not None, "declined a plain file"
    assert arrow == duck


# Made-up values probing each type's edges (header line, then one data line or more).
SAME_RESULT = [
    "a,b\nx,\n,y\n",
    "a,b\r\nx,y\r\n",
    "\ufeffa,b\nx,y\n",
    "a,b\nx,y\n\nz,w\n",
    "a,b\nx,y",
    "a,b\n x , y \n",
    "a\nx\n\ny\n",
    "a\n5\n\n6\n",
    "n,t\n 5,x\n007,x\n-0,x\n9223372036854775807,x\n",
    "f,t\n1e5,x\n.5,x\n5.,x\ninf,x\n-Infinity,x\nNaN,x\n+1.5,x\n1e400,x\n",
    "f;t\n1,5;x\n-,5;x\n1e3;x\n",
    "flag,t\ntrue,x\nTRUE,x\nFalse,x\n",
    "day,t\n2024-01-05,x\n 2024-01-06,x\n",
    "at,t\n2024-01-05 10:00,x\n2024-01-05T10:00:00.123456,x\n2024-01-05,x\n",
    "at,t\n2024-01-05T10:00:00Z,x\n2024-01-05T10:00:00+01:00,x\n2024-01-05T10:00:00.5-03:30,x\n"
    "2024-01-05T10:00:00+0100,x\n2024-01-05 10:00Z,x\n",
]
DECLINED = [
    'a,b\n"x",y\n',  # any quote: DuckDB's quoting rules decide
    'a,b\n"x" ,y\n',
    "a,b\nx,y,z\n",  # ragged: DuckDB names the line
    "n,t\n5,x\n+5,x\n",  # DuckDB reads it; pyarrow does not
    "n,t\n5,x\nn/a,x\n",  # mixed: DuckDB stores text with a warning
    "flag,t\ntrue,x\nyes,x\n",
    "day,t\n2024-01-05,x\n2024-1-5,x\n",
    "at,t\n2024-01-05T10:00:00Z,x\n2024-01-05T10:00:00,x\n",
    b"a,b\nx\xff,y\n",
]


@pytest.mark.parametrize("content", SAME_RESULT)
def test_edge_values_are_read_as_duckdb_reads_them(tmp_path: Path, content: str) -> None:
    source = tmp_path / "edge.csv"
    source.write_text(content, encoding="utf-8", newline="")
    duck, arrow = _both_readers(source, tmp_path)
    assert arrow is not None and arrow == duck


@pytest.mark.parametrize("content", DECLINED)
def test_anything_else_is_left_to_duckdb(tmp_path: Path, content: str | bytes) -> None:
    source = tmp_path / "edge.csv"
    source.write_bytes(content if isinstance(content, bytes) else content.encode())
    dialect = _sniffed(source, first_row_only=True)
    assert not arrow_csv_to_parquet(source, dialect, tmp_path / "out.parquet",
                                    ByteProgress(None, 1))


def test_an_hour_only_timestamp_is_read_as_that_hour(tmp_path: Path) -> None:
    # The one value the fast reader reads where DuckDB would make the column text.
    source = tmp_path / "hours.csv"
    source.write_text("at,t\n2024-01-05T09:30:00Z,x\n2024-01-05T10Z,y\n", encoding="utf-8")
    duck, arrow = _both_readers(source, tmp_path, first_row_only=True)
    assert arrow is not None
    assert duck[1] == ["VARCHAR", "VARCHAR"]  # type: ignore[index]
    rows, types = arrow
    assert types == ["TIMESTAMP WITH TIME ZONE", "VARCHAR"]
    assert rows[1][0].isoformat() == "2024-01-05T10:00:00+00:00"


def _observations(rows: int) -> str:
    """Made-up hourly readings, long enough to span several reading blocks."""
    lines = ["station,observed_at,pm25,flag"]
    lines += [f"S{index % 7},2024-01-{1 + index // 24 % 28:02d}T{index % 24:02d}:00:00Z,"
              f"{index % 97 / 10},{'true' if index % 3 else 'false'}" for index in range(rows)]
    return "\n".join(lines) + "\n"


def test_rows_keep_file_order_across_blocks_and_row_groups(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_arrow_reader, "BLOCK_BYTES", 16 * 1024)
    monkeypatch.setattr(csv_arrow_reader, "ROW_GROUP_ROWS", 1000)
    source = tmp_path / "observations.csv"
    source.write_text(_observations(20_000), encoding="utf-8")
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings)
    rows, types = _stored(target)
    expected = source.read_text().splitlines()[1:]
    assert result.row_count == len(rows) == 20_000
    assert [row[2] for row in rows] == [float(line.split(",")[2]) for line in expected]
    assert types == ["VARCHAR", "TIMESTAMP WITH TIME ZONE", "DOUBLE", "BOOLEAN"]
    row_groups = duckdb.sql(f"SELECT count(DISTINCT row_group_id) FROM "
                            f"parquet_metadata('{target}')").fetchall()[0][0]
    assert row_groups >= 10


def test_a_late_mixed_value_is_left_to_duckdb_with_its_warning(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Declined after several row groups were written: DuckDB's file replaces them.
    monkeypatch.setattr(csv_arrow_reader, "BLOCK_BYTES", 16 * 1024)
    monkeypatch.setattr(csv_arrow_reader, "ROW_GROUP_ROWS", 1000)
    text = _observations(20_000)
    lines = text.splitlines()
    lines[15_000] = lines[15_000].rsplit(",", 2)[0] + ",n/a," + lines[15_000].rsplit(",", 1)[1]
    source = tmp_path / "late.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports: list[int] = []
    target = tmp_path / "out.parquet"
    result = ingest_file(source, source.name, target, settings,
                         lambda done, _total, _unit: reports.append(done))
    columns = {column["name"]: column for column in result.columns}
    assert columns["pm25"]["type"] == "VARCHAR"
    assert "line 15001" in str(columns["pm25"]["warning"])
    rows, _types = _stored(target)
    assert len(rows) == result.row_count == 20_000 and rows[14_999][2] == "n/a"
    assert reports == sorted(reports) and reports[-1] == source.stat().st_size


def test_a_stray_carriage_return_at_the_end_is_read(settings: Settings,
                                                      tmp_path: Path) -> None:
    source = tmp_path / "stray.csv"
    source.write_bytes(b"a,b\nx,1\ny,2\r")
    result = ingest_file(source, source.name, tmp_path / "out.parquet", settings)
    assert result.row_count == 2
