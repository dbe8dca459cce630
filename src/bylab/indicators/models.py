"""Computed indicator values and the records of why a value is missing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bylab.storage.base import Base, JsonColumn, utcnow


class ValueStatus(StrEnum):
    COMPUTED = "computed"
    MISSING = "missing"  # ``reason`` says which input is absent


class IndicatorValue(Base):
    """One KPI for one place and period: a value with its provenance, or a missing record.

    ``dataset_ids`` lists every catalogue dataset that fed the record; a reader sees the
    record only if they may see all of them (see ``bylab.indicators.access``)."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("kpi_code", "place_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kpi_code: Mapped[str] = mapped_column(String(40), index=True)
    place_id: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    dataset_ids: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TargetKind(StrEnum):
    NATIONAL = "national"
    SDG = "sdg"
    OWN = "own"  # the city's own target


class TargetScope(StrEnum):
    PLACE = "place"  # ``place_id`` is the place the target is for
    CHILDREN = "children"  # every place whose parent is ``place_id`` (e.g. a county's)
    COUNTRY = "country"  # every place of the country ``place_id`` (e.g. "NO")


class IndicatorTarget(Base):
    """A target value of one KPI for a place, the places under a parent, or a whole country,
    to reach by ``target_year``, with the text of its source (a plan, a law, an SDG target)."""

    __tablename__ = "indicator_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kpi_code: Mapped[str] = mapped_column(String(40), index=True)
    scope: Mapped[str] = mapped_column(String(10))
    place_id: Mapped[str] = mapped_column(String(64), index=True)
    target_value: Mapped[float] = mapped_column(Float)
    target_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Verdict(StrEnum):
    APPROVE = "approve"
    QUESTION = "question"


class IndicatorReview(Base):
    """A named verifier's sign-off (approve) or query (question) of one stored value, with the
    digest of the inputs it was given for (``provenance['inputs_sha256']`` of the value then).
    A review is never changed: when the value's inputs change the digests differ and the
    review reads as invalidated; a new review is a new row."""

    __tablename__ = "indicator_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kpi_code: Mapped[str] = mapped_column(String(40), index=True)
    place_id: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float] = mapped_column(Float)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(100))  # the verifier's username
    reviewer_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
