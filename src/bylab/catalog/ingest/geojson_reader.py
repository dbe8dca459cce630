"""GeoJSON FeatureCollection → Parquet: property columns plus ``geometry`` (GeoJSON text).

Every geometry is checked with shapely: missing, malformed or empty geometries and coordinates
outside WGS84 longitude/latitude (a projected file, e.g. UTM) refuse the file, naming the
feature by its index in ``features``. Geometries that are well-formed but not OGC-valid
(self-intersections, common in simplified official boundaries) are kept as given, with a
warning on the geometry column naming how many and the first one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import shapely
from shapely.errors import GeometryTypeError
from shapely.geometry import shape

from bylab.catalog.ingest.column_names import checked_column_names
from bylab.catalog.ingest.typed_columns import ColumnValues, columns_table
from bylab.errors import InvalidInput
from bylab.settings import Settings
from bylab.storage.tables import sql_string

GEOMETRY_COLUMN = "geometry"


def geojson_to_parquet(connection: duckdb.DuckDBPyConnection, source: Path, target: Path,
                       filename: str, settings: Settings) -> dict[str, str]:
    """Write the features to ``target`` as Parquet. Returns warnings by column name."""
    features = _features(_load(source, filename), filename)
    property_names = list(dict.fromkeys(
        name for feature in features for name in (feature.get("properties") or {})))
    names = checked_column_names([*property_names, GEOMETRY_COLUMN], filename,
                                 settings.max_columns)
    columns = [ColumnValues(name) for name in names]
    invalid: list[str] = []
    for index, feature in enumerate(features):
        properties = feature.get("properties") or {}
        for column, key in zip(columns[:-1], property_names, strict=True):
            column.values.append(properties.get(key))
            column.rows.append(index)
        columns[-1].values.append(_checked_geometry_text(feature, index, filename, invalid))
        columns[-1].rows.append(index)
    table, warnings = columns_table(columns)
    connection.register("feature_table", table)
    connection.execute(f"COPY feature_table TO {sql_string(str(target))} (FORMAT parquet)")
    connection.unregister("feature_table")
    warnings = {name: warning.replace("row ", "feature ") for name, warning in warnings.items()}
    if invalid:
        warnings[GEOMETRY_COLUMN] = (f"{len(invalid)} of {len(features)} geometries are not "
                                     f"OGC-valid and were kept as given; first: {invalid[0]}")
    return warnings


def _load(source: Path, filename: str) -> Any:
    try:
        with open(source, "rb") as raw:
            return json.load(raw)
    except UnicodeDecodeError:
        raise InvalidInput("GeoJSON must be UTF-8 text", file=filename) from None
    except json.JSONDecodeError as error:
        raise InvalidInput("not valid JSON: {problem} (line {line}, column {column})",
                           file=filename, row=error.lineno, problem=error.msg,
                           line=error.lineno, column=error.colno) from None


def _features(document: Any, filename: str) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("GeoJSON must be a FeatureCollection", file=filename, field="type")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput("the FeatureCollection has no features", file=filename,
                           field="features")
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _feature_error(filename, index, "is not a GeoJSON Feature", "type")
        if not isinstance(feature.get("properties") or {}, dict):
            raise _feature_error(filename, index, "has properties that are not an object",
                                 "properties")
    return features


def _checked_geometry_text(feature: dict[str, Any], index: int, filename: str,
                           invalid: list[str]) -> str:
    geometry = feature.get("geometry")
    if not geometry:
        raise _feature_error(filename, index, "has no geometry", GEOMETRY_COLUMN)
    try:
        shapely_geometry = shape(geometry)
    except (GeometryTypeError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise _feature_error(filename, index, f"has a malformed geometry ({error})",
                             GEOMETRY_COLUMN) from None
    if shapely_geometry.is_empty:
        raise _feature_error(filename, index, "has an empty geometry", GEOMETRY_COLUMN)
    if not invalid and not shapely_geometry.is_valid:
        invalid.append(f"feature {index}: {shapely.is_valid_reason(shapely_geometry)}")
    elif invalid and not shapely_geometry.is_valid:
        invalid.append(f"feature {index}")
    min_x, min_y, max_x, max_y = shapely_geometry.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise _feature_error(filename, index, "has coordinates outside longitude/latitude "
                             "(GeoJSON must be WGS84; is the file in a projected system such "
                             "as UTM?)", GEOMETRY_COLUMN)
    return json.dumps(geometry, separators=(",", ":"))


def _feature_error(filename: str, index: int, problem: str, part: str) -> InvalidInput:
    return InvalidInput("feature {index} {problem}", file=filename, row=index,
                        field=f"features[{index}].{part}", index=index, problem=problem)
