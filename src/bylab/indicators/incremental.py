"""Incremental recompute after one dataset changed: only the KPIs whose mappings read the
dataset, and only the places whose source rows differ between its last two versions.

Changed places are found by comparing the two Parquet versions row by row (DuckDB ``EXCEPT``
both ways) and reading the place column of the differing rows through the mapping's place
template. Where that cannot be done exactly — a first version, changed columns, places matched
by name or through a lookup dataset, or the dataset used as a lookup — every place of the
dependent KPIs is recomputed. Places linked by a renumbering or a merger to a changed place
are recomputed with it, so carried and aggregated values stay in step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from bylab.catalog.queries import dataset_get
from bylab.core import Context
from bylab.errors import NotAuthorized
from bylab.indicators.compile import quote
from bylab.indicators.actions import store_records
from bylab.indicators.engine import ComputeReport, compute_records
from bylab.indicators.specs import (
    CountryMapping,
    Definition,
    SourceSpec,
    bundled_definitions,
    bundled_mappings,
)
from bylab.places.models import PlaceChange
from bylab.storage.tables import sql_string


@dataclass
class RecomputeReport:
    dataset: str
    kpi_codes: list[str]
    place_ids: set[str] | None  # None: every place of those KPIs
    compute: ComputeReport = field(default_factory=ComputeReport)
    stored: int = 0
    seconds: float = 0.0


def _sources_reading(mapping: CountryMapping, dataset: str) -> list[SourceSpec]:
    return [spec for sources in mapping.inputs.values() for spec in sources
            if spec.dataset == dataset
            or (spec.place.lookup is not None and spec.place.lookup.dataset == dataset)]


def dependent_definitions(definitions: dict[str, Definition],
                          mappings: dict[str, CountryMapping], dataset: str
                          ) -> dict[str, Definition]:
    """The definitions one of whose mapped inputs reads ``dataset`` (as data or lookup)."""
    return {code: definition for code, definition in definitions.items()
            if any(spec for mapping in mappings.values() for name, sources
                   in mapping.inputs.items() if name in definition.inputs
                   for spec in sources if spec in _sources_reading(mapping, dataset))}


def changed_places(ctx: Context, dataset: str, mappings: dict[str, CountryMapping]
                   ) -> set[str] | None:
    """Place ids whose rows differ between the dataset's last two versions (None: unknown,
    so every place)."""
    with ctx.db.session() as session:
        found = dataset_get(session, ctx, dataset)
        versions = sorted(found.versions, key=lambda version: version.version)[-2:]
        if len(versions) < 2 or len({_schema(version.columns) for version in versions}) > 1:
            return None
        old, new = (str(ctx.tables.resolve(version.table_path)) for version in versions)
    specs = [spec for mapping in mappings.values() for spec in _sources_reading(mapping,
                                                                                  dataset)]
    if any(spec.dataset != dataset or spec.place.by_name or spec.place.lookup
           for spec in specs):
        return None
    cursor = ctx.tables.connection().cursor()
    try:
        places: set[str] = set()
        for spec in specs:
            prefix, _, suffix = spec.place.template.partition("{}")
            key = f"CAST({quote(spec.place.column)} AS STRING)"
            old_rows, new_rows = (f"SELECT * FROM read_parquet({sql_string(path)})"
                                  for path in (old, new))
            rows = cursor.execute(
                f"SELECT DISTINCT {key} FROM (({new_rows} EXCEPT {old_rows}) UNION ALL "
                f"({old_rows} EXCEPT {new_rows})) d WHERE {key} IS NOT NULL").fetchall()
            places |= {f"{prefix}{value}{suffix}" for (value,) in rows}
    finally:
        cursor.close()
    return places


def _schema(columns: list[dict[str, object]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(column["name"]), str(column.get("type", ""))) for column in columns)


def linked_places(ctx: Context, place_ids: set[str]) -> set[str]:
    """The places and every place a renumbering or merger links them to, both ways, so that
    carried and aggregated values are recomputed with their sources."""
    linked = set(place_ids)
    with ctx.db.session() as session:
        while True:
            rows = session.execute(select(PlaceChange.from_place_id, PlaceChange.to_place_id)
                                   .where(PlaceChange.kind.in_(("renumbered", "merged")),
                                          or_(PlaceChange.from_place_id.in_(linked),
                                              PlaceChange.to_place_id.in_(linked))))
            grown = linked | {place for row in rows for place in row}
            if grown == linked:
                return linked
            linked = grown


def indicator_recompute_dataset(ctx: Context, dataset: str,
                                definitions: dict[str, Definition] | None = None,
                                mappings: dict[str, CountryMapping] | None = None
                                ) -> RecomputeReport:
    """Recompute and store what depends on ``dataset`` (see the module docstring)."""
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may store computed indicators")
    started = time.perf_counter()
    definitions = definitions if definitions is not None else bundled_definitions()
    mappings = mappings if mappings is not None else bundled_mappings()
    dependent = dependent_definitions(definitions, mappings, dataset)
    places = changed_places(ctx, dataset, mappings) if dependent else set()
    if places is not None:
        places = linked_places(ctx, places)
    report = RecomputeReport(dataset, sorted(dependent), places)
    if dependent and places != set():
        records, report.compute = compute_records(ctx, dependent, mappings, places)
        store_records(ctx, list(dependent), records, places)
        report.stored = len(records)
    report.seconds = time.perf_counter() - started
    return report
