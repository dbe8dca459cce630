"""The harvest pages: the list with its form, a source with its run log and dead letters."""

from __future__ import annotations

import re

import httpx
import pytest

from bylab.core import Bylab
from tests.conftest import PASSWORD
from tests.connectors.conftest import RecordedServer, tab638_years


@pytest.fixture
def bylab(embedded: Bylab) -> Bylab:
    """Pages are not about storage: the embedded backend only."""
    return embedded


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def _login(client: httpx.Client, username: str) -> str:
    """Log in with the form; returns the session's CSRF token."""
    answer = client.post("/login", follow_redirects=False, data={
        "username": username, "password": PASSWORD, "csrf_token": _csrf(
            client.get("/login").text)})
    assert answer.status_code == 303, answer.text
    return _csrf(client.get("/harvest").text)


def test_create_run_and_read_the_log(client: httpx.Client, accounts_setup: dict[str, str],
                                     recorded_server: RecordedServer) -> None:
    recorded_server.serve("/api/v2/tables/TAB638/data", tab638_years(["unknown", 50937]))
    anonymous = client.get("/harvest")
    assert anonymous.status_code == 200 and "Log in" in anonymous.text

    csrf = _login(client, "mia")
    form = {"name": "tab638", "kind": "pxweb", "url": f"{recorded_server.base_url}/api/v2",
            "table": "TAB638", "organisation": "molde", "dataset": "population-se",
            "query": '{"selection": [{"variableCode": "Tid", "valueCodes": ["*"]}]}',
            "visibility": "private", "licence_id": "CC-BY-4.0", "country": "SE",
            "schedule": "daily 04:30"}
    refused = client.post("/harvest", data={**form, "csrf_token": "wrong"})
    assert refused.status_code == 403
    bad = client.post("/harvest", data={**form, "schedule": "sometimes", "csrf_token": csrf})
    assert bad.status_code == 400 and "unknown schedule" in bad.text
    assert 'aria-invalid="true"' in bad.text
    created = client.post("/harvest", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert (created.status_code, created.headers["location"]) == (303, "/harvest/tab638")

    listing = client.get("/harvest").text
    assert 'href="/harvest/tab638"' in listing and "daily 04:30" in listing
    ran = client.post("/harvest/tab638/run", data={"csrf_token": csrf}, follow_redirects=False)
    assert ran.status_code == 303
    page = client.get("/harvest/tab638").text
    assert re.search(r"<td>manual</td><td>stored</td><td>2</td><td>1</td>\s*<td>1</td>", page)
    assert "cell 0 (Region=00" in page and "neither a number nor a suppression marker" in page

    edit = client.get("/harvest/tab638/edit").text
    assert 'value="daily 04:30"' in edit and "&#34;valueCodes&#34;" in edit
    changed = client.post("/harvest/tab638/edit", follow_redirects=False,
                          data={**form, "schedule": "every 12h", "csrf_token": csrf})
    assert changed.status_code == 303
    assert "every 12h" in client.get("/harvest/tab638").text

    client.post("/logout", data={"csrf_token": csrf})
    _login(client, "ola")
    assert client.get("/harvest/tab638").status_code == 404
    assert client.get("/harvest/tab638/edit").status_code == 404
    assert "tab638" not in client.get("/harvest").text
