"""The REST API: upload → preview → download, versions, sharing, delete; private data is
refused (404) to other organisations and to anonymous callers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.catalog import api
from bylab.core import Bylab
from tests.conftest import TEST_DATA

CATALOG_DATA = TEST_DATA / "catalog"
POPULATION = CATALOG_DATA / "no_population_molde_region_cp1252.csv"


@pytest.fixture
def http(embedded: Bylab) -> Iterator[httpx.Client]:
    app = create_app(embedded)
    if not any(getattr(route, "path", "") == "/api/datasets" for route in app.routes):
        app.include_router(api.router)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def bylab(embedded: Bylab) -> Bylab:
    """The API is not about storage: run these on the embedded backend only."""
    return embedded


@pytest.fixture
def tokens(accounts_setup: dict[str, str]) -> dict[str, str]:
    return accounts_setup


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _publish(http: httpx.Client, token: str, name: str, visibility: str = "private",
             path=POPULATION) -> httpx.Response:  # noqa: ANN001
    metadata = {"name": name, "title": {"en": "Population, Molde region"},
                "organisation": "molde", "visibility": visibility}
    with open(path, "rb") as upload:
        return http.post("/api/datasets", headers=_auth(token),
                         data={"metadata": json.dumps(metadata)},
                         files={"file": (path.name, upload, "text/csv")})


def test_upload_preview_download(http: httpx.Client, tokens: dict[str, str],
                                 embedded: Bylab) -> None:
    created = _publish(http, tokens["mia"], "population", "public")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["latest"]["row_count"] == 50 and body["organisation"] == "molde"
    preview = http.get("/api/datasets/population/preview", params={"limit": 2, "offset": 48})
    assert preview.status_code == 200
    assert [row[1] for row in preview.json()["rows"]] == ["Haram", "Haram"]
    download = http.get("/api/datasets/population/download.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text)))
    with open(POPULATION, encoding="cp1252", newline="") as raw:
        expected = list(csv.reader(raw, delimiter=";"))
    assert [row[:4] for row in rows] == [row[:4] for row in expected]
    listed = http.get("/api/datasets", params={"q": "molde"}).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "population"
    assert list(embedded.settings.uploads_dir.iterdir()) == []  # staged upload removed


def test_versions_sharing_and_delete(http: httpx.Client, tokens: dict[str, str]) -> None:
    assert _publish(http, tokens["mia"], "population").status_code == 201
    xlsx = CATALOG_DATA / "se_population_2023_2024.xlsx"
    with open(xlsx, "rb") as upload:
        added = http.post("/api/datasets/population/versions", headers=_auth(tokens["mia"]),
                          data={"note": "Swedish"}, files={"file": (xlsx.name, upload)})
    assert added.status_code == 201 and added.json()["version"] == 2
    versions = http.get("/api/datasets/population/versions", headers=_auth(tokens["mia"]))
    assert [v["version"] for v in versions.json()] == [1, 2]
    old = http.get("/api/datasets/population/download.json", params={"version": 1},
                   headers=_auth(tokens["mia"]))
    assert old.json()[0]["municipality_name"] == "Kristiansund"
    assert http.get("/api/datasets/population").status_code == 404
    shared = http.put("/api/datasets/population/sharing", headers=_auth(tokens["mia"]),
                      json={"visibility": "shared", "shared_with": ["smart-molde"]})
    assert shared.status_code == 200 and shared.json()["shared_with"] == ["smart-molde"]
    assert http.get("/api/datasets/population/preview",
                    headers=_auth(tokens["ola"])).status_code == 200
    assert http.delete("/api/datasets/population",
                       headers=_auth(tokens["ola"])).status_code == 403
    assert http.delete("/api/datasets/population",
                       headers=_auth(tokens["mia"])).status_code == 204
    assert http.get("/api/datasets/population",
                    headers=_auth(tokens["mia"])).status_code == 404


def test_private_dataset_is_404_to_others(http: httpx.Client, tokens: dict[str, str]) -> None:
    assert _publish(http, tokens["mia"], "internal").status_code == 201
    for headers in (_auth(tokens["ada"]), {}):
        for path in ("/api/datasets/internal/preview", "/api/datasets/internal/download.csv",
                     "/api/datasets/internal/download.parquet", "/api/datasets/internal"):
            assert http.get(path, headers=headers).status_code == 404, path
    listed = http.get("/api/datasets", headers=_auth(tokens["ada"])).json()
    assert listed["total"] == 0


def test_bad_upload_names_file_and_row(http: httpx.Client, tokens: dict[str, str],
                                       embedded: Bylab) -> None:
    metadata = {"name": "ragged", "title": {"en": "R"}, "organisation": "molde"}
    response = http.post("/api/datasets", headers=_auth(tokens["mia"]),
                         data={"metadata": json.dumps(metadata)},
                         files={"file": ("ragged.csv", b"a;b\n1;2\n3\n")})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": response.json()["error"]["message"], "file": "ragged.csv", "row": 3,
        "message_id": "line {line} has a different number of fields than the header "
                      "({problem}): {text!r}"}
    assert http.get("/api/datasets/ragged", headers=_auth(tokens["mia"])).status_code == 404
    assert list(embedded.settings.uploads_dir.iterdir()) == []


def test_upload_over_the_limit_is_413(http: httpx.Client, tokens: dict[str, str],
                                      embedded: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.settings, "max_upload_bytes", 1000)
    response = _publish(http, tokens["mia"], "population")
    assert response.status_code == 413
    assert response.json()["error"]["file"] == POPULATION.name
    assert list(embedded.settings.uploads_dir.iterdir()) == []


def test_anonymous_cannot_publish_and_json_creates_a_record(http: httpx.Client,
                                                          tokens: dict[str, str]) -> None:
    metadata = {"name": "x1", "title": {"en": "X"}, "organisation": "molde"}
    assert http.post("/api/datasets", json=metadata).status_code == 403
    created = http.post("/api/datasets", json=metadata, headers=_auth(tokens["mia"]))
    assert created.status_code == 201 and created.json()["latest"] is None


# Another capability's CKAN routes currently register one operation id twice.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID:UserWarning")
def test_openapi_documents_the_routes(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert "multipart/form-data" in paths["/api/datasets"]["post"]["requestBody"]["content"]
    assert paths["/api/datasets/{name}/download.{fmt}"]["get"]["tags"] == ["datasets"]
