"""Exports of stored KPI values: CSV (the contract other tools rely on), JSON-stat 2.0 and the
FIWARE Smart Data Models ``KeyPerformanceIndicator`` entity (NGSI v2 key-values).

JSON-stat: one ``dataset`` with the dimensions ``kpi`` (role metric, each KPI's unit in
``category.unit``), ``place`` (role geo) and ``period`` (role time); ``value`` is the dense
row-major array over ``size`` with ``null`` where a KPI has no value for a place and period.

FIWARE: one entity per KPI, place and period ("an entity per KPI calculation" in the model's
README), with ``kpiValue``, ``calculationPeriod`` (the calendar year), ``calculationFormula``
and the unit named in ``description`` (the model has no unit property).
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from typing import Any, TextIO

from bylab.errors import NotFound
from bylab.indicators.actions import EXPORT_COLUMNS, ValueRow, kpi_show, kpi_slug
from bylab.indicators.specs import bundled_definitions

FIWARE_ID_PREFIX = "urn:ngsi-ld:KeyPerformanceIndicator:bylab"


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONSTAT = "jsonstat"
    FIWARE = "fiware"


MEDIA_TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8",
               ExportFormat.JSONSTAT: "application/json",
               ExportFormat.FIWARE: "application/json"}


def write_export(rows: list[ValueRow], format: ExportFormat, output: TextIO) -> None:
    if format == ExportFormat.CSV:
        write_csv(rows, output)
        return
    document = jsonstat_dataset(rows) if format == ExportFormat.JSONSTAT else (
        fiware_entities(rows))
    json.dump(document, output, ensure_ascii=False, indent=1)
    output.write("\n")


def write_csv(rows: list[ValueRow], output: TextIO) -> None:
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in EXPORT_COLUMNS])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return json.dumps(value) if isinstance(value, float) else str(value)


def _kpi_name(code: str) -> str:
    try:
        return kpi_show(code).kpi.name()
    except NotFound:  # a stored code outside the catalogue (a test definition) stays a code
        return code


def jsonstat_dataset(rows: list[ValueRow]) -> dict[str, Any]:
    """The rows as one JSON-stat 2.0 dataset (see the module docstring)."""
    kpis = sorted({row.kpi_code for row in rows})
    places = sorted({row.place_code for row in rows})
    periods = sorted({row.period for row in rows})
    position = {name: {code: index for index, code in enumerate(items)}
                for name, items in (("kpi", kpis), ("place", places), ("period", periods))}
    values: list[float | None] = [None] * (len(kpis) * len(places) * len(periods))
    for row in rows:
        index = ((position["kpi"][row.kpi_code] * len(places) + position["place"][row.place_code])
                 * len(periods) + position["period"][row.period])
        values[index] = row.value
    units = {row.kpi_code: row.unit for row in rows}
    place_names = {row.place_code: row.place_name or row.place_code for row in rows}
    methods = {row.kpi_code: row.method for row in rows}
    return {
        "version": "2.0",
        "class": "dataset",
        "label": "U4SSC key performance indicators computed by bylab",
        "source": "bylab, computed from catalogue datasets (provenance per value in the API)",
        "updated": max(row.computed_at for row in rows).isoformat() if rows else None,
        "id": ["kpi", "place", "period"],
        "size": [len(kpis), len(places), len(periods)],
        "role": {"metric": ["kpi"], "geo": ["place"], "time": ["period"]},
        "dimension": {
            "kpi": {"label": "KPI", "category": {
                "index": kpis, "label": {code: _kpi_name(code) for code in kpis},
                "unit": {code: {"label": units[code]} for code in kpis}}},
            "place": {"label": "place", "category": {"index": places, "label": place_names}},
            "period": {"label": "year", "category": {"index": periods,
                                                     "label": {p: p for p in periods}}},
        },
        "value": values,
        "extension": {"method": methods},
    }


def fiware_entities(rows: list[ValueRow]) -> list[dict[str, Any]]:
    """One Smart Data Models KeyPerformanceIndicator entity per row with a value."""
    formulas = {code: definition.formula for code, definition in bundled_definitions().items()}
    return [_fiware_entity(row, formulas.get(row.kpi_code, ""))
            for row in rows if row.value is not None]


def _fiware_entity(row: ValueRow, formula: str) -> dict[str, Any]:
    name = _kpi_name(row.kpi_code)
    place = row.place_name or row.place_code
    entity: dict[str, Any] = {
        "id": f"{FIWARE_ID_PREFIX}:{kpi_slug(row.kpi_code)}:{row.place_code}:{row.period}",
        "type": "KeyPerformanceIndicator",
        "name": f"{row.kpi_code} {name}",
        "alternateName": row.kpi_code,
        "description": f"{name} of {place} in {row.period}, in {row.unit}",
        "category": ["quantitative"],
        "organization": place,
        "area": row.place_code,
        "kpiValue": row.value,
        "calculationPeriod": {"from": f"{row.period}-01-01", "to": f"{row.period}-12-31"},
        "calculationFrequency": "yearly",
        "calculationMethod": "automatic",
        "calculatedBy": "bylab",
        "dateModified": row.computed_at.isoformat(),
        "address": {"addressCountry": row.place_code.split("-", 1)[0]},
    }
    if formula:
        entity["calculationFormula"] = formula
    return entity
