"""`bylab harvest ...` through its typer app, on a temporary data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bylab.auth import actions as accounts
from bylab.catalog.queries import dataset_show
from bylab.connectors.cli import app
from bylab.core import Bylab
from bylab.errors import InvalidInput
from tests.connectors.conftest import SCB_V1

runner = CliRunner()


@pytest.fixture
def data_dir(embedded: Bylab, monkeypatch: pytest.MonkeyPatch) -> Bylab:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(embedded.settings.data_dir))
    monkeypatch.delenv("BYLAB_DATABASE_URL", raising=False)
    accounts.organisation_create(embedded.system_context(), "scb-demo", "SCB demo")
    return embedded


def test_jsonstat_import_then_unchanged(data_dir: Bylab) -> None:
    arguments = ["jsonstat", str(SCB_V1), "--dataset", "sweden-population", "--org", "scb-demo",
                 "--country", "se", "--visibility", "public"]
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "sweden-population: stored version 1; 2 rows, 0 cells suppressed" in first.output
    assert "1 region codes without a place (00)" in first.output
    second = runner.invoke(app, arguments)
    assert "sweden-population: unchanged (no new version)" in second.output
    dataset = dataset_show(data_dir.system_context(), "sweden-population")
    assert (dataset.latest_version, dataset.visibility) == (1, "public")


def test_pxweb_with_a_bad_query_file(data_dir: Bylab, tmp_path: Path) -> None:
    query = tmp_path / "query.json"
    query.write_text('{"query": [{"code": "Tid"}]}')
    result = runner.invoke(app, ["pxweb", "https://data.ssb.no/api/v0/en/table", "--table",
                                 "07459", "--query", str(query), "--dataset", "x",
                                 "--org", "scb-demo"])
    assert isinstance(result.exception, InvalidInput)
    assert (result.exception.file, result.exception.field) == ("query.json", "query.0")
