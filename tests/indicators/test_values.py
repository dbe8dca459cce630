"""Computed KPI values equal hand calculations from the real input rows of the bundled files
(read here with the csv module, independently of the engine), and missing values say which
input is absent."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from statistics import mean

import pytest

from bylab.core import Bylab
from bylab.demo.loader import DATA_DIR
from bylab.indicators.actions import indicator_value_show, indicator_values
from bylab.indicators.engine import ComputeReport
from bylab.places.queries import place_show

GHG = "EN: EN: AQ: 2C"
EV_SHARE = "EC: I: T: 8A"
COVERAGE_4G = "EC: ICT: ICT: 4C"
PM25 = "EN: EN: AQ: 1C"
UNEMPLOYMENT = "EC: P: EM: 1C"
DENSITY = "CTX: POPULATION-DENSITY"


def _rows(relative: str) -> list[dict[str, str]]:
    path = DATA_DIR / relative
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as source:  # type: ignore[operator]
        return list(csv.DictReader(source))


def _value(demo: Bylab, kpi: str, place: str, period: str) -> float:
    rows = indicator_values(demo.system_context(), place=place, kpi=kpi, period=period)
    assert len(rows) == 1, rows
    assert rows[0].value is not None
    return rows[0].value


def _no_population(code: str, year: str) -> int:
    found = [row for row in _rows("statistics/no_population_municipalities_2024borders.csv")
             if row["municipality_code"] == code and row["year"] == year]
    assert len(found) == 1
    return int(found[0]["population"])


def test_porsgrunn_emissions_per_capita_is_sum_of_sectors_over_population(demo: Bylab) -> None:
    sectors = [float(row["emissions_t_co2e"])
               for row in _rows("statistics/no_ghg_emissions_telemark_by_sector.csv")
               if row["municipality_code"] == "4001" and row["year"] == "2020"]
    assert len(sectors) == 10
    expected = sum(sectors) / _no_population("4001", "2020")  # 2,128,945.01 t / 36,397
    assert _value(demo, GHG, "NO-4001", "2020") == pytest.approx(expected, rel=1e-12)
    assert 58 < expected < 59  # industrial emissions (Herøya) dominate Porsgrunn


def test_swedish_emissions_per_capita_uses_same_year_population(demo: Bylab) -> None:
    emissions = next(float(row["ghg_emissions_t_co2e"])
                     for row in _rows("statistics/se_ghg_emissions_municipalities_smhi.csv")
                     if row["municipality_code"] == "0180" and row["year"] == "2023")
    population = next(int(row["population"])
                      for row in _rows("statistics/se_population_municipalities_2023_2024.csv")
                      if row["municipality_code"] == "0180" and row["year"] == "2023")
    assert _value(demo, GHG, "SE-0180", "2023") == pytest.approx(emissions / population)


def test_swedish_rechargeable_share_of_new_cars(demo: Bylab) -> None:
    row = next(row for row in _rows("statistics/se_new_car_registrations_rechargeable_2015_2024.csv")
               if row["municipality_code"] == "1480" and row["year"] == "2022")  # Göteborg
    expected_pct = int(row["new_rechargeable_cars"]) / int(row["new_cars_total"]) * 100
    computed = _value(demo, EV_SHARE, "SE-1480", "2022")
    assert computed == pytest.approx(expected_pct)
    assert computed == pytest.approx(float(row["share_rechargeable_of_new_cars"]) * 100, abs=0.01)


def test_population_density_of_molde_uses_the_boundary_area(demo: Bylab) -> None:
    area_km2 = place_show(demo.system_context(), "NO-1506").area_km2
    assert area_km2 is not None
    expected = _no_population("1506", "2024") / area_km2
    assert _value(demo, DENSITY, "NO-1506", "2024") == pytest.approx(expected)


def test_pm25_annual_mean_from_hourly_series(demo: Bylab) -> None:
    hours = [float(row["pm25_ugm3"]) for row in
             _rows("sensors/no_air_quality_pm25_weather_hourly_2017_2021.csv.gz")
             if row["station"] == "Knarrdalstranda" and row["timestamp_utc"].startswith("2020")
             and row["pm25_ugm3"]]
    assert len(hours) >= 0.9 * 8784
    assert _value(demo, PM25, "NO-4001", "2020") == pytest.approx(mean(hours))


def test_unemployment_is_the_mean_of_twelve_monthly_shares(demo: Bylab) -> None:
    monthly = [float(row["share_of_labour_force_pct"]) for row in
               _rows("statistics/no_registered_unemployment_nav_monthly.csv.gz")
               if row["level"] == "county" and row["area"] == "Møre og Romsdal"
               and row["labour_market_status"] == "fully_unemployed" and row["sex"] == "total"
               and row["month"].startswith("2023")]
    assert len(monthly) == 12
    assert _value(demo, UNEMPLOYMENT, "NO-15", "2023") == pytest.approx(mean(monthly))


def test_broadband_coverage_is_carried_across_a_renumbering(demo: Bylab) -> None:
    row = next(row for row in _rows("statistics/no_broadband_coverage_municipalities_1h2022.csv")
               if row["municipality_code_2020"] == "3806")  # Porsgrunn, 2020–2023 code
    expected = float(row["mobile_4g_ge30mbit"])
    assert _value(demo, COVERAGE_4G, "NO-3806", "2022") == pytest.approx(expected)
    assert _value(demo, COVERAGE_4G, "NO-4001", "2022") == pytest.approx(expected)
    carried = indicator_value_show(demo.system_context(), COVERAGE_4G, "NO-4001", "2022")
    assert carried.provenance["carried_from"] == "NO-3806"
    # Ålesund was split in 2024: a coverage share cannot be carried to its parts.
    assert indicator_values(demo.system_context(), place="NO-1508", kpi=COVERAGE_4G) == []


@pytest.mark.parametrize(("kpi", "place", "period", "reason"), [
    (GHG, "NO-1506", "2020",
     "ghg_emissions: no row for NO-1506 in 2020 in no-ghg-emissions-telemark v1"),
    (GHG, "SE-0180", "2020",
     "population: no row for SE-0180 in 2020 or earlier in se-population-municipalities v1"),
    (UNEMPLOYMENT, "NO-40", "2026",
     "registered_unemployment_share: only 1 of 12 expected values (8%); at least 100% are "
     "needed"),
])
def test_missing_values_say_which_input_is_absent(demo: Bylab, kpi: str, place: str,
                                                  period: str, reason: str) -> None:
    stored = indicator_value_show(demo.system_context(), kpi, place, period)
    assert (stored.status, stored.value, stored.reason) == ("missing", None, reason)


def test_pm25_year_with_too_few_hours_is_missing(demo: Bylab) -> None:
    hours = sum(1 for row in _rows("sensors/no_air_quality_pm25_weather_hourly_2017_2021.csv.gz")
                if row["station"] == "Klosterhaugen" and row["timestamp_utc"].startswith("2017")
                and row["pm25_ugm3"])
    stored = indicator_value_show(demo.system_context(), PM25, "NO-4601", "2017")
    assert stored.value is None
    assert stored.reason.startswith(f"pm25: only {hours} of 8760 expected values")


def test_provenance_names_datasets_versions_and_the_exact_rows(demo: Bylab) -> None:
    stored = indicator_value_show(demo.system_context(), GHG, "NO-4001", "2020")
    emissions = stored.provenance["inputs"][0]
    assert emissions["variable"] == "ghg_emissions" and emissions["rows"] == 10
    source = emissions["sources"][0]
    assert (source["dataset"], source["version"]) == ("no-ghg-emissions-telemark", 1)
    assert source["dataset_id"] in stored.dataset_ids and len(stored.dataset_ids) == 2
    path = _stored_table(demo, source["dataset_id"])
    count, total = demo.tables.query(
        f"SELECT count(*), sum(emissions_t_co2e) FROM read_parquet('{path}') "
        f"WHERE {source['where']}").fetchone()  # type: ignore[misc]
    assert count == 10 and total == pytest.approx(emissions["value"])
    assert stored.provenance["definition"]["method"] == "bylab_operationalisation"


def _stored_table(demo: Bylab, dataset_id: str) -> Path:
    from bylab.catalog.queries import dataset_show, dataset_version

    version = dataset_version(dataset_show(demo.system_context(), dataset_id))
    return demo.tables.resolve(version.table_path)


def test_compute_reports_counts_and_unmatched_rows(computed: tuple[Bylab, ComputeReport]
                                                   ) -> None:
    report = computed[1]
    assert report.by_kpi[GHG]["computed"] == 17 * 13 + 290  # Telemark years; Sweden 2023
    assert report.by_kpi[EV_SHARE] == {"computed": 290 * 10, "missing": 0}
    assert any("Svalbard og øvrige områder" in problem for problem in report.problems)
    assert all(sql.startswith("WITH ") for sql in report.queries.values())
