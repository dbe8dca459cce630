"""Database models of bylab.mobility: SUMO runs as background jobs, with their inputs,
provenance and aggregated results. Run files (network, routes, outputs) live in
``<data_dir>/mobility/<run id>/``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bylab.storage.base import Base, JsonColumn, new_id, utcnow


class RunKind(StrEnum):
    SIMULATION = "simulation"
    CALIBRATION = "calibration"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}


class MobilityRun(Base):
    """One SUMO simulation (or calibration) of an organisation, from request to results."""

    __tablename__ = "mobility_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), default=RunKind.SIMULATION)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    place_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED, index=True)
    phase: Mapped[str] = mapped_column(String(100), default="")  # what it is doing now
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    seed: Mapped[int] = mapped_column(Integer, default=1)
    network: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)  # the spec
    demand: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)  # DemandInput
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    results: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    started: Mapped[datetime | None] = mapped_column(nullable=True)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)
