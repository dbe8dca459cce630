"""Datasets, their versions (one stored table each) and who they are shared with."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bylab.storage.base import Base, JsonColumn, new_id, utcnow


class Visibility(StrEnum):
    PUBLIC = "public"
    SHARED = "shared"  # with named organisations or networks
    PRIVATE = "private"  # to the owning organisation


class Dataset(Base):
    __tablename__ = "datasets"
    # A publisher's datasets in order from the index. The text-search index (FTS5 on SQLite,
    # pg_trgm on PostgreSQL) is created by migration 0002 per dialect, outside the model.
    __table_args__ = (
        Index("ix_datasets_organisation_visibility", "organisation_id", "visibility",
              "modified", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)  # by language
    description: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    visibility: Mapped[str] = mapped_column(String(10), default=Visibility.PRIVATE, index=True)
    themes: Mapped[list[str]] = mapped_column(JsonColumn, default=list)  # EU data-theme codes
    keywords: Mapped[list[str]] = mapped_column(JsonColumn, default=list)
    licence_id: Mapped[str] = mapped_column(String(50), default="CC-BY-4.0")
    spatial: Mapped[list[str]] = mapped_column(JsonColumn, default=list)  # place ids
    temporal_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    temporal_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    frequency: Mapped[str | None] = mapped_column(String(30), nullable=True)  # EU frequency code
    contact_name: Mapped[str] = mapped_column(String(300), default="")
    contact_email: Mapped[str] = mapped_column(String(300), default="")
    landing_page: Mapped[str | None] = mapped_column(String(500), nullable=True)
    source_note: Mapped[str] = mapped_column(Text, default="")  # provenance, attribution
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    is_spatial: Mapped[bool] = mapped_column(Boolean, default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.version", cascade="all, delete-orphan"
    )


class DatasetShare(Base):
    """A shared dataset is visible to this organisation (or to every member of this network)."""

    __tablename__ = "dataset_shares"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DatasetVersion(Base):
    """One immutable stored table of a dataset."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    source_filename: Mapped[str] = mapped_column(String(500))
    source_format: Mapped[str] = mapped_column(String(20))  # csv, xlsx, geojson, parquet
    table_path: Mapped[str] = mapped_column(String(500))  # relative to the table store
    row_count: Mapped[int] = mapped_column(BigInteger)
    byte_size: Mapped[int] = mapped_column(BigInteger)  # of the stored Parquet file
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored Parquet file
    columns: Mapped[list[dict[str, object]]] = mapped_column(JsonColumn, default=list)
    note: Mapped[str] = mapped_column(Text, default="")

    dataset: Mapped[Dataset] = relationship(back_populates="versions")


class CatalogRevision(Base):
    """One row (id 1) whose ``revision`` database triggers bump on every write to datasets,
    their versions and shares, organisations and memberships (migration 0004), so a process
    can tell cheaply whether a cached catalogue read may still be served."""

    __tablename__ = "catalog_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
