"""Charts of a catalogue dataset's data without code: one numeric column aggregated by a time
column (a line) or a category column (bars, largest first), read with DuckDB from the stored
version the reader may see. Columns are picked automatically and can be changed by name."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bylab.catalog.queries import dataset_show, dataset_version
from bylab.core import Context
from bylab.dashboard.actions import Chart
from bylab.errors import InvalidInput
from bylab.places.boundaries import simplified_geojson

NUMERIC_TYPES = {"BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT"}
TIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"}
TIME_NAMES = {"year", "month", "date", "period", "day", "reference_month", "time"}
MAX_CATEGORIES = 30
MAX_POINTS = 500
MAX_FEATURES = 2000


class Aggregate(StrEnum):
    SUM = "sum"
    MEAN = "avg"
    COUNT = "count"


@dataclass(frozen=True)
class ChartChoice:
    """The columns a dataset chart uses, and those it could use instead."""

    x: str
    y: str
    aggregate: Aggregate
    x_options: list[str]
    y_options: list[str]


def _is_numeric(column_type: str) -> bool:
    return column_type in NUMERIC_TYPES or column_type.startswith("DECIMAL")


def _is_time(name: str, column_type: str) -> bool:
    return column_type in TIME_TYPES or name.lower() in TIME_NAMES


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def chart_choice(columns: dict[str, str], x: str | None, y: str | None,
                 aggregate: str | None) -> ChartChoice:
    """The x column (a time column first, else a text column, names before codes), the y
    column (the first number that is not the x column) and the aggregate (sum for whole
    numbers, mean for decimals), each as given when valid."""
    x_options = [name for name, kind in columns.items()
                 if _is_time(name, kind) or kind == "VARCHAR"]
    y_options = [name for name, kind in columns.items()
                 if _is_numeric(kind) and not _is_time(name, kind)]
    if x is not None and x not in x_options:
        raise InvalidInput("'{x}' is not a time or text column of this dataset", field="x", x=x)
    if y is not None and y not in y_options:
        raise InvalidInput("'{y}' is not a number column of this dataset", field="y", y=y)
    chosen_x = x or _default_x(columns, x_options)
    chosen_y = y or next((name for name in y_options if name != chosen_x), None)
    if chosen_x is None or chosen_y is None:
        raise InvalidInput("this dataset has no number column to chart by a time or text "
                           "column", field="y")
    try:
        chosen_aggregate = Aggregate(aggregate) if aggregate else (
            Aggregate.SUM if columns[chosen_y] in {"BIGINT", "INTEGER", "HUGEINT"}
            else Aggregate.MEAN)
    except ValueError:
        raise InvalidInput("aggregate '{aggregate}' is not one of sum, avg, count",
                           field="aggregate", aggregate=aggregate) from None
    return ChartChoice(chosen_x, chosen_y, chosen_aggregate, x_options, y_options)


def _default_x(columns: dict[str, str], x_options: list[str]) -> str | None:
    times = [name for name in x_options if _is_time(name, columns[name])]
    names = [name for name in x_options
             if any(hint in name.lower() for hint in ("name", "navn", "namn", "kommune"))]
    return next(iter(times or names or x_options), None)


def dataset_chart(ctx: Context, name: str, version: int | None = None, x: str | None = None,
                  y: str | None = None, aggregate: str | None = None
                  ) -> tuple[Chart, ChartChoice]:
    """The chart of one dataset version (the latest by default) the actor may see."""
    dataset = dataset_show(ctx, name)
    stored = dataset_version(dataset, version)
    columns = {column["name"]: column.get("type", "") for column in stored.columns}
    choice = chart_choice(columns, x, y, aggregate)
    timed = _is_time(choice.x, columns[choice.x])
    x_expression = _quoted(choice.x)
    if columns[choice.x] in TIME_TYPES - {"DATE"}:
        x_expression = f"strftime(date_trunc('month', {x_expression}), '%Y-%m')"
    order = "1" if timed else "2 DESC"
    limit = MAX_POINTS if timed else MAX_CATEGORIES
    rows = ctx.tables.query(
        f"SELECT CAST({x_expression} AS VARCHAR), {choice.aggregate.value}"
        f"({_quoted(choice.y)}) FROM {ctx.tables.scan(ctx.tables.resolve(stored.table_path))} "
        f"WHERE {_quoted(choice.x)} IS NOT NULL GROUP BY 1 ORDER BY {order} LIMIT {limit}"
    ).fetchall()
    label = f"{choice.aggregate.value} of {choice.y} by {choice.x}"
    chart = Chart(label, "", dataset.name, [str(row[0]) for row in rows],
                  {choice.y: [None if row[1] is None else float(row[1]) for row in rows]},
                  "line" if timed else "bar")
    return chart, choice


def dataset_features(ctx: Context, name: str, version: int | None = None,
                     simplify_deg: float = 0.01) -> dict[str, Any]:
    """The rows of a spatial dataset version as a GeoJSON FeatureCollection (geometry from
    its GeoJSON text column, the text columns as properties), at most MAX_FEATURES rows."""
    dataset = dataset_show(ctx, name)
    stored = dataset_version(dataset, version)
    columns = {column["name"]: column.get("type", "") for column in stored.columns}
    geometry = next((column for column, kind in columns.items()
                     if column.lower() == "geometry" or kind == "GEOMETRY"), None)
    if geometry is None:
        raise InvalidInput("dataset '{name}' has no geometry column", field="geometry", name=name)
    labels = [column for column, kind in columns.items()
              if kind == "VARCHAR" and column != geometry][:3]
    selected = ", ".join(_quoted(column) for column in [geometry, *labels])
    rows = ctx.tables.query(
        f"SELECT {selected} FROM {ctx.tables.scan(ctx.tables.resolve(stored.table_path))} "
        f"WHERE {_quoted(geometry)} IS NOT NULL LIMIT {MAX_FEATURES}").fetchall()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": simplified_geojson(row[0], simplify_deg),
         "properties": {"name": " · ".join(str(value) for value in row[1:] if value)}}
        for row in rows if str(row[0]).lstrip().startswith("{")]}
