"""Database models of bylab.mobility: SUMO runs as background jobs, with their inputs,
provenance and aggregated results. Run files (network, routes, outputs) live in
``<data_dir>/mobility/<run id>/``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bylab.errors import BylabError, Translate
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
    error: Mapped[str] = mapped_column(Text, default="")  # in English, for the API and CLI
    # The error as a template ({message_id, params, file, row, field}: error_detail_of), for
    # the pages; None when it was no BylabError (a crash) or the run failed before 0016.
    error_detail: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    started: Mapped[datetime | None] = mapped_column(nullable=True)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)

    def error_in(self, translate: Translate, language: str = "en") -> str:
        """The run's error in the language of ``translate`` (a gettext), numbers as
        ``language`` writes them; the English text when no template was kept."""
        if not self.error_detail:
            return self.error
        try:
            return str(error_from_detail(self.error_detail).in_language(translate, language))
        except (KeyError, IndexError, ValueError, TypeError):  # a detail not of this shape
            return self.error


def error_detail_of(error: BylabError) -> dict[str, Any]:
    """What ``error_from_detail`` needs to show ``error`` again in any language, as JSON
    (a value JSON cannot hold, such as a path, is kept as its text)."""
    return {"message_id": error.message_id,
            "params": {name: _json_value(value) for name, value in error.params.items()},
            "file": error.file, "row": error.row, "field": error.field}


def error_from_detail(detail: dict[str, Any]) -> BylabError:
    return BylabError(detail["message_id"], file=detail.get("file"), row=detail.get("row"),
                      field=detail.get("field"), **detail.get("params", {}))


def _json_value(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)
