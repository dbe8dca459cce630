"""Scenario results as CSV (one row per place, KPI and projected year) and JSON (the rows,
the target probabilities, the series without data, and the scenario itself)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict
from typing import Any, TextIO

from bylab.scenarios.actions import RESULT_COLUMNS, ResultRow, ScenarioResult


def write_csv(results: list[ScenarioResult], output: TextIO) -> None:
    """The rows of every result under one header (columns: RESULT_COLUMNS)."""
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for result in results:
        for row in result.rows:
            writer.writerow([_cell(getattr(row, name)) for name in RESULT_COLUMNS])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.8g}"  # eight significant digits: far below Monte Carlo error
    return str(value)


def result_document(result: ScenarioResult) -> dict[str, Any]:
    """A JSON-ready document of one result."""
    return {
        "scenario": result.spec.model_dump(mode="json"),
        "draws": result.draws,
        "seed": result.seed,
        "rows": [_row(row) for row in result.rows],
        "targets": [{**asdict(outcome.target), "probability": outcome.probability,
                     "note": outcome.note} for outcome in result.targets],
        "missing": [{"place_code": place, "kpi_code": kpi} for place, kpi in result.missing],
    }


def _row(row: ResultRow) -> dict[str, Any]:
    return {name: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for name, value in asdict(row).items()}


def write_json(results: list[ScenarioResult], output: TextIO) -> None:
    json.dump([result_document(result) for result in results], output, ensure_ascii=False,
              indent=1)
    output.write("\n")
