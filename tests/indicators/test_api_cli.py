"""The export contract: `bylab indicators export --format csv` and GET /api/indicators/values
give the same rows; the KPI API, coverage report and pages."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import httpx

from bylab.core import Bylab

CONTRACT_COLUMNS = ["kpi_code", "place_code", "period", "value", "unit"]


def _export(demo: Bylab, *options: str) -> list[dict[str, str]]:
    command = [sys.executable, "-m", "bylab.cli", "indicators"]
    environment = {**os.environ, "BYLAB_DATA_DIR": str(demo.settings.data_dir)}
    done = subprocess.run([*command, "export", "--format", "csv", *options], env=environment,
                          capture_output=True, text=True, timeout=120, check=True)
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_cli_export_and_api_give_the_same_rows(demo: Bylab, api: httpx.Client) -> None:
    exported = _export(demo, "--place", "NO-4001")
    assert set(CONTRACT_COLUMNS) <= set(exported[0])
    served = api.get("/api/indicators/values", params={"place": "NO-4001"}).json()
    # density 2005–2026, GHG 13 years, unemployment 2011–2025 (2026 has one month only),
    # PM2.5 2018–2021 (the station started in March 2017), 4G coverage 2022
    assert len(exported) == len(served) == 22 + 13 + 15 + 4 + 1
    for row, item in zip(exported, served, strict=True):
        assert {key: row[key] for key in row if key != "value"} == {
            key: "" if item[key] is None else str(item[key]) for key in row if key != "value"}
        assert float(row["value"]) == item["value"]
    assert {row["kpi_code"] for row in exported} == {
        "EN: EN: AQ: 2C", "EN: EN: AQ: 1C", "EC: P: EM: 1C", "EC: ICT: ICT: 4C",
        "CTX: POPULATION-DENSITY"}


def test_cli_export_filters_by_kpi_and_place(demo: Bylab, api: httpx.Client) -> None:
    exported = _export(demo, "--place", "SE-0180", "--kpi", "EC: I: T: 8A")
    assert [row["period"] for row in exported] == [str(year) for year in range(2015, 2025)]
    assert {row["unit"] for row in exported} == {"percent"}
    served = api.get("/api/indicators/values",
                     params={"place": "SE-0180", "kpi": "EC-I-T-8A"}).json()
    assert [float(row["value"]) for row in exported] == [item["value"] for item in served]


def test_kpi_api_shows_method_and_unverified_iso_candidates(api: httpx.Client) -> None:
    kpis = api.get("/api/indicators/kpis").json()
    assert sum(item["framework"] == "U4SSC" for item in kpis) == 91
    ghg = api.get("/api/indicators/kpis/EN: EN: AQ: 2C").json()
    assert ghg["method"] == "bylab_operationalisation" and ghg["countries"] == ["NO", "SE"]
    assert ghg["definition"]["formula"] == "ghg_emissions / population"
    assert "unverified" in ghg["iso37120_candidates"][0]["status"]
    assert ghg["sdg_source"] == "KS mapping (not ITU)"
    assert api.get("/api/indicators/kpis/EC-ICT-ICT-1C").json()["definition"] is None
    assert api.get("/api/indicators/kpis/NOPE").status_code == 404


def test_value_detail_carries_provenance(api: httpx.Client) -> None:
    detail = api.get("/api/indicators/value",
                     params={"kpi": "EN-EN-AQ-2C", "place": "NO-1506", "period": "2020"}).json()
    assert detail["status"] == "missing" and detail["value"] is None
    assert detail["reason"].startswith("ghg_emissions: no row for NO-1506 in 2020")


def test_coverage_counts_computed_kpis_by_dimension(api: httpx.Client) -> None:
    coverage = api.get("/api/indicators/coverage", params={"place": "NO-4001"}).json()
    assert coverage["total"] == 91 and coverage["computed"] == 4
    assert coverage["by_dimension"]["Environment"] == {"total": 17, "computed": 2}
    assert coverage["by_dimension"]["Economy"] == {"total": 45, "computed": 2}
    statuses = {item["code"]: item["status"] for item in coverage["kpis"]}
    assert statuses["EC: I: T: 8A"] == "not_mapped" and statuses["SC: EH: H: 1C"] == "not_defined"
    molde = api.get("/api/indicators/coverage", params={"place": "NO-1506"}).json()
    ghg = next(item for item in molde["kpis"] if item["code"] == "EN: EN: AQ: 2C")
    assert ghg["status"] == "missing" and ghg["reason"].startswith("ghg_emissions: no row")


def test_pages_show_the_status_of_a_formula(api: httpx.Client) -> None:
    listing = api.get("/indicators")
    assert listing.status_code == 200 and "EN-EN-AQ-2C" in listing.text
    page = api.get("/indicators/EN-EN-AQ-2C")
    assert page.status_code == 200
    assert "bylab&#39;s operationalisation" in page.text and "unverified" in page.text
    assert "Porsgrunn" in page.text and "KS&#39;s own mapping" in page.text
    assert api.get("/indicators/NOPE").status_code == 404
