"""The projection checked by hand: the zero-lever scenario follows the least-squares trend,
a lever moves the projection by its documented coefficient (twice as far when doubled),
the same seed gives the same numbers, and target probabilities count the draws."""

from __future__ import annotations

from statistics import linear_regression

import numpy as np
import pytest

from bylab.core import Bylab
from bylab.indicators.models import TargetKind
from bylab.indicators.targets import target_add
from bylab.scenarios.actions import ResultRow, ScenarioResult, scenario_run
from bylab.scenarios.levers import DENSITY, EV_SHARE, GHG, LEVERS_BY_KEY
from bylab.scenarios.spec import ScenarioSpec, spec_from_dict
from tests.scenarios.conftest import DENSITY_SKIEN, EV_STOCKHOLM, GHG_SKIEN


def spec(levers: dict | None = None, uncertainty: bool = True, **fields: object
         ) -> ScenarioSpec:
    return spec_from_dict({"name": "test", "places": ["NO-4003", "SE-0180"], "horizon": 2040,
                           "start_year": 2024, "uncertainty": uncertainty,
                           "levers": levers or {}, **fields})


def rows_of(result: ScenarioResult, place: str, kpi: str) -> dict[int, ResultRow]:
    return {row.year: row for row in result.rows
            if row.place_code == place and row.kpi_code == kpi}


def trend(series: dict[int, float], year: int) -> float:
    slope, intercept = linear_regression(list(series), list(series.values()))
    return intercept + slope * year


def test_zero_levers_without_uncertainty_is_the_least_squares_trend(towns: Bylab) -> None:
    result = scenario_run(towns.system_context(), spec(uncertainty=False), draws=10, seed=1)
    ghg = rows_of(result, "NO-4003", GHG)
    assert sorted(ghg) == list(range(2024, 2041))
    for year, row in ghg.items():
        expected = max(0.0, trend(GHG_SKIEN, year))
        assert row.p05 == pytest.approx(expected) and row.p95 == pytest.approx(expected)
    ev = rows_of(result, "SE-0180", EV_SHARE)
    assert min(ev) == 2025  # after the latest value (2024)
    assert ev[2026].p50 == pytest.approx(trend(EV_STOCKHOLM, 2026))
    assert ev[2040].p50 == 100.0  # the share is clipped at 100 %
    assert sorted(result.missing) == [("NO-4003", EV_SHARE), ("SE-0180", DENSITY),
                                      ("SE-0180", GHG)]


def test_zero_levers_median_follows_the_trend_with_a_widening_fan(towns: Bylab) -> None:
    result = scenario_run(towns.system_context(), spec(), draws=4000, seed=3)
    ghg = rows_of(result, "NO-4003", GHG)
    for year in (2025, 2028):
        assert ghg[year].p50 == pytest.approx(trend(GHG_SKIEN, year), abs=0.02)
        assert ghg[year].p05 < ghg[year].p25 < ghg[year].p50 < ghg[year].p75 < ghg[year].p95
    assert ghg[2028].p95 - ghg[2028].p05 > ghg[2025].p95 - ghg[2025].p05
    density = rows_of(result, "NO-4003", DENSITY)
    assert density[2027].p50 == pytest.approx(trend(DENSITY_SKIEN, 2027), rel=0.01)


def modal_shift_effect(towns: Bylab, points: float) -> dict[int, float]:
    context = towns.system_context()
    plan = {"modal_shift": {"path": {2030: points}}}
    with_lever = rows_of(scenario_run(context, spec(plan, False), 10, 1), "NO-4003", GHG)
    without = rows_of(scenario_run(context, spec({}, False), 10, 1), "NO-4003", GHG)
    return {year: with_lever[year].p50 - without[year].p50 for year in with_lever}


def test_a_lever_moves_the_projection_by_its_documented_coefficient(towns: Bylab) -> None:
    coefficient = -0.312 * 0.6 * 0.8 * 0.01  # docs/scenarios/README.md, modal_shift
    [effect] = LEVERS_BY_KEY["modal_shift"].effects
    assert effect.coefficient == pytest.approx(coefficient)
    moved = modal_shift_effect(towns, 10)
    doubled = modal_shift_effect(towns, 20)
    # Ramp from 0 in 2024 to 10 points in 2030, held after.
    assert moved[2027] == pytest.approx(trend(GHG_SKIEN, 2027) * coefficient * 5)
    assert moved[2030] == pytest.approx(trend(GHG_SKIEN, 2030) * coefficient * 10)
    for year in moved:
        assert doubled[year] == pytest.approx(2 * moved[year])


def test_cumulative_and_absolute_effects(towns: Bylab) -> None:
    context = towns.system_context()
    plan = {"building_retrofit_rate": {"path": {2025: 2}},
            "ev_share_new_cars": {"path": {2025: 5}}}
    result = scenario_run(context, spec(plan, False), 10, 1)
    base = scenario_run(context, spec({}, False), 10, 1)
    [retrofit] = LEVERS_BY_KEY["building_retrofit_rate"].effects
    ghg, ghg_base = rows_of(result, "NO-4003", GHG), rows_of(base, "NO-4003", GHG)
    ev_on_ghg = LEVERS_BY_KEY["ev_share_new_cars"].effects[1].coefficient
    # 2 % a year from 2025: 12 points retrofitted by 2030; the EV share adds 5 a year too.
    expected = trend(GHG_SKIEN, 2030) * (retrofit.coefficient * 12 + ev_on_ghg * 30)
    assert ghg[2030].p50 - ghg_base[2030].p50 == pytest.approx(expected)
    ev, ev_base = rows_of(result, "SE-0180", EV_SHARE), rows_of(base, "SE-0180", EV_SHARE)
    assert ev[2026].p50 - ev_base[2026].p50 == pytest.approx(5.0)


def test_the_same_seed_gives_the_same_numbers(towns: Bylab) -> None:
    context = towns.system_context()
    plan = {"modal_shift": {"path": {2030: 10}}, "ev_share_new_cars": {"path": {2030: 20}}}
    first = scenario_run(context, spec(plan), draws=300, seed=42)
    again = scenario_run(context, spec(plan), draws=300, seed=42)
    other = scenario_run(context, spec(plan), draws=300, seed=43)
    assert first.rows == again.rows
    assert first.rows != other.rows


def test_target_probability_is_the_share_of_draws_reaching_it(towns: Bylab) -> None:
    context = towns.system_context()
    target_add(context, GHG, "NO-40", 1.8, 2030, TargetKind.OWN, "test target",
               scope="children")
    target_add(context, GHG, "NO-4003", 0.5, 2060, TargetKind.OWN, "after the horizon")
    result = scenario_run(context, spec(), draws=2000, seed=5)
    reached, beyond = result.targets
    row = rows_of(result, "NO-4003", GHG)[2030]
    assert reached.target.place_code == "NO-4003" and reached.target.year == 2030
    assert 0.2 < reached.probability < 0.8  # 1.8 lies near the trend's 1.79
    assert (row.p50 <= 1.8) == (reached.probability >= 0.5)
    assert (row.p25 <= 1.8) == (reached.probability >= 0.25)
    assert beyond.probability is None and "horizon" in beyond.note


def test_coefficient_draws_stay_within_the_factor_ranges() -> None:
    from bylab.scenarios.engine import coefficient_draws

    [effect] = LEVERS_BY_KEY["modal_shift"].effects
    draws = coefficient_draws(effect, 5000, np.random.default_rng(0))
    lowest = -np.prod([factor.high for factor in effect.factors])
    highest = -np.prod([factor.low for factor in effect.factors])
    assert lowest <= draws.min() and draws.max() <= highest
    assert np.median(draws) == pytest.approx(effect.coefficient, rel=0.05)
