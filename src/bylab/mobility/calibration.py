"""Calibrating demand against traffic counts with SUMO's routeSampler, and the GEH fit.

Counter data is a CSV with one row per counter and hour: ``edge_id`` (the SUMO edge the
counter sits on), ``hour`` (hour of day, 0-23, the count covers ``hour:00``-``hour+1:00``)
and ``count`` (vehicles). routeSampler picks routes from a candidate set so that the vehicles
passing each counted edge in each hour match the counts; the fit is then measured by
simulating the sampled demand and comparing SUMO's edge counts with the counted ones.

GEH = sqrt(2 (M - C)² / (M + C)) for modelled M and counted C hourly flows; GEH < 5 is the
usual acceptance level (UK DMRB; at least 85 % of counters should meet it)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from bylab.errors import InvalidInput
from bylab.mobility.sumo import run_tool

COUNT_COLUMNS = ("edge_id", "hour", "count")
GEH_ACCEPTED = 5.0


@dataclass(frozen=True)
class Count:
    edge_id: str
    hour: int
    vehicles: int


@dataclass(frozen=True)
class CounterFit:
    edge_id: str
    hour: int
    counted: int
    modelled: int

    @property
    def geh(self) -> float:
        return geh(self.modelled, self.counted)


def geh(modelled: float, counted: float) -> float:
    """The GEH statistic of a modelled and a counted hourly flow (0 when both are 0)."""
    if modelled < 0 or counted < 0:
        raise InvalidInput("flows cannot be negative")
    if modelled + counted == 0:
        return 0.0
    return math.sqrt(2 * (modelled - counted) ** 2 / (modelled + counted))


def share_accepted(fits: list[CounterFit]) -> float:
    """The share of counters with GEH below 5."""
    return sum(fit.geh < GEH_ACCEPTED for fit in fits) / len(fits) if fits else 0.0


def counts_read(path: Path, edge_ids: set[str], filename: str | None = None) -> list[Count]:
    """The counts in a counter CSV, checked against the network's edges. ``filename`` is
    the user's name for the file, for messages (default: the path's name)."""
    filename = filename or path.name
    if not path.is_file():
        raise InvalidInput("no such counts file", file=filename)
    try:
        with path.open(newline="", encoding="utf-8-sig") as source:
            counts = _counts_of(csv.DictReader(source), filename, edge_ids)
    except UnicodeDecodeError:
        raise InvalidInput("the counts file is not UTF-8 text", file=filename) from None
    _check_unique(counts, filename)
    if not counts:
        raise InvalidInput("the counts file has no rows", file=filename)
    return counts


def _counts_of(reader: csv.DictReader[str], filename: str, edge_ids: set[str]) -> list[Count]:
    missing = [column for column in COUNT_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("missing column(s) {missing}; the columns are {columns}",
                           file=filename, field=missing[0], missing=", ".join(missing),
                           columns=", ".join(COUNT_COLUMNS))
    return [_count_of(record, line, filename, edge_ids)
            for line, record in enumerate(reader, start=2)]


def _count_of(record: dict[str, str], line: int, filename: str, edge_ids: set[str]) -> Count:
    edge_id = (record["edge_id"] or "").strip()
    if edge_id not in edge_ids:
        raise InvalidInput("edge '{edge}' is not in the network", file=filename, row=line,
                           field="edge_id", edge=edge_id)
    hour = _integer(record["hour"], filename, line, "hour")
    vehicles = _integer(record["count"], filename, line, "count")
    if not 0 <= hour <= 23:
        raise InvalidInput("hour {hour} is not 0-23", file=filename, row=line, field="hour",
                           hour=hour)
    if vehicles < 0:
        raise InvalidInput("a count cannot be negative", file=filename, row=line, field="count")
    return Count(edge_id, hour, vehicles)


def _integer(text: str | None, filename: str, line: int, field: str) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        raise InvalidInput("'{text}' is not a whole number", file=filename, row=line,
                           field=field, text=text) from None


def _check_unique(counts: list[Count], filename: str) -> None:
    seen: set[tuple[str, int]] = set()
    for line, count in enumerate(counts, start=2):
        key = (count.edge_id, count.hour)
        if key in seen:
            raise InvalidInput("a second count for edge '{edge}' at hour {hour}", file=filename,
                               row=line, field="edge_id", edge=count.edge_id,
                               hour=count.hour)
        seen.add(key)


def counts_in_period(counts: list[Count], begin_s: int, end_s: int) -> list[Count]:
    """The counts whose hour lies inside the simulated period."""
    return [count for count in counts if begin_s <= count.hour * 3600 < end_s]


def counter_fits(counts: list[Count], modelled: dict[tuple[str, int], int]) -> list[CounterFit]:
    return [CounterFit(count.edge_id, count.hour, count.vehicles,
                       modelled.get((count.edge_id, count.hour), 0)) for count in counts]


def route_sample(candidates: Path, counts: list[Count], seed: int, target: Path) -> None:
    """Write to ``target`` the routes routeSampler picks from ``candidates`` to match
    ``counts`` (hourly intervals)."""
    edgedata = target.with_name("counts.edgedata.xml")
    edgedata.write_text(_edgedata_xml(counts))
    run_tool("routeSampler.py", [
        "--route-files", str(candidates), "--edgedata-files", str(edgedata),
        "--edgedata-attribute", "count", "--output-file", str(target), "--seed", str(seed),
        "--optimize", "full", "--prefix", "cal", "--attributes",
        'departLane="best" departSpeed="max"',
    ], cwd=target.parent)


def _edgedata_xml(counts: list[Count]) -> str:
    lines = ["<data>"]
    for hour in sorted({count.hour for count in counts}):
        lines.append(f'  <interval id="h{hour}" begin="{hour * 3600}" end="{(hour + 1) * 3600}">')
        lines.extend(f'    <edge id={quoteattr(count.edge_id)} count="{count.vehicles}"/>'
                     for count in counts if count.hour == hour)
        lines.append("  </interval>")
    lines.append("</data>")
    return "\n".join(lines) + "\n"
