"""Scenario actions: run a scenario from the latest indicator values the actor may see, the
zero-lever baseline of a place, and the probability of meeting each target that applies.

The projection method is in ``bylab.scenarios.engine``, the levers' effect models in
``bylab.scenarios.levers``."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.indicators.actions import kpi_show, readable_values
from bylab.indicators.models import IndicatorTarget, TargetScope
from bylab.indicators.specs import Direction
from bylab.indicators.targets import kpi_direction
from bylab.places.models import Place
from bylab.scenarios.engine import (
    QUANTILE_NAMES,
    Probe,
    Projection,
    achieved_shares,
    fit_trends,
    lever_effects,
    project,
)
from bylab.scenarios.levers import LEVERS
from bylab.scenarios.spec import DEFAULT_START_YEAR, LeverPlan, ScenarioSpec

RESULT_COLUMNS = ("scenario", "place_code", "kpi_code", "year", *QUANTILE_NAMES, "mean", "unit")
MAX_DRAWS = 100_000


@dataclass(frozen=True)
class ResultRow:
    """One projected year of one KPI of one place (CSV and JSON carry the same fields)."""

    scenario: str
    place_code: str
    kpi_code: str
    year: int
    p05: float
    p25: float
    p50: float
    p75: float
    p95: float
    mean: float
    unit: str


@dataclass(frozen=True)
class TargetCheck:
    """A target to check: reach ``value`` by ``year`` (the scenario value in that year)."""

    place_code: str
    kpi_code: str
    value: float
    year: int
    source: str = ""


@dataclass(frozen=True)
class TargetOutcome:
    target: TargetCheck
    probability: float | None  # None: the target year is not a projected year
    note: str = ""


@dataclass
class ScenarioData:
    """What a run reads from the database: annual history by (place, KPI), units, places,
    and the targets that apply."""

    places: dict[str, str]  # place id -> name
    history: dict[tuple[str, str], list[tuple[int, float]]]
    units: dict[tuple[str, str], str]
    targets: list[TargetCheck] = field(default_factory=list)


@dataclass
class ScenarioResult:
    spec: ScenarioSpec
    draws: int
    seed: int | None
    rows: list[ResultRow]
    history: dict[tuple[str, str], list[tuple[int, float]]]
    targets: list[TargetOutcome]
    missing: list[tuple[str, str]]  # (place, KPI) without values to project from
    place_names: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def kpi_codes_of(spec: ScenarioSpec) -> list[str]:
    """The catalogue codes of the scenario's KPIs (InvalidInput naming the field)."""
    codes = []
    for number, kpi in enumerate(spec.kpi_codes):
        try:
            codes.append(kpi_show(kpi).kpi.code)
        except NotFound:
            raise InvalidInput("no KPI '{kpi}'", field=f"kpis.{number}", kpi=kpi) from None
    return codes


def scenario_data(ctx: Context, spec: ScenarioSpec) -> ScenarioData:
    """The computed values the actor may see of the scenario's places and KPIs, and the
    targets that apply to those places."""
    codes = kpi_codes_of(spec)
    with ctx.db.session() as session:
        places = _places(session, spec.places)
        stored = readable_values(session, ctx, codes, set(places))
        targets = _targets(session, codes, places)
        names = {place.id: place.name for place in places.values()}
    history: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    units = {}
    for item in stored:
        if item.value is not None and item.period.isdigit():
            history[(item.place_id, item.kpi_code)].append((int(item.period), item.value))
            units[(item.place_id, item.kpi_code)] = item.unit
    return ScenarioData(names, {key: sorted(points) for key, points in history.items()},
                        units, targets)


def _places(session: Session, place_ids: list[str]) -> dict[str, Place]:
    found = {place.id: place for place in
             session.scalars(select(Place).where(Place.id.in_(place_ids)))}
    for number, place_id in enumerate(place_ids):
        if place_id not in found:
            raise NotFound("no place with id '{place}'", field=f"places.{number}",
                           place=place_id)
    return {place_id: found[place_id] for place_id in place_ids}


def _targets(session: Session, codes: list[str], places: dict[str, Place]) -> list[TargetCheck]:
    stored = session.scalars(select(IndicatorTarget)
                             .where(IndicatorTarget.kpi_code.in_(codes))
                             .order_by(IndicatorTarget.target_year, IndicatorTarget.id))
    checks = []
    for target in stored:
        for place in places.values():
            if _applies(target, place):
                checks.append(TargetCheck(place.id, target.kpi_code, target.target_value,
                                          target.target_year, target.source))
    return checks


def _applies(target: IndicatorTarget, place: Place) -> bool:
    owner = {TargetScope.PLACE.value: place.id, TargetScope.COUNTRY.value: place.country,
             TargetScope.CHILDREN.value: place.parent_id}.get(target.scope)
    return owner is not None and owner == target.place_id


def scenario_run(ctx: Context, spec: ScenarioSpec, draws: int = 1000,
                 seed: int | None = None) -> ScenarioResult:
    """Project the scenario's KPIs for its places to its horizon in ``draws`` Monte Carlo
    draws; the same seed gives the same numbers."""
    started = time.perf_counter()
    result = scenario_simulate(spec, scenario_data(ctx, spec), draws, seed)
    result.seconds = time.perf_counter() - started
    return result


def scenario_simulate(spec: ScenarioSpec, data: ScenarioData, draws: int, seed: int | None,
                      targets: list[TargetCheck] | None = None) -> ScenarioResult:
    """The projection of ``data`` (no database access; the solver calls this repeatedly)."""
    if not 1 <= draws <= MAX_DRAWS:
        raise InvalidInput("draws must be between 1 and {limit}", field="draws", limit=MAX_DRAWS)
    rng = np.random.default_rng(seed)
    shares = achieved_shares(spec, draws, rng)
    checks = data.targets if targets is None else targets
    rows, outcomes, missing = [], [], []
    for kpi_code in kpi_codes_of(spec):
        keys = [(place, kpi_code) for place in data.places if (place, kpi_code) in data.history]
        missing += [(place, kpi_code) for place in data.places
                    if (place, kpi_code) not in data.history]
        if not keys:
            continue
        trends = fit_trends([data.history[key] for key in keys])
        years = np.arange(int(trends.latest_year.min()) + 1, spec.horizon + 1)
        if len(years) == 0:
            continue
        relative, absolute = lever_effects(spec, kpi_code, years, shares, draws, rng)
        mine = [check for check in checks if check.kpi_code == kpi_code]
        probes, notes = _probes(mine, keys, trends.latest_year, years, kpi_code)
        projection = project(trends, years, relative, absolute, kpi_code, draws, rng,
                             spec.uncertainty, [probe for probe in probes if probe])
        rows += _rows(spec.name, keys, trends.latest_year, projection, data.units)
        outcomes += _outcomes(mine, probes, notes, projection)
    return ScenarioResult(spec, draws, seed, rows, data.history, outcomes, missing,
                          data.places)


def _probes(checks: list[TargetCheck], keys: list[tuple[str, str]], latest_years: np.ndarray,
            years: np.ndarray, kpi_code: str) -> tuple[list[Probe | None], list[str]]:
    index = {place: number for number, (place, _kpi) in enumerate(keys)}
    higher = bool(checks) and kpi_direction(kpi_code)[1] == Direction.HIGHER_IS_BETTER
    probes: list[Probe | None] = []
    notes = []
    for check in checks:
        number = index.get(check.place_code)
        if number is None:
            probes.append(None)
            notes.append("no values to project from")
        elif not latest_years[number] < check.year <= years[-1]:
            probes.append(None)
            notes.append("the target year is not a projected year (before the projection "
                         "or after the horizon)")
        else:
            probes.append(Probe(number, int(check.year - years[0]), check.value, higher))
            notes.append("")
    return probes, notes


def _outcomes(checks: list[TargetCheck], probes: list[Probe | None], notes: list[str],
              projection: Projection) -> list[TargetOutcome]:
    probabilities = iter(projection.probabilities)
    return [TargetOutcome(check, next(probabilities) if probe else None, note)
            for check, probe, note in zip(checks, probes, notes, strict=True)]


def _rows(scenario: str, keys: list[tuple[str, str]], latest_years: np.ndarray,
          projection: Projection, units: dict[tuple[str, str], str]) -> list[ResultRow]:
    rows = []
    for number, key in enumerate(keys):
        for year_index, year in enumerate(projection.years):
            if year <= latest_years[number]:
                continue
            quantiles = projection.quantiles[number, year_index]
            rows.append(ResultRow(scenario, key[0], key[1], int(year),
                                  *(float(value) for value in quantiles),
                                  float(projection.mean[number, year_index]), units[key]))
    return rows


def scenario_baseline(ctx: Context, place: str, horizon: int = 2050) -> ScenarioSpec:
    """The zero-lever scenario of a place: every lever listed at zero, starting in the latest
    year the place has values for, as a starting file to edit."""
    place_id = place.strip().upper()
    draft = ScenarioSpec(name=f"baseline-{place_id.lower()}", places=[place_id],
                         horizon=horizon)
    data = scenario_data(ctx, draft)
    latest = max((points[-1][0] for points in data.history.values()),
                 default=DEFAULT_START_YEAR)
    title = f"Baseline for {data.places[place_id]} ({place_id}): the trend goes on"
    start_year = min(latest, horizon - 1)
    milestone = min(max(2030, start_year + 1), horizon)
    levers = {lever.key: LeverPlan(path={milestone: 0.0, horizon: 0.0}) for lever in LEVERS}
    return draft.model_copy(update={"title": title, "start_year": start_year,
                                    "levers": levers})
