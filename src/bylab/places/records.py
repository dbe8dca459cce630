"""Plain records of places and changes, built from source files before they are stored."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from shapely.geometry.base import BaseGeometry

from bylab.places.boundaries import area_km2, centroid_lon_lat, to_geojson
from bylab.places.models import ChangeKind, PlaceLevel

DERIVED_SOURCE = "derived:boundaries"
KLASS_SOURCE = "klass"


def place_id_for(country: str, code: str) -> str:
    """The place id: ``<COUNTRY>-<code>``, e.g. ``NO-1506``."""
    return f"{country}-{code}"


@dataclass
class PlaceRecord:
    """One place as it will be stored, plus its geometry for overlap computations."""

    id: str
    country: str
    level: PlaceLevel
    code: str
    code_scheme: str
    name: str
    source: str
    names: dict[str, str] = field(default_factory=dict)
    parent_id: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    lau_code: str | None = None
    nuts_code: str | None = None
    geometry: BaseGeometry | None = None

    def as_row(self) -> dict[str, Any]:
        """Column values for the ``places`` table (area and centroid from the geometry)."""
        row = asdict(self)
        row.pop("geometry")
        row["level"] = str(self.level)
        row.update(area_km2=None, centroid_lon=None, centroid_lat=None, boundary_geojson=None)
        if self.geometry is not None and not self.geometry.is_empty:
            row["area_km2"] = round(area_km2(self.geometry), 2)
            row["centroid_lon"], row["centroid_lat"] = centroid_lon_lat(self.geometry)
            row["boundary_geojson"] = to_geojson(self.geometry)
        return row


@dataclass(frozen=True)
class ChangeRecord:
    """``from_id`` handed ``area_share`` of its area to ``to_id`` on ``effective``."""

    from_id: str
    to_id: str
    kind: ChangeKind
    effective: date
    source: str
    area_share: float | None = None
    note: str = ""

    def as_row(self) -> dict[str, Any]:
        return {
            "from_place_id": self.from_id,
            "to_place_id": self.to_id,
            "kind": str(self.kind),
            "effective": self.effective,
            "area_share": self.area_share,
            "source": self.source,
            "note": self.note[:500],
        }
