"""What the dashboard shows, read through the indicator actions (so the indicators' access
rule holds on every page, embed and export): the region overview, a city profile and a
comparison of places.

Classification of the overview map: quantiles (five classes of about equal count, breaks from
``statistics.quantiles`` with the inclusive method) of the values of the peer group, coloured
with the five-class viridis palette, which stays ordered for the common colour-vision
deficiencies and in greyscale.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import func, select

from bylab.catalog.queries import cached_read, visibility_key
from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.dashboard.profile_reads import profile_data
from bylab.indicators.actions import (
    Coverage,
    KpiEntry,
    ValueRow,
    indicator_values,
    kpi_list,
    kpi_show,
)
from bylab.indicators.compare import PeerKind, indicator_compare, standings
from bylab.indicators.models import IndicatorTarget, IndicatorValue
from bylab.indicators.reads import readable_plain_values
from bylab.indicators.targets import TargetStatus
from bylab.places.models import Place
from bylab.places.queries import place_children, place_get
from bylab.web.i18n import N_

PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")  # viridis, light to dark
CLASS_COUNT = len(PALETTE)
MIN_COMPARED, MAX_COMPARED = 2, 6
View = TypeVar("View")


class PeerScope(StrEnum):
    """What the overview ranks and classifies a region's municipalities among."""

    REGION = "region"  # the municipalities of the region shown
    COUNTRY = "country"  # every municipality of the region's country


@dataclass(frozen=True)
class MapEntry:
    place_id: str
    place_name: str
    value: float
    rank: int  # among the peers, 1 is best
    percentile: float
    colour_class: int  # 0..CLASS_COUNT-1, index into PALETTE


@dataclass(frozen=True)
class LegendClass:
    low: float
    high: float
    colour: str
    count: int


@dataclass
class Overview:
    region: Place
    regions: list[Place]
    kpis: list[KpiEntry]
    kpi: KpiEntry
    years: list[str]
    year: str | None  # the year asked for, or the latest when that year has no values
    asked_year: str | None
    peers: PeerScope
    peer_count: int
    entries: list[MapEntry]  # the region's places with a value, best first
    legend: list[LegendClass]
    missing: list[Place]  # the region's places without a value that year


@dataclass
class ProfileKpi:
    entry: KpiEntry
    status: str
    series: list[tuple[str, float]]
    latest: ValueRow | None
    percentile: float | None
    targets: list[TargetStatus]


@dataclass
class Profile:
    place: Place
    coverage: Coverage
    peer_label: str
    dimension_scores: dict[str, float | None]
    headline: list[tuple[str, float | None, str, str]]  # (label, value, unit, period)
    kpis: list[ProfileKpi]  # computed ones first, in catalogue order
    others: list[ProfileKpi]


@dataclass
class CompareKpi:
    entry: KpiEntry
    periods: list[str]
    series: dict[str, dict[str, float]]  # place id -> period -> value


@dataclass
class Compared:
    places: list[Place]
    kpis: list[CompareKpi]
    dimension_scores: dict[str, dict[str, float | None]] = field(default_factory=dict)


def defined_kpis() -> list[KpiEntry]:
    return [entry for entry in kpi_list() if entry.definition is not None]


def regions(ctx: Context) -> list[Place]:
    """The places that have municipalities under them (counties, län, voivodeships)."""
    with ctx.db.session() as session:
        parent_ids = select(Place.parent_id).where(Place.level == "municipality").distinct()
        found = list(session.scalars(select(Place).where(Place.id.in_(parent_ids),
                                                         Place.valid_to.is_(None))
                                     .order_by(Place.country, Place.name)))
    return found


def quantile_breaks(values: list[float], classes: int = CLASS_COUNT) -> list[float]:
    """The inner class breaks (at most ``classes - 1``, distinct, ascending)."""
    if len(set(values)) < 2:
        return []
    cuts = statistics.quantiles(values, n=min(classes, len(values)), method="inclusive")
    return sorted(set(cuts))


def class_of(value: float, breaks: list[float]) -> int:
    """The class of a value: 0 below the first break ... len(breaks) above the last; a value
    equal to a break belongs to the lower class."""
    position = bisect_right(breaks, value)
    if position and value == breaks[position - 1]:
        position -= 1
    return position


def _legend(values: list[float], breaks: list[float]) -> list[LegendClass]:
    if not values:
        return []
    bounds = [min(values), *breaks, max(values)]
    colours = _class_colours(len(breaks) + 1)
    counts = [0] * (len(breaks) + 1)
    for value in values:
        counts[class_of(value, breaks)] += 1
    return [LegendClass(bounds[index], bounds[index + 1], colours[index], counts[index])
            for index in range(len(breaks) + 1)]


def _class_colours(count: int) -> list[str]:
    """``count`` colours spread over the palette, so two classes are still far apart."""
    if count == 1:
        return [PALETTE[2]]
    return [PALETTE[round(index * (CLASS_COUNT - 1) / (count - 1))] for index in range(count)]


def overview(ctx: Context, region_id: str | None = None, kpi: str | None = None,
             year: str | None = None, peers: PeerScope = PeerScope.REGION) -> Overview:
    """The municipalities of a region on one KPI and year (the latest year with values when
    ``year`` is None or has none), ranked and classified among the peer scope."""
    kpis = defined_kpis()
    entry = kpi_show(kpi) if kpi else _default_kpi(kpis)
    if entry.definition is None:
        raise InvalidInput("KPI '{code}' has no values to map", field="kpi", code=entry.kpi.code)
    region = _place(ctx, region_id or ctx.settings.default_region)
    members = place_children(ctx, region.id, date.today())
    municipalities = [place for place in members if place.level == "municipality"]
    scope_ids = _scope_ids(ctx, region, municipalities, PeerScope(peers))
    by_period = cached_view(ctx, "kpi_values", (entry.kpi.code, frozenset(scope_ids)),
                            lambda: _values_by_period(ctx, entry.kpi.code, scope_ids))
    years = sorted(by_period)
    chosen = year if year in years else (years[-1] if years else None)
    peer_values = by_period.get(chosen, {}) if chosen else {}
    ranked = standings(peer_values, entry.definition.direction)
    breaks = quantile_breaks(list(peer_values.values()))
    names = {place.id: place.name for place in municipalities}
    entries = sorted((MapEntry(place_id, names[place_id], peer_values[place_id],
                               ranked[place_id].rank, ranked[place_id].percentile,
                               class_of(peer_values[place_id], breaks))
                      for place_id in names if place_id in peer_values),
                     key=lambda item: item.rank)
    return Overview(region, regions(ctx), kpis, entry, years, chosen, year,
                    PeerScope(peers),
                    len(peer_values), entries, _legend(list(peer_values.values()), breaks),
                    [place for place in municipalities if place.id not in peer_values])


def _values_by_period(ctx: Context, code: str, place_ids: set[str]
                      ) -> dict[str, dict[str, float]]:
    """Period -> place id -> value of one KPI, of the values the actor may see. Every year of
    a peer group is read at once and kept (see cached_view): the year slider then only picks
    from it. The provenance the map does not show is not read."""
    by_period: dict[str, dict[str, float]] = {}
    with ctx.db.session() as session:
        for row in readable_plain_values(session, ctx, [code], place_ids):
            if row.value is not None:
                by_period.setdefault(row.period, {})[row.place_id] = row.value
    return by_period


def _default_kpi(kpis: list[KpiEntry]) -> KpiEntry:
    """The first U4SSC KPI with a definition (context indicators after)."""
    return next((entry for entry in kpis if entry.kpi.framework == "U4SSC"), kpis[0])


def _place(ctx: Context, place_id: str) -> Place:
    with ctx.db.session() as session:
        return place_get(session, place_id.strip().upper())


def _scope_ids(ctx: Context, region: Place, municipalities: list[Place],
               peers: PeerScope) -> set[str]:
    if peers == PeerScope.REGION:
        return {place.id for place in municipalities}
    with ctx.db.session() as session:
        return set(session.scalars(select(Place.id).where(
            Place.country == region.country, Place.level == "municipality")))


# ---------------------------------------------------------------- profile

def profile(ctx: Context, place_id: str) -> Profile:
    """Everything the city profile shows of one place, from the values the actor may see
    (read at once: ``profile_reads``)."""
    data = profile_data(ctx, place_id)
    place, coverage, rows = data.place, data.coverage, data.values
    comparison, targets = data.comparison, data.targets
    kpis, others = [], []
    for status in [*coverage.kpis, *coverage.context]:
        code = status.entry.kpi.code
        series = [(row.period, row.value) for row in rows
                  if row.kpi_code == code and row.value is not None]
        mine = [row for row in rows if row.kpi_code == code]
        compared = next((item for item in comparison.kpis if item.kpi_code == code), None) \
            if comparison else None
        standing = compared.entry_of(place.id) if compared else None
        item = ProfileKpi(status.entry, status.status, series, mine[-1] if mine else None,
                          standing.percentile if standing else None,
                          [target for target in targets if target.target.kpi_code == code])
        (kpis if series else others).append(item)
    return Profile(place, coverage, comparison.peer_label if comparison else "",
                   comparison.dimensions if comparison else {}, _headline(kpis),
                   kpis, others)


def _headline(kpis: list[ProfileKpi]) -> list[tuple[str, float | None, str, str]]:
    """The latest value of each context indicator (population density): label, value, unit,
    period."""
    return [(item.entry.kpi.name(), item.latest.value,
             item.entry.definition.unit_label if item.entry.definition else "",
             item.latest.period)
            for item in kpis if item.entry.kpi.framework != "U4SSC" and item.latest is not None]


# ---------------------------------------------------------------- compare

def parse_place_ids(text: str) -> list[str]:
    """'no-1506, NO-1508' -> ['NO-1506', 'NO-1508'] (order kept, duplicates dropped), 2–6."""
    ids = list(dict.fromkeys(item.strip().upper() for item in text.split(",") if item.strip()))
    if not MIN_COMPARED <= len(ids) <= MAX_COMPARED:
        raise InvalidInput("compare {low} to {high} places, not {count}", field="places",
                           low=MIN_COMPARED, high=MAX_COMPARED, count=len(ids))
    return ids


def compare(ctx: Context, place_ids: list[str]) -> Compared:
    """The series of every KPI any of the places has a value of, and each place's dimension
    scores within this group."""
    with ctx.db.session() as session:
        places = [place_get(session, place_id) for place_id in place_ids]
    compared = Compared(places, [])
    rows = [row for place in places for row in indicator_values(ctx, place=place.id)]
    for entry in kpi_list():
        mine = [row for row in rows if row.kpi_code == entry.kpi.code and row.value is not None]
        if not mine:
            continue
        series: dict[str, dict[str, float]] = {place.id: {} for place in places}
        for row in mine:
            series[row.place_code][row.period] = row.value  # type: ignore[assignment]
        compared.kpis.append(CompareKpi(entry, sorted({row.period for row in mine}), series))
    for place in places:
        if any(series[place.id] for series in (item.series for item in compared.kpis)):
            scores = indicator_compare(ctx, PeerKind.IDS, place.id, ids=place_ids).dimensions
            compared.dimension_scores[place.id] = scores
    return compared


# ---------------------------------------------------------------- KPI page

@dataclass(frozen=True)
class Chart:
    """What a chart draws and its table shows: one value per label and series."""

    name: str
    unit: str
    slug: str
    labels: list[str]
    series: dict[str, list[float | None]]  # series name -> values in label order
    kind: str = "line"  # or "bar"


# The series of kpi_charts, as a page shows them translated.
SERIES_NAMES = (N_("median"), N_("lowest"), N_("highest"), N_("places"))


def kpi_charts(entry: KpiEntry, rows: list[ValueRow], bins: int = 10,
               language: str = "en") -> list[Chart]:
    """The distribution across places of the latest period with the most places, and the
    median, lowest and highest value per period; named in ``language`` (the series keep
    their English names: ``SERIES_NAMES`` for a page to translate)."""
    unit = entry.definition.unit_label if entry.definition else ""
    by_period: dict[str, list[float]] = {}
    for row in rows:
        if row.value is not None:
            by_period.setdefault(row.period, []).append(row.value)
    if not by_period:
        return []
    periods = sorted(by_period)
    fullest = max(reversed(periods), key=lambda period: len(by_period[period]))
    labels, counts = histogram(by_period[fullest], bins)
    spread = Chart(entry.kpi.name(language), unit, entry.slug, periods, {
        "median": [statistics.median(by_period[period]) for period in periods],
        "lowest": [min(by_period[period]) for period in periods],
        "highest": [max(by_period[period]) for period in periods]})
    distribution = Chart(f"{entry.kpi.name(language)}, {fullest}", "places", entry.slug, labels,
                         {"places": [float(count) for count in counts]}, "bar")
    return [distribution, spread]


def histogram(values: list[float], bins: int) -> tuple[list[str], list[int]]:
    """Equal-width bins from the lowest to the highest value: labels 'low–high' and counts."""
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    labels = [f"{low + index * width:,.3g}–{low + (index + 1) * width:,.3g}"
              for index in range(bins)]
    return labels, counts


# ---------------------------------------------------------------- caching

def _indicator_revision(ctx: Context) -> tuple[Any, ...]:
    """Changes whenever stored values, targets or places change. Storing deletes the rows that
    changed or went stale and inserts the new ones, stamped with a new ``computed_at``: the
    count, the largest id and the newest row's stamp (by id, the primary key, so this reads no
    table) change even when SQLite hands out a deleted row's id again.
    Targets and places only grow or are reloaded."""
    parts = [select(func.count()).select_from(IndicatorValue), select(func.max(IndicatorValue.id)),
             select(IndicatorValue.computed_at).order_by(IndicatorValue.id.desc()).limit(1),
             select(func.count()).select_from(IndicatorTarget), select(func.max(IndicatorTarget.id)),
             select(func.count()).select_from(Place)]
    with ctx.db.session() as session:
        return tuple(session.execute(select(*(part.scalar_subquery() for part in parts))).one())


def cached_view(ctx: Context, kind: str, key: Hashable, compute: Callable[[], View],
                weigh: Callable[[View], int] = lambda _view: 1) -> View:
    """``compute()``, or the same view computed earlier in this process for a reader who sees
    the same datasets, under the same catalogue revision (dataset visibility) and the same
    stored values, targets and places. Views are read-only once made; ``weigh`` bounds what
    a kind keeps (see CatalogReadCache)."""
    return cached_read(ctx, f"dashboard_{kind}",
                       (visibility_key(ctx.actor), _indicator_revision(ctx), key), compute,
                       weigh)
