"""The REST API of project evidence and challenge responses, over an embedded instance.
Indicator values are hand-made test rows, NOT real figures."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import OrganisationKind, Role
from bylab.core import Bylab
from bylab.indicators.models import IndicatorValue

GHG = "EN: EN: AQ: 2C"  # lower is better
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def api(embedded: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def auth(embedded: Bylab) -> dict[str, dict[str, str]]:
    """Bearer headers of mia (Molde's editor) and ada (Acme's)."""
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.organisation_create(ctx, "acme", "Acme AS", OrganisationKind.COMPANY)
    headers = {}
    for username, organisation in (("mia", "molde"), ("ada", "acme")):
        accounts.user_create(ctx, username, "correct horse battery")
        accounts.membership_set(ctx, username, organisation, Role.EDITOR)
        token = accounts.token_create(ctx, "tests", username)
        headers[username] = {"Authorization": f"Bearer {token}"}
    rows = [{"kpi_code": GHG, "place_id": "NO-1506", "period": period, "status": "computed",
             "value": value, "unit": "t / person", "reason": "", "dataset_ids": [],
             "provenance": {}} for period, value in (("2019", 5.0), ("2023", 4.25))]
    with embedded.db.session() as session:
        session.execute(insert(IndicatorValue), rows)
    return headers


PROJECT = {
    "organisation": "molde", "name": "test-heat-pumps", "title": {"en": "Test heat pumps"},
    "budget_amount": 2000000.5, "budget_currency": "NOK",
    "success_factors": {"en": ["Caretakers involved early"]},
    "lessons_learned": {"nb": ["Start med ett bygg"]},
    "funding": [{"funder_name": "Test fund", "programme": "Test call", "amount": "1500000.25",
                 "currency": "NOK", "year_from": 2021, "year_to": 2022},
                {"funder_name": "EU test", "amount": 30000, "currency": "EUR"}],
    "results": [{"kpi_code": GHG, "place_id": "NO-1506", "before_period": "2019",
                 "after_period": "2023"}]}


def test_project_evidence_round_trips_through_the_api(
        api: httpx.Client, auth: dict[str, dict[str, str]]) -> None:
    created = api.post("/api/projects", json=PROJECT, headers=auth["mia"])
    assert created.status_code == 201, created.text
    body = api.get("/api/projects/test-heat-pumps").json()
    assert body["budget"] == {"amount": 2000000.5, "currency": "NOK"}
    assert body["funding_totals"] == [{"amount": 30000.0, "currency": "EUR"},
                                      {"amount": 1500000.25, "currency": "NOK"}]
    assert body["funding"][0]["funder"] == "Test fund"
    result = body["results"][0]
    assert (result["before"]["value"], result["after"]["value"]) == (5.0, 4.25)
    assert result["outcome"] == "improved" and result["direction"] == "lower_is_better"
    assert result["after"]["origin"] == "computed"
    provenance = api.get(result["after"]["provenance"])
    assert provenance.status_code == 200 and provenance.json()["value"] == 4.25
    assert body["success_factors"] == {"en": ["Caretakers involved early"]}
    kept = api.put("/api/projects/test-heat-pumps", headers=auth["mia"],
                   json={"title": {"en": "Test heat pumps"}, "budget_amount": "10",
                         "budget_currency": "EUR"}).json()
    assert len(kept["funding"]) == 2 and kept["budget"] == {"amount": 10.0, "currency": "EUR"}


def test_bad_evidence_is_a_400_naming_the_field(api: httpx.Client,
                                               auth: dict[str, dict[str, str]]) -> None:
    bad = {**PROJECT, "funding": [{"funder_name": "X", "amount": 5, "currency": "KRONER"}]}
    response = api.post("/api/projects", json=bad, headers=auth["mia"])
    assert response.status_code == 400 and "currency" in response.text
    bad = {**PROJECT, "results": [{**PROJECT["results"][0], "kpi_code": "GHG"}]}  # type: ignore[index]
    response = api.post("/api/projects", json=bad, headers=auth["mia"])
    assert response.status_code == 400 and "kpi_code" in response.text


def test_documents_upload_list_download_delete(api: httpx.Client,
                                               auth: dict[str, dict[str, str]]) -> None:
    api.post("/api/projects", json=PROJECT, headers=auth["mia"])
    url = "/api/projects/test-heat-pumps/documents"
    files = {"file": ("report.pdf", PDF, "application/pdf")}
    assert api.post(url, files=files, data={"title": "Report"}).status_code == 403
    assert api.post(url, files=files, headers=auth["ada"]).status_code == 403
    refused = api.post(url, files={"file": ("run.exe", b"MZ", "application/x-msdownload")},
                       headers=auth["mia"])
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "file"
    added = api.post(url, files=files, data={"title": "Report", "language": "en"},
                     headers=auth["mia"])
    assert added.status_code == 201, added.text
    document = added.json()
    assert (document["title"], document["size_bytes"]) == ("Report", len(PDF))
    assert [d["id"] for d in api.get(url).json()] == [document["id"]]
    download = api.get(document["url"])
    assert download.content == PDF and download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    assert api.delete(document["url"], headers=auth["mia"]).status_code == 204
    assert api.get(document["url"]).status_code == 404
    assert api.delete("/api/projects/test-heat-pumps", headers=auth["ada"]).status_code == 403
    assert api.delete("/api/projects/test-heat-pumps", headers=auth["mia"]).status_code == 204
    assert api.get("/api/projects/test-heat-pumps").status_code == 404


def test_responses_through_the_api(api: httpx.Client,
                                   auth: dict[str, dict[str, str]]) -> None:
    challenge = {"organisation": "molde", "name": "test-flooding",
                 "title": {"en": "Test flooding"}, "constraints": {"en": "Budget is fixed"}}
    created = api.post("/api/challenges", json=challenge, headers=auth["mia"])
    assert created.json()["constraints"] == {"en": "Budget is fixed"}
    url = "/api/challenges/test-flooding/responses"
    assert api.post(url, json={"kind": "idea", "text": "x"}).status_code == 403
    assert api.post(url, json={"kind": "rumour", "text": "x"},
                    headers=auth["ada"]).status_code == 422
    response = api.post(url, json={"kind": "idea", "text": "Green roofs"}, headers=auth["ada"])
    assert response.status_code == 201, response.text
    assert response.json()["organisation"] == "acme"
    status_url = f"{url}/{response.json()['id']}/status"
    assert api.put(status_url, json={"status": "accepted"},
                   headers=auth["ada"]).status_code == 403
    decided = api.put(status_url, json={"status": "accepted"}, headers=auth["mia"]).json()
    assert (decided["status"], decided["status_by"]) == ("accepted", "mia")
    assert [(r["kind"], r["status"]) for r in api.get(url).json()] == [("idea", "accepted")]
