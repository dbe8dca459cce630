"""The embedded engine: binds each mapped input to the latest version of its catalogue dataset
(only datasets the acting context may see), runs the compiled query of every KPI on DuckDB,
and turns the rows into value records with provenance, or missing records with a reason."""

from __future__ import annotations

import gc
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.catalog.queries import dataset_get, dataset_version, fold_text
from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.indicators.compile import (
    BoundSource,
    compile_kpi,
    filter_conditions,
    quote,
)
from bylab.indicators.mergers import apply_place_changes
from bylab.indicators.models import ValueStatus
from bylab.indicators.provenance import RowDescriber
from bylab.indicators.specs import CountryMapping, Definition, SourceSpec, check_input_units
from bylab.places.models import Place
from bylab.places.queries import valid_on_clause
from bylab.storage.tables import sql_string

TEXT_TYPES = ("VARCHAR", "STRING", "TEXT")


@dataclass(frozen=True)
class DatasetRef:
    name: str
    id: str
    version: int
    path: str
    column_types: dict[str, str]


@dataclass
class ValueRecord:
    kpi_code: str
    place_id: str
    period: str
    status: ValueStatus
    value: float | None
    unit: str
    reason: str
    dataset_ids: list[str]
    provenance: dict[str, Any]


@dataclass
class BoundInput:
    """An input variable's sources, bound for one country, with what provenance needs."""

    sources: list[BoundSource]
    datasets: list[DatasetRef | None]  # per source (None: not available)
    keys_by_place: list[dict[str, list[str]]]  # per source: place id -> source key values
    lookup_datasets: list[DatasetRef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class ComputeReport:
    computed: int = 0
    missing: int = 0
    seconds: float = 0.0
    by_kpi: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)  # "<kpi> <country>" -> SQL


class Binder:
    """Resolves datasets (through the actor's visibility) and binds tables on a cursor."""

    def __init__(self, ctx: Context, session: Session,
                 cursor: duckdb.DuckDBPyConnection | None):
        self.ctx, self.session, self._cursor = ctx, session, cursor
        self._datasets: dict[str, DatasetRef | None] = {}

    @property
    def cursor(self) -> duckdb.DuckDBPyConnection:
        assert self._cursor is not None
        return self._cursor

    def close(self) -> None:
        self.cursor.close()

    def dataset(self, name: str) -> DatasetRef | None:
        if name not in self._datasets:
            self._datasets[name] = self._resolve(name)
        return self._datasets[name]

    def _resolve(self, name: str) -> DatasetRef | None:
        try:
            dataset = dataset_get(self.session, self.ctx, name)
            version = dataset_version(dataset)
        except NotFound:
            return None
        types = {str(item["name"]): str(item.get("type", "")) for item in version.columns}
        path = str(self.ctx.tables.resolve(version.table_path))
        return DatasetRef(dataset.name, dataset.id, version.version, path, types)

    def bind_dataset(self, table: str, dataset: DatasetRef) -> None:
        self.cursor.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS "
                            f"SELECT * FROM read_parquet({sql_string(dataset.path)})")

    def bind_rows(self, table: str, columns: dict[str, list[Any]]) -> None:
        self.cursor.register(table, pa.table(columns))

    def query(self, sql: str) -> list[dict[str, Any]]:
        result = self.cursor.execute(sql)
        names = [description[0] for description in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def bind_input(binder: Binder, country: str, name: str, sources: list[SourceSpec]
               ) -> BoundInput:
    """Bind every source of one input variable of one country to a named table."""
    bound = BoundInput([], [], [])
    for index, spec in enumerate(sources):
        table = f"src_{country.lower()}_{name}_{index}"
        if spec.places is not None:
            source, keys = _bind_places_attribute(binder, f"attr_{country.lower()}_{name}", spec)
            bound.sources.append(source)
            bound.datasets.append(None)
            bound.keys_by_place.append(keys)
            continue
        assert spec.dataset is not None
        dataset = binder.dataset(spec.dataset)
        bound.datasets.append(dataset)
        if dataset is None:
            bound.problems.append(f"{name}: dataset '{spec.dataset}' is not available "
                                  "(missing, empty, or not visible to you)")
            bound.sources.append(BoundSource(spec, table, available=False))
            bound.keys_by_place.append({})
            continue
        binder.bind_dataset(table, dataset)
        source, keys = _bind_keys(binder, bound, name, index, spec, dataset, table)
        bound.sources.append(source)
        bound.keys_by_place.append(keys)
    return bound


def _bind_keys(binder: Binder, bound: BoundInput, name: str, index: int, spec: SourceSpec,
               dataset: DatasetRef, table: str) -> tuple[BoundSource, dict[str, list[str]]]:
    text_value = dataset.column_types.get(spec.value.column, "").upper() in TEXT_TYPES
    rule = spec.place
    if rule.by_name is None and rule.lookup is None:
        return BoundSource(spec, table, text_value=text_value), {}
    keys_table = table.replace("src_", "keys_", 1)
    if rule.by_name is not None:
        place_of_key = _match_names(binder, bound, name, spec, table)
    else:
        place_of_key = _lookup_places(binder, bound, name, spec)
    binder.bind_rows(keys_table, {"key": list(place_of_key),
                                  "place_id": list(place_of_key.values())})
    keys_by_place: dict[str, list[str]] = {}
    for key, place_id in place_of_key.items():
        keys_by_place.setdefault(place_id, []).append(key)
    return BoundSource(spec, table, keys_table, text_value), keys_by_place


def _match_names(binder: Binder, bound: BoundInput, name: str, spec: SourceSpec,
                 table: str) -> dict[str, str]:
    """Source text -> place id, matching names of places valid on the rule's date."""
    rule = spec.place.by_name
    assert rule is not None
    statement = select(Place.id, Place.name).where(
        Place.country == rule.country, Place.level == rule.level,
        valid_on_clause(rule.valid_on))
    if rule.parent:
        statement = statement.where(Place.parent_id == rule.parent)
    place_of_name = {fold_text(place_name): place_id
                     for place_id, place_name in binder.session.execute(statement)}
    where = " AND ".join(filter_conditions(spec, alias="")) or "TRUE"
    texts = [row["key"] for row in binder.query(
        f"SELECT DISTINCT CAST({quote(spec.place.column)} AS STRING) AS key FROM {table} "
        f"WHERE {where} ORDER BY 1")]
    matched = {text: place_of_name[fold_text(text)] for text in texts
               if text is not None and fold_text(text) in place_of_name}
    unmatched = [text for text in texts if text not in matched]
    if unmatched:
        bound.problems.append(f"{name}: rows for {', '.join(map(str, unmatched))} match no "
                              f"{rule.level} of {rule.country} valid on {rule.valid_on} "
                              "(not used)")
    return matched


def _lookup_places(binder: Binder, bound: BoundInput, name: str,
                   spec: SourceSpec) -> dict[str, str]:
    rule = spec.place.lookup
    assert rule is not None
    lookup = binder.dataset(rule.dataset)
    if lookup is None:
        bound.problems.append(f"{name}: lookup dataset '{rule.dataset}' is not available")
        return {}
    bound.lookup_datasets.append(lookup)
    prefix, _, suffix = spec.place.template.partition("{}")
    table = "lookup_" + re.sub(r"[^a-z0-9_]", "_", lookup.name.lower())
    binder.bind_dataset(table, lookup)
    rows = binder.query(
        f"SELECT DISTINCT CAST({quote(rule.key)} AS STRING) AS key, "
        f"CAST({quote(rule.column)} AS STRING) AS code "
        f"FROM {table} WHERE {quote(rule.column)} IS NOT NULL")
    return {row["key"]: f"{prefix}{row['code']}{suffix}" for row in rows}


def _bind_places_attribute(binder: Binder, table: str, spec: SourceSpec
                           ) -> tuple[BoundSource, dict[str, list[str]]]:
    rule = spec.places
    assert rule is not None
    attribute = getattr(Place, rule.attribute)
    rows = binder.session.execute(
        select(Place.id, attribute).where(Place.country == rule.country, attribute.is_not(None)))
    place_ids, values = [], []
    for place_id, value in rows:
        place_ids.append(place_id)
        values.append(float(value))
    binder.bind_rows(table, {"place_id": place_ids, "value": values})
    return BoundSource(spec, table), {}


# ---------------------------------------------------------------- running

ONLY_PLACES = "only_places"


def compute_country(binder: Binder, definition: Definition, mapping: CountryMapping,
                    report: ComputeReport, only_places: bool = False) -> list[ValueRecord]:
    """Every place and period of one KPI in one country, or [] when it is not mapped there;
    with ``only_places`` only the places bound as table ONLY_PLACES."""
    if not set(definition.inputs) <= set(mapping.inputs):
        return []
    check_input_units(definition, mapping)
    bound = {name: bind_input(binder, mapping.country, name, mapping.inputs[name])
             for name in definition.inputs}
    for item in bound.values():
        report.problems += [f"{definition.code} {mapping.country}: {problem}"
                            for problem in item.problems]
    compiled = compile_kpi(definition, mapping.country,
                           {name: item.sources for name, item in bound.items()},
                           ONLY_PLACES if only_places else None)
    report.queries[f"{definition.code} {mapping.country}"] = compiled.sql
    describer = RowDescriber(compiled, bound)
    return [_record(describer, row) for row in binder.query(compiled.sql)]


def _record(describer: RowDescriber, row: dict[str, Any]) -> ValueRecord:
    definition = describer.compiled.definition
    reason, provenance = describer.describe(row)
    result = row["result"]
    return ValueRecord(
        kpi_code=definition.code, place_id=row["place_id"], period=row["period"],
        status=ValueStatus.MISSING if result is None else ValueStatus.COMPUTED, value=result,
        unit=definition.unit, reason="" if result is not None else reason,
        dataset_ids=describer.dataset_ids, provenance=provenance)


def open_binder(ctx: Context, session: Session) -> Binder:
    """A binder on the engine the settings select: DuckDB (its own cursor, so its temporary
    views are isolated from other requests) or Spark (see ``bylab.indicators.spark``)."""
    settings = ctx.settings
    if settings.indicator_engine == "duckdb":
        return Binder(ctx, session, ctx.tables.connection().cursor())
    try:
        from bylab.indicators.spark import SparkBinder, spark_session
    except ImportError:
        raise InvalidInput("indicator_engine is 'spark' but pyspark is not installed "
                           "(pip install pyspark)", field="indicator_engine") from None
    spark = spark_session(settings.spark_master, tuple(sorted(settings.spark_conf.items())))
    return SparkBinder(ctx, session, spark)


def compute_records(ctx: Context, definitions: dict[str, Definition],
                    mappings: dict[str, CountryMapping], place_ids: set[str] | None = None
                    ) -> tuple[list[ValueRecord], ComputeReport]:
    """Value and missing records for every definition in every mapped country (of the
    places ``place_ids`` only, when given)."""
    started = time.perf_counter()
    report = ComputeReport()
    records: list[ValueRecord] = []
    with gc_paused(), ctx.db.session() as session:
        binder = open_binder(ctx, session)
        try:
            if place_ids is not None:
                binder.bind_rows(ONLY_PLACES, {"place_id": sorted(place_ids)})
            for definition in definitions.values():
                for mapping in mappings.values():
                    records += compute_country(binder, definition, mapping, report,
                                               place_ids is not None)
        finally:
            binder.close()
        records = carry_renumbered(session, records)
        records = apply_place_changes(session, definitions, records)
    _count(report, records)
    report.seconds = time.perf_counter() - started
    return records, report


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # pauses under way; whether collection was enabled before the first


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while building many small objects that all stay alive
    (value records, their provenance): its passes found nothing to free and took a third of
    a full recompute. Counted, so overlapping computes in threads restore it only once."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def _count(report: ComputeReport, records: list[ValueRecord]) -> None:
    for record in records:
        counts = report.by_kpi.setdefault(record.kpi_code, {"computed": 0, "missing": 0})
        counts[record.status] += 1  # a StrEnum: the same key as its value
    report.computed = sum(counts["computed"] for counts in report.by_kpi.values())
    report.missing = sum(counts["missing"] for counts in report.by_kpi.values())


def carry_renumbered(session: Session, records: list[ValueRecord]) -> list[ValueRecord]:
    """Also give a value to the current place a value's place was renumbered into.

    A renumbering keeps the area, so the value holds unchanged for the new code (e.g. 2022
    broadband coverage of NO-3806 Porsgrunn also for NO-4001 Porsgrunn). Mergers and splits
    are not carried: a share or a mean cannot be split by area, and a sum needs every part."""
    renamed = _renumbering_targets(session)
    by_key = {(record.kpi_code, record.place_id, record.period): record for record in records}
    for record in list(by_key.values()):
        if record.status != ValueStatus.COMPUTED or record.place_id not in renamed:
            continue
        target, effective = renamed[record.place_id]
        existing = by_key.get((record.kpi_code, target, record.period))
        if existing is not None and existing.status == ValueStatus.COMPUTED:
            continue
        note = (f"reported for {record.place_id}, which was renumbered to {target} on "
                f"{effective} (same area)")
        provenance = {**record.provenance, "carried_from": record.place_id,
                      "notes": [*record.provenance.get("notes", []), note]}
        by_key[(record.kpi_code, target, record.period)] = ValueRecord(
            record.kpi_code, target, record.period, record.status, record.value, record.unit,
            "", record.dataset_ids, provenance)
    return list(by_key.values())


def _renumbering_targets(session: Session) -> dict[str, tuple[str, str]]:
    """Place id -> (the place it ends up as after renumberings only, first change date)."""
    from bylab.places.models import PlaceChange

    changes = list(session.execute(select(
        PlaceChange.from_place_id, PlaceChange.to_place_id, PlaceChange.kind,
        PlaceChange.effective, PlaceChange.area_share)))
    outgoing: dict[str, list[tuple[str, str, Any, Any]]] = {}
    for from_id, to_id, kind, effective, share in changes:
        if from_id != to_id:
            outgoing.setdefault(from_id, []).append((to_id, kind, effective, share))
    single = {from_id: steps[0] for from_id, steps in outgoing.items()
              if len(steps) == 1 and steps[0][1] == "renumbered" and (steps[0][3] or 1.0) >= 1.0}
    targets = {}
    for start, (to_id, _kind, effective, _share) in single.items():
        current, seen = to_id, {start}
        while current in single and current not in seen:
            seen.add(current)
            current = single[current][0]
        targets[start] = (current, effective.isoformat())
    return targets
