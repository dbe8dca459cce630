"""The sensor CLI (things, datastreams, import, dead letters) and the dead-letter API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bylab.auth import actions as accounts
from bylab.cli import app
from bylab.core import Bylab
from bylab.errors import InvalidInput
from bylab.sensors.actions import dead_letters_add


def test_cli_adds_a_station_imports_and_replays(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BYLAB_SECRET_KEY", "test-secret")
    runner = CliRunner()
    added = runner.invoke(app, ["sensors", "thing-add", "Valand", "--lon", "5.73",
                                "--lat", "58.97"])
    assert added.exit_code == 0, added.output
    stream = runner.invoke(app, ["sensors", "datastream-add", "Valand", "Valand/pm25",
                                 "--name", "PM2.5", "--property", "PM2.5",
                                 "--unit-name", "microgram per cubic metre",
                                 "--unit-symbol", "µg/m³"])
    assert stream.exit_code == 0 and "Valand/pm25" in stream.stdout
    good = tmp_path / "good.csv"
    good.write_text("datastream,time,value\nValand/pm25,2022-01-01T00:00:00Z,3.5\n"
                    "Valand/pm25,2022-01-01T01:00:00Z,4.5\n")
    imported = runner.invoke(app, ["sensors", "import", str(good)])
    assert "2 rows read, 2 observations new" in imported.stdout
    again = runner.invoke(app, ["sensors", "import", str(good)])
    assert "0 observations new, 2 stored before" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("datastream,time,value\nValand/pm25,2022-01-01T00:00:00Z,NaN\n")
    refused = runner.invoke(app, ["sensors", "import", str(bad)])
    assert refused.exit_code != 0
    assert isinstance(refused.exception, InvalidInput)
    assert str(refused.exception).startswith("bad.csv, row 1, field 'result'")

    from bylab.cli import open_bylab
    dead_letters_add(open_bylab().system_context(), [
        ("city/obs", json.dumps({"sensor": "Valand/pm2.5", "time": "2022-01-02T00:00:00Z",
                                 "value": 1}), "unknown sensor 'Valand/pm2.5'")])
    listed = runner.invoke(app, ["sensors", "dead-letters"])
    assert "unknown sensor 'Valand/pm2.5'" in listed.stdout and "city/obs" in listed.stdout
    monkeypatch.setenv("BYLAB_MQTT_SENSOR_MAPPING", '{"Valand/pm2.5": "Valand/pm25"}')
    replayed = runner.invoke(app, ["sensors", "replay"])
    assert "1 stored, 0 still refused" in replayed.stdout
    assert "no dead letters" in runner.invoke(app, ["sensors", "dead-letters"]).stdout


def test_dead_letter_api_is_for_administrators(bylab: Bylab, client: httpx.Client,
                                               accounts_setup: dict[str, str]) -> None:
    ctx = bylab.system_context()
    dead_letters_add(ctx, [("city/obs", "{broken", "malformed JSON: Expecting value")])
    mia = {"Authorization": f"Bearer {accounts_setup['mia']}"}
    assert client.get("/api/sensors/dead-letters", headers=mia).status_code == 403
    accounts.user_create(ctx, "root", "correct horse battery", is_sysadmin=True)
    root = {"Authorization": f"Bearer {accounts.token_create(ctx, 'tests', 'root')}"}
    letters = client.get("/api/sensors/dead-letters", headers=root).json()
    assert [(letter["source"], letter["reason"]) for letter in letters] == [
        ("city/obs", "malformed JSON: Expecting value")]
    replay = client.post("/api/sensors/dead-letters/replay", headers=root,
                         json={"ids": [letters[0]["id"]]})
    assert replay.json() == {"stored": 0, "still_bad": 1}
    missing = client.post("/api/sensors/dead-letters/replay", headers=root, json={"ids": [999]})
    assert missing.status_code == 404
