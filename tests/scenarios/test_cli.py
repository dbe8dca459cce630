"""The CLI contract other tools rely on: `bylab scenario run FILE --draws N --seed S --format
csv` writes the documented columns to stdout and the same seed gives the same numbers;
`bylab scenario baseline --place CODE` writes the zero-lever scenario of the place."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bylab.cli import app
from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.scenarios.spec import spec_from_yaml

CONTRACT_COLUMNS = ["scenario", "place_code", "kpi_code", "year", "p05", "p50", "p95"]
PLAN = """name: skien-plan
places: [NO-4003]
horizon: 2035
levers:
  modal_shift: {path: {2030: 10}}
"""


def bylab_command(instance: Bylab, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BYLAB_DATA_DIR": str(instance.settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "bylab.cli", "scenario", *args],
                          env=environment, capture_output=True, text=True, timeout=120)


def in_process(instance: Bylab, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """The command's stdout, run in this process (faster than a new interpreter)."""
    monkeypatch.setenv("BYLAB_DATA_DIR", str(instance.settings.data_dir))
    result = CliRunner().invoke(app, ["scenario", *args])
    if result.exception:
        raise result.exception
    return result.stdout


def test_run_writes_the_contract_columns_and_repeats_with_a_seed(
        towns: Bylab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    arguments = ("run", str(plan), "--draws", "300", "--seed", "7", "--format", "csv")
    first = bylab_command(towns, *arguments)  # the real command, as other tools call it
    assert first.returncode == 0, first.stderr
    rows = list(csv.DictReader(io.StringIO(first.stdout)))
    assert set(CONTRACT_COLUMNS) <= set(rows[0])
    assert {row["scenario"] for row in rows} == {"skien-plan"}
    assert {row["year"] for row in rows if row["kpi_code"] == "EN: EN: AQ: 2C"} == {
        str(year) for year in range(2024, 2036)}
    assert all(float(row["p05"]) <= float(row["p50"]) <= float(row["p95"]) for row in rows)
    assert in_process(towns, monkeypatch, *arguments) == first.stdout
    other = in_process(towns, monkeypatch, "run", str(plan), "--draws", "300", "--seed", "8")
    assert other != first.stdout


def test_baseline_writes_a_zero_lever_scenario_that_runs(
        towns: Bylab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = in_process(towns, monkeypatch, "baseline", "--place", "no-4003", "--horizon",
                         "2040")
    spec = spec_from_yaml(written)
    assert spec.places == ["NO-4003"] and spec.start_year == 2024 and spec.horizon == 2040
    assert spec.levers and all(set(plan.path.values()) == {0.0}
                               for plan in spec.levers.values())
    path = tmp_path / "baseline.yaml"
    path.write_text(written, encoding="utf-8")
    ran = in_process(towns, monkeypatch, "run", str(path), "--draws", "50", "--seed", "1")
    assert "baseline-no-4003,NO-4003," in ran


def test_a_bad_file_names_the_field(towns: Bylab, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace("modal_shift", "teleportation"), encoding="utf-8")
    with pytest.raises(InvalidInput) as failed:  # bylab.cli.main prints it and exits with 1
        in_process(towns, monkeypatch, "run", str(plan))
    assert str(failed.value).startswith(
        "plan.yaml, field 'levers': unknown lever 'teleportation'")
