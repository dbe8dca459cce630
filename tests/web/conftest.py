"""Fixtures for the web UI tests: an embedded instance with two municipalities in a network,
a company outside it, an editor in each, and a logged-in-capable HTTP client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import OrganisationKind, Role
from bylab.core import Bylab
from bylab.places.models import Place

PASSWORD = "correct horse battery"
WEB_DATA = Path(__file__).resolve().parents[1] / "data" / "web"
POPULATION_CSV = WEB_DATA / "no_population_molde_alesund.csv"
# The bundled copy of the file POPULATION_CSV was cut from (see tests/data/web/README.md).
SOURCE_POPULATION = (Path(__file__).resolve().parents[2] / "src" / "bylab" / "demo" / "data"
                     / "statistics" / "no_population_municipalities_2024borders.csv")
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_instance(embedded: Bylab) -> Bylab:
    """molde and alesund (network smart-molde), acme (a company); editors mia, ola, ada.
    Places NO-1506 Molde and NO-1508 Ålesund (their real 2024 municipality codes)."""
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.organisation_create(ctx, "alesund", "Ålesund kommune")
    accounts.organisation_create(ctx, "acme", "Acme AS", OrganisationKind.COMPANY)
    accounts.organisation_create(ctx, "smart-molde", "Smart Molde region",
                                 OrganisationKind.NETWORK)
    accounts.network_add_member(ctx, "smart-molde", "molde")
    accounts.network_add_member(ctx, "smart-molde", "alesund")
    for username, organisation in (("mia", "molde"), ("ola", "alesund"), ("ada", "acme")):
        accounts.user_create(ctx, username, PASSWORD)
        accounts.membership_set(ctx, username, organisation, Role.EDITOR)
    with ctx.db.session() as session:
        for code, name in (("1506", "Molde"), ("1508", "Ålesund")):
            session.add(Place(id=f"NO-{code}", country="NO", level="municipality", code=code,
                              code_scheme="kommunenummer", name=name, names={"nb": name}))
    return embedded


@pytest.fixture
def web_client(web_instance: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(web_instance), base_url="http://testserver") as test_client:
        yield test_client


def csrf_of(page_html: str) -> str:
    found = CSRF_PATTERN.search(page_html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client: httpx.Client, username: str) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
