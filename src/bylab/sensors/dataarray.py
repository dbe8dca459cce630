"""The SensorThings v1.1 Data Array extension: observations as compact arrays.

Reading: ``$resultFormat=dataArray`` on Observations answers one block per Datastream,
``{Datastream@iot.navigationLink, components, dataArray@iot.count, dataArray}``.
Writing: a ``CreateObservations`` document is a list of such blocks naming their Datastream
(``{"Datastream": {"@iot.id": 1}, "components": [...], "dataArray": [[...], ...]}``); every row
is answered by the link of its Observation or ``"error"``, in order. A row is refused on its
own (bad time, result null or a number that is not finite, time in the future, a bad
resultQuality, validTime or parameters); a malformed document, an unknown component or a
Datastream the actor may not write refuses the whole document. A result of another JSON type
(text, boolean, object, array) is kept as a single Observation keeps it.

The JSON document is read column-wise by DuckDB when it has the common shape
(``dataarray_json.py``); any other goes through Python objects here, with the same checks.

A bylab extension for bulk loads: the same rows as one table body, chosen by Content-Type
(``application/vnd.apache.arrow.stream``, ``application/vnd.apache.parquet`` or ``text/csv``),
with a ``Datastream/id`` column (the Datastream's @iot.id) and one column per component
(``phenomenonTime``, ``result``, optionally ``resultTime`` and ``FeatureOfInterest/id``;
numeric results only). It is checked column by column with the same rules and answered the
same way."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import select

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.sensors import actions
from bylab.sensors.dataarray_json import JsonBlocks, component_columns, read_json_blocks
from bylab.sensors.models import Datastream, FeatureOfInterest, Thing
from bylab.sensors.sta_entities import observation_values
from bylab.sensors.observation_ids import ID_TIME_BITS
from bylab.web.i18n import N_

TIME = pa.timestamp("ms", tz="UTC")
# The Observation properties that are optional, each with its store column.
OPTIONAL_COMPONENTS = {"resultQuality": "result_quality", "validTime": "valid_time",
                       "parameters": "parameters"}
READ_COMPONENTS = ("id", "phenomenonTime", "resultTime", "result", "FeatureOfInterest/id",
                   *OPTIONAL_COMPONENTS)
DEFAULT_READ_COMPONENTS = ["id", "phenomenonTime", "resultTime", "result",
                           *OPTIONAL_COMPONENTS]
STORE_TYPES = {"datastream_id": pa.int32(), "phenomenon_time": TIME, "result": pa.float64(),
               "result_time": TIME, "feature_id": pa.int32()}
TABLE_COMPONENTS = {"phenomenonTime", "resultTime", "result", "FeatureOfInterest/id"}
WRITE_COMPONENTS = TABLE_COMPONENTS | set(OPTIONAL_COMPONENTS)
# Why a row is refused, filled with the row's value (a row of the wrong length: MISSHAPEN).
REFUSALS = {
    "time": N_("'{value}' is not an ISO 8601 time"),
    "future": N_("'{value}' is in the future"),
    "number": N_("'{value}' is not a finite number"),
    "feature": N_("no FeaturesOfInterest({value})"),
}
MISSHAPEN = "misshapen"
ERROR = "error"
JSON = "application/json"
# From this size on DuckDB reads a JSON body; below, orjson is done before DuckDB has started
# (a connection and a file: some 10 ms).
DUCKDB_BODY_BYTES = 256 * 1024
DATASTREAM_COLUMN = "Datastream/id"  # a table body's column naming each row's Datastream


# --- reading -------------------------------------------------------------------------------

def read_components(select_: list[str] | None) -> list[str]:
    """The components of a dataArray answer: ``$select`` in its order, or the defaults."""
    if select_ is None:
        return DEFAULT_READ_COMPONENTS
    components = ["id" if name == "@iot.id" else name for name in select_]
    unknown = [name for name in components if name not in READ_COMPONENTS]
    if unknown:
        raise InvalidInput("'{component}' is not a dataArray component (choose from "
                           "{components})", field="$select", component=unknown[0],
                           components=", ".join(READ_COMPONENTS))
    return components


def data_array_blocks(root: str, observations: list[dict[str, Any]], components: list[str]
                      ) -> list[dict[str, Any]]:
    """Observations (rendered property dicts with ``_datastream``) grouped by Datastream in
    order of first appearance."""
    keys = {"id": "@iot.id", "FeatureOfInterest/id": "_feature"}
    rows: dict[int, list[list[Any]]] = {}
    for observation in observations:
        rows.setdefault(observation["_datastream"], []).append(
            [observation[keys.get(name, name)] for name in components])
    return [{"Datastream@iot.navigationLink": f"{root}/Datastreams({datastream_id})",
             "components": components, "dataArray@iot.count": len(block),
             "dataArray": block}
            for datastream_id, block in rows.items()]


# --- writing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    datastream_id: int
    components: list[str]
    rows: list[Any]


@dataclass
class Created:
    """The outcome of each row, in document order: an observation id (null where the row was
    refused), and why each refused row was (with its 1-based position in the document)."""

    ids: pa.Array
    refused: list[InvalidInput]  # each naming its row, field and reason
    new: int = 0

    def links(self, root: str) -> list[str]:
        """Each row's Observation link, or "error", built column-wise."""
        texts = pc.binary_join_element_wise(f"{root}/Observations(", self.ids.cast(pa.string()),
                                            ")", "")
        return pc.fill_null(texts, ERROR).to_pylist()


# A component's values: a JSON document's, or a column of a table body.
Values = Sequence[Any] | pa.Array | pa.ChunkedArray
# A check of the rows: (field, which rows fail it, why: MISSHAPEN, a key of REFUSALS, or
# each failing row's own refusal by its position).
Check = tuple[str, pa.Array, str | dict[int, InvalidInput]]


@dataclass(frozen=True)
class Rows:
    """Observations to check, as columns: each row's Datastream, each component's values,
    which rows had the wrong shape, and the value a row held for a component (for the
    refusal)."""

    datastream_ids: pa.Array
    columns: dict[str, Values]
    misshapen: pa.Array
    held: Callable[[str, int], Any]


def read_body(body: bytes, content_type: str | None, file: str | None = None) -> Any:
    """The CreateObservations body as its Content-Type gives it: a JSON document (the
    standard), or, as a bylab extension, the same observations as one table (Arrow IPC
    stream, Parquet or CSV) with a ``Datastream/id`` column and one column per component."""
    media_type = (content_type or JSON).split(";")[0].strip().lower()
    reader = TABLE_READERS.get(media_type)
    if media_type in (JSON, "") or media_type.endswith("+json"):
        return _json_document(body, file)
    if reader is None:
        raise InvalidInput("Content-Type {media_type} is not read (use {json} or one of "
                           "{types})", file=file, field="Content-Type",
                           media_type=repr(media_type), json=JSON,
                           types=", ".join(sorted(TABLE_READERS)))
    try:
        return reader(body)
    except (pa.ArrowException, OSError) as error:
        raise InvalidInput("not a readable {media_type} body ({error})", file=file,
                           media_type=media_type, error=str(error)) from None


def _json_document(body: bytes, file: str | None) -> Any:
    """The blocks as DuckDB reads them, or (a small body, or one it does not read) as Python
    objects."""
    blocks = read_json_blocks(body) if len(body) >= DUCKDB_BODY_BYTES else None
    return blocks or _parsed(body, file)


def _parsed(body: bytes, file: str | None) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # NaN and Infinity are no JSON, but some senders write them: refused per row
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("not JSON: {problem}", file=file, problem=str(error)) from None


def _csv_table(body: bytes) -> pa.Table:
    texts = {name: pa.string() for name in ("phenomenonTime", "resultTime")}
    return pacsv.read_csv(pa.BufferReader(body), convert_options=pacsv.ConvertOptions(
        column_types=texts, null_values=[""], strings_can_be_null=True))


TABLE_READERS: dict[str, Callable[[bytes], pa.Table]] = {
    "application/vnd.apache.arrow.stream": lambda body: pa.ipc.open_stream(body).read_all(),
    "application/vnd.apache.parquet": lambda body: pq.read_table(pa.BufferReader(body)),
    "application/x-parquet": lambda body: pq.read_table(pa.BufferReader(body)),
    "text/csv": _csv_table,
}


def _blocks(document: Any, file: str | None) -> list[Block]:
    if not isinstance(document, list):
        raise InvalidInput("a CreateObservations document is a JSON list of dataArray blocks",
                           file=file)
    return [_block(number, block, file) for number, block in enumerate(document, start=1)]


def _block(number: int, block: Any, file: str | None) -> Block:
    """Block ``number`` of a document, its Datastream and components checked."""
    if not isinstance(block, dict):
        raise InvalidInput("block {block} is not an object", file=file, block=number)
    reference = block.get("Datastream")
    identifier = reference.get("@iot.id") if isinstance(reference, dict) else None
    if isinstance(identifier, str) and identifier.isdigit():
        identifier = int(identifier)
    if not isinstance(identifier, int) or isinstance(identifier, bool):
        raise InvalidInput("block {block} names no Datastream {{\"@iot.id\": …}}",
                           file=file, field="Datastream", block=number)
    components = block.get("components")
    _check_components(components, number, file)
    rows = block.get("dataArray")
    if not isinstance(rows, list):
        raise InvalidInput("block {block} has no dataArray list", file=file,
                           field="dataArray", block=number)
    return Block(identifier, components, rows)


def _check_components(components: Any, block: int | None, file: str | None) -> None:
    """The components of dataArray block number ``block``, or (None) of a table body."""
    if not isinstance(components, list) or not all(
            isinstance(name, str) for name in components) or not {
            "phenomenonTime", "result"} <= set(components) or len(set(components)) != len(
            components):
        if block is None:
            raise InvalidInput("the table: components must list phenomenonTime and result "
                               "once each", file=file, field="components")
        raise InvalidInput("block {block}: components must list phenomenonTime and result "
                           "once each", file=file, field="components", block=block)
    known = TABLE_COMPONENTS if block is None else WRITE_COMPONENTS
    unknown = [name for name in components if name not in known]
    if unknown:
        accepted = ", ".join(sorted(known))
        if block is None:
            raise InvalidInput("the table: component '{component}' is not stored by bylab "
                               "(accepted: {accepted})", file=file, field="components",
                               component=unknown[0], accepted=accepted)
        raise InvalidInput("block {block}: component '{component}' is not stored by bylab "
                           "(accepted: {accepted})", file=file, field="components",
                           block=block, component=unknown[0], accepted=accepted)


def _check_writable(ctx: Context, wanted: set[int]) -> dict[int, int]:
    """Each named datastream's default FeatureOfInterest, once the actor may write to all."""
    with ctx.db.session() as session:
        found = {datastream.id: (datastream, organisation) for datastream, organisation in
                 session.execute(select(Datastream, Thing.organisation_id).join(
                     Thing, Thing.id == Datastream.thing_id).where(
                     Datastream.id.in_(wanted), actions.visible_things_clause(ctx.actor)))}
    for identifier in sorted(wanted):
        if identifier not in found:
            raise NotFound("no Datastreams({identifier})", field="Datastream",
                           identifier=identifier)
        actions.require_editor(ctx, found[identifier][1])
    return {identifier: datastream.feature_id for identifier, (datastream, _) in found.items()}


def _feature_ids(ctx: Context) -> set[int]:
    with ctx.db.session() as session:
        return set(session.scalars(select(FeatureOfInterest.id)))


def _is_arrow(values: Values) -> bool:
    return isinstance(values, pa.Array | pa.ChunkedArray)


def _times(values: Values) -> pa.Array:
    """Epoch milliseconds of ISO 8601 texts (or of an Arrow timestamp column); null where a
    value is none or not one. Arrow parses the whole column at once; only a column with a
    bad value goes value by value."""
    if _is_arrow(values) and pa.types.is_timestamp(values.type):
        return pc.cast(values.cast(TIME), pa.int64())
    try:
        texts = values.cast(pa.string()) if _is_arrow(values) else pa.array(values, pa.string())
        return pc.cast(texts.cast(TIME), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        listed = values.to_pylist() if _is_arrow(values) else values
        return pa.array([_time(value) for value in listed], pa.int64())


def _time(value: Any) -> int | None:
    try:
        return pc.cast(pa.array([value], pa.string()).cast(TIME), pa.int64())[0].as_py()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _results(values: Values) -> pa.Array:
    """Results as doubles; null where a value is not a number (a boolean is not; in a table
    body a text column is read as numbers where it holds them)."""
    if _is_arrow(values):
        return _column_results(values)
    try:
        inferred = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        inferred = None
    if inferred is not None and (pa.types.is_integer(inferred.type)
                                 or pa.types.is_floating(inferred.type)):
        return pc.cast(inferred, pa.float64(), safe=False)  # rounded as float() rounds
    return pa.array([_float(value) for value in values], pa.float64())


def _float(value: Any) -> float | None:
    """A JSON number as a float (one beyond float's range as infinite); None for a value of
    another type."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _result_texts(values: Values, numbers: pa.Array
                  ) -> tuple[pa.Array, dict[int, InvalidInput]]:
    """The results that are neither numbers nor null (text, boolean, object, array) as JSON
    text, null elsewhere; and why a row's is refused. A table body's results are numbers."""
    if _is_arrow(values) or numbers.null_count == 0:
        return pa.nulls(len(numbers), pa.string()), {}
    others = [None if number is not None else value
              for value, number in zip(values, numbers.to_pylist(), strict=True)]
    return _json_texts(others, "result", "result_json")


def _json_texts(values: Sequence[Any], name: str, column: str
                ) -> tuple[pa.Array, dict[int, InvalidInput]]:
    """A component's values as a single Observation keeps them (``observation_values``): its
    store column's texts, and the refusal of each row whose value is refused, by position."""
    texts: list[str | None] = []
    problems = {}
    for position, value in enumerate(values):
        try:
            texts.append(None if value is None else getattr(
                observation_values({name: value}), column))
        except InvalidInput as problem:
            texts.append(None)
            problems[position] = problem
    return pa.array(texts, pa.string()), problems


def _mask(positions: dict[int, Any], count: int) -> pa.Array:
    mask = numpy.zeros(count, bool)
    mask[list(positions)] = True
    return pa.array(mask)


def _column_results(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return pc.cast(values, pa.float64())
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return pa.nulls(len(values), pa.float64())
    try:
        return pc.cast(values, pa.float64())
    except pa.ArrowInvalid:
        return pa.array([_number(text) for text in values.to_pylist()], pa.float64())


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _columns(block: Block) -> tuple[dict[str, Any], list[bool]]:
    """The block's rows as columns (a row of the wrong shape as nulls), and which rows had
    the wrong shape."""
    width = len(block.components)
    misshapen = [not isinstance(row, list) or len(row) != width for row in block.rows]
    rows = block.rows
    if any(misshapen):
        rows = [[None] * width if bad else row for row, bad in zip(rows, misshapen, strict=True)]
    transposed = list(zip(*rows, strict=True)) or [()] * width
    return dict(zip(block.components, transposed, strict=True)), misshapen


def _block_rows(block: Block) -> Rows:
    columns, misshapen = _columns(block)

    def held(field: str, position: int) -> Any:
        row = block.rows[position]
        index = block.components.index(field) if field in block.components else None
        return row[index] if index is not None and isinstance(row, list) else None

    return Rows(pa.array(numpy.full(len(block.rows), block.datastream_id, numpy.int32)),
                columns, pa.array(misshapen, pa.bool_()), held)


def _table_rows(table: pa.Table, file: str | None) -> Rows:
    """A table body's rows: its ``Datastream/id`` column and one column per component."""
    components = [name for name in table.column_names if name != DATASTREAM_COLUMN]
    _check_components(components, None, file)
    if DATASTREAM_COLUMN not in table.column_names:
        raise InvalidInput("the table has no {column} column", file=file,
                           field=DATASTREAM_COLUMN, column=DATASTREAM_COLUMN)
    identifiers = table[DATASTREAM_COLUMN]
    if not pa.types.is_integer(identifiers.type) or identifiers.null_count:
        missing = pc.index(pc.is_null(identifiers), True).as_py() if identifiers.null_count \
            else 0
        raise InvalidInput("{column} must be a Datastream's @iot.id on every row", file=file,
                           row=missing + 1, field=DATASTREAM_COLUMN, column=DATASTREAM_COLUMN)
    columns = {name: table[name].combine_chunks() for name in components}
    return Rows(identifiers.combine_chunks().cast(pa.int32()), columns,
                pa.array(numpy.zeros(table.num_rows, bool)),
                lambda field, position: columns[field][position].as_py()
                if field in columns else None)


def _feature_column(values: Values | None, features: set[int], count: int
                    ) -> tuple[pa.Array, pa.Array | None]:
    """The given FeatureOfInterest ids that exist (null elsewhere), and where one was given."""
    if values is None:
        return pa.nulls(count, pa.int32()), None
    if not _is_arrow(values):
        known = pa.array([value if isinstance(value, int) and not isinstance(value, bool)
                          and value in features else None for value in values], pa.int32())
        return known, pa.array([value is not None for value in values], pa.bool_())
    given = pc.is_valid(values)
    if not pa.types.is_integer(values.type):
        return pa.nulls(count, pa.int32()), given
    ids = pc.cast(values, pa.int64())
    exists = pc.is_in(ids, value_set=pa.array(sorted(features), pa.int64()))
    return pc.cast(pc.if_else(exists, ids, pa.scalar(None, pa.int64())), pa.int32()), given


def _rows_table(rows: Rows, default_features: dict[int, int], features: set[int],
                latest_ms: int) -> tuple[pa.Table, list[Check]]:
    """The rows as store columns, and the checks they must pass."""
    columns, count = rows.columns, len(rows.datastream_ids)
    times = _times(columns["phenomenonTime"])
    results = _results(columns["result"])
    result_texts, result_problems = _result_texts(columns["result"], results)
    result_time_texts = columns.get("resultTime")
    result_times = _times(result_time_texts) if result_time_texts is not None \
        else pa.nulls(count, pa.int64())
    feature_ids, features_given = _feature_column(columns.get("FeatureOfInterest/id"),
                                                  features, count)
    checks: list[Check] = [
        ("dataArray", rows.misshapen, MISSHAPEN),
        ("phenomenonTime", pc.is_null(times), "time"),
        ("phenomenonTime", pc.fill_null(pc.greater(times, latest_ms), False), "future"),
        ("result", _mask(result_problems, count), result_problems),
        ("result", pc.invert(pc.or_(pc.fill_null(pc.is_finite(results), False),
                                    pc.is_valid(result_texts))), "number"),
    ]
    if result_time_texts is not None:
        given = pc.is_valid(result_time_texts) if _is_arrow(result_time_texts) else pa.array(
            [value is not None for value in result_time_texts], pa.bool_())
        checks.append(("resultTime", pc.and_(given, pc.is_null(result_times)), "time"))
    if features_given is not None:
        checks.append(("FeatureOfInterest/id", pc.and_(features_given, pc.is_null(feature_ids)),
                       "feature"))
    optional = {"result_json": result_texts} if result_texts.null_count < count else {}
    for name, column in OPTIONAL_COMPONENTS.items():
        if name in columns:  # the store fills the columns a batch leaves out with nulls
            optional[column], problems = _json_texts(columns[name], name, column)
            checks.append((name, _mask(problems, count), problems))
    table = pa.table({
        "datastream_id": rows.datastream_ids,
        "phenomenon_time": times.cast(TIME),
        "result": results,
        "result_time": result_times.cast(TIME),
        "feature_id": pc.coalesce(feature_ids, _defaults(rows.datastream_ids,
                                                         default_features)),
        **optional,
    })
    return table, checks


def _defaults(datastream_ids: pa.Array, default_features: dict[int, int]) -> pa.Array:
    """Each row's Datastream's default FeatureOfInterest."""
    known = sorted(default_features)
    positions = pc.index_in(datastream_ids, value_set=pa.array(known, pa.int32()))
    return pc.take(pa.array([default_features[key] for key in known], pa.int32()), positions)


def _parts(document: Any, file: str | None) -> list[Rows]:
    """The rows to check: a table body's, all of DuckDB's reading, or each block's."""
    if isinstance(document, pa.Table):
        return [_table_rows(document, file)]
    if isinstance(document, JsonBlocks):
        rows = _json_rows(document, file)
        if rows is not None:
            return [rows]
        document = _parsed(document.body, file)
    return [_block_rows(block) for block in _blocks(document, file)]


def _json_rows(document: JsonBlocks, file: str | None) -> Rows | None:
    """DuckDB's reading as columns, once each block's Datastream and components are checked;
    None when a row is not of the common shape (``dataarray_json.py``)."""
    blocks = [_block(number, {**header, "dataArray": []}, file)  # the rows are read already
              for number, header in enumerate(document.headers, start=1)]
    columns = component_columns(document, [block.components for block in blocks])
    if columns is None:
        return None
    identifiers = pa.array([block.datastream_id for block in blocks], pa.int32())
    return Rows(pc.take(identifiers, document.block_of_row), columns,
                pa.array(numpy.zeros(len(document.block_of_row), bool)),
                lambda field, position: columns[field][position].as_py()
                if field in columns else None)


def _checked(ctx: Context, document: Any, file: str | None) -> tuple[Created, pa.Table]:
    """Each row's outcome, and the good rows as a batch to store."""
    parts = _parts(document, file)
    wanted = {int(identifier) for part in parts
              for identifier in pc.unique(part.datastream_ids).to_pylist()}
    default_features = _check_writable(ctx, wanted)
    features = _feature_ids(ctx) if any(
        "FeatureOfInterest/id" in part.columns for part in parts) else set()
    latest_ms = int((datetime.now(UTC) + timedelta(
        seconds=ctx.settings.sensor_max_future_s)).timestamp() * 1000)
    created, ids_by_part, offset = Created(ids=pa.array([], pa.int64()), refused=[]), [], 0
    tables = []
    for part in parts:
        table, checks = _rows_table(part, default_features, features, latest_ms)
        bad = pa.array(numpy.zeros(table.num_rows, bool))
        for _field, failed, _reason in checks:
            bad = pc.or_(bad, failed)
        ids = pc.add(pc.shift_left(pc.cast(table["datastream_id"], pa.int64()), ID_TIME_BITS),
                     pc.cast(table["phenomenon_time"], pa.int64()))
        ids_by_part.append(pc.if_else(bad, pa.scalar(None, pa.int64()), ids))
        for position in numpy.flatnonzero(bad.to_numpy(zero_copy_only=False)):
            created.refused.append(_refusal(part, checks, int(position), offset, file))
        tables.append(table.filter(pc.invert(bad)))
        offset += table.num_rows
    if ids_by_part:  # chunks, not values: building an array from arrays goes row by row
        created.ids = pa.chunked_array([chunk for ids in ids_by_part for chunk in (
            ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids])],
            pa.int64()).combine_chunks()
    batch = pa.concat_tables(tables, promote_options="default") if tables else pa.table(
        {name: pa.array([], type_) for name, type_ in STORE_TYPES.items()})
    return created, batch


def _refusal(rows: Rows, checks: list[Check], position: int, offset: int, file: str | None
             ) -> InvalidInput:
    """The first check a row fails, naming the row in the document and the field."""
    for field, failed, reason in checks:
        if not failed[position].as_py():
            continue
        row = offset + position + 1
        if isinstance(reason, dict):  # the row's own refusal, placed in the document
            refusal = copy(reason[position])
            refusal.file, refusal.row, refusal.field = file, row, field
            return refusal
        if reason == MISSHAPEN:
            return InvalidInput("a row must be a list of {width} values, one per component",
                                file=file, row=row, field=field, width=len(rows.columns))
        return InvalidInput(REFUSALS[reason], file=file, row=row, field=field,
                            value=rows.held(field, position))
    raise AssertionError("a refused row fails a check")


def observations_create(ctx: Context, document: Any, file: str | None = None) -> Created:
    """Store the observations of a CreateObservations document; each good row gets its id
    (an observation stored before keeps its id), each bad row its reason."""
    created, table = _checked(ctx, document, file)
    created.new = actions.observations_store_checked(ctx, table)
    created.ids = actions.observation_store(ctx).ids_at(created.ids)
    return created


def observations_create_strict(ctx: Context, document: Any, file: str,
                               progress: Callable[[str], None] | None = None
                               ) -> tuple[int, int]:
    """As ``observations_create``, for a file: a bad row refuses the whole file, naming the
    row (counted over the whole document, 1 = first). Returns (rows read, new)."""
    report = progress or (lambda _message: None)
    report(f"checking {file}")
    created, table = _checked(ctx, document, file)
    if created.refused:
        raise created.refused[0]
    report(f"storing {len(created.ids):,} observations")
    return len(created.ids), actions.observations_store_checked(ctx, table)
