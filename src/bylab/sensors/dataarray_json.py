"""Reading a CreateObservations JSON document column-wise: DuckDB's JSON reader (C++) parses
the body, and each component's values come out as one Arrow column per component, without a
Python object per value (orjson alone builds six million of them for two million rows, and
takes longer than checking and storing them).

Only the common shape is read this way: every block's components among
``FAST_COMPONENTS``, every row as wide as its components, times as JSON strings (without an
escape DuckDB keeps), results as JSON numbers, FeatureOfInterest ids as whole numbers.
Anything else answers None, and the document goes to the general reader (``dataarray.py``),
which knows every case and gives every error; so does a body DuckDB does not read."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

TIMES = {"phenomenonTime", "resultTime"}  # JSON strings
NUMBERS = {"result": pa.float64(), "FeatureOfInterest/id": pa.int64()}  # JSON numbers
FAST_COMPONENTS = frozenset({*TIMES, *NUMBERS})
# Each block's Datastream and components as JSON text; its rows as lists of JSON texts.
READ_COLUMNS = {"Datastream": "JSON", "components": "JSON", "dataArray": "JSON[][]"}
LARGEST_OBJECT = 2**32 - 1  # DuckDB's limit on one JSON value (a block)


@dataclass(frozen=True)
class JsonBlocks:
    """A CreateObservations document as DuckDB read it: each block's ``Datastream`` and
    ``components`` as Python values (small), and every row as a list of JSON texts."""

    body: bytes  # kept for the general reader
    headers: list[dict[str, Any]]
    rows: pa.ListArray  # one list of JSON texts per row, blocks one after the other
    block_of_row: pa.Array  # each row's block, 0-based


def read_json_blocks(body: bytes) -> JsonBlocks | None:
    """The document's blocks, or None when DuckDB does not read it as a list of objects whose
    dataArray is a list of lists (not JSON, another shape, a block without dataArray)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        connection = duckdb.connect()
        try:
            table = connection.read_json(
                file.name, format="array", columns=READ_COLUMNS,
                maximum_object_size=min(len(body) + 1, LARGEST_OBJECT)).to_arrow_table()
        except duckdb.Error:
            return None
        finally:
            connection.close()
    column = table["dataArray"]  # one chunk as a rule: combining it would copy every row
    blocks = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if blocks.null_count:
        return None
    headers = [{"Datastream": _loaded(datastream), "components": _loaded(components)}
               for datastream, components in zip(table["Datastream"].to_pylist(),
                                                  table["components"].to_pylist(), strict=True)]
    return JsonBlocks(body, headers, pc.list_flatten(blocks), pc.list_parent_indices(blocks))


def _loaded(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def component_columns(blocks: JsonBlocks, components: list[list[str]]
                      ) -> dict[str, pa.Array] | None:
    """Each component's values over all rows (null in the rows of a block without it), given
    each block's components; None unless every row has the common shape."""
    if not components or any(not FAST_COMPONENTS.issuperset(names) for names in components):
        return None
    rows = blocks.rows
    widths = [len(names) for names in components]
    if rows.null_count or not _all(pc.equal(pc.list_value_length(rows),
                                            _per_row(widths, blocks.block_of_row))):
        return None
    starts = rows.offsets.slice(0, len(rows))
    escapes = b"\\" in blocks.body  # one search of the body spares one of every text
    columns = {}
    for name in FAST_COMPONENTS:
        positions = [names.index(name) if name in names else None for names in components]
        if set(positions) == {None}:
            continue
        texts = pc.take(rows.values, pc.add(starts, _per_row(positions, blocks.block_of_row)))
        column = _strings(texts, escapes) if name in TIMES else _numbers(texts, NUMBERS[name])
        if column is None:
            return None
        columns[name] = column
    return columns


def _per_row(by_block: Sequence[int | None], block_of_row: pa.Array) -> pa.Scalar | pa.Array:
    """Each row's block's value: one for all rows when the blocks agree (as a rule)."""
    if len(set(by_block)) == 1:
        return pa.scalar(by_block[0], pa.int32())
    return pc.take(pa.array(by_block, pa.int32()), block_of_row)


def _strings(texts: pa.Array, escapes: bool) -> pa.Array | None:
    """JSON strings without escapes, unquoted (null stays null)."""
    quoted = pc.fill_null(pc.starts_with(texts, '"'), True)
    if not _all(quoted) or (
            escapes and pc.any(pc.match_substring(texts, "\\")).as_py()):
        return None
    return pc.utf8_slice_codeunits(texts, 1, -1)


def _all(mask: pa.Array) -> bool:
    return bool(pc.all(mask, min_count=0).as_py())


def _numbers(texts: pa.Array, type_: pa.DataType) -> pa.Array | None:
    """JSON numbers as ``type_``: Arrow's cast refuses a quoted text, true, an object, and a
    fraction as a whole number (NaN and Infinity, which DuckDB reads, are cast as doubles:
    refused later as not finite, as the general reader refuses them)."""
    try:
        return pc.cast(texts, type_)
    except pa.ArrowInvalid:
        return None

