"""Comparison with peers: ranks, percentiles and scores equal a hand calculation from the
stored values; peer groups by region, size and list; change over time; the access rule; and
properties of the scoring."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import asdict
from statistics import mean

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from bylab.core import Bylab
from bylab.demo.loader import DATA_DIR
from bylab.errors import InvalidInput
from bylab.indicators.actions import indicator_values
from bylab.indicators.compare import PeerKind, indicator_compare, standings
from bylab.indicators.models import IndicatorValue
from bylab.indicators.specs import Direction
from bylab.places.models import Place

GHG = "EN: EN: AQ: 2C"  # lower is better
COVERAGE_4G = "EC: ICT: ICT: 4C"  # higher is better


def _values(demo: Bylab, kpi: str, period: str) -> dict[str, float]:
    rows = indicator_values(demo.system_context(), kpi=kpi, period=period)
    return {row.place_code: row.value for row in rows if row.value is not None}


def _children(demo: Bylab, parent: str) -> set[str]:
    with demo.db.session() as session:
        return set(session.scalars(select(Place.id).where(Place.parent_id == parent)))


def test_region_ranks_percentiles_and_scores_match_hand_calculation(demo: Bylab) -> None:
    telemark = _children(demo, "NO-40")
    values = {place: value for place, value in _values(demo, GHG, "2020").items()
              if place in telemark}
    assert len(values) == 17
    best_first = sorted(values, key=lambda place: values[place])  # lower is better
    low, high = min(values.values()), max(values.values())
    comparison = indicator_compare(demo.system_context(), PeerKind.REGION, "NO-4001", GHG,
                                   "2020")
    [result] = comparison.kpis
    assert [entry.place_id for entry in result.entries] == best_first
    for position, entry in enumerate(result.entries):
        assert entry.rank == position + 1
        assert entry.percentile == pytest.approx(100 * (16 - position) / 16)
        assert entry.score == pytest.approx(100 * (high - values[entry.place_id]) / (high - low))
    assert set(comparison.peer_ids) == telemark


def test_change_over_time_is_the_difference_to_earlier_values(demo: Bylab) -> None:
    comparison = indicator_compare(demo.system_context(), PeerKind.REGION, "NO-4001", GHG,
                                   "2020", years_before=5)
    entry = comparison.kpis[0].entry_of("NO-4001")
    assert entry is not None
    now = _values(demo, GHG, "2020")["NO-4001"]
    assert entry.change_previous == pytest.approx(now - _values(demo, GHG, "2019")["NO-4001"])
    assert entry.change_years_before == pytest.approx(
        now - _values(demo, GHG, "2015")["NO-4001"])


def test_dimension_scores_are_means_of_the_places_kpi_scores(demo: Bylab) -> None:
    comparison = indicator_compare(demo.system_context(), PeerKind.REGION, "NO-4001")
    assert {item.kpi_code for item in comparison.kpis} >= {GHG, COVERAGE_4G}
    for dimension in ("Economy", "Environment"):
        scores = [entry.score for item in comparison.kpis if item.dimension == dimension
                  for entry in item.entries if entry.place_id == "NO-4001"]
        assert scores and comparison.dimensions[dimension] == pytest.approx(mean(scores))
    assert comparison.dimensions["Society and Culture"] is None
    ghg = next(item for item in comparison.kpis if item.kpi_code == GHG)
    assert ghg.period == max(period for period in map(str, range(2000, 2030))
                             if "NO-4001" in _values(demo, GHG, period))


def test_size_peers_share_the_population_band(demo: Bylab) -> None:
    with open(DATA_DIR / "statistics/no_population_municipalities_2024borders.csv",
              encoding="utf-8", newline="") as source:
        population = {f"NO-{row['municipality_code']}": int(row["population"])
                      for row in csv.DictReader(source) if row["year"] == "2022"}
    assert 20_000 <= population["NO-1506"] < 50_000  # Molde
    comparison = indicator_compare(demo.system_context(), PeerKind.SIZE, "NO-1506",
                                   COVERAGE_4G, "2022")
    expected = {place for place, people in population.items() if 20_000 <= people < 50_000}
    assert set(comparison.peer_ids) == expected
    assert {entry.place_id for entry in comparison.kpis[0].entries} <= expected


def test_custom_peers_and_missing_arguments(demo: Bylab) -> None:
    ids = ["NO-4001", "NO-4003", "NO-1506"]
    comparison = indicator_compare(demo.system_context(), PeerKind.IDS, kpi=COVERAGE_4G,
                                   period="2022", ids=ids)
    values = _values(demo, COVERAGE_4G, "2022")
    assert [entry.place_id for entry in comparison.kpis[0].entries] == sorted(
        ids, key=lambda place: (-values[place], place))
    with pytest.raises(InvalidInput):
        indicator_compare(demo.system_context(), PeerKind.REGION, kpi=COVERAGE_4G)
    with pytest.raises(InvalidInput):
        indicator_compare(demo.system_context(), PeerKind.IDS, "NO-4001", COVERAGE_4G)


def test_values_a_reader_may_not_see_stay_out_of_comparisons(embedded: Bylab) -> None:
    # Hand-made, NOT real: three values, one fed by a dataset only the system may see.
    rows = [{"kpi_code": GHG, "place_id": place, "period": "2020", "status": "computed",
             "value": value, "unit": "test", "reason": "", "dataset_ids": datasets,
             "provenance": {}}
            for place, value, datasets in (("NO-4001", 5.0, []), ("NO-4003", 7.0, []),
                                           ("NO-4005", 1.0, ["private-dataset"]))]
    with embedded.db.session() as session:
        session.execute(insert(IndicatorValue), rows)
    ids = ["NO-4001", "NO-4003", "NO-4005"]
    system = indicator_compare(embedded.system_context(), PeerKind.IDS, "NO-4001", GHG,
                               "2020", ids)
    public = indicator_compare(embedded.context(), PeerKind.IDS, "NO-4001", GHG, "2020", ids)
    assert [entry.place_id for entry in system.kpis[0].entries] == ["NO-4005", "NO-4001",
                                                                    "NO-4003"]
    assert [entry.place_id for entry in public.kpis[0].entries] == ["NO-4001", "NO-4003"]
    assert public.kpis[0].entries[0].score == 100.0 and public.kpis[0].entries[1].score == 0.0


def test_api_and_cli_give_the_comparison(demo: Bylab, api: httpx.Client) -> None:
    params = {"kpi": "EN-EN-AQ-2C", "period": "2020", "peers": "region", "place": "NO-4001"}
    served = api.get("/api/indicators/compare", params=params).json()
    expected = indicator_compare(demo.context(), PeerKind.REGION, "NO-4001", GHG, "2020")
    assert served == asdict(expected)
    operation = api.get("/openapi.json").json()["paths"]["/api/indicators/compare"]["get"]
    assert "min–max normalised" in operation["description"]
    environment = {**os.environ, "BYLAB_DATA_DIR": str(demo.settings.data_dir)}
    shown = subprocess.run([sys.executable, "-m", "bylab.cli", "indicators", "compare",
                            "--peers", "region", "--place", "NO-4001", "--kpi", "EN-EN-AQ-2C",
                            "--period", "2020"], env=environment, capture_output=True,
                           text=True, timeout=120, check=True)
    mine = next(line for line in shown.stdout.splitlines() if line.startswith(" *"))
    assert f"{expected.kpis[0].entry_of('NO-4001').rank:>3}  NO-4001  Porsgrunn" in mine


values_by_place = st.dictionaries(
    st.from_regex(r"NO-[0-9]{4}", fullmatch=True),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30)


@settings(suppress_health_check=[HealthCheck.too_slow])  # regex strings on a busy machine
@given(values=values_by_place,
       direction=st.sampled_from([Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER]))
def test_scores_are_bounded_and_ranks_a_permutation(values: dict[str, float],
                                                    direction: Direction) -> None:
    result = standings(values, direction)
    assert sorted(item.rank for item in result.values()) == list(range(1, len(values) + 1))
    assert all(0.0 <= item.score <= 100.0 for item in result.values())  # type: ignore[operator]
    assert all(0.0 <= item.percentile <= 100.0 for item in result.values())
    best = max if direction == Direction.HIGHER_IS_BETTER else min
    worst = min if best is max else max
    best_value, worst_value = best(values.values()), worst(values.values())
    assert all(result[place].score == 100.0 for place in values if values[place] == best_value)
    if best_value != worst_value:
        assert all(result[place].score == 0.0
                   for place in values if values[place] == worst_value)
    first = next(place for place, item in result.items() if item.rank == 1)
    assert values[first] == best_value
