"""The inverse question: which lever values reach a target with a given probability?

The user gives bounds ``[low, high]`` for the levers to move. Each such lever is planned as a
ramp from zero in the start year to ``low + λ·(high − low)`` in the target year (held after),
every lever moving the same fraction λ of its range; the other levers keep their plan. The
solver finds the smallest λ in [0, 1] whose scenario reaches the target in at least the given
share of draws, with common random numbers (one seed for every trial), so the answer is
exact for that seed: re-running the solved scenario with the same seed and draws meets it.
The share of draws is a step function of λ that rises with it (every effect is linear in its
lever, and shares achieved are never negative), so bracketing root finding (scipy's brentq)
finds the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scipy.optimize import brentq

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.scenarios.actions import (
    TargetCheck,
    kpi_codes_of,
    scenario_data,
    scenario_simulate,
)
from bylab.scenarios.levers import lever_show
from bylab.scenarios.spec import LeverPlan, ScenarioSpec

TOLERANCE = 1e-6  # of λ


@dataclass(frozen=True)
class SolveResult:
    spec: ScenarioSpec  # the solved scenario (the one place and KPI, levers at their values)
    lever_values: dict[str, float]  # by the target year
    fraction: float  # λ: the share of each lever's range used
    probability: float  # share of draws reaching the target with these values
    reachable: bool  # False: even the upper bounds do not reach the wanted probability


def scenario_solve(ctx: Context, spec: ScenarioSpec, target: TargetCheck, probability: float,
                   bounds: dict[str, tuple[float, float]], draws: int = 1000,
                   seed: int = 0) -> SolveResult:
    """The smallest lever values within ``bounds`` that reach ``target`` with at least
    ``probability`` (see the module docstring for the method)."""
    _check(spec, target, probability, bounds)
    kpi_code = kpi_codes_of(spec.model_copy(update={"kpis": [target.kpi_code]}))[0]
    solved = spec.model_copy(update={"places": [target.place_code], "kpis": [kpi_code]})
    target = TargetCheck(target.place_code.strip().upper(), kpi_code, target.value, target.year,
                         target.source)
    data = scenario_data(ctx, solved)

    def trial(fraction: float) -> tuple[ScenarioSpec, float]:
        planned = _with_levers(solved, bounds, fraction, target.year)
        outcome = scenario_simulate(planned, data, draws, seed, [target]).targets[0]
        if outcome.probability is None:
            raise InvalidInput("cannot project to {year}: {note}", field="target_year",
                               year=target.year, note=outcome.note)
        return planned, outcome.probability

    fraction = _smallest_fraction(lambda value: trial(value)[1] - probability)
    planned, reached = trial(fraction)
    values = {key: low + fraction * (high - low) for key, (low, high) in bounds.items()}
    return SolveResult(planned, values, fraction, reached, reached >= probability)


def _smallest_fraction(shortfall: Callable[[float], float]) -> float:
    """The smallest λ in [0, 1] with ``shortfall(λ) >= 0``, or 1 when there is none."""
    if shortfall(0.0) >= 0:
        return 0.0
    if shortfall(1.0) < 0:
        return 1.0
    found = brentq(shortfall, 0.0, 1.0, xtol=TOLERANCE)
    while shortfall(found) < 0 and found < 1.0:  # brentq lands on either side of the step
        found = min(1.0, found + TOLERANCE)
    return float(found)


def _with_levers(spec: ScenarioSpec, bounds: dict[str, tuple[float, float]], fraction: float,
                 year: int) -> ScenarioSpec:
    levers = dict(spec.levers)
    for key, (low, high) in bounds.items():
        spread = spec.levers[key].spread if key in spec.levers else LeverPlan().spread
        levers[key] = LeverPlan(path={year: low + fraction * (high - low)}, spread=spread)
    return spec.model_copy(update={"levers": levers})


def _check(spec: ScenarioSpec, target: TargetCheck, probability: float,
           bounds: dict[str, tuple[float, float]]) -> None:
    if not 0 < probability < 1:
        raise InvalidInput("the probability must be between 0 and 1", field="probability")
    if not bounds:
        raise InvalidInput("give bounds for at least one lever", field="bounds")
    if not spec.start_year < target.year <= spec.horizon:
        raise InvalidInput("the target year must be after {start} and at most the horizon "
                           "{horizon}", field="target_year", start=spec.start_year,
                           horizon=spec.horizon)
    for key, (low, high) in bounds.items():
        lever = lever_show(key)
        if not lever.minimum <= low <= high <= lever.maximum:
            raise InvalidInput("bounds of {lever} must satisfy {minimum} <= low <= high "
                               "<= {maximum}", field=f"bounds.{key}", lever=key,
                               minimum=lever.minimum, maximum=lever.maximum)
