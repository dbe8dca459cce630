"""What one result row of a compiled KPI query says about where its value came from: the
datasets and versions, the exact source rows (as a WHERE clause over the stored table), the
input periods used, and, for a missing value, which input is absent and why."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from bylab.indicators.compile import CompiledKpi, filter_conditions, period_expression, quote
from bylab.indicators.specs import Aggregate, SourceSpec
from bylab.storage.tables import sql_string

if TYPE_CHECKING:
    from bylab.indicators.engine import BoundInput


class RowDescriber:
    """Describes the result rows of one compiled KPI query. Everything the rows have in
    common (the definition, the datasets, each source's WHERE clause but for the place and
    period) is worked out once here, so describing a row only fills in what varies. Rows
    share the parts that do not vary (the definition entry, the dataset ids): they are read,
    never changed in place."""

    def __init__(self, compiled: CompiledKpi, bound: dict[str, BoundInput]):
        definition = compiled.definition
        self.compiled, self.bound = compiled, bound
        self.definition = {"file": definition.file, "sha256": definition.sha256,
                           "method": definition.method.value, "formula": definition.formula}
        self.head = f"{definition.sha256} {definition.formula} {compiled.country}"
        self.inputs = [_InputPlan(name, bound[name], definition.inputs[name].unit,
                                  name in compiled.static_inputs)
                       for name in compiled.inputs]
        self.dataset_ids = sorted(
            {dataset.id for name in compiled.inputs for dataset in bound[name].datasets
             if dataset is not None}
            | {dataset.id for name in compiled.inputs
               for dataset in bound[name].lookup_datasets})

    def describe(self, row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The reason a value is missing ("" for none) and the row's provenance."""
        place_id, period = row["place_id"], row["period"]
        inputs, problems, notes, lines = [], [], [], [self.head]
        for plan in self.inputs:
            used, value, rows, present, expected = plan.values_of(row)
            if value is None:
                values = dict(zip(_VALUE_KEYS, (used, value, rows, present, expected),
                                  strict=True))
                problem = _input_problem(self.compiled, plan.name, plan.item, values, row)
                if problem:
                    problems.append(problem)
            if not plan.static and used is not None and used != period:
                notes.append(f"{plan.name} from {used} used for {period} (latest not newer "
                             "than the period)")
            lines.append(f"{plan.name}={value!r} {used} {rows} {present} {expected}")
            inputs.append({"variable": plan.name, "value": value, "unit": plan.unit,
                           "period": used, "rows": rows, "values": present,
                           "expected": expected,
                           "sources": plan.sources_of(place_id, used, lines)})
        if not problems and row["result"] is None:
            problems.append("the formula has no value for these inputs (division by zero)")
        return "; ".join(problems), {
            "definition": self.definition, "country": self.compiled.country,
            "inputs": inputs, "notes": notes,
            "inputs_sha256": sha256("\n".join(lines).encode()).hexdigest()}


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
    return sha256("\n".join(lines).encode()).hexdigest()


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


_VALUE_KEYS = ("input_period", "value", "row_count", "value_count", "expected_count")


class _InputPlan:
    """One input variable of a compiled KPI: its result columns and, per source, what its
    provenance entry and digest line hold for every row."""

    def __init__(self, name: str, item: BoundInput, unit: str, static: bool):
        self.name, self.item, self.unit, self.static = name, item, unit, static
        self.values_of = itemgetter(*(f"{name}__{key}" for key in _VALUE_KEYS))
        self.sources = [_SourcePlan(item, index) for index in range(len(item.sources))]

    def sources_of(self, place_id: str, period: str | None,
                   lines: list[str]) -> list[dict[str, Any]]:
        """The input's source entries; appends their lines of ``inputs_digest`` to ``lines``
        (the same text ``inputs_digest`` builds from the entries)."""
        sources = []
        for plan in self.sources:
            source = plan.entry(place_id, period, lines)
            if source is not None:
                sources.append(source)
        return sources


class _SourcePlan:
    """One source of an input: the constant part of its provenance entry and a cache of the
    place part of its WHERE clause."""

    def __init__(self, item: BoundInput, index: int):
        spec, dataset = item.sources[index].spec, item.datasets[index]
        self.spec, self.dataset = spec, dataset
        self.keys_by_place = item.keys_by_place[index]
        self.lookup = _lookup_of(item, spec)
        found = self.lookup.get("place_lookup", {})
        self.lookup_line = f"{found.get('dataset_id')} {found.get('version')}"
        self.parts = _where_parts(spec) if spec.places is None else None
        self.place_where: dict[str, str | None] = {}
        self.period_where: dict[str | None, str] = {}

    def entry(self, place_id: str, period: str | None,
              lines: list[str]) -> dict[str, Any] | None:
        spec = self.spec
        if spec.places is not None:
            lines.append(f"None None None {spec.places.attribute} {place_id} None None")
            return {"places": spec.places.attribute, "place_id": place_id,
                    "note": spec.places.note}
        if self.dataset is None:
            return None
        where = self._where(place_id, period)
        if where is None:
            return None
        lines.append(f"{self.dataset.id} {self.dataset.version} {where} None None "
                     f"{self.lookup_line}")
        source = {"dataset": self.dataset.name, "dataset_id": self.dataset.id,
                  "version": self.dataset.version, "where": where, "note": spec.note}
        if self.lookup:
            source["place_lookup"] = dict(self.lookup["place_lookup"])
        return source

    def _where(self, place_id: str, period: str | None) -> str | None:
        """The WHERE clause selecting exactly the source rows that fed this place and
        period."""
        parts = self.parts
        assert parts is not None
        if place_id not in self.place_where:
            self.place_where[place_id] = _place_where(parts, self.keys_by_place, place_id)
        where = self.place_where[place_id]
        if where is None:
            return None
        if period not in self.period_where:
            self.period_where[period] = (
                f" AND {parts.period} = {sql_string(period)}{parts.filters}"
                if parts.period is not None and period is not None else parts.filters)
        return where + self.period_where[period]


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


def _place_where(parts: WhereParts, keys_by_place: dict[str, list[str]],
                 place_id: str) -> str | None:
    """The place condition of a WHERE clause (None: no source rows for the place)."""
    if parts.by_keys:
        keys = keys_by_place.get(place_id)
        if not keys:
            return None
    else:
        if not (place_id.startswith(parts.prefix) and place_id.endswith(parts.suffix)):
            return None
        keys = [place_id[len(parts.prefix):len(place_id) - len(parts.suffix) or None]]
    return f"{parts.key_column} IN ({', '.join(sql_string(key) for key in keys)})"
