"""Places and the changes between them (mergers, splits, renumbering)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bylab.storage.base import Base, JsonColumn


class PlaceLevel(StrEnum):
    COUNTRY = "country"
    COUNTY = "county"  # fylke, län, województwo
    DISTRICT = "district"  # powiat
    MUNICIPALITY = "municipality"  # kommune, kommun, gmina


class ChangeKind(StrEnum):
    RENUMBERED = "renumbered"  # same area, new code (e.g. county renumbering)
    MERGED = "merged"  # several places became one
    SPLIT = "split"  # one place became several
    BOUNDARY = "boundary"  # part of an area moved
    RENAMED = "renamed"


class Place(Base):
    """One place during one validity period. ``id`` is ``<country>-<code>``, e.g. ``NO-1506``."""

    __tablename__ = "places"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    code_scheme: Mapped[str] = mapped_column(String(40))  # kommunenummer, kommunkod, teryt, ...
    name: Mapped[str] = mapped_column(String(200), index=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonColumn, default=dict)  # by language
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)  # exclusive
    lau_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    nuts_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    area_km2: Mapped[float | None] = mapped_column(Float, nullable=True)
    centroid_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    centroid_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    boundary_geojson: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    source: Mapped[str] = mapped_column(String(300), default="")


class PlaceChange(Base):
    """``from_place`` handed all or part (``area_share``) of its area to ``to_place``."""

    __tablename__ = "place_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_place_id: Mapped[str] = mapped_column(ForeignKey("places.id"), index=True)
    to_place_id: Mapped[str] = mapped_column(ForeignKey("places.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective: Mapped[date] = mapped_column(Date)
    area_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(300))  # "derived:boundaries" or "klass"
    note: Mapped[str] = mapped_column(String(500), default="")
