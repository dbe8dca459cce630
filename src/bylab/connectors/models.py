"""Database models of bylab.connectors: saved harvest sources, their runs and dead letters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bylab.storage.base import Base, JsonColumn, new_id, utcnow


class SourceKind(StrEnum):
    PXWEB = "pxweb"  # a PxWeb API v1 / PxWebApi 2.0 table query
    JSONSTAT = "jsonstat"  # a JSON-stat (or PxWeb json) document at a URL, fetched with GET
    CKAN = "ckan"  # dataset metadata (and chosen resources) from another CKAN portal
    STA = "sta"  # Things, Datastreams and Observations from an OGC SensorThings API server


class RunStatus(StrEnum):
    RUNNING = "running"
    STORED = "stored"  # a new dataset version (or new datasets) was stored
    UNCHANGED = "unchanged"  # same data as the latest version: nothing stored
    FAILED = "failed"


class HarvestSource(Base):
    """A saved, optionally scheduled harvest into a dataset of its owning organisation."""

    __tablename__ = "harvest_sources"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(1000))
    table_ref: Mapped[str] = mapped_column(String(300), default="")  # PxWeb table path or id
    query: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    dataset_name: Mapped[str] = mapped_column(String(100))  # CKAN: prefix of the names
    title: Mapped[str] = mapped_column(String(300), default="")
    visibility: Mapped[str] = mapped_column(String(10))
    licence_id: Mapped[str] = mapped_column(String(50), default="CC-BY-4.0")
    country: Mapped[str] = mapped_column(String(2), default="")
    schedule: Mapped[str] = mapped_column(String(40), default="")  # "" = run by hand
    next_run_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    # The variables the table had on its first run: a later answer without them is refused.
    known_variables: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    # Where an incremental harvest resumes (sta: the last phenomenonTime per Datastream).
    state: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    # A scheduler process owns a due source until this time (a database claim, so one run).
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)


class HarvestRun(Base):
    """One run of a source: when, how it ended, counts, and the errors with their place."""

    __tablename__ = "harvest_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(
        ForeignKey("harvest_sources.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # manual, schedule
    started: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_stored: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    dataset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    # Notes on what was mapped (old region codes to their successors, codes without a place).
    notes: Mapped[list[str]] = mapped_column(JsonColumn, default=list)


class HarvestDeadLetter(Base):
    """A row, cell or record that could not be stored, with why and what it held."""

    __tablename__ = "harvest_dead_letters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("harvest_runs.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(500))  # "cell 12 (region=0301, time=2023)"
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a replay stored it; a replay that fails again updates reason and tried_at.
    replayed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    replayed_by: Mapped[str] = mapped_column(String(100), default="")
    tried_at: Mapped[datetime | None] = mapped_column(nullable=True)
