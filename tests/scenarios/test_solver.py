"""The inverse solver: the lever values it finds really reach the target with the wanted
probability when the solved scenario is simulated again, and a little less does not."""

from __future__ import annotations

import re

import httpx
import pytest

from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.scenarios.actions import TargetCheck, scenario_data, scenario_run, scenario_simulate
from bylab.scenarios.levers import GHG
from bylab.scenarios.solver import scenario_solve
from bylab.scenarios.spec import LeverPlan, spec_from_dict

SPEC = spec_from_dict({"name": "plan", "places": ["NO-4003"], "horizon": 2040,
                       "start_year": 2024})
TARGET = TargetCheck("NO-4003", GHG, 1.5, 2032, "hand-made test target")
BOUNDS = {"modal_shift": (0.0, 40.0), "renewable_electricity_share": (0.0, 30.0)}


def probability(towns: Bylab, levers: dict[str, float], seed: int) -> float:
    planned = SPEC.model_copy(update={
        "kpis": [GHG], "levers": {key: LeverPlan(path={TARGET.year: value})
                                  for key, value in levers.items()}})
    result = scenario_run(towns.system_context(), planned, draws=1000, seed=seed)
    [outcome] = [item for item in result.targets]
    return outcome.probability


def test_solved_levers_reach_the_target_when_simulated_again(towns: Bylab) -> None:
    from bylab.indicators.models import TargetKind
    from bylab.indicators.targets import target_add

    target_add(towns.system_context(), GHG, "NO-4003", TARGET.value, TARGET.year,
               TargetKind.OWN, TARGET.source)
    solved = scenario_solve(towns.system_context(), SPEC, TARGET, 0.8, BOUNDS, draws=1000,
                            seed=11)
    assert solved.reachable and 0 < solved.fraction < 1
    assert solved.probability >= 0.8
    values = solved.lever_values
    assert values["modal_shift"] == pytest.approx(40 * solved.fraction)
    assert probability(towns, values, seed=11) >= 0.8  # the same draws: exactly met
    assert probability(towns, values, seed=99) >= 0.75  # other draws: met up to MC noise
    less = {key: value * 0.97 for key, value in values.items()}
    assert probability(towns, less, seed=11) < 0.8  # and it is the smallest such plan


def test_solver_says_when_the_bounds_cannot_reach_the_target(towns: Bylab) -> None:
    far = TargetCheck("NO-4003", GHG, 0.1, 2026)
    solved = scenario_solve(towns.system_context(), SPEC, far, 0.9,
                            {"waste_recycling_rate": (0.0, 5.0)}, draws=200, seed=1)
    assert not solved.reachable and solved.fraction == 1.0 and solved.probability < 0.9


def test_solver_checks_its_input(towns: Bylab) -> None:
    context = towns.system_context()
    with pytest.raises(InvalidInput) as bad_bounds:
        scenario_solve(context, SPEC, TARGET, 0.8, {"modal_shift": (10.0, 99.0)})
    assert bad_bounds.value.field == "bounds.modal_shift"
    with pytest.raises(InvalidInput) as bad_year:
        scenario_solve(context, SPEC, TargetCheck("NO-4003", GHG, 1.0, 2060), 0.8, BOUNDS)
    assert bad_year.value.field == "target_year"
    with pytest.raises(InvalidInput) as bad_probability:
        scenario_solve(context, SPEC, TARGET, 1.5, BOUNDS)
    assert bad_probability.value.field == "probability"


def test_editor_solver_fills_the_levers_it_found(towns: Bylab,
                                                 towns_client: httpx.Client) -> None:
    asked = {"place": "NO-4003", "draws": "400", "seed": "2", "solve": "1",
             "target_kpi": "EN-EN-AQ-2C", "target_value": "1.75", "target_year": "2030",
             "probability": "0.6"}
    page = towns_client.get("/scenarios/editor", params={**asked,
                                                         "solve_lever": "modal_shift"})
    assert page.status_code == 200 and "Reached" in page.text
    found = re.search(r'name="modal_shift\.2030"[^>]*value="([\d.]+)"', page.text)
    assert found and 0 < float(found.group(1)) <= 40
    plan = SPEC.model_copy(update={"kpis": [GHG], "levers": {
        "modal_shift": LeverPlan(path={2030: float(found.group(1))})}})
    check = TargetCheck("NO-4003", GHG, 1.75, 2030)
    again = scenario_simulate(plan, scenario_data(towns.system_context(), plan), 400, 2,
                              [check])
    assert again.targets[0].probability >= 0.6 - 0.01  # rounded to 3 decimals in the form
    nothing = towns_client.get("/scenarios/editor", params=asked)
    assert "solve_lever: tick at least one lever to move" in nothing.text
