"""One demo instance (the real bundled data of `bylab demo`, indicators computed) shared by
the dashboard tests of a worker, with an HTTP client and an administrator's API token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.auth.actions import token_create
from bylab.core import Bylab
from bylab.demo.loader import demo_load
from bylab.testing.backends import embedded_instance


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bylab]:
    instance = embedded_instance(tmp_path_factory.mktemp("dashboard") / "data")
    demo_load(instance)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def web(demo: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(demo), base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="session")
def admin_headers(demo: Bylab) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(demo.system_context(), 'dash', 'admin')}"}
