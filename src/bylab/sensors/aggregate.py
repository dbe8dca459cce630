"""Server-side aggregation of observations: time-bucketed mean, min, max and count of a
datastream, and the subset of OData's ``$apply`` (Data Aggregation Extension 4.0) that the
SensorThings API offers as an extension on Observations collections.

The ``$apply`` subset, transformations separated by ``/``::

    filter(<$filter expression>)
    compute(year(phenomenonTime) as y, month(phenomenonTime) as m, ...)
        (year, month, day, hour of phenomenonTime or resultTime)
    groupby((<alias or Datastream/id>, ...), aggregate(...))
    aggregate(result with min|max|average|sum|countdistinct as <alias>, $count as <alias>)

``groupby`` and ``aggregate`` come last and at most once. For example daily means::

    $apply=compute(year(phenomenonTime) as year, month(phenomenonTime) as month,
                   day(phenomenonTime) as day)
           /groupby((year, month, day), aggregate(result with average as mean))

``$filter`` limits the observations before the transformations; ``$top``, ``$skip`` and
``$count`` page the aggregated rows, which come ordered by the grouping properties.
Anything else (another transformation, method or property) is refused naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.sensors.actions import _aware, observation_store, visible_things_clause
from bylab.sensors.models import Datastream, Thing
from bylab.sensors.odata import Node, parse_filter, split_top_level, time_bounds, to_sql

INTERVALS = ("day", "month", "year")
METHODS = {"min": "min", "max": "max", "average": "avg", "sum": "sum",
           "countdistinct": "count(DISTINCT {})"}
PARTS = ("year", "month", "day", "hour")
AGGREGATABLE = {"result": "result"}
TIME_COLUMNS = {"phenomenonTime": "phenomenon_time", "resultTime": "result_time"}
GROUPABLE = {"Datastream/id": "datastream_id", "Datastream/@iot.id": "datastream_id"}
ALIAS = re.compile(r"^[A-Za-z_]\w*$")
CALL = re.compile(r"^(?P<name>\w+)\((?P<inside>.*)\)$", re.DOTALL)


# --- the datastream aggregate action ------------------------------------------------------

@dataclass(frozen=True)
class Bucket:
    start: datetime  # first moment of the day, month or year (UTC)
    mean: float
    min: float
    max: float
    count: int


def visible_datastream(ctx: Context, datastream_id: int) -> Datastream:
    """The datastream if ``ctx.actor`` may see its thing; otherwise not found."""
    with ctx.db.session() as session:
        found = session.scalar(select(Datastream).join(
            Thing, Thing.id == Datastream.thing_id).where(
            Datastream.id == datastream_id, visible_things_clause(ctx.actor)))
    if found is None:
        raise NotFound("no datastream '{datastream}'", datastream=datastream_id)
    return found


def datastream_aggregate(ctx: Context, datastream_id: int, interval: str = "day",
                         first: datetime | None = None, last: datetime | None = None
                         ) -> list[Bucket]:
    """Mean, min, max and count of a datastream's results per day, month or year (UTC), of
    the observations from ``first`` (included) to ``last`` (excluded)."""
    _check_interval(interval)
    first = _aware(first).astimezone(UTC) if first else None
    last = _aware(last).astimezone(UTC) if last else None
    if first and last and first >= last:
        raise InvalidInput("'from' must come before 'to'", field="from")
    datastream = visible_datastream(ctx, datastream_id)
    scan = observation_store(ctx).scan(first.date() if first else None,
                                       last.date() if last else None)
    if scan is None:
        return []
    # Results that are not numbers (null in the result column) have no part in the buckets.
    clauses, parameters = ["datastream_id = ?", "result IS NOT NULL"], [datastream.id]
    if first:
        clauses.append("phenomenon_time >= ?")
        parameters.append(first)
    if last:
        clauses.append("phenomenon_time < ?")
        parameters.append(last)
    rows = ctx.tables.connection().execute(
        bucket_query(interval, scan, " AND ".join(clauses)), parameters).fetchall()
    return [Bucket(_aware(start), mean, low, high, count)  # type: ignore[arg-type]
            for start, mean, low, high, count in rows]


def _check_interval(interval: str) -> None:
    if interval not in INTERVALS:
        raise InvalidInput("interval must be one of {intervals}, got '{interval}'",
                           field="interval", intervals=", ".join(INTERVALS), interval=interval)


def bucket_query(interval: str, source: str, where: str) -> str:
    """The SQL of the buckets (start, mean, min, max, count) of the observations in
    ``source`` that meet ``where``; the same text runs on DuckDB and on Spark SQL."""
    _check_interval(interval)
    return (f"SELECT date_trunc('{interval}', phenomenon_time) AS bucket, avg(result), "
            f"min(result), max(result), count(*) FROM {source} WHERE {where} "
            "GROUP BY bucket ORDER BY bucket")


# --- $apply --------------------------------------------------------------------------------

@dataclass
class Apply:
    """A parsed ``$apply``: an optional filter, computed time parts, grouping and aggregates,
    each as (output name, SQL expression)."""

    filters: list[Node] = field(default_factory=list)
    computed: dict[str, str] = field(default_factory=dict)
    groups: list[tuple[str, str]] = field(default_factory=list)
    aggregates: list[tuple[str, str]] = field(default_factory=list)


def parse_apply(text: str) -> Apply:
    apply = Apply()
    steps = split_top_level(text, "/")
    for position, step in enumerate(steps):
        match = CALL.match(step.strip())
        name = match.group("name") if match else step.strip()
        if match is None or name not in {"filter", "compute", "groupby", "aggregate"}:
            raise InvalidInput("unsupported $apply transformation '{name}' (bylab offers "
                               "filter, compute, groupby and aggregate)", field="$apply",
                               name=name)
        if name in {"groupby", "aggregate"} and position != len(steps) - 1:
            raise InvalidInput("$apply: {name}(...) must be the last transformation",
                               field="$apply", name=name)
        inside = match.group("inside")
        if name == "filter":
            apply.filters.append(parse_filter(inside))
        elif name == "compute":
            apply.computed.update(_computed(inside))
        elif name == "aggregate":
            apply.aggregates = _aggregates(inside)
        else:
            apply.groups, apply.aggregates = _groupby(inside, apply.computed)
    if not apply.groups and not apply.aggregates:
        raise InvalidInput("$apply needs a groupby(...) or aggregate(...)", field="$apply")
    return apply


def _alias(expression: str, what: str) -> tuple[str, str]:
    source, separator, alias = expression.rpartition(" as ")
    alias = alias.strip()
    if not separator or not ALIAS.match(alias):
        raise InvalidInput("$apply: {step} '{expression}' needs 'as <name>'",
                           field="$apply", step=what, expression=expression.strip())
    return source.strip(), alias


def _computed(inside: str) -> dict[str, str]:
    computed = {}
    for expression in split_top_level(inside):
        source, alias = _alias(expression, "compute")
        match = CALL.match(source)
        part = match.group("name").lower() if match else source
        column = TIME_COLUMNS.get(match.group("inside").strip()) if match else None
        if part not in PARTS or column is None:
            raise InvalidInput("$apply: unsupported compute '{source}' (use year, month, day "
                               "or hour of one of: {columns})", field="$apply", source=source,
                               columns=", ".join(TIME_COLUMNS))
        computed[alias] = f"{part}({column})"
    return computed


def _aggregates(inside: str) -> list[tuple[str, str]]:
    aggregates = []
    for expression in split_top_level(inside):
        source, alias = _alias(expression, "aggregate")
        if source == "$count":
            aggregates.append((alias, "count(*)"))
            continue
        prop, separator, method = source.partition(" with ")
        column = AGGREGATABLE.get(prop.strip())
        template = METHODS.get(method.strip())
        if not separator or column is None or template is None:
            raise InvalidInput(
                "$apply: unsupported aggregate '{source}' (use result with {methods}, or "
                "$count)", field="$apply", source=source, methods="|".join(METHODS))
        sql = template.format(column) if "{}" in template else f"{template}({column})"
        aggregates.append((alias, sql))
    return aggregates


def _groupby(inside: str, computed: dict[str, str]
             ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    arguments = split_top_level(inside)
    if not arguments or not (arguments[0].startswith("(") and arguments[0].endswith(")")) \
            or len(arguments) > 2:
        raise InvalidInput("$apply: groupby takes ((properties)[, aggregate(...)])",
                           field="$apply")
    groups = []
    for name in split_top_level(arguments[0][1:-1]):
        column = computed.get(name) or GROUPABLE.get(name)
        if column is None:
            raise InvalidInput("$apply: cannot group by '{name}' (use a compute alias or "
                               "Datastream/id)", field="$apply", name=name)
        groups.append((name.replace("/", "_").replace("@", ""), column))
    aggregates = []
    if len(arguments) == 2:
        match = CALL.match(arguments[1])
        if match is None or match.group("name") != "aggregate":
            raise InvalidInput("$apply: unsupported groupby step '{step}'",
                               field="$apply", step=arguments[1])
        aggregates = _aggregates(match.group("inside"))
    return groups, aggregates


def apply_bounds(apply: Apply, prop: str) -> tuple[datetime | None, datetime | None]:
    """Time bounds every observation the filters let through must meet."""
    lows, highs = [], []
    for node in apply.filters:
        low, high = time_bounds(node, prop)
        lows.extend([low] if low else [])
        highs.extend([high] if high else [])
    return (max(lows) if lows else None), (min(highs) if highs else None)


def apply_query(apply: Apply, scan: str, where: str, columns: dict[str, str],
                parameters: list[Any]) -> tuple[str, list[str]]:
    """The SQL of the aggregated rows over ``scan`` and their output names."""
    clauses = [where, *(to_sql(node, columns, parameters) for node in apply.filters)]
    outputs = [*apply.groups, *apply.aggregates]
    selected = ", ".join(f'{sql} AS "{name}"' for name, sql in outputs)
    grouping = ", ".join(sql for _, sql in apply.groups)
    sql = f"SELECT {selected} FROM {scan} WHERE {' AND '.join(clauses)}"
    if grouping:
        sql += f" GROUP BY {grouping} ORDER BY {grouping}"
    return sql, [name for name, _ in outputs]
