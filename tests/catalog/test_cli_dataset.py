"""`bylab dataset ...` as a user runs it (a subprocess on a temporary data dir), also while
`bylab serve` runs on the same data dir."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bylab.testing.server import free_port
from tests.conftest import TEST_DATA

BYLAB = Path(sys.executable).parent / "bylab"
CATALOG_DATA = TEST_DATA / "catalog"
POPULATION = CATALOG_DATA / "no_population_molde_region_cp1252.csv"


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "BYLAB_DATA_DIR": str(tmp_path / "data"),
           "BYLAB_SECRET_KEY": "test-secret"}
    env.pop("BYLAB_DATABASE_URL", None)
    _run(env, "account", "org-add", "molde", "Molde kommune")
    return env


def _run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BYLAB), *args], env=env, capture_output=True, text=True,
                            timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_add_version_list_show_export(environment: dict[str, str], tmp_path: Path) -> None:
    added = _run(environment, "dataset", "add", str(POPULATION), "--name", "population",
                 "--title", "Population", "--org", "molde", "--visibility", "public",
                 "--keyword", "befolkning", "--theme", "SOCI")
    assert "version 1: 50 rows" in added.stdout
    again = _run(environment, "dataset", "add", str(POPULATION), "--name", "population",
                 "--title", "Population", "--org", "molde", check=False)
    assert again.returncode == 1 and "--new-version" in again.stderr
    _run(environment, "dataset", "add", str(CATALOG_DATA / "se_population_2023_2024.xlsx"),
         "--name", "population", "--new-version", "--note", "Swedish")
    assert "population" in _run(environment, "dataset", "list").stdout
    shown = _run(environment, "dataset", "show", "population").stdout
    assert "Swedish" in shown and "reference_date" in shown
    exported = _run(environment, "dataset", "export", "population", "--format", "csv",
                    "--version", "1").stdout
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[1][:4] == ["1505", "Kristiansund", "2005", "22327"]
    target = tmp_path / "population.json"
    _run(environment, "dataset", "export", "population", "--format", "json", "-o", str(target))
    assert '"municipality_name":"Upplands Väsby"' in target.read_text(encoding="utf-8")


def test_bad_file_is_reported_with_its_row(environment: dict[str, str], tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a;b\n1;2\n3\n", encoding="utf-8")
    result = _run(environment, "dataset", "add", str(ragged), "--name", "ragged", "--title",
                  "R", "--org", "molde", check=False)
    assert result.returncode == 1
    assert "ragged.csv, row 3" in result.stderr


def test_cli_publishes_while_the_server_runs(environment: dict[str, str]) -> None:
    port = free_port()
    server = subprocess.Popen([str(BYLAB), "serve", "--port", str(port)], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base)
        assert httpx.get(f"{base}/api/datasets").json()["total"] == 0
        _run(environment, "dataset", "add", str(POPULATION), "--name", "population",
             "--title", "Population", "--org", "molde", "--visibility", "public")
        preview = httpx.get(f"{base}/api/datasets/population/preview?limit=1").json()
        assert preview["rows"][0][:2] == ["1505", "Kristiansund"]
        _run(environment, "dataset", "add", str(POPULATION), "--name", "population",
             "--new-version")
        versions = httpx.get(f"{base}/api/datasets/population/versions").json()
        assert [version["version"] for version in versions] == [1, 2]
    finally:
        server.terminate()
        server.communicate(timeout=20)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/datasets", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("bylab serve did not start")
