"""Reads of computed indicator values without their provenance, for views that only draw the
numbers (the dashboard's map and ranking). Loading each value's provenance JSON was most of
the time of a country-wide read; a value's visibility needs only its ``dataset_ids``.

The access rule is the one of ``readable_values`` (``only_readable``): a reader sees a
value only if they may see every dataset that fed it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.indicators.actions import computed_values_of, only_readable
from bylab.indicators.models import IndicatorValue


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
        *computed_values_of(kpi_codes, place_ids))
    return only_readable(session, ctx, (PlainValue(*row) for row in session.execute(statement)))
