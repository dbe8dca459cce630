"""PC-Axis files: the real SCB example files (tests/data/connectors) parsed into tidy tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bylab.connectors.harvest import parse_saved_file
from bylab.connectors.px import is_px, parse_px_file
from bylab.errors import InvalidInput
from tests.connectors.conftest import PX_MONTHLY, PX_POPULATION, PX_QUARTERLY, SCB_V2


def test_population_by_county_and_sex() -> None:
    parsed = parse_px_file(PX_POPULATION)
    assert parsed.label == "Population by region, period and sex"
    assert (parsed.source, parsed.updated) == ("Statistics Sweden", "20090213 07:19")
    assert parsed.region_column == "region_code"
    assert parsed.dimension_ids == ["region", "period", "sex"]
    rows = parsed.table.to_pylist()
    assert len(rows) == 21 * 2 * 2
    # The first line of DATA= in the file: Stockholm 2007 men, women, 2008 men, women.
    assert [row["value"] for row in rows[:4]] == [961146, 988370, 977799, 1003464]
    first = rows[0]
    assert (first["region_code"], first["region"]) == ("01", "01 Stockholm county")
    assert (first["sex_code"], first["sex"]) == ("1", "men")
    assert (first["period"], first["period_type"], first["unit"]) == (
        date(2007, 1, 1), "year", "number")
    # CHARSET="ANSI" is Windows-1252: the county names keep their letters.
    assert "04 Södermanland county" in {row["region"] for row in rows}


def test_quarterly_time_codes() -> None:
    parsed = parse_px_file(PX_QUARTERLY)
    rows = parsed.table.to_pylist()
    assert rows[0]["time_code"] == "2006K1"
    assert {(row["time_code"], row["period"], row["period_type"]) for row in rows[:4]} == {
        ("2006K1", date(2006, 1, 1), "quarter"), ("2006K2", date(2006, 4, 1), "quarter"),
        ("2006K3", date(2006, 7, 1), "quarter"), ("2006K4", date(2006, 10, 1), "quarter")}
    assert rows[0]["value"] == 146 and rows[0]["unit"] == "index"
    assert parsed.region_column is None


def test_monthly_decimals() -> None:
    rows = parse_px_file(PX_MONTHLY).table.to_pylist()
    assert (rows[0]["time_code"], rows[0]["period"], rows[0]["period_type"]) == (
        "2004M09", date(2004, 9, 1), "month")
    assert rows[0]["value"] == pytest.approx(99.67)
    assert len(rows) == 58


def test_markers_and_bad_cells(tmp_path: Path) -> None:
    # The real BE0101N1 file, changed on disk in a temporary copy: three cells replaced by a
    # suppression marker, a dash and a word.
    text = PX_POPULATION.read_bytes().replace(b"961146 988370 977799", b'".." "-" abc', 1)
    changed = tmp_path / "changed.px"
    changed.write_bytes(text)
    parsed = parse_px_file(changed)
    rows = parsed.table.to_pylist()
    assert [(row["value"], row["status"]) for row in rows[:3]] == [
        (None, ".."), (None, "-"), (1003464, None)]
    [bad] = parsed.rejected
    assert bad.codes == {"region": "01", "period": "2008", "sex": "1"}
    assert "abc" in bad.reason and bad.location.startswith("cell 2 ")
    assert len(rows) == 83  # every other cell is kept


def test_wrong_cell_count(tmp_path: Path) -> None:
    broken = tmp_path / "short.px"
    broken.write_bytes(PX_POPULATION.read_bytes().replace(b"961146 988370 ", b"", 1))
    with pytest.raises(InvalidInput, match=r"not a readable PX file .*82.*84") as caught:
        parse_px_file(broken)
    assert caught.value.file == "short.px"


def test_saved_files_are_told_apart() -> None:
    assert is_px(PX_POPULATION) and not is_px(SCB_V2)
    assert parse_saved_file(PX_MONTHLY, "m.px").table.num_rows == 58
    assert parse_saved_file(SCB_V2, "v2.json").table.num_rows == 1
