"""Parsing the real recorded responses into tidy tables, and malformed ones into errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from bylab.connectors.jsonstat import parse_document, parse_file, parse_period
from bylab.errors import InvalidInput
from tests.connectors.conftest import SCB_JSONSTAT1, SCB_V1, SCB_V2, SSB_29843, load


def _rows_where(table: pa.Table, **conditions: str) -> list[dict[str, Any]]:
    return [row for row in table.to_pylist()
            if all(row[name] == value for name, value in conditions.items())]


def test_scb_v1_json_population_of_sweden() -> None:
    parsed = parse_file(SCB_V1)
    assert parsed.label == "Population by region, age, year and observations"
    assert parsed.region_column == "region_code"
    by_year = {row["time_code"]: row for row in parsed.table.to_pylist()}
    assert by_year["2016"]["value"] == 9_995_153
    assert by_year["2017"]["value"] == 10_120_242
    assert by_year["2017"]["period"] == date(2017, 1, 1)
    assert by_year["2017"]["period_type"] == "year"
    assert by_year["2017"]["region_code"] == "00"
    assert by_year["2017"]["contents"] == "Population"
    assert parsed.table.schema.field("value").type == pa.int64()


def test_scb_v2_jsonstat2_one_cell_with_unit() -> None:
    parsed = parse_file(SCB_V2)
    assert parsed.source == "SCB"
    [row] = parsed.table.to_pylist()
    assert row["value"] == 50_937
    assert (row["region_code"], row["region"]) == ("00", "Riket")
    assert (row["civilstand_code"], row["civilstand"]) == ("OG", "ogifta")
    assert (row["kon"], row["alder"]) == ("män", "0 år")
    assert row["unit"] == "antal personer"
    assert (row["period"], row["period_type"]) == (date(2024, 1, 1), "year")
    assert row["status"] is None


def test_ssb_29843_jsonstat1_monthly_with_suppressed_cells() -> None:
    parsed = parse_file(SSB_29843)
    table = parsed.table
    assert table.num_rows == 37_440
    assert parsed.suppressed_cells == 7_200
    statuses = table.column("status").to_pylist()
    values = table.column("value").to_pylist()
    assert statuses.count(".") == 7_200
    assert all(value is None for value, status in zip(values, statuses) if status == ".")
    [unadjusted] = _rows_where(table, pkoder_code="P1021", contents_code="PeriodeRa",
                               time_code="2015M12")
    assert unadjusted["value"] == pytest.approx(56.2)
    assert unadjusted["period"] == date(2015, 12, 1)
    assert unadjusted["period_type"] == "month"
    assert unadjusted["unit"] == "index"
    [weight] = _rows_where(table, pkoder_code="P1021", contents_code="Vekter",
                           time_code="2015M12")
    assert (weight["value"], weight["unit"]) == (pytest.approx(350.9), "per 1 000")
    assert parsed.region_column is None


def test_scb_jsonstat1_bundle() -> None:
    parsed = parse_file(SCB_JSONSTAT1)
    assert parsed.table.num_rows == 1 * 1 * 20 * 2 * 1 * 28
    [oldest_women_1996] = _rows_where(parsed.table, alder_code="90+", kon_code="2",
                                      time_code="1996")
    assert oldest_women_1996["value"] == 137
    assert oldest_women_1996["region"] == "25 Norrbottens län"
    assert oldest_women_1996["unit"] == "antal"


def test_suppression_markers_in_values_and_status() -> None:
    # The real TAB638 answer, changed in memory to four cells: SSB/SCB markers given as
    # values ("..", ":") and a JSON-stat status object ("." for a null value).
    document = load(SCB_V2)
    tid = document["dimension"]["Tid"]["category"]
    tid["index"] = {"2021": 0, "2022": 1, "2023": 2, "2024": 3}
    tid["label"] = {code: code for code in tid["index"]}
    document["size"][-1] = 4
    document["value"] = ["..", ":", None, 50937]
    document["status"] = {"2": "."}
    parsed = parse_document(document, "modified.json")
    rows = parsed.table.to_pylist()
    assert [(row["value"], row["status"]) for row in rows] == [
        (None, ".."), (None, ":"), (None, "."), (50937, None)]
    assert parsed.suppressed_cells == 3


@pytest.mark.parametrize(("code", "period", "period_type"), [
    ("2023", date(2023, 1, 1), "year"),
    ("2023K1", date(2023, 1, 1), "quarter"),
    ("2023Q2", date(2023, 4, 1), "quarter"),
    ("2023K4", date(2023, 10, 1), "quarter"),
    ("2023M01", date(2023, 1, 1), "month"),
    ("2023M12", date(2023, 12, 1), "month"),
    ("2023H2", date(2023, 7, 1), "half_year"),
    ("2023U02", date(2023, 1, 9), "week"),
    ("2016-2018", None, None),
    ("2023M13", None, None),
])
def test_time_codes(code: str, period: date | None, period_type: str | None) -> None:
    assert parse_period(code) == (period, period_type)


def test_missing_id_names_file_and_path() -> None:
    document = load(SCB_V2)
    del document["id"]
    with pytest.raises(InvalidInput) as caught:
        parse_document(document, "TAB638.json")
    assert (caught.value.file, caught.value.field) == ("TAB638.json", "id")


def test_missing_dimension_in_jsonstat1_names_its_path() -> None:
    document = load(SSB_29843)
    del document["dataset"]["dimension"]["Tid"]
    with pytest.raises(InvalidInput) as caught:
        parse_document(document, "29843.json")
    assert caught.value.field == "dataset.dimension.Tid"
    assert "29843.json" in str(caught.value)


def test_sizes_that_do_not_match_the_values() -> None:
    document = load(SSB_29843)
    document["dataset"]["value"].pop()
    with pytest.raises(InvalidInput, match="37,440 cells but there are 37,439") as caught:
        parse_document(document, "29843.json")
    assert caught.value.field == "dataset.value"


def test_size_that_does_not_match_the_categories() -> None:
    document = load(SCB_JSONSTAT1)
    document["dataset"]["dimension"]["size"][2] = 19
    with pytest.raises(InvalidInput, match="20 categories but size 19") as caught:
        parse_document(document, "statswe.json")
    assert caught.value.field == "dataset.dimension.Alder.category"


def test_pxweb_json_row_with_a_short_key() -> None:
    document = load(SCB_V1)
    document["data"][1]["key"] = ["00", "tot"]
    with pytest.raises(InvalidInput) as caught:
        parse_document(document, "befolkning.json")
    assert caught.value.field == "data.1.key"


def test_not_json(tmp_path) -> None:  # noqa: ANN001
    broken = tmp_path / "broken.json"
    broken.write_text('{"dataset": ')
    with pytest.raises(InvalidInput) as caught:
        parse_file(broken)
    assert caught.value.file == "broken.json"


def test_cells_that_cannot_be_stored_are_set_aside() -> None:
    # The real TAB638 answer changed in memory to five years: a word, NaN, a list and infinity
    # among two good cells. The good ones are kept; the others are rejected with their codes.
    document = load(SCB_V2)
    tid = document["dimension"]["Tid"]["category"]
    years = ["2020", "2021", "2022", "2023", "2024", "2025"]
    tid["index"] = {year: position for position, year in enumerate(years)}
    tid["label"] = {year: year for year in years}
    document["size"][-1] = len(years)
    document["value"] = [1, "n/a", float("nan"), [3], "Infinity", 50937]
    parsed = parse_document(document, "bad-cells.json")
    assert [row["value"] for row in parsed.table.to_pylist()] == [1, 50937]
    assert parsed.cells_read == 6
    assert [(cell.position, cell.codes["Tid"]) for cell in parsed.rejected] == [
        (1, "2021"), (2, "2022"), (3, "2023"), (4, "2024")]
    assert "neither a number nor a suppression marker: 'n/a'" in parsed.rejected[0].reason
    assert "not a finite number" in parsed.rejected[1].reason
    assert parsed.rejected[0].location == ("cell 1 (Region=00, Civilstand=OG, Alder=0, Kon=1, "
                                           "ContentsCode=BE0101N1, Tid=2021)")
