"""Boundary geometry: reading GeoJSON, geodesic areas, centroids and area overlaps.

Areas are computed on the WGS84 ellipsoid (``pyproj.Geod``), so they are true areas of the
stored polygons. The bundled polygons are simplified, so every area is approximate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

_WGS84 = Geod(ellps="WGS84")
M2_PER_KM2 = 1_000_000.0


@dataclass(frozen=True)
class BoundaryFeature:
    """One feature of a boundary file: its properties and its (valid) geometry."""

    properties: dict[str, Any]
    geometry: BaseGeometry


def read_features(path: Path) -> list[BoundaryFeature]:
    """The features of a GeoJSON FeatureCollection, geometries repaired where invalid."""
    collection = json.loads(path.read_text(encoding="utf-8"))
    features = []
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        features.append(BoundaryFeature(dict(feature["properties"]), geometry))
    return features


def area_km2(geometry: BaseGeometry) -> float:
    """The geodesic area of a lon/lat geometry in km² (polygonal parts only)."""
    parts = _polygon_parts(geometry)
    total_m2 = sum(abs(_WGS84.geometry_area_perimeter(polygon)[0]) for polygon in parts)
    return total_m2 / M2_PER_KM2


def _polygon_parts(geometry: BaseGeometry) -> list[BaseGeometry]:
    if geometry.geom_type == "Polygon":
        return [geometry]
    if geometry.geom_type in {"MultiPolygon", "GeometryCollection"}:
        return [part for member in geometry.geoms for part in _polygon_parts(member)]
    return []


def centroid_lon_lat(geometry: BaseGeometry) -> tuple[float, float]:
    """The planar centroid in lon/lat (good enough to place a label or a marker)."""
    centre = geometry.centroid
    return round(centre.x, 6), round(centre.y, 6)


def to_geojson(geometry: BaseGeometry) -> str:
    return shapely.to_geojson(geometry)


def from_geojson(text: str) -> BaseGeometry:
    return shapely.from_geojson(text)


def union(geometries: list[BaseGeometry]) -> BaseGeometry:
    return shapely.make_valid(shapely.union_all(geometries))


def overlap_shares(
    source: BaseGeometry, targets: dict[str, BaseGeometry], min_share: float
) -> dict[str, float]:
    """For each target, the share of ``source``'s area that lies inside it (geodesic), keeping
    shares of at least ``min_share``: simplified boundaries from different sources leave
    slivers along every shared border, which are noise, not transfers of area."""
    source_km2 = area_km2(source)
    if source_km2 == 0:
        return {}
    tree_keys = list(targets)
    tree = shapely.STRtree([targets[key] for key in tree_keys])
    shares = {}
    for index in tree.query(source, predicate="intersects"):
        key = tree_keys[int(index)]
        share = area_km2(source.intersection(targets[key])) / source_km2
        if share >= min_share:
            shares[key] = round(share, 4)
    return shares


def simplified_geojson(text: str, tolerance_deg: float) -> dict[str, Any]:
    """A stored boundary as a GeoJSON geometry dict, simplified when ``tolerance_deg`` > 0."""
    if tolerance_deg <= 0:
        return json.loads(text)  # type: ignore[no-any-return]
    geometry = shapely.simplify(from_geojson(text), tolerance_deg, preserve_topology=True)
    return json.loads(to_geojson(geometry))  # type: ignore[no-any-return]
