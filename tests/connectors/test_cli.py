"""`bylab harvest ...` through its typer app, on a temporary data dir."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from bylab.auth import actions as accounts
from bylab.catalog.queries import dataset_show
from bylab.connectors.cli import app
from bylab.connectors.models import HarvestSource
from bylab.core import Bylab
from bylab.errors import InvalidInput
from tests.connectors.conftest import PX_POPULATION, SCB_V1, RecordedServer, tab638_years

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


def test_px_file_import(data_dir: Bylab) -> None:
    result = runner.invoke(app, ["jsonstat", str(PX_POPULATION), "--dataset", "se-counties",
                                 "--org", "scb-demo"])
    assert result.exit_code == 0, result.output
    assert "se-counties: stored version 1; 84 rows, 0 cells suppressed" in result.output


def test_saved_source_add_run_log_and_run_due(data_dir: Bylab, tmp_path: Path,
                                              recorded_server: RecordedServer) -> None:
    recorded_server.serve("/api/v2/tables/TAB638/data", tab638_years(["unknown", 50937]))
    query = tmp_path / "query.json"
    query.write_text(json.dumps({"selection": [{"variableCode": "Tid", "valueCodes": ["*"]}]}))
    added = runner.invoke(app, ["source", "add", "tab638", "--kind", "pxweb", "--url",
                                f"{recorded_server.base_url}/api/v2", "--table", "TAB638",
                                "--query", str(query), "--dataset", "population-se",
                                "--org", "scb-demo", "--schedule", "every 2h"])
    assert added.exit_code == 0, added.output
    assert "saved harvest source tab638; next run" in added.output
    listed = runner.invoke(app, ["source", "list"])
    assert "tab638" in listed.output and "every 2h" in listed.output

    ran = runner.invoke(app, ["source", "run", "tab638"])
    assert ran.exit_code == 0, ran.output
    assert "stored; 2 read, 1 stored, 1 rejected; dataset version 1" in ran.output
    run_id = re.search(r"run ([0-9a-f-]{36}):", ran.output).group(1)  # type: ignore[union-attr]
    letters = [json.loads(line) for line in runner.invoke(
        app, ["source", "dead-letters", run_id]).output.splitlines()]
    assert [(letter["payload"]["codes"]["Tid"], letter["payload"]["value"])
            for letter in letters] == [("2019", "unknown")]

    assert "0 due source(s) run" in runner.invoke(app, ["run-due"]).output
    ctx = data_dir.system_context()
    with ctx.db.session() as session:
        session.execute(update(HarvestSource).values(
            next_run_at=datetime.now(UTC) - timedelta(seconds=5)))
    due = runner.invoke(app, ["run-due"])
    assert due.exit_code == 0, due.output
    assert "unchanged" in due.output and "1 due source(s) run" in due.output
    log = runner.invoke(app, ["source", "runs", "tab638"]).output
    assert log.index("schedule") < log.index("manual")  # newest first

    shown = json.loads(runner.invoke(app, ["source", "show", "tab638"]).output)
    assert (shown["schedule"], shown["known_variables"][-1]) == ("every 2h", "Tid")

    recorded_server.answers.clear()  # the table is gone: the run fails and says so
    failed = runner.invoke(app, ["source", "run", "tab638"])
    assert failed.exit_code != 0 and "HTTP 404" in failed.output + str(failed.exception)
    assert "deleted harvest source tab638" in runner.invoke(
        app, ["source", "delete", "tab638"]).output
    assert "tab638" not in runner.invoke(app, ["source", "list"]).output
