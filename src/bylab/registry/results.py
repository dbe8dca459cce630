"""A project's results on KPIs: for a KPI at a place, the value before and after the project.

Values come from the indicator engine, through its access rule (``readable_values``: a reader
sees a value only if they may see every dataset that fed it), with their unit and a link to
their provenance. Where the engine has no value the project may report one, with its source;
a reported value is always labelled as such and never passed off as computed. Whether the
KPI improved or worsened follows the KPI's direction; without both values it is "no data"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from math import isfinite
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.indicators.actions import readable_values
from bylab.indicators.models import IndicatorValue
from bylab.indicators.specs import Direction, bundled_definitions
from bylab.registry.checks import check_kpi_codes, check_place_ids
from bylab.registry.models import KpiResult, Project

MAX_PERIOD_CHARS = 16


class Origin(StrEnum):
    COMPUTED = "computed"  # by the indicator engine
    REPORTED = "reported"  # by the project
    NONE = "none"


class Outcome(StrEnum):
    IMPROVED = "improved"
    WORSENED = "worsened"
    UNCHANGED = "unchanged"
    NO_DIRECTION = "no direction"  # no better direction is known for the KPI
    NO_DATA = "no data"


@dataclass(frozen=True)
class ResultInput:
    kpi_code: str
    place_id: str
    before_period: str
    after_period: str
    reported_before: float | None = None
    reported_after: float | None = None
    reported_unit: str = ""
    reported_source: str = ""


@dataclass(frozen=True)
class ResultSide:
    period: str
    value: float | None
    unit: str
    origin: Origin
    provenance: str  # the API address of a computed value's provenance, else ""


@dataclass(frozen=True)
class ResultView:
    result: KpiResult
    direction: Direction
    before: ResultSide
    after: ResultSide
    change: float | None  # after - before, when both are there
    outcome: Outcome
    source: str  # where reported values come from


def _period(value: str, field: str) -> str:
    period = value.strip()
    if not period or len(period) > MAX_PERIOD_CHARS:
        raise InvalidInput("give a period like 2021 or 2021-Q3", field=field)
    return period


def _reported(value: float | None, field: str) -> float | None:
    if value is not None and not isfinite(value):
        raise InvalidInput("give a finite number", field=field)
    return value


def result_of(session: Session, project: Project, data: ResultInput,
              created_by: str) -> KpiResult:
    """A checked KPI result of the project (not yet added to the session)."""
    before = _period(data.before_period, "before_period")
    after = _period(data.after_period, "after_period")
    if before == after:
        raise InvalidInput("the after period must differ from the before period",
                           field="after_period")
    reported = (_reported(data.reported_before, "reported_before"),
                _reported(data.reported_after, "reported_after"))
    if any(value is not None for value in reported) and not data.reported_source.strip():
        raise InvalidInput("say where the reported value comes from", field="reported_source")
    return KpiResult(
        project_id=project.id, kpi_code=check_kpi_codes([data.kpi_code], "kpi_code")[0],
        place_id=check_place_ids(session, [data.place_id.strip()], "place_id")[0],
        before_period=before, after_period=after, reported_before=reported[0],
        reported_after=reported[1], reported_unit=data.reported_unit.strip(),
        reported_source=data.reported_source.strip(), created_by=created_by)


def results_replace(session: Session, project: Project, results: Sequence[ResultInput],
                    created_by: str) -> None:
    """Replace the project's KPI results by these (checked first: all or none)."""
    checked = [result_of(session, project, data, created_by) for data in results]
    session.execute(delete(KpiResult).where(KpiResult.project_id == project.id))
    session.add_all(checked)


def results_of(session: Session, project_id: str) -> list[KpiResult]:
    return list(session.scalars(select(KpiResult).where(KpiResult.project_id == project_id)
                                .order_by(KpiResult.id)))


def provenance_path(kpi_code: str, place_id: str, period: str) -> str:
    """The API address of one value with its provenance."""
    return "/api/indicators/value?" + urlencode(
        {"kpi": kpi_code, "place": place_id, "period": period})


def _side(result: KpiResult, period: str, reported: float | None,
          computed: dict[tuple[str, str, str], IndicatorValue]) -> ResultSide:
    value = computed.get((result.kpi_code, result.place_id, period))
    if value is not None and value.value is not None:
        return ResultSide(period, value.value, value.unit, Origin.COMPUTED,
                          provenance_path(result.kpi_code, result.place_id, period))
    if reported is not None:
        return ResultSide(period, reported, result.reported_unit, Origin.REPORTED, "")
    return ResultSide(period, None, "", Origin.NONE, "")


def outcome_of(before: ResultSide, after: ResultSide, direction: Direction) -> Outcome:
    """Improved or worsened by the KPI's direction; no data without both values, or when
    their units differ (a computed and a reported value in other units do not compare)."""
    if before.value is None or after.value is None or before.unit != after.unit:
        return Outcome.NO_DATA
    if after.value == before.value:
        return Outcome.UNCHANGED
    if direction == Direction.NO_PREFERENCE:
        return Outcome.NO_DIRECTION
    went_up = after.value > before.value
    better = went_up == (direction == Direction.HIGHER_IS_BETTER)
    return Outcome.IMPROVED if better else Outcome.WORSENED


def _direction(kpi_code: str) -> Direction:
    definition = bundled_definitions().get(kpi_code)
    return definition.direction if definition else Direction.NO_PREFERENCE


def results_evaluated(session: Session, ctx: Context,
                      results: Sequence[KpiResult]) -> list[ResultView]:
    """Each result with its before and after values as the actor may see them."""
    if not results:
        return []
    computed = {(value.kpi_code, value.place_id, value.period): value
                for value in readable_values(session, ctx, sorted({r.kpi_code for r in results}),
                                             {r.place_id for r in results})}
    views = []
    for result in results:
        before = _side(result, result.before_period, result.reported_before, computed)
        after = _side(result, result.after_period, result.reported_after, computed)
        direction = _direction(result.kpi_code)
        change = (after.value - before.value
                  if before.value is not None and after.value is not None
                  and before.unit == after.unit else None)
        views.append(ResultView(result, direction, before, after, change,
                                outcome_of(before, after, direction), result.reported_source))
    return views
