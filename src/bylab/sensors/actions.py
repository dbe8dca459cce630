"""Actions on sensors: things and datastreams, storing and importing observations, and the
dead-letter store of observations that could not be stored."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select, true, update
from sqlalchemy.orm import Session

from bylab.auth.actions import organisation_get
from bylab.auth.actor import Actor
from bylab.connectors.models import HarvestSource
from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized, NotFound
from bylab.sensors.history import history_record
from bylab.sensors.models import (
    Datastream,
    DeadLetter,
    FeatureOfInterest,
    Location,
    ObservedProperty,
    Sensor,
    SensorVisibility,
    Thing,
    ThingLocation,
)
from bylab.sensors.payloads import DatastreamIndex, DatastreamRef, Parsed, parse_payload
from bylab.sensors.store import ObservationStore, observation_table
from bylab.web.i18n import N_

log = logging.getLogger("bylab.sensors")

TIME = pa.timestamp("ms", tz="UTC")
# Accepted column names of an observation file, by what they hold.
IMPORT_COLUMNS = {
    "datastream": ("datastream", "Datastream", "sensor"),
    "time": ("phenomenonTime", "phenomenon_time", "time"),
    "result": ("result", "value"),
}
# The import's error templates per column role (a role is an English word of the message).
MISSING_COLUMN = {
    "datastream": N_("no datastream column (expected one of {names})"),
    "time": N_("no time column (expected one of {names})"),
    "result": N_("no result column (expected one of {names})"),
}
NOT_CONVERTED = {
    "time": N_("'{value}' is not a time: {error}"),
    "result": N_("'{value}' is not a result: {error}"),
}


def observation_store(ctx: Context) -> ObservationStore:
    return ObservationStore(ctx.settings.data_dir / "sensors" / "observations", ctx.tables)


def visible_things_clause(actor: Actor) -> ColumnElement[bool]:
    """Things ``actor`` may see: public ones, and private ones of their own organisations.
    A harvested Thing is public while its source is: read from the source at query time, so
    a change of the source's visibility reaches it with no window in which it shows."""
    if actor.is_sysadmin:
        return true()
    public_sources = select(HarvestSource.id).where(
        HarvestSource.visibility == SensorVisibility.PUBLIC.value)
    public = or_(and_(Thing.source_id.is_(None), Thing.visibility == SensorVisibility.PUBLIC),
                 Thing.source_id.in_(public_sources))
    if actor.is_anonymous or not actor.member_org_ids:
        return public
    return or_(public, Thing.organisation_id.in_(sorted(actor.member_org_ids)))


def require_editor(ctx: Context, organisation_id: str | None) -> None:
    allowed = ctx.actor.is_sysadmin or (
        organisation_id is not None and ctx.actor.can_edit(organisation_id))
    if not allowed:
        raise NotAuthorized("only an editor of the owning organisation may change sensors")


@dataclass(frozen=True)
class Unit:
    name: str
    symbol: str
    definition: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "symbol": self.symbol, "definition": self.definition}


def thing_create(ctx: Context, name: str, *, description: str = "",
                 properties: dict[str, Any] | None = None, organisation: str | None = None,
                 visibility: SensorVisibility = SensorVisibility.PUBLIC,
                 coordinates: tuple[float, float] | None = None, place_id: str | None = None,
                 location_name: str | None = None, source_id: str | None = None) -> Thing:
    """A Thing; with ``coordinates`` (lon, lat) also its Location and FeatureOfInterest.
    With ``source_id`` (the harvest source that brought it) it follows that source's
    visibility.

    Names may repeat across organisations and sources (SensorThings clients may repeat them
    anywhere), but not among one organisation's own Things or one source's: the CLI and the
    demo name a Thing again to mean the same one."""
    with ctx.db.session() as session:
        organisation_id = organisation_get(session, organisation).id if organisation else None
        require_editor(ctx, organisation_id)
        namesake = select(Thing.id).where(
            Thing.name == name, Thing.organisation_id.is_not_distinct_from(organisation_id),
            Thing.source_id.is_not_distinct_from(source_id))
        if session.scalar(namesake.limit(1)) is not None:
            raise InvalidInput("a thing named '{name}' exists already", field="name", name=name)
        thing = Thing(name=name, description=description, properties=properties or {},
                      organisation_id=organisation_id, visibility=SensorVisibility(visibility),
                      place_id=place_id, source_id=source_id)
        session.add(thing)
        session.flush()
        if coordinates is not None:
            point = {"type": "Point", "coordinates": list(coordinates)}
            location = Location(name=location_name or name, description=description,
                                location=point, properties={},
                                organisation_id=organisation_id)
            session.add(location)
            session.flush()
            session.add(ThingLocation(thing_id=thing.id, location_id=location.id))
            history_record(session, thing.id, [location.id])
        return thing


def thing_get(session: Session, actor: Actor, thing: str | int) -> Thing:
    """The Thing visible to ``actor`` that ``thing`` names: an id, or a name that one Thing
    holds. A name of digits that no Thing holds is taken as an id (the CLI passes both)."""
    visible = visible_things_clause(actor)
    if isinstance(thing, str):
        namesakes = session.scalars(select(Thing).where(Thing.name == thing, visible)
                                    .order_by(Thing.id)).all()
        if len(namesakes) > 1:
            raise InvalidInput("several things are named '{thing}' (ids {ids}): give the id "
                               "of the one you mean", field="thing", thing=thing,
                               ids=", ".join(str(namesake.id) for namesake in namesakes))
        if namesakes:
            return namesakes[0]
        if not (thing.isascii() and thing.isdigit()):
            raise NotFound("no thing '{thing}'", field="thing", thing=thing)
    found = session.scalar(select(Thing).where(Thing.id == int(thing), visible))
    if found is None:
        raise NotFound("no thing '{thing}'", field="thing", thing=thing)
    return found


def _named(session: Session, model: type[Sensor | ObservedProperty], name: str,
           organisation_id: str | None, **values: Any) -> Any:
    """The owner's Sensor or ObservedProperty of that name (the first made, when clients
    made several), or a new one."""
    found = session.scalar(select(model).where(
        model.name == name, model.organisation_id.is_not_distinct_from(organisation_id))
        .order_by(model.id).limit(1))
    if found is None:
        found = model(name=name, organisation_id=organisation_id, **values)
        session.add(found)
        session.flush()
    return found


def thing_feature(session: Session, thing: Thing) -> FeatureOfInterest:
    """The default FeatureOfInterest of a thing's observations: where the thing is, made
    once and kept by its Datastreams (a name may be another Thing's too)."""
    location = session.scalar(select(Location).join(
        ThingLocation, ThingLocation.location_id == Location.id).where(
        ThingLocation.thing_id == thing.id))
    feature = session.scalar(select(FeatureOfInterest).join(
        Datastream, Datastream.feature_id == FeatureOfInterest.id).where(
        Datastream.thing_id == thing.id).order_by(Datastream.id).limit(1))
    if feature is None:
        feature = FeatureOfInterest(
            name=thing.name, description=f"Surroundings of {thing.name}",
            feature=location.location if location else {}, properties={},
            organisation_id=thing.organisation_id)
        session.add(feature)
        session.flush()
    return feature


def datastream_create(ctx: Context, thing: str | int, key: str, name: str, *,
                      observed_property: str, unit: Unit, sensor: str,
                      definition: str = "", description: str = "") -> Datastream:
    """A Datastream of ``thing`` (see ``thing_get``); its Sensor and ObservedProperty, the
    owner's of those names, are made if new."""
    with ctx.db.session() as session:
        owner = thing_get(session, ctx.actor, thing)
        require_editor(ctx, owner.organisation_id)
        if session.scalar(select(Datastream.id).where(Datastream.key == key)) is not None:
            raise InvalidInput("a datastream with key '{key}' exists already", field="key",
                               key=key)
        sensor_row = _named(session, Sensor, sensor, owner.organisation_id,
                            description=sensor, encoding_type="text/plain",
                            sensor_metadata="", properties={})
        property_row = _named(session, ObservedProperty, observed_property,
                              owner.organisation_id, definition=definition,
                              description=observed_property, properties={})
        datastream = Datastream(
            key=key, name=name, description=description or name,
            unit_of_measurement=unit.as_dict(), thing_id=owner.id, sensor_id=sensor_row.id,
            observed_property_id=property_row.id,
            feature_id=thing_feature(session, owner).id, properties={})
        session.add(datastream)
        return datastream


def datastream_index(ctx: Context) -> DatastreamIndex:
    """Every datastream by id and key, for reading payloads and files."""
    with ctx.db.session() as session:
        rows = session.execute(select(Datastream.id, Datastream.key,
                                      Datastream.unit_of_measurement, Datastream.feature_id))
        refs = [DatastreamRef(id, key, (unit or {}).get("symbol", ""), feature)
                for id, key, unit, feature in rows]
    return DatastreamIndex(by_id={ref.id: ref for ref in refs},
                           by_key={ref.key: ref for ref in refs},
                           mapping=dict(ctx.settings.mqtt_sensor_mapping),
                           max_future_ms=ctx.settings.sensor_max_future_s * 1000)


def observations_store(ctx: Context, batch: pa.Table) -> int:
    """Store checked observations (``store.observation_table`` columns); returns how many were
    new. The datastreams' time spans and latest results follow."""
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only ingestion and administrators store observations")
    return observations_store_checked(ctx, _with_default_features(ctx, batch))


def observations_store_checked(ctx: Context, batch: pa.Table) -> int:
    """Store a batch whose writer was authorised (``require_editor`` of each datastream's
    owner) and whose every row has its FeatureOfInterest; returns how many were new."""
    fresh = observation_store(ctx).append(batch)
    if fresh.num_rows:
        _update_spans(ctx, fresh)
        if ctx.settings.sta_mqtt_publish:
            # Imported here: sta_mqtt renders with sta.py, which imports this module.
            from bylab.sensors.sta_mqtt import observations_publish
            observations_publish(ctx, fresh)
    return fresh.num_rows


def _with_default_features(ctx: Context, batch: pa.Table) -> pa.Table:
    """Observations without a FeatureOfInterest get their datastream's default one."""
    refs = list(datastream_index(ctx).by_id.values())
    positions = pc.index_in(batch["datastream_id"], value_set=pa.array(
        [ref.id for ref in refs], pa.int32()))
    if positions.null_count:
        unknown = batch["datastream_id"][pc.index(pc.is_null(positions), True).as_py()]
        raise InvalidInput("unknown datastream '{datastream}'", field="datastream",
                           datastream=unknown.as_py())
    defaults = pc.take(pa.array([ref.feature_id for ref in refs], pa.int32()), positions)
    features = pc.coalesce(batch["feature_id"], defaults)
    return batch.set_column(batch.schema.get_field_index("feature_id"), "feature_id", features)


def _update_spans(ctx: Context, fresh: pa.Table) -> None:
    """Widen the datastreams' time spans to their new observations, and take a new latest
    result where it is no older than the stored end: one UPDATE run for every datastream
    (executemany), each reading the row's current values, so concurrent imports compose."""
    # Rows come sorted by day, datastream and time, so each group's last result is its latest.
    spans = fresh.group_by("datastream_id", use_threads=False).aggregate(
        [("phenomenon_time", "min"), ("phenomenon_time", "max"), ("result", "last")])
    spans = pa.table({"span_id": spans["datastream_id"],
                      "span_first": spans["phenomenon_time_min"],
                      "span_last": spans["phenomenon_time_max"],
                      "span_latest": spans["result_last"]})
    table = Datastream.__table__
    start, end = table.c.phenomenon_start, table.c.phenomenon_end
    first, last = bindparam("span_first", type_=start.type), bindparam("span_last", type_=end.type)
    newer = or_(end.is_(None), last >= end)
    statement = update(table).where(table.c.id == bindparam("span_id")).values(
        phenomenon_start=case((or_(start.is_(None), first < start), first), else_=start),
        phenomenon_end=case((newer, last), else_=end),
        # A batch whose results are not numbers (null here) keeps the latest numeric one.
        latest_result=case((newer, func.coalesce(bindparam("span_latest"), table.c.latest_result)),
                           else_=table.c.latest_result))
    with ctx.db.session() as session:
        session.execute(statement, spans.to_pylist())


def datastream_spans_refresh(ctx: Context, datastream_ids: set[int]) -> None:
    """Recompute the time spans and latest results of datastreams from their stored
    observations (after some were deleted or changed)."""
    scan = observation_store(ctx).scan()
    spans: dict[int, tuple[datetime, datetime, float]] = {}
    if scan is not None and datastream_ids:
        ids = ", ".join(str(int(identifier)) for identifier in datastream_ids)
        rows = ctx.tables.connection().execute(
            f"SELECT datastream_id, min(phenomenon_time), max(phenomenon_time), "
            f"arg_max(result, phenomenon_time) FROM {scan} WHERE datastream_id IN ({ids}) "
            "GROUP BY datastream_id").fetchall()
        spans = {row[0]: (row[1], row[2], row[3]) for row in rows}
    with ctx.db.session() as session:
        for datastream_id in datastream_ids:
            datastream = session.get(Datastream, datastream_id)
            if datastream is None:
                continue
            start, end, latest = spans.get(datastream_id, (None, None, None))
            datastream.phenomenon_start, datastream.phenomenon_end = start, end
            datastream.latest_result = latest


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they are UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


# --- bulk import -------------------------------------------------------------------------

def _pick_column(table: pa.Table, role: str, file: str) -> pa.ChunkedArray:
    for name in IMPORT_COLUMNS[role]:
        if name in table.column_names:
            return table[name]
    raise InvalidInput(MISSING_COLUMN[role], file=file, names=", ".join(IMPORT_COLUMNS[role]))


def _first_bad_row(column: pa.ChunkedArray, type_: pa.DataType) -> int:
    """Index of the first value of a text column that does not convert (bisection)."""
    values = column.combine_chunks()
    low, high = 0, len(values)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            values.slice(low, middle - low).cast(type_)
            low = middle
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            high = middle
    return low


def _read_observation_file(path: Path) -> pa.Table:
    file = path.name
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    else:
        types = {name: pa.string() for name in IMPORT_COLUMNS["datastream"]}
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True))
    columns = {role: _pick_column(table, role, file) for role in IMPORT_COLUMNS}
    for role, type_ in (("time", TIME), ("result", pa.float64())):
        try:
            columns[role] = columns[role].cast(type_)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            text = columns[role].cast(pa.string())
            row = _first_bad_row(text, type_)
            raise InvalidInput(NOT_CONVERTED[role], file=file, row=row + 1, field=role,
                               value=text[row].as_py(), error=error) from None
    return pa.table(columns)


def _check_rows(table: pa.Table, index: DatastreamIndex, file: str) -> pa.Table:
    """The file as a batch to store, or an error naming the first bad row."""
    keys = table["datastream"].cast(pa.string())
    ids = pc.index_in(keys, value_set=pa.array(list(index.by_key)))
    if (row := _first_true(pc.is_null(ids))) is not None:
        raise InvalidInput("unknown datastream '{datastream}'", file=file, row=row + 1,
                           field="datastream", datastream=table["datastream"][row].as_py())
    if (row := _first_true(pc.is_null(table["time"]))) is not None:
        raise InvalidInput("missing time", file=file, row=row + 1, field="time")
    not_finite = pc.invert(pc.is_finite(pc.fill_null(table["result"], math.nan)))
    if (row := _first_true(not_finite)) is not None:
        raise InvalidInput("result '{value}' is not a finite number", file=file, row=row + 1,
                           field="result", value=table["result"][row].as_py())
    latest_allowed = datetime.now(UTC) + timedelta(milliseconds=index.max_future_ms)
    future = pc.fill_null(pc.greater(table["time"], pa.scalar(latest_allowed, TIME)), False)
    if (row := _first_true(future)) is not None:
        raise InvalidInput("time '{value}' is in the future", file=file, row=row + 1,
                           field="time", value=table["time"][row].as_py())
    id_of_position = pa.array([ref.id for ref in index.by_key.values()], pa.int32())
    return observation_table(pc.take(id_of_position, ids), table["time"], table["result"])


def _first_true(mask: pa.Array | pa.ChunkedArray) -> int | None:
    """The position of the first true value of ``mask``, or None."""
    position = pc.index(mask, True).as_py()
    return position if position >= 0 else None


def observations_import(ctx: Context, path: Path,
                        progress: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Import a CSV or Parquet file of observations (datastream key, phenomenonTime, result).
    A bad row refuses the whole file, naming the row (1 = first data row); returns
    (rows read, observations new)."""
    report = progress or (lambda _message: None)
    report(f"reading {path.name}")
    table = _read_observation_file(path)
    report(f"checking {table.num_rows:,} rows")
    batch = _check_rows(table, datastream_index(ctx), path.name)
    report("storing")
    return table.num_rows, observations_store(ctx, batch)


# --- dead letters ------------------------------------------------------------------------

def dead_letters_add(ctx: Context, rejected: list[tuple[str, str, str]]) -> None:
    """Keep refused items (source, payload, reason), and say so in the log."""
    if not rejected:
        return
    with ctx.db.session() as session:
        for source, payload, reason in rejected:
            log.warning("dead letter from %s: %s (payload %.200s)", source, reason, payload)
            session.add(DeadLetter(source=source, payload=payload, reason=reason))


def _require_sysadmin(ctx: Context) -> None:
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may see dead letters")


def dead_letter_list(ctx: Context, include_replayed: bool = False, limit: int = 1000
                     ) -> list[DeadLetter]:
    _require_sysadmin(ctx)
    query = select(DeadLetter).order_by(DeadLetter.id).limit(limit)
    if not include_replayed:
        query = query.where(DeadLetter.replayed_at.is_(None))
    with ctx.db.session() as session:
        return list(session.scalars(query))


@dataclass(frozen=True)
class ReplayResult:
    stored: int  # letters whose observations are now stored
    still_bad: int


def dead_letter_replay(ctx: Context, ids: list[int] | None = None) -> ReplayResult:
    """Try dead letters again (after a datastream was added or a mapping fixed); the ones that
    now pass are stored and marked replayed, the others keep their new reason."""
    _require_sysadmin(ctx)
    index = datastream_index(ctx)
    query = select(DeadLetter).where(DeadLetter.replayed_at.is_(None))
    if ids:
        query = query.where(DeadLetter.id.in_(ids))
    stored = still_bad = 0
    with ctx.db.session() as session:
        letters = list(session.scalars(query))
        if ids and len(letters) != len(set(ids)):
            missing = sorted(set(ids) - {letter.id for letter in letters})
            raise NotFound("no open dead letter {letter}", field="id", letter=missing[0])
        parsed = Parsed()
        for letter in letters:
            rejected_before = len(parsed.rejected)
            parse_payload(letter.payload.encode(), letter.source, index, parsed)
            if len(parsed.rejected) > rejected_before:
                letter.reason = parsed.rejected[-1][2]
                still_bad += 1
            else:
                letter.replayed_at = datetime.now(UTC)
                stored += 1
        observations_store(ctx, observation_table(parsed.datastream_ids, parsed.times_ms,
                                                  parsed.results, parsed.feature_ids))
    log.info("replayed %d dead letters: %d stored, %d still bad", stored + still_bad, stored,
             still_bad)
    return ReplayResult(stored, still_bad)


# --- reading for pages -------------------------------------------------------------------

@dataclass(frozen=True)
class ThingSummary:
    thing: Thing
    datastreams: list[Datastream]


def thing_list(ctx: Context) -> list[ThingSummary]:
    """The things ``ctx.actor`` may see, with their datastreams."""
    with ctx.db.session() as session:
        things = list(session.scalars(select(Thing).where(
            visible_things_clause(ctx.actor)).order_by(Thing.name)))
        streams = list(session.scalars(select(Datastream).where(
            Datastream.thing_id.in_([thing.id for thing in things])).order_by(Datastream.id)))
    return [ThingSummary(thing, [d for d in streams if d.thing_id == thing.id])
            for thing in things]


def thing_show(ctx: Context, thing_id: int) -> ThingSummary:
    with ctx.db.session() as session:
        thing = session.scalar(select(Thing).where(
            Thing.id == thing_id, visible_things_clause(ctx.actor)))
        if thing is None:
            raise NotFound("no thing '{thing}'", thing=thing_id)
        streams = list(session.scalars(select(Datastream).where(
            Datastream.thing_id == thing.id).order_by(Datastream.id)))
    return ThingSummary(thing, streams)


def datastream_daily_means(ctx: Context, datastream: Datastream, days: int = 365
                           ) -> list[tuple[date, float]]:
    """Daily means of the last ``days`` days of a datastream (server-side downsampling)."""
    end = _aware(datastream.phenomenon_end)
    if end is None:
        return []
    first = (end - timedelta(days=days)).date()
    scan = observation_store(ctx).scan(first, end.date())
    if scan is None:
        return []
    rows = ctx.tables.connection().execute(
        f"SELECT phenomenon_time::DATE AS on_day, avg(result) FROM {scan} "
        "WHERE datastream_id = ? AND result IS NOT NULL GROUP BY on_day ORDER BY on_day",
        [datastream.id]).fetchall()
    return [(day, float(mean)) for day, mean in rows]
