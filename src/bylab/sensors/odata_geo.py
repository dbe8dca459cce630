"""The geospatial functions of SensorThings ``$filter`` (OGC 18-088 §9.3.3.5.2, Table 23):
``geo.distance``, ``geo.intersects``, ``geo.length`` and the ``st_*`` relations, on GeoJSON
properties and ``geography'POINT(8 54.1)'`` (WKT) literals.

Everything is computed in the plane of the coordinates, in degrees, as FROST-Server does
with PostGIS geometry and as the OGC test suite (ets-sta10 ``GeoTests``) expects: the line
from (5 52) to (5 53) is 1 long, not 111 km."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import shapely.wkt
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from bylab.errors import InvalidInput

# The entity properties that hold GeoJSON: Locations' location, FeaturesOfInterest's
# feature and Datastreams' observedArea, also at the end of a path (FeatureOfInterest/feature).
GEOMETRY_PROPERTIES = frozenset({"location", "feature", "observedArea"})
GEOGRAPHY_PREFIXES = frozenset({"geography", "geometry"})
SRID_PREFIX = re.compile(r"^\s*SRID=\d+\s*;", re.IGNORECASE)
DE9IM_PATTERN = re.compile(r"^[TF*012]{9}$")
# PostGIS's ST_Length: a point or a polygon has no length (a polygon's perimeter is not it).
LINEAR_TYPES = frozenset({"LineString", "LinearRing", "MultiLineString"})


def geography_literal(wkt: str) -> BaseGeometry:
    """The geometry of a ``geography'…'`` literal's WKT (an EWKT ``SRID=4326;`` is dropped)."""
    try:
        return shapely.wkt.loads(SRID_PREFIX.sub("", wkt))
    except ShapelyError:
        raise InvalidInput("cannot read the geography literal '{wkt}' as WKT",
                           field="$filter", wkt=wkt) from None


def _geometry(value: Any) -> BaseGeometry | None:
    """A literal's geometry, or a stored GeoJSON geometry (or Feature) as one; None when
    there is none or it is not GeoJSON, so that the entity does not match."""
    if value is None or isinstance(value, BaseGeometry):
        return value
    if not isinstance(value, dict):
        return None
    try:
        return shape(value)
    except (ShapelyError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


def _planar(operation: Callable[..., Any]) -> Callable[..., Any]:
    """A function of geometries that is null when one of them is missing."""
    def apply(*values: Any) -> Any:
        geometries = [_geometry(value) for value in values]
        if any(geometry is None for geometry in geometries):
            return None
        return operation(*geometries)
    return apply


def _length(geometry: BaseGeometry) -> float:
    return float(geometry.length) if geometry.geom_type in LINEAR_TYPES else 0.0


def _relate(first: Any, second: Any, pattern: str) -> bool | None:
    a, b = _geometry(first), _geometry(second)
    return None if a is None or b is None else bool(a.relate_pattern(b, pattern))


GEO_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "geo.distance": _planar(lambda a, b: a.distance(b)),
    "geo.intersects": _planar(lambda a, b: a.intersects(b)),
    "geo.length": _planar(_length),
    "st_equals": _planar(lambda a, b: a.equals(b)),
    "st_disjoint": _planar(lambda a, b: a.disjoint(b)),
    "st_touches": _planar(lambda a, b: a.touches(b)),
    "st_within": _planar(lambda a, b: a.within(b)),
    "st_overlaps": _planar(lambda a, b: a.overlaps(b)),
    "st_crosses": _planar(lambda a, b: a.crosses(b)),
    "st_intersects": _planar(lambda a, b: a.intersects(b)),
    "st_contains": _planar(lambda a, b: a.contains(b)),
    "st_relate": _relate,
}


def check_geo_call(function: str, arguments: list[tuple[Any, ...]]) -> None:
    """Refuse a geo function call that cannot work, whatever the entity: the wrong number of
    arguments, an argument that is not a geometry property or literal, a bad DE-9IM pattern."""
    geometries = 1 if function == "geo.length" else 2
    count = geometries + (function == "st_relate")
    if len(arguments) != count:
        raise InvalidInput("wrong number of arguments to {function}(): it takes {count}",
                           field="$filter", function=function, count=count)
    for argument in arguments[:geometries]:
        if not _is_geometry(argument):
            raise InvalidInput("{function}() takes geometries (location, feature, observedArea "
                               "or a geography'…' literal), not '{argument}'", field="$filter",
                               function=function, argument=_shown(argument))
    if function == "st_relate":
        pattern = arguments[2]
        if pattern[0] != "lit" or not DE9IM_PATTERN.match(str(pattern[1])):
            raise InvalidInput("st_relate() takes a DE-9IM pattern of nine T, F, *, 0, 1 or 2, "
                               "not '{argument}'", field="$filter", argument=_shown(pattern))


def _is_geometry(argument: tuple[Any, ...]) -> bool:
    if argument[0] == "lit":
        return isinstance(argument[1], BaseGeometry)
    return argument[0] == "prop" and argument[1].split("/")[-1] in GEOMETRY_PROPERTIES


def _shown(argument: tuple[Any, ...]) -> str:
    """What the argument is: its value or path, or the kind of expression it is."""
    return str(argument[1]) if argument[0] in {"lit", "prop"} else str(argument[0])
