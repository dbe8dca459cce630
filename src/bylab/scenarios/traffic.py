"""Traffic of a scenario: the SUMO demand of one place in one year derived from a scenario, a
simulation of it beside the zero-lever baseline's, and the comparison of their results.

Population: the place's latest population (the population input of its population density
values) moved along the scenario's projection of the density (area fixed, so population grows
as density does; the population-growth lever acts there). Mode share: the mobility defaults
(an assumption), with the modal-shift lever's planned value in the year moving that share of
car trips to the other modes in proportion to their shares. Every input says where it comes
from in ``assumptions``, and the runs keep it in their provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.indicators.compare import populations
from bylab.mobility.demand import DemandInput, ModeShare
from bylab.mobility.kpi import kpi_of
from bylab.mobility.models import FINISHED, MobilityRun, RunStatus
from bylab.mobility.network import NetworkSpec
from bylab.mobility.runs import RESULT_UNITS, RunRequest, run_get, run_submit
from bylab.scenarios.actions import kpi_codes_of, scenario_data, scenario_simulate
from bylab.scenarios.engine import lever_values
from bylab.scenarios.levers import DENSITY
from bylab.scenarios.spec import ScenarioSpec

MODAL_SHIFT = "modal_shift"
COMPARED = ("travel_time_index", "mean_delay_s", "mean_travel_time_s", "co2_kg",
            "vehicles_simulated")


@dataclass(frozen=True)
class DerivedDemand:
    """A run's demand and, in words, where each of its inputs comes from."""

    demand: DemandInput
    modal_shift: float  # percentage points of car trips moved, in the year
    assumptions: list[str] = field(default_factory=list)


def traffic_demand(ctx: Context, spec: ScenarioSpec, place: str, year: int,
                   population: int | None = None) -> DerivedDemand:
    """The demand of ``place`` in ``year`` under the scenario; ``population`` overrides the
    population derived from the place's data."""
    place_id = place.strip().upper()
    if place_id not in spec.places:
        raise InvalidInput("{place} is not one of the scenario's places", field="place",
                           place=place_id)
    if not spec.start_year < year <= spec.horizon:
        raise InvalidInput("the year must be after the start year {start} and at most the "
                           "horizon {horizon}", field="year", start=spec.start_year,
                           horizon=spec.horizon)
    people, population_note = ((population, "population given by the user")
                               if population else _population(ctx, spec, place_id, year))
    shift = _modal_shift(spec, year)
    shares = shifted_mode_share(ModeShare(), shift)
    notes = [population_note,
             f"mode share: car {shares.car:.3f}, public transport {shares.public_transport:.3f}"
             f", bicycle {shares.bicycle:.3f}, walk {shares.walk:.3f}: bylab's default shares "
             f"(assumption) after the modal-shift lever ({shift:g} % of car trips moved in "
             f"{year}, at its planned value; moved trips split over the other modes in "
             f"proportion to their shares: assumption)",
             "trips per person per day, persons per car, peak-hour share: bylab's defaults "
             "(assumption)",
             "origins and destinations random over the network: synthetic demand"]
    demand = DemandInput(population=people, mode_share=shares)
    return DerivedDemand(demand, shift, notes)


def shifted_mode_share(base: ModeShare, shift_points: float) -> ModeShare:
    """``shift_points`` % of car trips moved to the other modes, in proportion to theirs."""
    moved = base.car * shift_points / 100
    others = 1 - base.car
    gain = {mode: share + moved * share / others
            for mode, share in base.model_dump().items() if mode != "car"}
    return ModeShare(car=base.car - moved, **gain)


def _modal_shift(spec: ScenarioSpec, year: int) -> float:
    plan = spec.levers.get(MODAL_SHIFT)
    if plan is None:
        return 0.0
    return float(lever_values(plan, spec.start_year, np.array([year]))[0])


def _population(ctx: Context, spec: ScenarioSpec, place: str, year: int) -> tuple[int, str]:
    """The place's latest population, projected to ``year`` along the scenario's median
    population density (without uncertainty)."""
    with ctx.db.session() as session:
        latest = populations(session, ctx, {place}, None).get(place)
    if latest is None:
        raise InvalidInput("no population of {place}: compute its population density "
                           "(bylab indicators) or give the population", field="population",
                           place=place)
    density_spec = spec.model_copy(update={"places": [place], "kpis": [DENSITY],
                                           "uncertainty": False})
    data = scenario_data(ctx, density_spec)
    code = kpi_codes_of(density_spec)[0]
    history = data.history[(place, code)]
    latest_year, latest_density = history[-1]
    if year <= latest_year or not latest_density:
        return round(latest), f"population {round(latest)}: the latest known ({latest_year})"
    result = scenario_simulate(density_spec, data, 1, 0)
    projected = next(row.p50 for row in result.rows if row.year == year)
    people = round(latest * projected / latest_density)
    return people, (f"population {people}: {round(latest)} in {latest_year} moved with the "
                    f"scenario's projected population density (median, area fixed)")


@dataclass(frozen=True)
class TrafficRuns:
    """The queued runs of a scenario and of its zero-lever baseline."""

    run: MobilityRun
    baseline: MobilityRun
    demand: DerivedDemand
    baseline_demand: DerivedDemand


def traffic_submit(ctx: Context, spec: ScenarioSpec, place: str, year: int, organisation: str,
                   network: NetworkSpec | None = None, seed: int = 1,
                   population: int | None = None) -> TrafficRuns:
    """Queue SUMO runs of the scenario's demand and of the baseline's (same network and seed)
    for the organisation; start them with ``run_start`` (or execute them)."""
    baseline_spec = spec.model_copy(update={"levers": {}})
    derived = traffic_demand(ctx, spec, place, year, population)
    baseline = traffic_demand(ctx, baseline_spec, place, year, population)
    place_id = place.strip().upper()
    queued = [run_submit(ctx, RunRequest(
        organisation=organisation, place=place_id, network=network or NetworkSpec(),
        demand=demand.demand, seed=seed, title=f"{title} {place_id} {year}: "
        f"{demand.demand.population} inhabitants, car share {demand.demand.mode_share.car:.3f}",
        derived_from={"scenario": spec.name, "role": role, "place": place_id, "year": year,
                      "modal_shift": demand.modal_shift, "assumptions": demand.assumptions}))
        for demand, role, title in ((derived, "scenario", f"Scenario {spec.name}:"),
                                    (baseline, "baseline", "Baseline (no levers):"))]
    return TrafficRuns(queued[0], queued[1], derived, baseline)


@dataclass(frozen=True)
class TrafficComparison:
    run: MobilityRun
    baseline: MobilityRun
    rows: list[dict[str, Any]]  # indicator, scenario, baseline, change (when both succeeded)

    @property
    def finished(self) -> bool:
        return self.run.status in FINISHED and self.baseline.status in FINISHED


def traffic_compare(ctx: Context, run_id: str, baseline_id: str) -> TrafficComparison:
    """The two runs (as the actor may see them) and, once both succeeded, their indicators
    side by side."""
    run, baseline = run_get(ctx, run_id), run_get(ctx, baseline_id)
    rows = []
    if run.status == baseline.status == RunStatus.SUCCEEDED:
        mine, theirs = run.results["indicators"], baseline.results["indicators"]
        rows = [{"indicator": name, "scenario": mine[name], "baseline": theirs[name],
                 "change": mine[name] - theirs[name], "unit": RESULT_UNITS[name],
                 **kpi_of(name)} for name in COMPARED]
    return TrafficComparison(run, baseline, rows)
