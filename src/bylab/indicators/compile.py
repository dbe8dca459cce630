"""Compile a KPI definition and one country's input mappings to ONE SQL query over named
input tables. DuckDB runs it now; the same text is meant for Spark SQL later, so it keeps to
SQL both understand (CTEs, CASE, CAST … AS STRING/DOUBLE, TRY_CAST, NULLIF, substr, year,
row_number() OVER) and never reads a file path itself: the engine binds each name
(``src_<country>_<input>_<n>``, ``keys_…``, ``attr_…``) to a table first.

The query returns one row per place and period of the KPI with, for every input, the value
used (in the unit the definition expects), the period it came from and how many source rows
and values fed it, plus the result. Rules it encodes:

* the KPI's periods are those of its period input (``periods_from``); every other input is
  taken from the latest period not newer than the KPI's period (preferring one with a value);
* an input without a period (e.g. area) holds for every period;
* ``single`` needs exactly one row, ``sum`` needs a value in every row (a suppressed part makes
  the total unknown), ``mean`` needs ``min_share`` of the expected count of values;
* a division by zero gives no value (NULLIF), never infinity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bylab.indicators.specs import (
    Aggregate,
    Definition,
    PeriodRule,
    SourceSpec,
    formula_sql,
    formula_unit_factor,
)
from bylab.indicators.units import conversion_factor
from bylab.storage.tables import sql_string


@dataclass(frozen=True)
class BoundSource:
    """A mapped source as the engine found it: the table name it binds and what it holds."""

    spec: SourceSpec
    table: str  # the name the data is bound to
    keys_table: str | None = None  # (key, place_id) for name or lookup matching
    text_value: bool = False  # the value column is text (may hold '..' markers)
    available: bool = True  # False: the dataset is missing or not visible to the actor


@dataclass(frozen=True)
class CompiledKpi:
    definition: Definition
    country: str
    sql: str
    inputs: tuple[str, ...]  # in column order
    static_inputs: frozenset[str] = field(default_factory=frozenset)


_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = {"all", "and", "as", "by", "case", "cast", "distinct", "else", "end", "false",
             "from", "group", "having", "in", "is", "join", "limit", "not", "null", "on", "or",
             "order", "select", "table", "then", "true", "union", "when", "where", "with"}


def quote(identifier: str) -> str:
    """A column name as SQL. Plain names stay bare, which DuckDB and Spark SQL both read;
    others are double-quoted (DuckDB; a Spark runner will need backticks for those)."""
    if _PLAIN_IDENTIFIER.fullmatch(identifier) and identifier.lower() not in _RESERVED:
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


def column(alias: str, name: str) -> str:
    return f"{alias}.{quote(name)}" if alias else quote(name)


def place_expression(source: BoundSource, alias: str = "s") -> str:
    rule = source.spec.place
    if source.keys_table:
        return "k.place_id"
    prefix, _, suffix = rule.template.partition("{}")
    parts = [sql_string(prefix)] if prefix else []
    parts.append(f"CAST({column(alias, rule.column)} AS STRING)")
    parts += [sql_string(suffix)] if suffix else []
    return " || ".join(parts)


def period_expression(rule: PeriodRule | None, alias: str = "s") -> str:
    if rule is None:
        return "CAST(NULL AS STRING)"
    if rule.fixed:
        return sql_string(rule.fixed)
    source_column = column(alias, rule.column)
    if rule.kind == "timestamp":
        return f"CAST(year({source_column}) AS STRING)"
    if rule.kind == "year_month_text":
        return f"substr(CAST({source_column} AS STRING), 1, 4)"
    return f"CAST({source_column} AS STRING)"


def value_expression(source: BoundSource, alias: str = "s") -> str:
    rule = source.spec.value
    value_column = column(alias, rule.column)
    if not source.text_value:
        return f"CAST({value_column} AS DOUBLE)"
    markers = ", ".join(sql_string(marker) for marker in rule.missing_markers)
    cleaned = f"replace(trim(CAST({value_column} AS STRING)), ',', '.')"
    return (f"TRY_CAST(CASE WHEN trim(CAST({value_column} AS STRING)) IN ({markers}) "
            f"THEN NULL ELSE {cleaned} END AS DOUBLE)")


def filter_conditions(spec: SourceSpec, alias: str = "s") -> list[str]:
    conditions = []
    for name, wanted in sorted(spec.filters.items()):
        text = f"CAST({column(alias, name)} AS STRING)"
        if isinstance(wanted, list):
            conditions.append(f"{text} IN ({', '.join(sql_string(item) for item in wanted)})")
        else:
            conditions.append(f"{text} = {sql_string(wanted)}")
    return conditions


def _rows_select(source: BoundSource, unit: str) -> str:
    if not source.available:
        return ("SELECT CAST(NULL AS STRING) AS place_id, CAST(NULL AS STRING) AS period, "
                "CAST(NULL AS DOUBLE) AS value WHERE 1 = 0")
    factor = conversion_factor(source.spec.value.unit, unit)
    scale = "" if factor == 1.0 else f" * {factor!r}"
    if source.spec.places is not None:
        return (f"SELECT a.place_id AS place_id, CAST(NULL AS STRING) AS period, "
                f"CAST(a.value AS DOUBLE){scale} AS value FROM {source.table} a")
    join = ""
    if source.keys_table:
        join = (f" JOIN {source.keys_table} k "
                f"ON k.key = CAST({column('s', source.spec.place.column)} AS STRING)")
    where = filter_conditions(source.spec)
    return (f"SELECT {place_expression(source)} AS place_id, "
            f"{period_expression(source.spec.period)} AS period, "
            f"{value_expression(source)}{scale} AS value FROM {source.table} s{join}"
            + (f" WHERE {' AND '.join(where)}" if where else ""))


def _expected_count(spec: SourceSpec) -> str:
    expected = spec.value.expected_count
    if expected == "hours_in_year":
        year = "CAST(period AS INT)"
        return (f"CASE WHEN ({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0 "
                "THEN 8784 ELSE 8760 END")
    if expected == "months_in_year":
        return "12"
    return "CAST(NULL AS INT)" if expected is None else str(int(expected))


def _aggregate(spec: SourceSpec) -> str:
    rule = spec.value
    if rule.aggregate == Aggregate.SUM:
        value = "CASE WHEN count(*) = count(value) THEN sum(value) END"
    elif rule.aggregate == Aggregate.MEAN and rule.expected_count is not None:
        value = (f"CASE WHEN count(value) >= {rule.min_share!r} * ({_expected_count(spec)}) "
                 "THEN avg(value) END")
    elif rule.aggregate == Aggregate.MEAN:
        value = "avg(value)"
    else:
        value = "CASE WHEN count(*) = 1 THEN max(value) END"
    return value


def input_cte(name: str, unit: str, sources: list[BoundSource]) -> str:
    """One row per place and period of input ``name``, its value in ``unit``. The sources of
    one input are stacked; they aggregate by the first source's rule."""
    spec = sources[0].spec
    union = " UNION ALL ".join(_rows_select(source, unit) for source in sources)
    return (f"in_{name} AS (SELECT place_id, period, {_aggregate(spec)} AS value, "
            f"count(*) AS row_count, count(value) AS value_count, "
            f"{_expected_count(spec)} AS expected_count "
            f"FROM ({union}) r GROUP BY place_id, period)")


_INPUT_COLUMNS = ("input_period", "value", "row_count", "value_count", "expected_count")


def _pick_cte(name: str) -> str:
    """For every place and KPI period, the input's latest period not newer than it."""
    return (f"pick_{name} AS (SELECT b.place_id, b.period, i.period AS input_period, i.value, "
            "i.row_count, i.value_count, i.expected_count, row_number() OVER ("
            "PARTITION BY b.place_id, b.period ORDER BY "
            "CASE WHEN i.value IS NULL THEN 1 ELSE 0 END, i.period DESC) AS pick "
            f"FROM base b JOIN in_{name} i ON i.place_id = b.place_id AND i.period <= b.period)")


def compile_kpi(definition: Definition, country: str,
                sources_by_input: dict[str, list[BoundSource]],
                only_places: str | None = None) -> CompiledKpi:
    """The one SQL query computing ``definition`` for every place and period of a country;
    with ``only_places`` (a table name with a ``place_id`` column) only for those places."""
    names = list(definition.inputs)
    static = {name for name in names if sources_by_input[name][0].spec.period is None}
    primary = definition.period_input
    ctes = [input_cte(name, definition.inputs[name].unit, sources_by_input[name])
            for name in names]
    ctes.append(f"periods AS (SELECT DISTINCT period FROM in_{primary})")
    place_sources = " UNION ".join(f"SELECT place_id FROM in_{name}" for name in names
                                   if name not in static)
    only = f" WHERE place_id IN (SELECT place_id FROM {only_places})" if only_places else ""
    ctes.append(f"places AS (SELECT DISTINCT place_id FROM ({place_sources}) u{only})")
    ctes.append("base AS (SELECT p.place_id, t.period FROM places p CROSS JOIN periods t)")
    secondary = [name for name in names if name != primary and name not in static]
    ctes += [_pick_cte(name) for name in secondary]
    joins, selected = [], ["base.place_id AS place_id", "base.period AS period"]
    for name in names:
        alias = f"x_{name}"
        joins.append(_input_join(name, alias, primary, static))
        selected += [f"{alias}.{item} AS {name}__{item}" for item in _INPUT_COLUMNS]
    factor = formula_unit_factor(definition)
    result = formula_sql(definition.formula, {name: f"x_{name}.value" for name in names})
    selected.append(f"{result} * {factor!r} AS result" if factor != 1.0 else f"{result} AS result")
    sql = (f"WITH {', '.join(ctes)} SELECT {', '.join(selected)} FROM base "
           + " ".join(joins) + " ORDER BY place_id, period")
    return CompiledKpi(definition, country, sql, tuple(names), frozenset(static))


def _input_join(name: str, alias: str, primary: str, static: set[str]) -> str:
    columns = "value, row_count, value_count, expected_count"
    if name in static:
        return (f"LEFT JOIN (SELECT place_id, period AS input_period, {columns} FROM in_{name}) "
                f"{alias} ON {alias}.place_id = base.place_id")
    if name == primary:
        return (f"LEFT JOIN (SELECT place_id, period, period AS input_period, {columns} "
                f"FROM in_{name}) {alias} "
                f"ON {alias}.place_id = base.place_id AND {alias}.period = base.period")
    return (f"LEFT JOIN (SELECT * FROM pick_{name} WHERE pick = 1) {alias} "
            f"ON {alias}.place_id = base.place_id AND {alias}.period = base.period")
