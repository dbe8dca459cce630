"""KPI targets and the status of a place against them.

A target holds a KPI's target value and year for one place, for every place under a parent
(``children``), or for every place of a country (``country``), with its kind (national, sdg,
own) and the text of its source. bylab ships no targets: they are entered by the people who
own them, with their source.

Status of a place against a target, for a KPI whose definition has a direction:

- ``met``: the latest value the reader may see already reaches the target (at or above it
  when higher is better, at or below it when lower is better);
- ``on_track``: not met, but the least-squares line through the last ``TREND_POINTS`` annual
  values, projected to the target year, reaches it;
- ``off_track``: not met and the projection does not reach it (or the target year is past);
- ``no_data``: no value, or a single value that does not meet the target (no trend).

The gap is ``target_value - latest_value`` in the KPI's unit (negative when the value must
fall).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.indicators.actions import ComputedValue, kpi_show, readable_values
from bylab.indicators.models import IndicatorTarget, TargetKind, TargetScope
from bylab.indicators.specs import Direction
from bylab.places.models import Place

TREND_POINTS = 5  # the last N annual values the trend is fitted to


@dataclass(frozen=True)
class TargetStatus:
    target: IndicatorTarget
    place_id: str
    status: str  # met, on_track, off_track, no_data
    latest_period: str | None
    latest_value: float | None
    gap: float | None  # target_value - latest_value
    slope_per_year: float | None
    projected_value: float | None  # the trend's value in the target year


def kpi_direction(kpi: str) -> tuple[str, Direction]:
    """The catalogue code and direction of a KPI; InvalidInput when it has no definition."""
    entry = kpi_show(kpi)
    if entry.definition is None:
        raise InvalidInput("KPI '{code}' has no definition yet", field="kpi", code=entry.kpi.code)
    return entry.kpi.code, entry.definition.direction


def target_add(ctx: Context, kpi: str, place_id: str, target_value: float, target_year: int,
               kind: TargetKind, source: str, scope: TargetScope = TargetScope.PLACE
               ) -> IndicatorTarget:
    """Add a target. Only a system administrator, or an editor of an organisation whose
    place is ``place_id`` (the place, the parent or the country of the scope), may."""
    code, direction = kpi_direction(kpi)
    if direction == Direction.NO_PREFERENCE:
        raise InvalidInput("'{code}' has no better direction, so no target", field="kpi",
                           code=code)
    if not source.strip():
        raise InvalidInput("a target needs its source (plan, law or SDG target)",
                           field="source")
    if not 1900 <= target_year <= 2200:
        raise InvalidInput("target year {year} is out of range", field="target_year",
                           year=target_year)
    place_id = place_id.strip().upper()
    with ctx.db.session() as session:
        if session.get(Place, place_id) is None:
            raise NotFound("no place with id '{place}'", field="place", place=place_id)
        _check_may_set(ctx, session, place_id)
        target = IndicatorTarget(
            kpi_code=code, scope=TargetScope(scope).value, place_id=place_id,
            target_value=float(target_value), target_year=target_year,
            kind=TargetKind(kind).value, source=source.strip(),
            created_by=ctx.actor.username or "")
        session.add(target)
        session.flush()
        session.expunge(target)
    return target


def _check_may_set(ctx: Context, session: Session, place_id: str) -> None:
    if ctx.actor.is_sysadmin:
        return
    owners = session.scalars(select(Organisation.id).where(Organisation.place_id == place_id))
    if not any(ctx.actor.can_edit(organisation_id) for organisation_id in owners):
        raise NotAuthorized("only editors of {place}'s organisation may set its targets",
                            place=place_id)


def target_list(ctx: Context, place: str | None = None, kpi: str | None = None
                ) -> list[IndicatorTarget]:
    """Targets (they are public policy, so everyone may list them), those applying to
    ``place`` (its own, its parent's and its country's) and of ``kpi`` when given."""
    statement = select(IndicatorTarget).order_by(IndicatorTarget.kpi_code,
                                                 IndicatorTarget.target_year,
                                                 IndicatorTarget.id)
    if kpi:
        statement = statement.where(IndicatorTarget.kpi_code == kpi_show(kpi).kpi.code)
    with ctx.db.session() as session:
        if place:
            statement = statement.where(applies_to(_place(session, place)))
        targets = list(session.scalars(statement))
        session.expunge_all()
    return targets


def _place(session: Session, place_id: str) -> Place:
    place = session.get(Place, place_id.strip().upper())
    if place is None:
        raise NotFound("no place with id '{place}'", field="place", place=place_id)
    return place


def applies_to(place: Place) -> ColumnElement[bool]:
    """The targets that apply to ``place``: its own, its parent's (children) and its country's."""
    clauses = [(IndicatorTarget.scope == TargetScope.PLACE.value)
               & (IndicatorTarget.place_id == place.id),
               (IndicatorTarget.scope == TargetScope.COUNTRY.value)
               & (IndicatorTarget.place_id == place.country)]
    if place.parent_id:
        clauses.append((IndicatorTarget.scope == TargetScope.CHILDREN.value)
                       & (IndicatorTarget.place_id == place.parent_id))
    return or_(*clauses)


def target_status(ctx: Context, place: str, kpi: str | None = None) -> list[TargetStatus]:
    """The status of ``place`` against every target that applies to it (of ``kpi`` when
    given), from the values the actor may see; see the module docstring for the method."""
    targets = target_list(ctx, place, kpi)
    place_id = place.strip().upper()
    with ctx.db.session() as session:
        stored = readable_values(session, ctx, sorted({t.kpi_code for t in targets}),
                                 {place_id})
    return statuses_of(targets, place_id, stored)


def statuses_of(targets: list[IndicatorTarget], place_id: str,
                stored: list[ComputedValue]) -> list[TargetStatus]:
    """The status of ``place_id`` against each target, from the readable computed values
    ``stored`` (other places' values are left out)."""
    statuses = []
    for target in targets:
        series = sorted((int(item.period), item.value) for item in stored
                        if item.kpi_code == target.kpi_code and item.place_id == place_id
                        and item.value is not None)
        statuses.append(status_of(target, place_id, series, kpi_direction(target.kpi_code)[1]))
    return statuses


def status_of(target: IndicatorTarget, place_id: str, series: list[tuple[int, float]],
              direction: Direction) -> TargetStatus:
    """The status of one place's annual series ``[(year, value)]`` against one target."""
    if not series:
        return TargetStatus(target, place_id, "no_data", None, None, None, None, None)
    latest_year, latest_value = series[-1]
    gap = target.target_value - latest_value
    fitted = least_squares(series[-TREND_POINTS:])
    slope, projected = None, None
    if fitted is not None:
        slope, intercept = fitted
        projected = intercept + slope * target.target_year
    if reaches(latest_value, target.target_value, direction):
        status = "met"
    elif projected is None:
        status = "no_data"
    elif target.target_year > latest_year and reaches(projected, target.target_value,
                                                      direction):
        status = "on_track"
    else:
        status = "off_track"
    return TargetStatus(target, place_id, status, str(latest_year), latest_value, gap, slope,
                        projected)


def reaches(value: float, target_value: float, direction: Direction) -> bool:
    if direction == Direction.HIGHER_IS_BETTER:
        return value >= target_value
    return value <= target_value


def least_squares(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """Slope and intercept of the least-squares line through ``(year, value)`` points;
    None for fewer than two distinct years."""
    if len({year for year, _value in points}) < 2:
        return None
    count = len(points)
    mean_year = sum(year for year, _value in points) / count
    mean_value = sum(value for _year, value in points) / count
    covariance = sum((year - mean_year) * (value - mean_value) for year, value in points)
    variance = sum((year - mean_year) ** 2 for year, _value in points)
    slope = covariance / variance
    return slope, mean_value - slope * mean_year
