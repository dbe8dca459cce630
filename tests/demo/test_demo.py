"""The demo region loads the bundled real data once, with working logins and sharing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bylab.app import create_app
from bylab.auth.actions import user_authenticate
from bylab.catalog.models import Dataset, DatasetVersion
from bylab.catalog.queries import DatasetQuery, dataset_search
from bylab.core import Bylab
from bylab.demo.loader import demo_is_loaded, demo_load, demo_logins, demo_spec
from bylab.testing.backends import embedded_instance


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bylab]:
    instance = embedded_instance(tmp_path_factory.mktemp("demo") / "data")
    assert demo_load(instance) is True
    yield instance
    instance.close()


def test_every_bundled_dataset_is_published_with_data(demo: Bylab) -> None:
    names = {entry["name"] for entry in demo_spec()["datasets"]}
    with demo.db.session() as session:
        stored = dict(session.execute(
            select(Dataset.name, func.count(DatasetVersion.id))
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
            .group_by(Dataset.name)).all())
    assert set(stored) == names and set(stored.values()) == {1}


def test_real_values_arrive_intact(demo: Bylab) -> None:
    """Spot checks against the source files (see demo/data/SOURCES.md)."""
    ctx = demo.system_context()
    population = demo.tables.query(
        f"SELECT sum(population) FROM {_scan(demo, 'no-population-municipalities')} "
        "WHERE year = 2024").fetchone()
    assert population == (5_550_203,)  # national total 2024 per SOURCES.md
    sweden = demo.tables.query(
        f"SELECT sum(population) FROM {_scan(demo, 'se-population-municipalities')} "
        "WHERE year = 2023").fetchone()
    assert sweden == (10_551_707,)
    hours = demo.tables.query(
        f"SELECT count(*) FROM {_scan(demo, 'no-air-quality-pm25-hourly')}").fetchone()
    assert hours == (191_658,)
    assert dataset_search(ctx, DatasetQuery(text="Møre og Romsdal")).count >= 1


def _scan(demo: Bylab, name: str) -> str:
    with demo.db.session() as session:
        path = session.scalar(
            select(DatasetVersion.table_path).join(Dataset).where(Dataset.name == name))
    return demo.tables.scan(demo.tables.resolve(path))


def test_partner_data_is_shared_with_the_network_only(demo: Bylab) -> None:
    def visible(actor_context) -> set[str]:  # noqa: ANN001
        return {d.name for d in dataset_search(actor_context, DatasetQuery(rows=100)).datasets}

    logins = {login.username: login.password for login in demo_logins()}
    molde = demo.context(user_authenticate(demo.context(), "demo", logins["demo"]))
    alesund = demo.context(user_authenticate(demo.context(), "alesund-analyst",
                                             logins["alesund-analyst"]))
    assert "more-og-romsdal-unemployment" in visible(molde)
    assert "more-og-romsdal-unemployment" in visible(alesund)
    assert "more-og-romsdal-unemployment" not in visible(demo.context())


def test_a_second_load_reuses_the_data(demo: Bylab) -> None:
    assert demo_is_loaded(demo)
    started = time.perf_counter()
    assert demo_load(demo) is False
    assert time.perf_counter() - started < 1.0  # nothing is read or written again


def test_home_page_opens_on_more_og_romsdal(demo: Bylab) -> None:
    with TestClient(create_app(demo)) as client:
        home = client.get("/")
    assert home.status_code == 200
    for name in ("Møre og Romsdal", "Molde", "Ålesund", "Kristiansund"):
        assert name in home.text
    assert "more-og-romsdal-unemployment" not in home.text  # shared data stays hidden


def test_demo_command_refuses_a_taken_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bylab.cli", "demo", "--port", str(port)],
            env={"BYLAB_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
