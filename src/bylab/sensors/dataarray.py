"""The SensorThings v1.1 Data Array extension: observations as compact arrays.

Reading: ``$resultFormat=dataArray`` on Observations answers one block per Datastream,
``{Datastream@iot.navigationLink, components, dataArray@iot.count, dataArray}``.
Writing: a ``CreateObservations`` document is a list of such blocks naming their Datastream
(``{"Datastream": {"@iot.id": 1}, "components": [...], "dataArray": [[...], ...]}``); every row
is answered by the link of its Observation or ``"error"``, in order. A row is refused on its
own (bad time, result not a finite number, time in the future); a malformed document, an
unknown component or a Datastream the actor may not write refuses the whole document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from bylab.core import Context
from bylab.errors import InvalidInput, NotFound
from bylab.sensors import actions
from bylab.sensors.models import Datastream, FeatureOfInterest, Thing
from bylab.sensors.store import ID_TIME_BITS

TIME = pa.timestamp("ms", tz="UTC")
READ_COMPONENTS = ("id", "phenomenonTime", "resultTime", "result", "FeatureOfInterest/id")
DEFAULT_READ_COMPONENTS = ["id", "phenomenonTime", "resultTime", "result"]
STORE_TYPES = {"datastream_id": pa.int32(), "phenomenon_time": TIME, "result": pa.float64(),
               "result_time": TIME, "feature_id": pa.int32()}
WRITE_COMPONENTS = {"phenomenonTime", "resultTime", "result", "FeatureOfInterest/id"}
ERROR = "error"


# --- reading -------------------------------------------------------------------------------

def read_components(select_: list[str] | None) -> list[str]:
    """The components of a dataArray answer: ``$select`` in its order, or the defaults."""
    if select_ is None:
        return DEFAULT_READ_COMPONENTS
    components = ["id" if name == "@iot.id" else name for name in select_]
    unknown = [name for name in components if name not in READ_COMPONENTS]
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not a dataArray component (choose from "
                           f"{', '.join(READ_COMPONENTS)})", field="$select")
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
    """The outcome of each row, in document order: an observation id, or why it was refused
    (with its 1-based position in the document)."""

    ids: list[int | None]
    refused: list[tuple[int, str, str]]  # (row, field, reason)
    new: int = 0


def _blocks(document: Any, file: str | None) -> list[Block]:
    if not isinstance(document, list):
        raise InvalidInput("a CreateObservations document is a JSON list of dataArray blocks",
                           file=file)
    blocks = []
    for number, block in enumerate(document, start=1):
        where = f"block {number}"
        if not isinstance(block, dict):
            raise InvalidInput(f"{where} is not an object", file=file)
        reference = block.get("Datastream")
        identifier = reference.get("@iot.id") if isinstance(reference, dict) else None
        if isinstance(identifier, str) and identifier.isdigit():
            identifier = int(identifier)
        if not isinstance(identifier, int) or isinstance(identifier, bool):
            raise InvalidInput(f"{where} names no Datastream {{\"@iot.id\": …}}", file=file,
                               field="Datastream")
        components = block.get("components")
        if not isinstance(components, list) or not {"phenomenonTime", "result"} <= set(
                components) or len(set(components)) != len(components):
            raise InvalidInput(f"{where}: components must list phenomenonTime and result "
                               "once each", file=file, field="components")
        unknown = [name for name in components if name not in WRITE_COMPONENTS]
        if unknown:
            raise InvalidInput(f"{where}: component '{unknown[0]}' is not stored by bylab "
                               f"(accepted: {', '.join(sorted(WRITE_COMPONENTS))})",
                               file=file, field="components")
        rows = block.get("dataArray")
        if not isinstance(rows, list):
            raise InvalidInput(f"{where} has no dataArray list", file=file, field="dataArray")
        blocks.append(Block(identifier, components, rows))
    return blocks


def _check_writable(ctx: Context, blocks: list[Block]) -> dict[int, int]:
    """Each named datastream's default FeatureOfInterest, once the actor may write to all."""
    wanted = {block.datastream_id for block in blocks}
    with ctx.db.session() as session:
        found = {datastream.id: (datastream, organisation) for datastream, organisation in
                 session.execute(select(Datastream, Thing.organisation_id).join(
                     Thing, Thing.id == Datastream.thing_id).where(
                     Datastream.id.in_(wanted), actions.visible_things_clause(ctx.actor)))}
    for identifier in sorted(wanted):
        if identifier not in found:
            raise NotFound(f"no Datastreams({identifier})", field="Datastream")
        actions.require_editor(ctx, found[identifier][1])
    return {identifier: datastream.feature_id for identifier, (datastream, _) in found.items()}


def _feature_ids(ctx: Context) -> set[int]:
    with ctx.db.session() as session:
        return set(session.scalars(select(FeatureOfInterest.id)))


def _times(values: list[Any] | tuple[Any, ...]) -> pa.Array:
    """Epoch milliseconds of ISO 8601 texts; null where a value is none or not one. Arrow
    parses the whole column at once; only a column with a bad value goes value by value."""
    try:
        return pc.cast(pa.array(values, pa.string()).cast(TIME), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([_time(value) for value in values], pa.int64())


def _time(value: Any) -> int | None:
    try:
        return pc.cast(pa.array([value], pa.string()).cast(TIME), pa.int64())[0].as_py()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _results(values: list[Any] | tuple[Any, ...]) -> pa.Array:
    """Results as doubles; null where a value is not a number (a boolean is not)."""
    try:
        inferred = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        inferred = None
    if inferred is not None and (pa.types.is_integer(inferred.type)
                                 or pa.types.is_floating(inferred.type)):
        return inferred.cast(pa.float64())
    numbers = [value if isinstance(value, int | float) and not isinstance(value, bool)
               else None for value in values]
    return pa.array(numbers, pa.float64())


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


def _block_table(block: Block, default_feature: int, features: set[int], latest_ms: int
                 ) -> tuple[pa.Table, list[tuple[str, pa.Array, str]]]:
    """The block as store columns, and the checks its rows must pass: (field, failed mask,
    reason template filled with the row's value)."""
    columns, misshapen = _columns(block)
    count = len(block.rows)
    times = _times(columns["phenomenonTime"])
    results = _results(columns["result"])
    result_time_texts = columns.get("resultTime")
    result_times = _times(result_time_texts) if result_time_texts is not None \
        else pa.nulls(count, pa.int64())
    feature_values = columns.get("FeatureOfInterest/id")
    feature_ids = pa.array([value if isinstance(value, int) and value in features else None
                            for value in feature_values], pa.int32()) \
        if feature_values is not None else pa.nulls(count, pa.int32())
    checks = [
        ("dataArray", pa.array(misshapen, pa.bool_()),
         f"a row must be a list of {len(block.components)} values, one per component"),
        ("phenomenonTime", pc.is_null(times), "'{}' is not an ISO 8601 time"),
        ("phenomenonTime", pc.fill_null(pc.greater(times, latest_ms), False),
         "'{}' is in the future"),
        ("result", pc.invert(pc.fill_null(pc.is_finite(results), False)),
         "'{}' is not a finite number"),
    ]
    if result_time_texts is not None:
        given = pa.array([value is not None for value in result_time_texts], pa.bool_())
        checks.append(("resultTime", pc.and_(given, pc.is_null(result_times)),
                       "'{}' is not an ISO 8601 time"))
    if feature_values is not None:
        given = pa.array([value is not None for value in feature_values], pa.bool_())
        checks.append(("FeatureOfInterest/id", pc.and_(given, pc.is_null(feature_ids)),
                       "no FeaturesOfInterest({})"))
    table = pa.table({
        "datastream_id": pa.array(numpy.full(count, block.datastream_id, numpy.int32)),
        "phenomenon_time": times.cast(TIME),
        "result": results,
        "result_time": result_times.cast(TIME),
        "feature_id": pc.coalesce(feature_ids, pa.scalar(default_feature, pa.int32())),
    })
    return table, checks


def _checked(ctx: Context, document: Any, file: str | None) -> tuple[Created, pa.Table]:
    """Each row's outcome, and the good rows as a batch to store."""
    blocks = _blocks(document, file)
    default_features = _check_writable(ctx, blocks)
    features = _feature_ids(ctx) if any(
        "FeatureOfInterest/id" in block.components for block in blocks) else set()
    latest_ms = int((datetime.now(UTC) + timedelta(
        seconds=ctx.settings.sensor_max_future_s)).timestamp() * 1000)
    created = Created(ids=[], refused=[])
    tables = []
    for block in blocks:
        table, checks = _block_table(block, default_features[block.datastream_id], features,
                                     latest_ms)
        bad = pa.array(numpy.zeros(table.num_rows, bool))
        for _field, failed, _reason in checks:
            bad = pc.or_(bad, failed)
        offset = len(created.ids)
        ids = pc.add(pc.shift_left(pc.cast(table["datastream_id"], pa.int64()), ID_TIME_BITS),
                     pc.cast(table["phenomenon_time"], pa.int64()))
        created.ids.extend(pc.if_else(bad, pa.scalar(None, pa.int64()), ids).to_pylist())
        for position in numpy.flatnonzero(bad.to_numpy(zero_copy_only=False)):
            created.refused.append(_refusal(block, checks, int(position), offset))
        tables.append(table.filter(pc.invert(bad)))
    batch = pa.concat_tables(tables) if tables else pa.table(
        {name: pa.array([], type_) for name, type_ in STORE_TYPES.items()})
    return created, batch


def _refusal(block: Block, checks: list[tuple[str, pa.Array, str]], position: int,
             offset: int) -> tuple[int, str, str]:
    """(row in the document, field, reason) of the first check a row fails."""
    for field, failed, reason in checks:
        if failed[position].as_py():
            row = block.rows[position]
            index = block.components.index(field) if field in block.components else None
            value = row[index] if index is not None and isinstance(row, list) else None
            return offset + position + 1, field, reason.format(value)
    raise AssertionError("a refused row fails a check")


def observations_create(ctx: Context, document: Any, file: str | None = None) -> Created:
    """Store the observations of a CreateObservations document; each good row gets its id
    (an observation stored before keeps its id), each bad row its reason."""
    created, table = _checked(ctx, document, file)
    created.new = actions.observations_store_checked(ctx, table)
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
        row, field, reason = created.refused[0]
        raise InvalidInput(reason, file=file, row=row, field=field)
    report(f"storing {len(created.ids):,} observations")
    return len(created.ids), actions.observations_store_checked(ctx, table)
