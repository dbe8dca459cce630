"""Database models of bylab.scenarios: saved scenarios and who they are shared with.

A saved scenario belongs to an organisation and has a sharing level like a dataset
(``bylab.catalog.models.Visibility``): public, shared with named organisations or networks,
or private to its organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bylab.catalog.models import Visibility
from bylab.storage.base import Base, JsonColumn, new_id, utcnow


class SavedScenario(Base):
    """A scenario file (its validated content in ``spec``) saved by an organisation."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.PRIVATE, index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)


class ScenarioShare(Base):
    """A shared scenario is visible to this organisation (or every member of this network)."""

    __tablename__ = "scenario_shares"

    scenario_id: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True)
