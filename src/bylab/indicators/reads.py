"""Reads of computed indicator values without their provenance, for views that only draw the
numbers (the dashboard's map and ranking). Loading each value's provenance JSON was most of
the time of a country-wide read; a value's visibility needs only its ``dataset_ids``.

The access rule is the one of ``readable_values`` (its own pieces, reused): a reader sees a
value only if they may see every dataset that fed it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.indicators.actions import _readable, _visible_dataset_ids
from bylab.indicators.models import IndicatorValue, ValueStatus


@dataclass(frozen=True)
class PlainValue:
    """A computed value as a view draws it."""

    kpi_code: str
    place_id: str
    period: str
    value: float | None
    dataset_ids: list[str]


def readable_plain_values(session: Session, ctx: Context, kpi_codes: list[str],
                          place_ids: set[str] | None = None) -> list[PlainValue]:
    """The computed values of the KPIs (of these places; every place by default) that the
    actor may see: the rows ``readable_values`` returns, without provenance."""
    statement = select(IndicatorValue.kpi_code, IndicatorValue.place_id,
                       IndicatorValue.period, IndicatorValue.value,
                       IndicatorValue.dataset_ids).where(
        IndicatorValue.kpi_code.in_(kpi_codes),
        IndicatorValue.status == ValueStatus.COMPUTED.value)
    if place_ids is not None:
        statement = statement.where(IndicatorValue.place_id.in_(place_ids))
    visible = _visible_dataset_ids(session, ctx)
    found = (PlainValue(*row) for row in session.execute(statement))
    return [value for value in found
            if _readable(value, visible)]  # type: ignore[arg-type]  # reads dataset_ids only
