"""The national indicator crosswalk: the bundled file loads and names only catalogue KPIs, is
served labelled as bylab's unverified mapping, and decides how a KPI compares across
countries (refused when not comparable, a warning otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bylab.core import Bylab
from bylab.errors import InvalidInput, NotFound
from bylab.indicators.actions import kpi_show
from bylab.indicators.compare import PeerKind, indicator_compare
from bylab.indicators.crosswalk import (
    Comparability,
    bundled_crosswalk,
    cross_country,
    load_crosswalk,
)

GHG = "EN: EN: AQ: 2C"
CHILD_CARE = "SC: SH: SI: 5A"  # covered by KOSTRA, not by Kolada


def _entry(system: str, kpi: str, comparability: str) -> str:
    return (f"  - system: {system}\n    id: X1\n    name: test\n    unit: test\n"
            f"    kpi: \"{kpi}\"\n    comparability: {comparability}\n"
            f"    justification: test\n")


def _crosswalk(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "crosswalk.yaml"
    path.write_text("entries:\n" + "".join(entries), encoding="utf-8")
    return path


def test_the_bundled_crosswalk_loads_and_states_its_levels() -> None:
    entries = bundled_crosswalk()
    assert {entry.system for entry in entries} == {"kolada", "kostra", "gus_bdl"}
    ghg = {entry.id: entry for entry in entries if entry.kpi == GHG}
    assert ghg["N00401"].comparability == Comparability.CAVEAT and ghg["N00401"].caveat
    assert ghg["N07702"].comparability == Comparability.NOT_COMPARABLE
    assert all(entry.justification for entry in entries)


def test_kostra_entries_name_catalogue_kpis_and_where_they_were_seen() -> None:
    kostra = [entry for entry in bundled_crosswalk() if entry.system == "kostra"]
    assert kostra and all(entry.country == "NO" for entry in kostra)
    for entry in kostra:
        assert kpi_show(entry.kpi).kpi.code == entry.kpi
        # the ContentsCode (last part of the id) is quoted by the source that shows it
        assert entry.source and entry.id.split("/")[-1] in entry.source
        assert entry.comparability != Comparability.IDENTICAL and entry.caveat
    assert {entry.id for entry in kostra} >= {"13502/KOSandel150000", "KOSVREGLekkVann0000"}


def test_bad_crosswalk_files_are_refused_with_their_place(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_crosswalk(_crosswalk(tmp_path, _entry("kolada", "XX: 1", "identical")))
    with pytest.raises(InvalidInput, match="system"):
        load_crosswalk(_crosswalk(tmp_path, _entry("eurostat", GHG, "identical")))
    with pytest.raises(InvalidInput) as raised:
        load_crosswalk(_crosswalk(tmp_path, _entry("kolada", GHG, "roughly")))
    assert raised.value.file == "crosswalk.yaml" and "comparability" in str(raised.value)


def test_comparability_across_countries_is_the_weakest_countrys(tmp_path: Path) -> None:
    entries = load_crosswalk(_crosswalk(
        tmp_path, _entry("kolada", GHG, "identical"), _entry("kolada", GHG, "not_comparable"),
        _entry("kostra", GHG, "comparable_with_caveat"), _entry("gus_bdl", GHG,
                                                                "not_comparable")))
    assert cross_country(GHG, {"SE"}, entries) is None  # one country: nothing to reconcile
    # Sweden has an identical indicator (its best entry counts), Norway one with a caveat
    assert cross_country(GHG, {"SE", "NO"}, entries).level == Comparability.CAVEAT
    assert cross_country(GHG, {"SE", "PL"}, entries).level == Comparability.NOT_COMPARABLE
    across = cross_country("EC: P: EM: 1C", {"SE", "NO"}, entries)
    assert across.level == Comparability.UNKNOWN and "unverified" in across.message


def test_compare_across_countries_warns(demo: Bylab) -> None:
    comparison = indicator_compare(demo.system_context(), PeerKind.IDS, "NO-4001", GHG,
                                   "2023", ["SE-0180", "SE-1480"])
    [ghg] = comparison.kpis
    assert {entry.place_id for entry in ghg.entries} == {"NO-4001", "SE-0180", "SE-1480"}
    assert ghg.comparability == "unknown"  # no Norwegian entry (KOSTRA) vouches for it
    assert "NO: unknown" in ghg.warning and "SE: comparable_with_caveat" in ghg.warning
    within = indicator_compare(demo.system_context(), PeerKind.IDS, "NO-4001", GHG, "2023",
                               ["NO-4003"])
    assert within.kpis[0].warning == ""


def test_no_and_se_comparison_names_each_countrys_level() -> None:
    # child care: KOSTRA vouches for Norway with a caveat, no Kolada entry for Sweden
    across = cross_country(CHILD_CARE, {"NO", "SE"})
    assert across.level == Comparability.UNKNOWN
    assert across.message.startswith(f"{CHILD_CARE} across NO, SE is unknown (")
    assert "NO: comparable_with_caveat, SE: unknown" in across.message
    assert "unverified" in across.message
    assert cross_country(CHILD_CARE, {"NO"}) is None


def test_compare_refuses_what_is_not_comparable(demo: Bylab, tmp_path: Path) -> None:
    refusing = load_crosswalk(_crosswalk(tmp_path, _entry("kolada", GHG, "not_comparable")))
    with pytest.raises(InvalidInput, match="not compared"):
        indicator_compare(demo.system_context(), PeerKind.IDS, "NO-4001", GHG, "2023",
                          ["SE-0180"], crosswalk=refusing)
    every = indicator_compare(demo.system_context(), PeerKind.IDS, "NO-4001", None, "2023",
                              ["SE-0180"], crosswalk=refusing)
    assert GHG not in {item.kpi_code for item in every.kpis} and len(every.refused) == 1


def test_api_serves_the_crosswalk_as_unverified(api: httpx.Client) -> None:
    served = api.get("/api/indicators/crosswalk", params={"kpi": "EN-EN-AQ-2C"}).json()
    assert [item["id"] for item in served] == ["N00401", "N07702"]
    assert all("unverified" in item["status"] and item["country"] == "SE" for item in served)
    assert api.get("/api/indicators/crosswalk", params={"system": "gus_bdl"}).json()[0][
        "iso37120"] == "5.1"


def test_api_serves_kostra_entries_as_norwegian_with_their_source(api: httpx.Client) -> None:
    served = api.get("/api/indicators/crosswalk", params={"system": "KOSTRA"}).json()
    assert served and {item["country"] for item in served} == {"NO"}
    assert all(item["source"] and "unverified" in item["status"] for item in served)
    [child_care] = api.get("/api/indicators/crosswalk",
                           params={"kpi": "SC-SH-SI-5A", "system": "kostra"}).json()
    assert child_care["id"] == "13502/KOSandel150000"
    assert "evensrii/Telemark" in child_care["source"]
    assert child_care["comparability"] == "comparable_with_caveat"


def test_cli_lists_the_crosswalk(demo: Bylab) -> None:
    environment = {**os.environ, "BYLAB_DATA_DIR": str(demo.settings.data_dir)}
    done = subprocess.run([sys.executable, "-m", "bylab.cli", "indicators", "crosswalk",
                           "--kpi", "EN-EN-AQ-2C"], env=environment, capture_output=True,
                          text=True, timeout=120, check=True)
    header, *lines = done.stdout.splitlines()
    assert "unverified" in header and len(lines) == 2
    assert lines[0].startswith("kolada N00401\t") and "comparable_with_caveat" in lines[0]
