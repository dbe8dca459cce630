"""The scenario editor's form: one place, a horizon, and each lever's value in the editor's
milestone years (fields ``<lever>.<year>``) with its spread (``<lever>.spread``). A preset or
saved scenario opens in the editor with its levers read at the milestone years; the editor
plans levers linearly between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bylab.errors import InvalidInput
from bylab.scenarios.actions import ScenarioData, ScenarioResult, scenario_simulate
from bylab.scenarios.charts import FanChart, fan_chart
from bylab.scenarios.engine import lever_values
from bylab.scenarios.levers import LEVERS
from bylab.scenarios.solver import SolveResult
from bylab.scenarios.spec import DEFAULT_START_YEAR, LeverPlan, ScenarioSpec, spec_from_dict

MILESTONES = (2030, 2040, 2050)
HORIZONS = (2030, 2035, 2040, 2045, 2050)
DEFAULT_DRAWS = 500
DEFAULT_SEED = 1


@dataclass
class EditorForm:
    place: str = ""
    name: str = "my-scenario"
    title: str = ""
    horizon: int = 2050
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    values: dict[str, dict[int, float]] = field(default_factory=dict)  # lever -> year -> value
    spreads: dict[str, float] = field(default_factory=dict)

    def value(self, lever: str, year: int) -> float:
        return self.values.get(lever, {}).get(year, 0.0)

    def spread(self, lever: str) -> float:
        return self.spreads.get(lever, LeverPlan().spread)

    def to_spec(self) -> ScenarioSpec:
        levers = {key: {"path": path, "spread": self.spread(key)}
                  for key, path in self.values.items() if any(path.values())}
        return spec_from_dict({"name": self.name, "title": self.title, "places": [self.place],
                               "horizon": self.horizon, "start_year": DEFAULT_START_YEAR,
                               "levers": levers})


def form_from_query(query: Mapping[str, str]) -> EditorForm:
    """The editor form from request parameters; InvalidInput naming a bad field."""
    form = EditorForm(place=query.get("place", "").strip().upper(),
                      name=query.get("name", "my-scenario").strip() or "my-scenario",
                      title=query.get("title", "").strip(),
                      horizon=int(field_number(query, "horizon", 2050)),
                      draws=int(field_number(query, "draws", DEFAULT_DRAWS)),
                      seed=int(field_number(query, "seed", DEFAULT_SEED)))
    for lever in LEVERS:
        form.values[lever.key] = {year: field_number(query, f"{lever.key}.{year}", 0.0)
                                  for year in MILESTONES}
        form.spreads[lever.key] = field_number(query, f"{lever.key}.spread",
                                          LeverPlan().spread)
    return form


def field_number(query: Mapping[str, str], name: str, default: float) -> float:
    text = query.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise InvalidInput("'{text}' is not a number", field=name, text=text) from None


def form_from_spec(spec: ScenarioSpec, place: str | None = None) -> EditorForm:
    """A preset or saved scenario in the editor: its levers at the milestone years."""
    form = EditorForm(place=place or spec.places[0], name=spec.name, title=spec.title,
                      horizon=spec.horizon if spec.horizon in HORIZONS else 2050)
    years = np.array(MILESTONES)
    for key, plan in spec.levers.items():
        values = lever_values(plan, spec.start_year, years)
        form.values[key] = {int(year): round(float(value), 3)
                            for year, value in zip(years, values, strict=True)}
        form.spreads[key] = plan.spread
    return form


@dataclass(frozen=True)
class EditorResult:
    result: ScenarioResult
    baseline: ScenarioResult
    charts: list[FanChart]


def editor_result(spec: ScenarioSpec, data: ScenarioData, draws: int, seed: int
                  ) -> EditorResult:
    """The scenario and its zero-lever baseline (same seed) with a fan chart per KPI."""
    result = scenario_simulate(spec, data, draws, seed)
    baseline = scenario_simulate(spec.model_copy(update={"levers": {}}), data, draws, seed)
    charts = []
    for place, kpi in dict.fromkeys((row.place_code, row.kpi_code) for row in result.rows):
        rows = [row for row in result.rows if (row.place_code, row.kpi_code) == (place, kpi)]
        base = [row for row in baseline.rows if (row.place_code, row.kpi_code) == (place, kpi)]
        charts.append(fan_chart(place, kpi, rows, data.history[(place, kpi)], base))
    return EditorResult(result, baseline, charts)


@dataclass(frozen=True)
class SolverAsk:
    """The editor's inverse question: reach ``value`` of ``kpi`` by a milestone ``year``
    with ``probability``, moving the chosen levers between zero and their maximum."""

    kpi: str
    value: float
    year: int
    probability: float
    levers: list[str]


def solver_ask(query: Mapping[str, str], levers: list[str]) -> SolverAsk | None:
    """The solver fields of the editor form, or None when the solver was not asked."""
    if query.get("solve") != "1":
        return None
    year = int(field_number(query, "target_year", MILESTONES[0]))
    if year not in MILESTONES:
        raise InvalidInput("the target year must be one of {years}", field="target_year",
                           years=MILESTONES)
    if not levers:
        raise InvalidInput("tick at least one lever to move", field="solve_lever")
    return SolverAsk(query.get("target_kpi", ""), field_number(query, "target_value", 0.0), year,
                     field_number(query, "probability", 0.8), levers)


def apply_solution(form: EditorForm, solved: SolveResult) -> None:
    """Put the solved levers (ramps to the target year, held after) into the form."""
    years = np.array(MILESTONES)
    for key, plan in solved.spec.levers.items():
        values = lever_values(plan, solved.spec.start_year, years)
        form.values[key] = {int(year): round(float(value), 3)
                            for year, value in zip(years, values, strict=True)}
