"""Indicator actions: the KPI catalogue, computing values, reading values and coverage.

Access rule: a stored value (or missing record) lists every catalogue dataset that fed it, and
a reader sees it only if they may see every one of those datasets now. Values derived from
public datasets only are therefore public; a value that used a shared or private dataset is
shown only to those who may read that dataset, and it disappears for them if the dataset is
made private later. Computing reads datasets through the actor's visibility, so an actor can
never compute from data they cannot see.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy import ColumnElement, Connection, Text, cast, delete, select, text
from sqlalchemy.orm import Session

from bylab.catalog.access import visibility_clause
from bylab.catalog.models import Dataset
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.indicators.engine import ComputeReport, ValueRecord, compute_records, gc_paused
from bylab.indicators.kpis import DIMENSIONS, U4SSC, Kpi, context_kpi, u4ssc_kpis
from bylab.indicators.models import IndicatorValue, ValueStatus
from bylab.indicators.specs import (
    CountryMapping,
    Definition,
    Method,
    bundled_definitions,
    bundled_mappings,
)
from bylab.places.models import Place
from bylab.storage.base import utcnow

EXPORT_COLUMNS = ("kpi_code", "place_code", "place_name", "period", "value", "unit", "method",
                  "status", "reason", "computed_at")


@dataclass(frozen=True)
class KpiEntry:
    """A KPI of the catalogue with bylab's definition (None: not operationalised yet) and the
    countries whose input mappings cover it."""

    kpi: Kpi
    definition: Definition | None
    countries: tuple[str, ...]

    @property
    def slug(self) -> str:
        return kpi_slug(self.kpi.code)

    @property
    def method(self) -> str:
        return self.definition.method.value if self.definition else ""


@dataclass(frozen=True)
class ValueRow:
    """One exported row (CSV and JSON carry the same fields)."""

    kpi_code: str
    place_code: str  # the bylab place id, e.g. NO-1506 (country prefix + official code)
    place_name: str
    period: str
    value: float | None
    unit: str
    method: str
    status: str
    reason: str
    computed_at: datetime


@dataclass
class KpiCoverage:
    entry: KpiEntry
    status: str  # computed, missing, not_mapped, not_defined
    latest_period: str | None = None
    latest_value: float | None = None
    reason: str = ""


@dataclass
class Coverage:
    place_id: str
    place_name: str
    total: int
    computed: int
    by_dimension: dict[str, dict[str, int]]
    kpis: list[KpiCoverage] = field(default_factory=list)
    context: list[KpiCoverage] = field(default_factory=list)


def kpi_slug(code: str) -> str:
    """A URL-friendly form of a KPI code: 'EN: EN: AQ: 2C' -> 'EN-EN-AQ-2C'."""
    return re.sub(r"[\s:]+", "-", code.strip()).strip("-").upper()


# ---------------------------------------------------------------- catalogue

def kpi_list(definitions: dict[str, Definition] | None = None,
             mappings: dict[str, CountryMapping] | None = None) -> list[KpiEntry]:
    """The 91 U4SSC KPIs in catalogue order, then bylab's context indicators."""
    if definitions is None and mappings is None:
        return list(_bundled_kpi_list())
    return _kpi_entries(definitions, mappings)


@cache
def _bundled_kpi_list() -> tuple[KpiEntry, ...]:
    """The catalogue with the bundled definitions and mappings (themselves read once)."""
    return tuple(_kpi_entries(None, None))


@cache
def _bundled_kpis_by_slug() -> dict[str, KpiEntry]:
    by_slug: dict[str, KpiEntry] = {}
    for entry in _bundled_kpi_list():
        by_slug.setdefault(entry.slug, entry)
    return by_slug


def _kpi_entries(definitions: dict[str, Definition] | None,
                 mappings: dict[str, CountryMapping] | None) -> list[KpiEntry]:
    definitions = definitions if definitions is not None else bundled_definitions()
    mappings = mappings if mappings is not None else bundled_mappings()
    kpis = list(u4ssc_kpis())
    kpis += [context_kpi(code, definition.name, definition.cites, definition.unit_label)
             for code, definition in definitions.items() if definition.framework != U4SSC]
    return [KpiEntry(kpi, definitions.get(kpi.code), _countries(definitions.get(kpi.code),
                                                                mappings)) for kpi in kpis]


def _countries(definition: Definition | None,
               mappings: dict[str, CountryMapping]) -> tuple[str, ...]:
    if definition is None:
        return ()
    return tuple(country for country, mapping in sorted(mappings.items())
                 if set(definition.inputs) <= set(mapping.inputs))


def kpi_show(code_or_slug: str) -> KpiEntry:
    """One KPI by code ('EN: EN: AQ: 2C') or slug ('EN-EN-AQ-2C'); NotFound otherwise."""
    found = _bundled_kpis_by_slug().get(kpi_slug(code_or_slug))
    if found is not None:
        return found
    raise NotFound("no KPI '{kpi}'", field="kpi", kpi=code_or_slug)


# ---------------------------------------------------------------- computing

def indicator_compute(ctx: Context, kpi_codes: list[str] | None = None, store: bool = True,
                      definitions: dict[str, Definition] | None = None,
                      mappings: dict[str, CountryMapping] | None = None
                      ) -> tuple[ComputeReport, list[ValueRecord]]:
    """Compute the KPIs (all defined ones by default) for every mapped place and period from
    the latest version of each mapped dataset the actor may see. With ``store`` the stored
    results of those KPIs are replaced, which only a system administrator may do."""
    if store and not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may store computed indicators")
    definitions = definitions if definitions is not None else bundled_definitions()
    if kpi_codes:
        definitions = {entry.kpi.code: definitions[entry.kpi.code]
                       for entry in map(kpi_show, kpi_codes) if entry.kpi.code in definitions}
        if not definitions:
            raise InvalidInput("none of these KPIs has a definition", field="kpi")
    records, report = compute_records(ctx, definitions,
                                      mappings if mappings is not None else bundled_mappings())
    if store:
        store_records(ctx, list(definitions), records)
    return report, records


def store_records(ctx: Context, kpi_codes: list[str], records: list[ValueRecord],
                  place_ids: set[str] | None = None) -> None:
    """Make the stored results of the KPIs (of these places and the records' places only,
    when ``place_ids`` is given) equal ``records``, in one transaction. A stored row that
    already says exactly what its record says is left alone (a recompute of unchanged data
    writes nothing, and its ``computed_at`` stays when it was first computed so); a changed
    row is deleted and inserted anew, so the newest row's id and ``computed_at`` tell readers
    (see ``dashboard.actions._indicator_revision``) that stored values changed."""
    with gc_paused(), ctx.db.session() as session:
        rows = {row[:3]: row for row in map(_stored_row, records)}
        connection = session.connection()
        current = _current_rows(connection, kpi_codes, place_ids, records)
        unchanged = {key for key, (_row_id, row) in current.items() if rows.get(key) == row}
        stale = [row_id for key, (row_id, _row) in current.items() if key not in unchanged]
        for chunk in range(0, len(stale), _DELETE_CHUNK):
            connection.execute(delete(IndicatorValue).where(
                IndicatorValue.id.in_(stale[chunk:chunk + _DELETE_CHUNK])))
        fresh = [row for key, row in rows.items() if key not in unchanged]
        if fresh:
            _insert_values(connection, fresh)


_DELETE_CHUNK = 5000  # ids per DELETE, under every driver's limit of bound parameters
# kpi_code, place_id, period, status, value, unit, reason, then dataset_ids and provenance
# as JSON text: the stored columns but computed_at
_StoredRow = tuple[Any, ...]


def _stored_row(record: ValueRecord) -> _StoredRow:
    return (record.kpi_code, record.place_id, record.period, record.status.value,
            record.value, record.unit, record.reason, _json(record.dataset_ids),
            _json(record.provenance))


def _current_rows(connection: Connection, kpi_codes: list[str], place_ids: set[str] | None,
                  records: list[ValueRecord]) -> dict[tuple[Any, ...], tuple[int, _StoredRow]]:
    """The stored rows ``store_records`` replaces: (KPI, place, period) -> (id, row). JSON
    is read as stored text: on PostgreSQL, whose JSONB normalises the text, every row then
    reads as changed and is rewritten (as before this comparison)."""
    table = IndicatorValue.__table__.c
    statement = select(table.id, table.kpi_code, table.place_id, table.period, table.status,
                       table.value, table.unit, table.reason, cast(table.dataset_ids, Text),
                       cast(table.provenance, Text)).where(table.kpi_code.in_(kpi_codes))
    if place_ids is not None:
        touched = sorted(place_ids | {record.place_id for record in records})
        statement = statement.where(table.place_id.in_(touched))
    return {tuple(row[1:4]): (row[0], tuple(row[1:]))
            for row in connection.execute(statement).all()}


_STORED_COLUMNS = ("kpi_code", "place_id", "period", "status", "value", "unit", "reason",
                   "dataset_ids", "provenance", "computed_at")
_INSERT_VALUES = text(f"INSERT INTO {IndicatorValue.__tablename__} "
                      f"({', '.join(_STORED_COLUMNS)}) "
                      f"VALUES ({', '.join(':' + name for name in _STORED_COLUMNS)})")


def _insert_values(connection: Connection, stored_rows: list[_StoredRow]) -> None:
    """One executemany straight to the driver, with the JSON serialised here by orjson:
    SQLAlchemy's per-row parameter processing and json.dumps took most of a full recompute's
    time. The text differs from json.dumps only in whitespace; the JSON is the same."""
    dialect = connection.dialect
    stamp_type = IndicatorValue.__table__.c.computed_at.type.dialect_impl(dialect)
    process_stamp = stamp_type.bind_processor(dialect)
    now = utcnow()
    stamp = process_stamp(now) if process_stamp else now
    rows = [(*row, stamp) for row in stored_rows]
    statement = _INSERT_VALUES.compile(dialect=dialect)
    parameters: list[Any] = rows
    if not statement.positional:
        parameters = [dict(zip(_STORED_COLUMNS, row, strict=True)) for row in rows]
    elif tuple(statement.positiontup or ()) != _STORED_COLUMNS:
        order = [_STORED_COLUMNS.index(name) for name in statement.positiontup or ()]
        parameters = [tuple(row[index] for index in order) for row in rows]
    connection.exec_driver_sql(str(statement), parameters)



def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


# ---------------------------------------------------------------- reading

def _visible_dataset_ids(session: Session, ctx: Context) -> set[str] | None:
    """Ids of the datasets the actor may see; None means every dataset (system)."""
    if ctx.actor.is_sysadmin:
        return None
    return set(session.scalars(select(Dataset.id).where(visibility_clause(ctx.actor))))


class _FedByDatasets(Protocol):
    dataset_ids: list[str]


Fed = TypeVar("Fed", bound=_FedByDatasets)


def only_readable(session: Session, ctx: Context, rows: Iterable[Fed]) -> list[Fed]:
    """The rows (stored values, or plain reads of them) whose every input dataset the actor
    may see: the access rule of every indicator value."""
    visible = _visible_dataset_ids(session, ctx)
    return [row for row in rows if visible is None or set(row.dataset_ids) <= visible]


def stored_values(session: Session, ctx: Context, place: str | None, kpi: str | None,
                   period: str | None, include_missing: bool) -> list[IndicatorValue]:
    statement = select(IndicatorValue)
    if place:
        statement = statement.where(IndicatorValue.place_id == place.strip().upper())
    if kpi:
        statement = statement.where(IndicatorValue.kpi_code == stored_kpi_code(session, kpi))
    if period:
        statement = statement.where(IndicatorValue.period == period.strip())
    if not include_missing:
        statement = statement.where(IndicatorValue.status == ValueStatus.COMPUTED.value)
    statement = statement.order_by(IndicatorValue.kpi_code, IndicatorValue.place_id,
                                   IndicatorValue.period)
    return only_readable(session, ctx, session.scalars(statement))


def computed_values_of(kpi_codes: list[str],
                       place_ids: set[str] | None = None) -> list[ColumnElement[bool]]:
    """WHERE conditions for the computed values of the KPIs (of these places; every place
    by default)."""
    conditions = [IndicatorValue.kpi_code.in_(kpi_codes),
                  IndicatorValue.status == ValueStatus.COMPUTED.value]
    if place_ids is not None:
        conditions.append(IndicatorValue.place_id.in_(place_ids))
    return conditions


def readable_values(session: Session, ctx: Context, kpi_codes: list[str],
                    place_ids: set[str] | None = None) -> list[IndicatorValue]:
    """Computed values of the KPIs (of these places; every place by default) that the actor
    may see under the access rule above, for targets and comparisons."""
    statement = select(IndicatorValue).where(*computed_values_of(kpi_codes, place_ids))
    return only_readable(session, ctx, session.scalars(statement))


def stored_kpi_code(session: Session, kpi: str) -> str:
    """The catalogue code of a KPI code or slug; a code stored but not in the catalogue (a
    test or retired definition) is accepted as written."""
    try:
        return kpi_show(kpi).kpi.code
    except NotFound:
        stored = select(IndicatorValue.id).where(IndicatorValue.kpi_code == kpi.strip())
        if session.scalar(stored.limit(1)) is None:
            raise
        return kpi.strip()


def indicator_values(ctx: Context, place: str | None = None, kpi: str | None = None,
                     period: str | None = None, include_missing: bool = False
                     ) -> list[ValueRow]:
    """Stored values the actor may see, filtered by place id, KPI (code or slug) and period,
    ordered by KPI, place and period; with ``include_missing`` also the missing records."""
    with ctx.db.session() as session:
        stored = stored_values(session, ctx, place, kpi, period, include_missing)
        names = place_names(session, {item.place_id for item in stored})
    return value_rows(stored, names)


class ComputedValue(Protocol):
    """A value as comparisons and targets read it: the ORM row, or a plain read of its
    columns (``bylab.dashboard.profile_reads``)."""

    kpi_code: str
    place_id: str
    period: str
    value: float | None


class StoredRecord(ComputedValue, Protocol):
    """A stored value or missing record as exports and coverage read it."""

    status: str
    unit: str
    reason: str
    computed_at: datetime


def value_rows(stored: Iterable[StoredRecord], names: dict[str, str]) -> list[ValueRow]:
    """The exported rows of stored records, in their order."""
    methods = {code: definition.method.value for code, definition in
               bundled_definitions().items()}
    return [ValueRow(item.kpi_code, item.place_id, names.get(item.place_id, ""), item.period,
                     item.value, item.unit, methods.get(item.kpi_code, ""), item.status,
                     item.reason, item.computed_at) for item in stored]


def place_names(session: Session, place_ids: set[str]) -> dict[str, str]:
    """Place id -> name."""
    if not place_ids:
        return {}
    rows = session.execute(select(Place.id, Place.name).where(Place.id.in_(place_ids)))
    return {place_id: name for place_id, name in rows}


def indicator_value_show(ctx: Context, kpi: str, place: str, period: str) -> IndicatorValue:
    """One stored value or missing record with its full provenance."""
    with ctx.db.session() as session:
        found = stored_values(session, ctx, place, kpi, period, include_missing=True)
    if not found:
        raise NotFound("no value of '{kpi}' for '{place}' in {period}", field="kpi", kpi=kpi,
                       place=place, period=period)
    return found[0]


def indicator_coverage(ctx: Context, place_id: str) -> Coverage:
    """How many of the 91 U4SSC KPIs have a value for the place (any period), by dimension,
    with the status of each KPI: computed, missing (with the reason of the latest period),
    not_mapped (no input mapping for the place's country) or not_defined (no definition)."""
    with ctx.db.session() as session:
        place = find_place(session, place_id)
        stored = stored_values(session, ctx, place.id, None, None, include_missing=True)
    return coverage_of(place, stored)


def coverage_of(place: Place, stored: list[StoredRecord]) -> Coverage:
    """The coverage of a place from its stored values and missing records that the reader
    may see (see ``indicator_coverage``)."""
    statuses = [_kpi_status(entry, place.country, stored) for entry in kpi_list()]
    u4ssc = [status for status in statuses if status.entry.kpi.framework == U4SSC]
    return Coverage(place.id, place.name, len(u4ssc),
                    sum(status.status == "computed" for status in u4ssc),
                    _by_dimension(u4ssc), u4ssc,
                    [status for status in statuses if status.entry.kpi.framework != U4SSC])


def find_place(session: Session, place_id: str) -> Place:
    """A place by id as written, else upper-cased; NotFound (field ``place``) otherwise."""
    place = (session.get(Place, place_id.strip())
             or session.get(Place, place_id.strip().upper()))
    if place is None:
        raise NotFound("no place with id '{place}'", field="place", place=place_id)
    return place


def _kpi_status(entry: KpiEntry, country: str, stored: list[StoredRecord]) -> KpiCoverage:
    if entry.definition is None:
        return KpiCoverage(entry, "not_defined")
    if country not in entry.countries:
        return KpiCoverage(entry, "not_mapped")
    mine = [item for item in stored if item.kpi_code == entry.kpi.code]
    computed = [item for item in mine if item.status == ValueStatus.COMPUTED]
    if computed:
        latest = max(computed, key=lambda item: item.period)
        return KpiCoverage(entry, "computed", latest.period, latest.value)
    if mine:
        latest = max(mine, key=lambda item: item.period)
        return KpiCoverage(entry, "missing", latest.period, None, latest.reason)
    return KpiCoverage(entry, "missing", reason="no input rows for this place")


def _by_dimension(statuses: list[KpiCoverage]) -> dict[str, dict[str, int]]:
    totals = Counter(status.entry.kpi.dimension for status in statuses)
    computed = Counter(status.entry.kpi.dimension for status in statuses
                       if status.status == "computed")
    return {dimension: {"total": totals[dimension], "computed": computed[dimension]}
            for dimension in DIMENSIONS}


def method_label(method: str) -> str:
    return {Method.ITU_FORMULA.value: "ITU formula",
            Method.BYLAB_OPERATIONALISATION.value: "bylab's operationalisation"}.get(method, "")
