"""Observation ids: ``datastream_id << 42 | epoch milliseconds of the phenomenonTime``, and
the few observations stored elsewhere than their id names (``Moves``: moved to another
phenomenonTime by a PATCH or PUT, or given a substitute id because a moved one holds theirs).
The observation store (``store.py``) keeps the moves in ``moved.json``; see its docstring."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from itertools import groupby

import numpy
import pyarrow as pa
import pyarrow.compute as pc

ID_TIME_BITS = 42  # epoch milliseconds fit 42 bits until the year 2109
# 2100-01-01 UTC: no observation is that late (future times are refused), so a datastream's
# ids from here to the top of its range are free for substitutes, counted down from the top.
SUBSTITUTES_FROM_MS = 4_102_444_800_000
Place = tuple[int, int]  # (datastream id, epoch milliseconds of the phenomenonTime)
ID_FIELD = pa.field("id", pa.int64(), nullable=False)


def datastream_range(datastream_id: int) -> tuple[int, int]:
    """The ids every observation of a datastream can have."""
    low = datastream_id << ID_TIME_BITS
    return low, low + (1 << ID_TIME_BITS) - 1


def time_ms_of(identifier: int) -> int:
    return identifier & ((1 << ID_TIME_BITS) - 1)


def day_of(time_ms: int) -> date:
    return datetime.fromtimestamp(time_ms / 1000, UTC).date()


@dataclass(frozen=True)
class Moves:
    """The observations stored at another place than their id names: moved to a new
    phenomenonTime, or given a substitute id because a moved observation holds theirs."""

    places: dict[int, Place]  # id -> where its observation is

    @cached_property
    def by_place(self) -> dict[int, int]:
        """The natural id of each place (``datastream << 42 | epoch ms``) -> the id there."""
        return {datastream << ID_TIME_BITS | time_ms: identifier
                for identifier, (datastream, time_ms) in self.places.items()}

    def day(self, identifier: int) -> date:
        """The day an observation is stored under."""
        place = self.places.get(identifier)
        return day_of(place[1] if place else time_ms_of(identifier))

    def range_days(self, low: int, high: int) -> tuple[date, date] | None:
        """The first and last day a range's ids are stored under; None when it spans
        datastreams. A longer range is a Datastream's or a run of natural ids: a moved id's
        tombstone lasts only while ``delete`` purges its row."""
        if low == high:
            return self.day(low), self.day(low)
        if low >> ID_TIME_BITS != high >> ID_TIME_BITS:
            return None
        return day_of(time_ms_of(low)), day_of(time_ms_of(high))

    def substitutes(self, datastream_id: int, count: int) -> list[int]:
        """``count`` ids for the datastream's observations whose natural ids moved ones hold:
        below the substitutes given before, counted down from the top of its range."""
        low, high = datastream_range(datastream_id)
        given = [identifier for identifier in self.places
                 if low + SUBSTITUTES_FROM_MS <= identifier <= high]
        start = min(given, default=high + 1)
        return list(range(start - count, start))

    def without(self, ids: Iterable[int]) -> Moves:
        gone = set(ids)
        return Moves({identifier: place for identifier, place in self.places.items()
                      if identifier not in gone})

    def after(self, rows: pa.Table) -> Moves:
        """The moves once ``rows`` (with their ids) are stored where their times say."""
        places = dict(self.places)
        for identifier, datastream, moment in zip(
                rows["id"].to_pylist(), rows["datastream_id"].to_pylist(),
                pc.cast(rows["phenomenon_time"], pa.int64()).to_pylist(), strict=True):
            if datastream << ID_TIME_BITS | moment == identifier:
                places.pop(identifier, None)  # back at the time its id names
            else:
                places[identifier] = (datastream, moment)
        return Moves(places)


def placed(rows: pa.Table, moves: Moves) -> tuple[pa.Table, dict[int, Place]]:
    """``rows`` (natural ids) with the id of the observation at each one's place: a moved
    observation's where one moved to, a new substitute where a moved one holds the natural
    id. Returns the substitutes given too. Rows of datastreams without moves cost one check."""
    if not moves.places:
        return rows, {}
    moved_datastreams = pa.array(sorted({place[0] for place in moves.places.values()}),
                                 pa.int32())
    if not pc.any(pc.is_in(rows["datastream_id"], value_set=moved_datastreams)).as_py():
        return rows, {}
    natural = rows["id"].to_numpy()
    ids = natural.copy()
    by_place = moves.by_place
    located = numpy.isin(natural, numpy.fromiter(by_place, numpy.int64, len(by_place)))
    ids[located] = [by_place[identifier] for identifier in natural[located].tolist()]
    held = ~located & numpy.isin(natural, numpy.fromiter(moves.places, numpy.int64,
                                                         len(moves.places)))
    substitute_of = _substitutes(numpy.unique(natural[held]), moves)
    ids[held] = [substitute_of[identifier] for identifier in natural[held].tolist()]
    places = {substitute: (natural_id >> ID_TIME_BITS, time_ms_of(natural_id))
              for natural_id, substitute in substitute_of.items()}
    return with_id_column(rows, ids), places


def _substitutes(natural_ids: numpy.ndarray, moves: Moves) -> dict[int, int]:
    """A new substitute id for each of these sorted natural ids."""
    substitute_of = {}
    for datastream, group in groupby(natural_ids.tolist(), key=lambda i: i >> ID_TIME_BITS):
        wanted = list(group)
        substitute_of.update(zip(wanted, moves.substitutes(datastream, len(wanted)),
                                 strict=True))
    return substitute_of


def with_id_column(rows: pa.Table, ids: numpy.ndarray) -> pa.Table:
    return rows.set_column(rows.schema.get_field_index("id"), ID_FIELD,
                           pa.array(ids, pa.int64()))
