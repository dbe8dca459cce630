"""Comparing a place with its peers: rank, percentile and a 0–100 score per KPI, a score per
U4SSC dimension, and the change over time.

Method (also in the API description of GET /api/indicators/compare):

- Peer group: ``region`` is every place sharing the place's parent (e.g. the municipalities of
  a county); ``size`` is every place of the same level whose population is in the same band
  as the place's (bands below, population from the population input of the stored population
  density values, of the period or the latest earlier one); ``ids`` is a given list of place
  ids (with the place, when one is given). Only values the reader may see take part.
- Per KPI and period, among the peers with a value: the rank orders them best first by the
  KPI's direction (highest first when higher is better, lowest first when lower is better,
  highest first for KPIs without a preferred direction); ties keep place-id order, so the
  ranks are always 1..n. The percentile is ``100 * (n - rank) / (n - 1)`` (100 for the best,
  0 for the worst; 100 when alone).
- The score is min–max normalised within the peer group and period, direction-aware:
  ``100 * (value - min) / (max - min)`` when higher is better, ``100 * (max - value) /
  (max - min)`` when lower is better; every peer scores 100 when all values are equal. KPIs
  without a preferred direction get no score.
- A dimension's score is the mean of the place's scores of that dimension's KPIs (only KPIs
  with a score count; None when there is none).
- Change over time: the value minus the value of the previous year, and minus the value
  ``years_before`` years earlier (None when that value is absent or not visible).
- Across countries: peers of several countries are compared only as far as the national
  indicator crosswalk allows (``bylab.indicators.crosswalk``): a KPI whose crosswalk says
  ``not_comparable`` for one of the countries is refused; ``comparable_with_caveat`` and
  ``unknown`` (no entry) are compared with a warning naming the level per country.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import mean

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.indicators.actions import ComputedValue, kpi_show, readable_values
from bylab.indicators.crosswalk import Comparability, CrosswalkEntry, cross_country
from bylab.indicators.kpis import DIMENSIONS
from bylab.indicators.models import IndicatorValue
from bylab.indicators.specs import Direction, bundled_definitions
from bylab.places.models import Place

DENSITY_KPI = "CTX: POPULATION-DENSITY"
# Lower bounds (inhabitants) of bylab's size bands after the first: <5k, 5–20k, 20–50k,
# 50–100k, 100–500k, ≥500k. bylab's own banding, not an official classification.
POPULATION_BAND_STARTS = (5_000, 20_000, 50_000, 100_000, 500_000)
YEARS_BEFORE = 5


class PeerKind(StrEnum):
    REGION = "region"
    SIZE = "size"
    IDS = "ids"


@dataclass(frozen=True)
class Standing:
    """Where one value stands among its peers."""

    rank: int  # 1 is best
    percentile: float
    score: float | None  # 0–100, None without a preferred direction


@dataclass(frozen=True)
class PeerEntry:
    place_id: str
    place_name: str
    value: float
    rank: int
    percentile: float
    score: float | None
    change_previous: float | None  # value minus the previous year's value
    change_years_before: float | None  # value minus the value ``years_before`` years earlier


@dataclass
class KpiComparison:
    kpi_code: str
    dimension: str
    direction: str
    unit: str
    period: str
    entries: list[PeerEntry]  # best first
    comparability: str = ""  # across countries only: see bylab.indicators.crosswalk
    warning: str = ""

    def entry_of(self, place_id: str) -> PeerEntry | None:
        return next((entry for entry in self.entries if entry.place_id == place_id), None)


@dataclass
class Comparison:
    place_id: str | None
    peer_kind: str
    peer_label: str
    peer_ids: list[str]
    years_before: int
    kpis: list[KpiComparison] = field(default_factory=list)
    dimensions: dict[str, float | None] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # KPIs not comparable across countries


def standings(values: dict[str, float], direction: Direction) -> dict[str, Standing]:
    """Rank, percentile and score of every place's value (see the module docstring)."""
    lower_first = direction == Direction.LOWER_IS_BETTER
    order = sorted(values, key=lambda place: (values[place] if lower_first
                                              else -values[place], place))
    low, high = min(values.values(), default=0.0), max(values.values(), default=0.0)
    count = len(order)
    result = {}
    for index, place in enumerate(order):
        percentile = 100.0 if count == 1 else 100.0 * (count - 1 - index) / (count - 1)
        result[place] = Standing(index + 1, percentile, _score(values[place], low, high,
                                                                direction))
    return result


def _score(value: float, low: float, high: float, direction: Direction) -> float | None:
    if direction == Direction.NO_PREFERENCE:
        return None
    if high == low:
        return 100.0
    share = (value - low) / (high - low)
    return 100.0 * (1.0 - share if direction == Direction.LOWER_IS_BETTER else share)


def indicator_compare(ctx: Context, peers: PeerKind, place: str | None = None,
                      kpi: str | None = None, period: str | None = None,
                      ids: list[str] | None = None, years_before: int = YEARS_BEFORE,
                      crosswalk: tuple[CrosswalkEntry, ...] | None = None) -> Comparison:
    """Compare ``place`` with its peers on ``kpi`` (every KPI the place has a value of when
    None) in ``period`` (per KPI the place's latest period when None); across countries as
    the national indicator ``crosswalk`` allows (the bundled one by default)."""
    place_id = place.strip().upper() if place else None
    if kpi is None and place_id is None:
        raise InvalidInput("give a place, a KPI, or both", field="place")
    if years_before < 1:
        raise InvalidInput("years_before must be at least 1", field="years_before")
    with ctx.db.session() as session:
        label, peer_ids = peer_group(session, ctx, PeerKind(peers), place_id, ids, period)
        codes = [kpi_show(kpi).kpi.code] if kpi else _kpis_of(session, ctx, place_id)
        stored = readable_values(session, ctx, codes, peer_ids)
        names = dict(session.execute(select(Place.id, Place.name)
                                     .where(Place.id.in_(peer_ids))).all())
    comparison = comparison_of(Comparison(place_id, PeerKind(peers).value, label,
                                          sorted(peer_ids), years_before),
                               codes, stored, names, period, crosswalk)
    if kpi and comparison.refused:
        raise InvalidInput("not compared: {reason}", field="ids", reason=comparison.refused[0])
    return comparison


def comparison_of(comparison: Comparison, codes: list[str], stored: list[ComputedValue],
                  names: dict[str, str], period: str | None,
                  crosswalk: tuple[CrosswalkEntry, ...] | None = None) -> Comparison:
    """Fill ``comparison`` (its place, peer group and years) with the KPIs ``codes`` compared
    over the peers' readable computed values ``stored`` (see ``indicator_compare``)."""
    place_id = comparison.place_id
    for code in codes:
        series = _series(stored, code)
        chosen = period or _latest_period(series, place_id)
        if chosen is None:
            continue
        compared = _compare_kpi(code, chosen, series, names, comparison.years_before)
        across = cross_country(code, {entry.place_id.split("-", 1)[0]
                                      for entry in compared.entries}, crosswalk)
        if across is not None and across.level == Comparability.NOT_COMPARABLE:
            comparison.refused.append(across.message)
            continue
        if across is not None:
            compared.comparability, compared.warning = across.level.value, across.message
        comparison.kpis.append(compared)
    comparison.dimensions = _dimension_scores(comparison.kpis, place_id)
    return comparison


def _kpis_of(session: Session, ctx: Context, place_id: str | None) -> list[str]:
    assert place_id is not None
    return kpis_held(readable_values(session, ctx, sorted(bundled_definitions()), {place_id}))


def kpis_held(stored: list[ComputedValue]) -> list[str]:
    """The defined KPIs (sorted) that the computed values ``stored`` are of."""
    known = set(bundled_definitions())
    return sorted({item.kpi_code for item in stored if item.kpi_code in known})


def _series(stored: list[ComputedValue], code: str) -> dict[str, dict[str, float]]:
    """period -> place id -> value, for one KPI."""
    by_period: dict[str, dict[str, float]] = {}
    for item in stored:
        if item.kpi_code == code and item.value is not None:
            by_period.setdefault(item.period, {})[item.place_id] = item.value
    return by_period


def _latest_period(series: dict[str, dict[str, float]], place_id: str | None) -> str | None:
    periods = [period for period, values in series.items()
               if place_id is None or place_id in values]
    return max(periods, default=None)


def _compare_kpi(code: str, period: str, series: dict[str, dict[str, float]],
                 names: dict[str, str], years_before: int) -> KpiComparison:
    entry = kpi_show(code)
    definition = entry.definition
    if definition is None:
        raise InvalidInput("KPI '{code}' has no definition yet", field="kpi", code=code)
    values = series.get(period, {})
    ranked = standings(values, definition.direction)
    previous = series.get(_shift(period, 1), {})
    earlier = series.get(_shift(period, years_before), {})
    entries = [PeerEntry(place, names.get(place, ""), values[place], standing.rank,
                         standing.percentile, standing.score,
                         _difference(values[place], previous.get(place)),
                         _difference(values[place], earlier.get(place)))
               for place, standing in sorted(ranked.items(), key=lambda item: item[1].rank)]
    return KpiComparison(code, entry.kpi.dimension, definition.direction.value,
                         definition.unit, period, entries)


def _shift(period: str, years: int) -> str:
    if not period.isdigit():
        raise InvalidInput("period '{period}' is not a year", field="period", period=period)
    return str(int(period) - years)


def _difference(value: float, before: float | None) -> float | None:
    return None if before is None else value - before


def _dimension_scores(kpis: list[KpiComparison], place_id: str | None
                      ) -> dict[str, float | None]:
    scores: dict[str, list[float]] = {dimension: [] for dimension in DIMENSIONS}
    for comparison in kpis:
        entry = comparison.entry_of(place_id) if place_id else None
        if entry is not None and entry.score is not None and comparison.dimension in scores:
            scores[comparison.dimension].append(entry.score)
    return {dimension: mean(values) if values else None
            for dimension, values in scores.items()}


# ---------------------------------------------------------------- peer groups

def peer_group(session: Session, ctx: Context, kind: PeerKind, place_id: str | None,
               ids: list[str] | None, period: str | None) -> tuple[str, set[str]]:
    """A label and the place ids of the peer group (see the module docstring)."""
    if kind == PeerKind.IDS:
        wanted = {item.strip().upper() for item in ids or [] if item.strip()}
        if not wanted:
            raise InvalidInput("peers=ids needs a list of place ids", field="ids")
        return "custom list", wanted | ({place_id} if place_id else set())
    if place_id is None:
        raise InvalidInput("peers={peers} needs a place", field="place", peers=kind.value)
    place = session.get(Place, place_id)
    if place is None:
        raise NotFound("no place with id '{place}'", field="place", place=place_id)
    if kind == PeerKind.REGION:
        return _region(session, place)
    return _size_class(session, ctx, place, period)


def _region(session: Session, place: Place) -> tuple[str, set[str]]:
    if place.parent_id is None:
        raise InvalidInput("{place} has no parent, so no region", field="place", place=place.id)
    members = set(session.scalars(select(Place.id).where(Place.parent_id == place.parent_id)))
    return f"places in {place.parent_id}", members


def _size_class(session: Session, ctx: Context, place: Place,
                period: str | None) -> tuple[str, set[str]]:
    level_ids = set(session.scalars(select(Place.id).where(Place.level == place.level)))
    population = populations(session, ctx, level_ids, period)
    if place.id not in population:
        raise InvalidInput("no population of {place} for {period}", field="place",
                           place=place.id, period=period or "any period")
    band = population_band(population[place.id])
    members = {other for other, people in population.items()
               if population_band(people) == band}
    return f"{place.level} places with {band_label(band)} inhabitants", members


def populations(session: Session, ctx: Context, place_ids: set[str],
                period: str | None) -> dict[str, float]:
    """Place id -> population, from the population input of the stored population density
    values the actor may see: of ``period``, or the latest earlier one (latest overall when
    ``period`` is None)."""
    chosen: dict[str, tuple[str, float]] = {}
    for item in readable_values(session, ctx, [DENSITY_KPI], place_ids):
        people = _population_input(item)
        if people is None or (period is not None and item.period > period):
            continue
        if item.place_id not in chosen or chosen[item.place_id][0] < item.period:
            chosen[item.place_id] = (item.period, people)
    return {place: people for place, (_period, people) in chosen.items()}


def _population_input(item: IndicatorValue) -> float | None:
    for used in item.provenance.get("inputs", []):
        if used.get("variable") == "population" and used.get("value") is not None:
            return float(used["value"])
    return None


def population_band(people: float) -> int:
    return bisect_right(POPULATION_BAND_STARTS, people)


def band_label(band: int) -> str:
    starts = (0, *POPULATION_BAND_STARTS)
    if band == len(POPULATION_BAND_STARTS):
        return f"{starts[band]:,}+"
    return f"{starts[band]:,}–{starts[band + 1] - 1:,}"
