"""The CKAN Action API subset: CKAN's envelope, errors and search syntax over HTTP, and the
real ckanapi client and CLI against a running server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import ckanapi
import httpx
import pytest
from test_dcat_sample import SampleCatalogue, build_sample

from bylab.core import Bylab
from bylab.testing.server import running_server

CKANAPI_CLI = Path(sys.executable).parent / "ckanapi"
CKAN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$")


@pytest.fixture
def sample(bylab: Bylab, accounts_setup: dict[str, str], tmp_path: Path) -> SampleCatalogue:
    return build_sample(bylab, accounts_setup, tmp_path)


def _call(client: httpx.Client, action: str, token: str | None = None, status: int = 200,
          **params: object) -> dict:  # type: ignore[type-arg]
    headers = {"X-CKAN-API-Key": token} if token else {}
    response = client.post(f"/api/3/action/{action}", json=params, headers=headers)
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def _names(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [package["name"] for package in body["result"]["results"]]


def test_envelope_on_both_prefixes_get_and_post(client: httpx.Client,
                                                sample: SampleCatalogue) -> None:
    bodies = [
        client.get("/api/3/action/package_search", params={"q": "molde", "rows": 2}).json(),
        client.get("/api/action/package_search?q=molde&rows=2&unknown_key=1").json(),
        client.post("/api/action/package_search", json={"q": "molde", "rows": 2}).json(),
        client.post("/api/3/action/package_search", data={"q": "molde", "rows": "2"}).json(),
    ]
    for body in bodies:
        assert body["success"] is True
        assert body["help"] == "http://testserver/api/3/action/help_show?name=package_search"
        assert body["result"]["count"] == 3
        assert len(body["result"]["results"]) == 2
    assert len({json.dumps(body["result"]["results"]) for body in bodies}) == 1


def test_errors_in_ckans_shape(client: httpx.Client, sample: SampleCatalogue) -> None:
    unknown = client.get("/api/3/action/package_fly")
    assert unknown.status_code == 400
    assert unknown.json() == "Bad request - Action name not known: package_fly"
    missing = _call(client, "package_show", id="no-such-thing", status=404)
    assert missing["success"] is False and missing["error"]["__type"] == "Not Found Error"
    hidden = _call(client, "package_show", id=sample.private, status=404)
    assert hidden["error"]["__type"] == "Not Found Error"
    too_many = _call(client, "package_search", rows=1001, status=409)
    assert too_many["error"]["__type"] == "Validation Error" and "rows" in too_many["error"]
    bad_key = client.get("/api/3/action/package_list", headers={"X-CKAN-API-Key": "wrong"})
    assert bad_key.status_code == 403
    assert bad_key.json()["error"]["__type"] == "Authorization Error"


def test_search_filters_sorting_and_paging(client: httpx.Client, sample: SampleCatalogue) -> None:
    everything = _call(client, "package_search", sort="name asc", rows=10)
    assert _names(everything) == sorted(sample.public)
    assert _names(_call(client, "package_search", sort="name asc", rows=1, start=1)) == [
        sorted(sample.public)[1]]
    assert _names(_call(client, "package_search", q="*:*", sort="name desc")) == sorted(
        sample.public, reverse=True)
    assert _names(_call(client, "package_search", q="name:molde-draft")) == ["molde-draft"]
    assert _names(_call(client, "package_search", fq="tags:population")) == ["molde-population"]
    assert _names(_call(client, "package_search", fq="res_format:GeoJSON")) == ["molde-boundary"]
    assert _names(_call(client, "package_search", sort="name asc",
                        fq="organization:molde AND res_format:CSV")) == [
        "molde-boundary", "molde-population"]
    assert _call(client, "package_search", fq="organization:alesund")["result"]["count"] == 0
    since = _call(client, "package_search", fq="metadata_modified:[2024-01-01T00:00:00Z TO *]")
    assert since["result"]["count"] == 3
    before = _call(client, "package_search", fq="metadata_modified:[* TO 2024-01-01T00:00:00Z]")
    assert before["result"]["count"] == 0
    ordered = _call(client, "package_search", sort="score desc, metadata_modified desc")
    modified = [package["metadata_modified"] for package in ordered["result"]["results"]]
    assert modified == sorted(modified, reverse=True)
    assert _call(client, "package_search", sort="id asc")["result"]["sort"] == "id asc"


def test_facets(client: httpx.Client, sample: SampleCatalogue) -> None:
    body = _call(client, "package_search", rows=0,
                 **{"facet.field": json.dumps(["organization", "res_format", "groups"])})
    facets = body["result"]["facets"]
    assert facets["organization"] == {"molde": 3}
    assert facets["res_format"] == {"CSV": 2, "Parquet": 2, "JSON": 2, "GeoJSON": 1}
    assert facets["groups"] == {"regi": 2, "soci": 1, "gove": 1}
    items = body["result"]["search_facets"]["organization"]["items"]
    assert items == [{"name": "molde", "display_name": "Molde kommune", "count": 3}]
    assert body["result"]["results"] == []


def test_private_datasets_need_the_right_key_and_include_private(
        client: httpx.Client, sample: SampleCatalogue) -> None:
    def count(token: str | None, include_private: bool) -> int:
        body = _call(client, "package_search", token, include_private=include_private)
        return body["result"]["count"]  # type: ignore[no-any-return]

    assert count(None, True) == 3
    assert count(sample.tokens["mia"], False) == 3
    assert count(sample.tokens["mia"], True) == 5
    assert count(sample.tokens["ola"], True) == 4
    assert count(sample.tokens["ada"], True) == 3
    assert sample.private not in _call(client, "package_list")["result"]
    shown = _call(client, "package_show", sample.tokens["mia"], id=sample.private)["result"]
    assert shown["private"] is True and shown["name"] == sample.private


def test_package_and_resource_shapes(client: httpx.Client, sample: SampleCatalogue) -> None:
    package = _call(client, "package_show", id="molde-population")["result"]
    assert package["title"] == "Population of Molde"
    assert package["notes"].startswith("Residents by year")
    assert package["organization"]["name"] == "molde" and package["owner_org"]
    assert package["private"] is False and package["state"] == "active"
    assert CKAN_TIME.match(package["metadata_created"])
    assert CKAN_TIME.match(package["metadata_modified"])
    assert {tag["name"] for tag in package["tags"]} == {"population", "befolkning"}
    assert package["num_tags"] == 2 and package["license_id"] == "NLOD-2.0"
    assert {group["name"] for group in package["groups"]} == {"soci", "regi"}
    extras = {extra["key"]: extra["value"] for extra in package["extras"]}
    assert json.loads(extras["title_translated"])["nb"] == "Befolkning i Molde"
    assert extras["frequency"].endswith("/frequency/ANNUAL")
    assert [resource["format"] for resource in package["resources"]] == ["CSV", "Parquet", "JSON"]
    assert package["num_resources"] == 3
    csv = package["resources"][0]
    assert csv["url"] == "http://testserver/api/datasets/molde-population/download.csv"
    assert csv["mimetype"] == "text/csv" and csv["package_id"] == package["id"]
    assert _call(client, "resource_show", id=csv["id"])["result"] == csv
    by_id = _call(client, "package_show", id=package["id"])["result"]
    assert by_id["name"] == "molde-population"
    assert _call(client, "package_show", id="molde-draft")["result"]["resources"] == []
    network = _call(client, "package_show", sample.tokens["ola"], id=sample.shared)["result"]
    _call(client, "resource_show", id=network["resources"][0]["id"], status=404)
    _call(client, "resource_show", sample.tokens["ola"], id=network["resources"][0]["id"])


def test_organisations_groups_and_status(client: httpx.Client, sample: SampleCatalogue) -> None:
    assert _call(client, "organization_list")["result"] == ["acme", "alesund", "molde"]
    detailed = _call(client, "organization_list", all_fields=True)["result"]
    assert {org["name"]: org["package_count"] for org in detailed} == {
        "acme": 0, "alesund": 0, "molde": 3}
    anonymous = _call(client, "organization_show", id="molde", include_datasets=True)["result"]
    assert {package["name"] for package in anonymous["packages"]} == set(sample.public)
    member = _call(client, "organization_show", sample.tokens["mia"], id="molde",
                   include_datasets=True)["result"]
    assert len(member["packages"]) == member["package_count"] == 5
    _call(client, "organization_show", id="nowhere", status=404)
    assert _call(client, "group_list")["result"] == ["gove", "regi", "soci"]
    status = _call(client, "status_show")["result"]
    assert status["ckan_version"].startswith("2.") and "dcat" in status["extensions"]


def test_ckanapi_client_against_a_running_server(bylab: Bylab, sample: SampleCatalogue) -> None:
    with running_server(bylab) as url:
        site = ckanapi.RemoteCKAN(url)
        member = ckanapi.RemoteCKAN(url, apikey=sample.tokens["mia"])
        assert site.action.package_list() == sorted(sample.public)
        found = site.action.package_search(fq="organization:molde", rows=2, start=0,
                                           sort="name asc")
        assert found["count"] == 3
        assert [package["name"] for package in found["results"]] == sorted(sample.public)[:2]
        package = site.action.package_show(id="molde-population")
        resource = site.action.resource_show(id=package["resources"][1]["id"])
        assert resource["format"] == "Parquet"
        assert site.action.organization_list() == ["acme", "alesund", "molde"]
        assert site.action.organization_show(id="molde")["title"] == "Molde kommune"
        assert site.action.status_show()["site_url"] == url
        with pytest.raises(ckanapi.NotFound):
            site.action.package_show(id=sample.private)
        assert member.action.package_show(id=sample.private)["private"] is True
        private_search = member.action.package_search(include_private=True, fq="tags:internal")
        assert [package["name"] for package in private_search["results"]] == [sample.private]
        assert site.action.package_search(include_private=True, fq="tags:internal")["count"] == 0
        with pytest.raises(ckanapi.ValidationError):
            site.action.package_search(rows=5000)


def test_ckanapi_command_line(bylab: Bylab, sample: SampleCatalogue, tmp_path: Path) -> None:
    with running_server(bylab) as url:
        searched = subprocess.run(
            [str(CKANAPI_CLI), "action", "package_search", "-r", url, "q=population"],
            capture_output=True, text=True, timeout=60, check=True)
        assert [package["name"] for package in json.loads(searched.stdout)["results"]] == [
            "molde-population"]
        dump = tmp_path / "datasets.jsonl"
        # dump starts its workers as `ckanapi` from PATH.
        path = f"{CKANAPI_CLI.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        subprocess.run([str(CKANAPI_CLI), "dump", "datasets", "--all", "-r", url, "-O", str(dump),
                        "-q"], capture_output=True, text=True, timeout=120, check=True,
                       env={**os.environ, "PATH": path})
        dumped = [json.loads(line) for line in dump.read_text().splitlines()]
        assert sorted(package["name"] for package in dumped) == sorted(sample.public)
