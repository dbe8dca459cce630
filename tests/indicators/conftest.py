"""One demo instance (real bundled data) with every KPI computed, shared by the read-only
indicator tests of a worker: loading and computing once takes about six seconds."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.core import Bylab
from bylab.demo.loader import demo_load
from bylab.indicators.actions import indicator_compute
from bylab.indicators.engine import ComputeReport
from bylab.testing.backends import embedded_instance


@pytest.fixture(scope="session")
def computed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bylab, ComputeReport]]:
    instance = embedded_instance(tmp_path_factory.mktemp("indicators") / "data")
    demo_load(instance)
    report, _records = indicator_compute(instance.system_context())
    yield instance, report
    instance.close()


@pytest.fixture(scope="session")
def demo(computed: tuple[Bylab, ComputeReport]) -> Bylab:
    return computed[0]


@pytest.fixture(scope="session")
def api(demo: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(demo), base_url="http://testserver") as client:
        yield client
