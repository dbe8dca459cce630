"""Values across municipal mergers and splits (the places register's changes).

Merger: a place formed by merging predecessors has no statistics of its own for the years
before the merger. When every input of a KPI is additive (a count or amount of the whole
place: people, tonnes, cars, km²; ``additive: true`` in the definition) its value for such a
year is the formula over the sums of the predecessors' inputs, e.g. emissions per capita =
(sum of emissions) / (sum of population), never a mean of the predecessors' ratios. Every
predecessor must have a value for every input (a sum needs every part); a value the successor
reports itself always wins. Shares and means are not aggregated (their weights are unknown).

Split: a share or a sum cannot be divided by area, so nothing is computed across a split; the
values of the split place and of the places formed from it are flagged in their provenance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.indicators.models import ValueStatus
from bylab.indicators.provenance import inputs_digest
from bylab.indicators.specs import Definition, formula_unit_factor, formula_value
from bylab.places.models import ChangeKind, PlaceChange

if TYPE_CHECKING:  # the engine calls this module
    from bylab.indicators.engine import ValueRecord


@dataclass(frozen=True)
class Merger:
    successor: str
    predecessors: tuple[str, ...]
    effective: date


@dataclass(frozen=True)
class Split:
    predecessor: str
    successors: tuple[str, ...]
    effective: date


def place_changes(session: Session) -> tuple[list[Merger], list[Split]]:
    rows = session.execute(select(PlaceChange.from_place_id, PlaceChange.to_place_id,
                                  PlaceChange.kind, PlaceChange.effective).where(
        PlaceChange.kind.in_([ChangeKind.MERGED.value, ChangeKind.SPLIT.value])))
    merged: dict[tuple[str, date], set[str]] = defaultdict(set)
    split: dict[tuple[str, date], set[str]] = defaultdict(set)
    for from_id, to_id, kind, effective in rows:
        if kind == ChangeKind.MERGED.value:
            merged[(to_id, effective)].add(from_id)
        else:
            split[(from_id, effective)].add(to_id)
    return ([Merger(to_id, tuple(sorted(parts)), effective)
             for (to_id, effective), parts in sorted(merged.items())],
            [Split(from_id, tuple(sorted(parts)), effective)
             for (from_id, effective), parts in sorted(split.items())])


def apply_place_changes(session: Session, definitions: dict[str, Definition],
                        records: list[ValueRecord]) -> list[ValueRecord]:
    """The records with merged places' earlier values aggregated and splits flagged."""
    mergers, splits = place_changes(session)
    by_key = {(record.kpi_code, record.place_id, record.period): record for record in records}
    for definition in definitions.values():
        for merger in mergers:
            for record in aggregate_merger(definition, merger, by_key):
                by_key[(record.kpi_code, record.place_id, record.period)] = record
    flag_splits(splits, by_key.values())
    return list(by_key.values())


def aggregate_merger(definition: Definition, merger: Merger,
                     by_key: dict[tuple[str, str, str], ValueRecord]) -> list[ValueRecord]:
    """Records of the merged place for the years before the merger (see module docstring)."""
    if not all(spec.additive for spec in definition.inputs.values()):
        return []
    code = definition.code
    periods = {period for kpi, place, period in by_key
               if kpi == code and place in merger.predecessors
               and int(period) < merger.effective.year}
    aggregated = []
    for period in sorted(periods):
        own = by_key.get((code, merger.successor, period))
        if own is not None and own.status == ValueStatus.COMPUTED:
            continue
        parts = [by_key.get((code, place, period)) for place in merger.predecessors]
        record = _sum_of(definition, merger, period, parts)
        if record is not None:
            aggregated.append(record)
    return aggregated


def _sum_of(definition: Definition, merger: Merger, period: str,
            parts: list[ValueRecord | None]) -> ValueRecord | None:
    inputs_by_part = []
    for part in parts:
        if part is None:
            return None
        inputs = {item["variable"]: item for item in part.provenance.get("inputs", [])}
        if any(inputs.get(name, {}).get("value") is None for name in definition.inputs):
            return None
        inputs_by_part.append(inputs)
    sums = {name: sum(inputs[name]["value"] for inputs in inputs_by_part)
            for name in definition.inputs}
    result = formula_value(definition.formula, sums)
    if result is None:
        return None
    value = result * formula_unit_factor(definition)
    note = (f"sum of the inputs of {', '.join(merger.predecessors)}, merged into "
            f"{merger.successor} on {merger.effective}")
    provenance: dict[str, Any] = {
        **parts[0].provenance,  # type: ignore[union-attr]
        "inputs": [_summed_input(name, sums[name], inputs_by_part) for name in definition.inputs],
        "aggregated_from": list(merger.predecessors),
        "notes": [note],
    }
    provenance["inputs_sha256"] = inputs_digest(provenance)
    dataset_ids = sorted({dataset_id for part in parts
                          for dataset_id in part.dataset_ids})  # type: ignore[union-attr]
    return replace(parts[0], place_id=merger.successor,  # type: ignore[type-var]
                   status=ValueStatus.COMPUTED, value=value, reason="",
                   dataset_ids=dataset_ids, provenance=provenance)


def _summed_input(name: str, total: float, inputs_by_part: list[dict[str, Any]]
                  ) -> dict[str, Any]:
    items = [inputs[name] for inputs in inputs_by_part]
    periods = {item["period"] for item in items}
    return {"variable": name, "value": total, "unit": items[0]["unit"],
            "period": periods.pop() if len(periods) == 1 else None,
            "rows": sum(item["rows"] or 0 for item in items),
            "values": sum(item["values"] or 0 for item in items),
            "expected": None,
            "sources": [source for item in items for source in item["sources"]]}


def flag_splits(splits: list[Split], records: Iterable[ValueRecord]) -> None:
    """Note on each record of a split place, and of the places formed from it, that values
    are not carried across the split."""
    notes: dict[str, str] = {}
    for split in splits:
        into = ", ".join(split.successors)
        notes[split.predecessor] = (f"{split.predecessor} was split into {into} on "
                                    f"{split.effective}: its values are for the former area")
        for successor in split.successors:
            notes[successor] = (f"{successor} was formed on {split.effective} by a split of "
                                f"{split.predecessor}: earlier values are not divided by area")
    for record in records:
        note = notes.get(record.place_id)
        if note and note not in record.provenance.get("notes", []):
            record.provenance = {**record.provenance,
                                 "notes": [*record.provenance.get("notes", []), note]}
