from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bylab.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "places"


def test_cli_load_import_search_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BYLAB_SECRET_KEY", "test-secret")
    runner = CliRunner()
    loaded = runner.invoke(app, ["places", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert "1199 places created" in loaded.stdout
    klass_file = str(FIXTURES / "klass_131_changes.json")
    imported = runner.invoke(app, ["places", "import-klass", klass_file])
    assert imported.exit_code == 0 and "15 changes recorded" in imported.stdout
    found = runner.invoke(app, ["places", "search", "alesund", "--country", "NO"])
    assert [line.split("\t")[0] for line in found.stdout.splitlines()][:2] == [
        "NO-1508", "NO-1507"]
    shown = runner.invoke(app, ["places", "show", "NO-1580"])
    assert shown.exit_code == 0
    assert "Haram" in shown.stdout and "NO-1507" in shown.stdout and "NO-1534" in shown.stdout
    missing = runner.invoke(app, ["places", "show", "NO-0000"])
    assert missing.exit_code != 0
