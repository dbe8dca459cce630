"""What one result row of a compiled KPI query says about where its value came from: the
datasets and versions, the exact source rows (as a WHERE clause over the stored table), the
input periods used, and, for a missing value, which input is absent and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bylab.indicators.compile import CompiledKpi, filter_conditions, period_expression, quote
from bylab.indicators.specs import Aggregate, SourceSpec
from bylab.storage.tables import sql_string

if TYPE_CHECKING:
    from bylab.indicators.engine import BoundInput


@dataclass(frozen=True)
class DescribedRow:
    reason: str
    dataset_ids: list[str]
    provenance: dict[str, Any]


def describe_row(compiled: CompiledKpi, bound: dict[str, BoundInput],
                 row: dict[str, Any]) -> DescribedRow:
    definition = compiled.definition
    inputs, problems, notes, dataset_ids = [], [], [], set()
    for name in compiled.inputs:
        item = bound[name]
        values = {key: row[f"{name}__{key}"] for key in
                  ("input_period", "value", "row_count", "value_count", "expected_count")}
        problem = _input_problem(compiled, name, item, values, row)
        if problem:
            problems.append(problem)
        notes += _period_note(compiled, name, values, row["period"])
        inputs.append(_input_provenance(name, item, values, row["place_id"], definition
                                        .inputs[name].unit))
        dataset_ids |= {dataset.id for dataset in item.datasets if dataset is not None}
        dataset_ids |= {dataset.id for dataset in item.lookup_datasets}
    if not problems and row["result"] is None:
        problems.append("the formula has no value for these inputs (division by zero)")
    provenance = {
        "definition": {"file": definition.file, "sha256": definition.sha256,
                       "method": definition.method.value, "formula": definition.formula},
        "country": compiled.country,
        "inputs": inputs,
        "notes": notes,
    }
    provenance["inputs_sha256"] = inputs_digest(provenance)
    return DescribedRow("; ".join(problems), sorted(dataset_ids), provenance)


def inputs_digest(provenance: dict[str, Any]) -> str:
    """SHA-256 of what fed a value: the definition file, and per input its value, period and
    sources (dataset ids, versions and the WHERE clause of the rows). A new dataset version,
    other rows or an edited definition give another digest, which invalidates sign-offs."""
    definition = provenance["definition"]
    lines = [f"{definition.get('sha256')} {definition.get('formula')} {provenance['country']}"]
    for item in provenance["inputs"]:
        lines.append(f"{item['variable']}={item['value']!r} {item['period']} {item['rows']} "
                     f"{item['values']} {item['expected']}")
        for source in item["sources"]:
            lookup = source.get("place_lookup") or {}
            lines.append(f"{source.get('dataset_id')} {source.get('version')} "
                         f"{source.get('where')} {source.get('places')} "
                         f"{source.get('place_id')} {lookup.get('dataset_id')} "
                         f"{lookup.get('version')}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _period_note(compiled: CompiledKpi, name: str, values: dict[str, Any],
                 period: str) -> list[str]:
    used = values["input_period"]
    if name in compiled.static_inputs or used is None or used == period:
        return []
    return [f"{name} from {used} used for {period} (latest not newer than the period)"]


def _input_problem(compiled: CompiledKpi, name: str, item: BoundInput,
                   values: dict[str, Any], row: dict[str, Any]) -> str:
    if values["value"] is not None:
        return ""
    if not any(source.available for source in item.sources):
        return "; ".join(item.problems) or f"{name}: no source available"
    place, period = row["place_id"], row["period"]
    if values["row_count"] is None:
        return _absent(compiled, name, item, place, period)
    return f"{name}: " + _incomplete(item.sources[0].spec, values)


def _absent(compiled: CompiledKpi, name: str, item: BoundInput, place: str,
            period: str) -> str:
    where = ", ".join(_dataset_label(item, index) for index in range(len(item.sources)))
    if name in compiled.static_inputs:
        return f"{name}: none for {place} in {where}"
    if name == compiled.definition.period_input:
        return f"{name}: no row for {place} in {period} in {where}"
    return f"{name}: no row for {place} in {period} or earlier in {where}"


def _incomplete(spec: SourceSpec, values: dict[str, Any]) -> str:
    rows, present, expected = values["row_count"], values["value_count"], values["expected_count"]
    rule = spec.value
    if rule.aggregate == Aggregate.SINGLE and rows > 1:
        return f"{rows} rows match where one was expected (check the mapping's filters)"
    if rule.aggregate == Aggregate.SUM and present < rows:
        return f"{rows - present} of {rows} rows have no value (suppressed or missing)"
    if rule.aggregate == Aggregate.MEAN and expected:
        share = present / expected
        return (f"only {present} of {expected} expected values ({share:.0%}); at least "
                f"{rule.min_share:.0%} are needed")
    return "the value is suppressed or missing in the source"


def _dataset_label(item: BoundInput, index: int) -> str:
    dataset = item.datasets[index]
    spec = item.sources[index].spec
    if spec.places is not None:
        return f"the places register ({spec.places.attribute})"
    if dataset is None:
        return f"dataset '{spec.dataset}' (not available)"
    return f"{dataset.name} v{dataset.version}"


def _input_provenance(name: str, item: BoundInput, values: dict[str, Any], place_id: str,
                      unit: str) -> dict[str, Any]:
    sources = []
    for index, source in enumerate(item.sources):
        spec, dataset = source.spec, item.datasets[index]
        if spec.places is not None:
            sources.append({"places": spec.places.attribute, "place_id": place_id,
                            "note": spec.places.note})
            continue
        if index not in item.where_parts:
            item.where_parts[index] = _where_parts(spec)
        where = _rows_where(item.where_parts[index], item.keys_by_place[index], place_id,
                            values["input_period"])
        if dataset is None or where is None:
            continue
        sources.append({"dataset": dataset.name, "dataset_id": dataset.id,
                        "version": dataset.version, "where": where, "note": spec.note,
                        **_lookup_of(item, spec)})
    return {"variable": name, "value": values["value"], "unit": unit,
            "period": values["input_period"], "rows": values["row_count"],
            "values": values["value_count"], "expected": values["expected_count"],
            "sources": sources}


def _lookup_of(item: BoundInput, spec: SourceSpec) -> dict[str, Any]:
    rule = spec.place.lookup
    found = [dataset for dataset in item.lookup_datasets if rule and dataset.name == rule.dataset]
    if not found:
        return {}
    return {"place_lookup": {"dataset": found[0].name, "dataset_id": found[0].id,
                             "version": found[0].version, "key": rule.key,  # type: ignore[union-attr]
                             "column": rule.column}}  # type: ignore[union-attr]


@dataclass(frozen=True)
class WhereParts:
    """What the WHERE clause of one source's rows has in common for every place and period."""

    key_column: str  # the place column as text
    by_keys: bool  # places matched by name or lookup: the keys come from the binding
    prefix: str
    suffix: str
    period: str | None  # the period expression, when the source has a period column
    filters: str  # the mapping's filters, "" for none


def _where_parts(spec: SourceSpec) -> WhereParts:
    rule = spec.place
    prefix, _, suffix = rule.template.partition("{}")
    period = (period_expression(spec.period, alias="")
              if spec.period is not None and spec.period.column else None)
    filters = "".join(f" AND {condition}" for condition in filter_conditions(spec, alias=""))
    return WhereParts(f"CAST({quote(rule.column)} AS STRING)",
                      bool(rule.by_name or rule.lookup), prefix, suffix, period, filters)


def _rows_where(parts: WhereParts, keys_by_place: dict[str, list[str]], place_id: str,
                period: str | None) -> str | None:
    """The WHERE clause selecting exactly the source rows that fed this place and period."""
    if parts.by_keys:
        keys = keys_by_place.get(place_id)
        if not keys:
            return None
    else:
        if not (place_id.startswith(parts.prefix) and place_id.endswith(parts.suffix)):
            return None
        keys = [place_id[len(parts.prefix):len(place_id) - len(parts.suffix) or None]]
    where = f"{parts.key_column} IN ({', '.join(sql_string(key) for key in keys)})"
    if parts.period is not None and period is not None:
        where += f" AND {parts.period} = {sql_string(period)}"
    return where + parts.filters
