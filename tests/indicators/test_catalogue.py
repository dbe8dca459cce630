"""The KPI catalogue and the declarative definition files."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from bylab.errors import InvalidInput
from bylab.indicators.actions import kpi_list, kpi_show
from bylab.indicators.kpis import iso37120_indicators, u4ssc_kpis
from bylab.indicators.specs import (
    bundled_definitions,
    bundled_mappings,
    check_input_units,
    load_definition,
    load_definitions,
)

TEST_DATA = Path(__file__).parents[1] / "data" / "indicators"


def test_catalogue_holds_the_91_kpis_by_dimension() -> None:
    kpis = u4ssc_kpis()
    assert len(kpis) == len({kpi.code for kpi in kpis}) == 91
    assert Counter(kpi.dimension for kpi in kpis) == {
        "Economy": 45, "Environment": 17, "Society and Culture": 29}
    assert sum(kpi.has_itu_formula for kpi in kpis) == 27  # per catalogue/SOURCES.md
    assert len(iso37120_indicators()) == 100


def test_names_fall_back_to_english_and_iso_pairs_are_unverified() -> None:
    ghg = kpi_show("EN-EN-AQ-2C").kpi
    assert ghg.code == "EN: EN: AQ: 2C" and ghg.name("de") == ghg.name("en") == "GHG Emissions"
    assert [candidate.number for candidate in ghg.iso_candidates] == ["8.3"]
    assert not any(candidate.verified for kpi in u4ssc_kpis() for candidate in kpi.iso_candidates)


def test_every_definition_loads_and_names_a_catalogue_kpi() -> None:
    definitions = bundled_definitions()
    codes = {kpi.code for kpi in u4ssc_kpis()}
    for code, definition in definitions.items():
        assert definition.framework != "U4SSC" or code in codes, code
        for mapping in bundled_mappings().values():
            check_input_units(definition, mapping)
    entries = {entry.kpi.code: entry for entry in kpi_list()}
    assert entries["EN: EN: AQ: 2C"].countries == ("NO", "SE")
    assert entries["EC: I: T: 8A"].countries == ("SE",)
    assert entries["CTX: POPULATION-DENSITY"].kpi.framework == "bylab context"


@pytest.mark.parametrize(("filename", "field", "message"), [
    ("units_do_not_combine.yaml", "formula", "formula units do not combine"),
    ("undeclared_input.yaml", None, "formula uses undeclared inputs: households"),
])
def test_bad_definitions_are_rejected_with_file_and_field(filename: str, field: str | None,
                                                          message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_definition(TEST_DATA / "bad" / filename)
    assert caught.value.file == filename and caught.value.field == field
    assert caught.value.message.startswith(message)


def test_a_kpi_defined_twice_is_rejected(tmp_path: Path) -> None:
    source = TEST_DATA / "shared" / "definition.yaml"
    shutil.copy(source, tmp_path / "a.yaml")
    shutil.copy(source, tmp_path / "b.yaml")
    with pytest.raises(InvalidInput, match="defined twice"):
        load_definitions(tmp_path)
