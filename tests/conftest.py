"""Fixtures: a bylab instance per storage backend, an in-process HTTP client, sample accounts.

Tests that take ``bylab`` run once on the embedded database and once on PostgreSQL
(marked ``postgres``), as ibis runs one suite over every backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import OrganisationKind, Role
from bylab.core import Bylab, Context
from bylab.testing.backends import (
    drop_database,
    embedded_instance,
    postgres_database,
    postgres_instance,
    postgres_template,
)

TEST_DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def pg_template(worker_id: str) -> Iterator[str]:
    name = postgres_template(f"bylab_template_{worker_id}_{os.getpid()}")
    yield name
    drop_database(name)


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)])
def bylab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bylab]:
    """A fresh, empty, migrated instance on each storage backend."""
    if request.param == "embedded":
        instance = embedded_instance(tmp_path / "data")
        yield instance
        instance.close()
        return
    template = request.getfixturevalue("pg_template")
    with postgres_database(template) as url:
        instance = postgres_instance(tmp_path / "data", url)
        yield instance
        instance.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Bylab]:
    """An embedded-storage instance, for tests that are not about the storage backend."""
    instance = embedded_instance(tmp_path / "data")
    yield instance
    instance.close()


@pytest.fixture
def system(bylab: Bylab) -> Context:
    return bylab.system_context()


@pytest.fixture
def accounts_setup(bylab: Bylab) -> dict[str, str]:
    """Two municipalities in a network, a company outside it, and a user in each
    (editors); returns API tokens by username."""
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.organisation_create(ctx, "alesund", "Ålesund kommune")
    accounts.organisation_create(ctx, "acme", "Acme AS", OrganisationKind.COMPANY)
    accounts.organisation_create(ctx, "smart-molde", "Smart Molde region", OrganisationKind.NETWORK)
    accounts.network_add_member(ctx, "smart-molde", "molde")
    accounts.network_add_member(ctx, "smart-molde", "alesund")
    tokens = {}
    for username, org in (("mia", "molde"), ("ola", "alesund"), ("ada", "acme")):
        accounts.user_create(ctx, username, PASSWORD)
        accounts.membership_set(ctx, username, org, Role.EDITOR)
        tokens[username] = accounts.token_create(ctx, "tests", username)
    return tokens


@pytest.fixture
def client(bylab: Bylab) -> Iterator[httpx.Client]:
    """An HTTP client talking to the app in-process (no server)."""
    from fastapi.testclient import TestClient

    with TestClient(create_app(bylab), base_url="http://testserver") as test_client:
        yield test_client
