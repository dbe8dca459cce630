"""The per-process catalogue read cache (package_search, package_show, dataset pages) never
serves stale or private data: every catalogue write moves the revision it is keyed by, in
this process or another, and readers who see different datasets never share an entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.actions import actor_from_token
from bylab.auth.models import Role
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog import queries
from bylab.catalog.publish import (
    dataset_add_version,
    dataset_delete,
    dataset_publish,
    dataset_share_set,
    dataset_update,
)
from bylab.catalog.queries import CatalogReadCache, catalog_revision, read_cache
from bylab.core import Bylab, Context
from tests.conftest import TEST_DATA

CSV = TEST_DATA / "catalog" / "no_population_molde_region_cp1252.csv"
XLSX = TEST_DATA / "catalog" / "se_population_2023_2024.xlsx"
BYLAB_CLI = Path(sys.executable).parent / "bylab"


def _editor(bylab: Bylab, token: str) -> Context:
    return bylab.context(actor_from_token(bylab.context(), token))


def _publish(ctx: Context, name: str, visibility: str = "public",
             shared_with: tuple[str, ...] = ()) -> None:
    dataset_publish(ctx, DatasetMetadata(
        name=name, title={"en": "Population"}, organisation="molde", visibility=visibility,
        shared_with=list(shared_with), keywords=["population"]), CSV)


def _search(client: httpx.Client, token: str | None = None, **params: object) -> dict[str, Any]:
    headers = {"X-CKAN-API-Key": token} if token else {}
    response = client.get("/api/3/action/package_search", params={"q": "population", **params},
                          headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["result"]  # type: ignore[no-any-return]


def _names(result: dict[str, Any]) -> list[str]:
    return sorted(package["name"] for package in result["results"])


def _cached_twice(client: httpx.Client, bylab: Bylab, **params: object) -> dict[str, Any]:
    """A search asked twice with nothing written between: the second answer is the cache's."""
    first = _search(client, **params)
    revision = catalog_revision(bylab.context())
    assert _search(client, **params) == first
    searches = read_cache(bylab.context(), "package_search")
    assert searches.revision == revision and len(searches)
    return first


def test_cached_search_sees_every_write_at_once(bylab: Bylab, accounts_setup: dict[str, str],
                                               client: httpx.Client) -> None:
    mia = _editor(bylab, accounts_setup["mia"])
    _publish(mia, "population-a")
    assert _names(_cached_twice(client, bylab)) == ["population-a"]

    _publish(mia, "population-b")
    assert _names(_cached_twice(client, bylab)) == ["population-a", "population-b"]

    dataset_add_version(mia, "population-b", XLSX)
    found = {package["name"]: package for package in _cached_twice(client, bylab)["results"]}
    assert (found["population-a"]["version"], found["population-b"]["version"]) == ("1", "2")

    dataset_update(mia, "population-a", DatasetMetadata(
        name="population-a", title={"en": "Population, renamed"}, organisation="molde",
        visibility="public", keywords=["population"]))
    found = {package["name"]: package for package in _cached_twice(client, bylab)["results"]}
    assert found["population-a"]["title"] == "Population, renamed"

    dataset_share_set(mia, "population-a", "private", [])
    assert _names(_cached_twice(client, bylab)) == ["population-b"]

    dataset_delete(mia, "population-b")
    assert _cached_twice(client, bylab)["count"] == 0


def test_every_catalogue_table_moves_the_revision(bylab: Bylab,
                                                  accounts_setup: dict[str, str]) -> None:
    system = bylab.system_context()
    mia = _editor(bylab, accounts_setup["mia"])
    writes = [
        lambda: _publish(mia, "population-a"),  # datasets, dataset_versions
        lambda: dataset_share_set(mia, "population-a", "shared", ["smart-molde"]),  # shares
        lambda: accounts.organisation_create(system, "bergen", "Bergen kommune"),
        lambda: accounts.network_add_member(system, "smart-molde", "bergen"),
        lambda: accounts.membership_set(system, "ola", "molde", Role.VIEWER),
    ]
    for write in writes:
        before = catalog_revision(bylab.context())
        write()
        assert catalog_revision(bylab.context()) > before
    before = catalog_revision(bylab.context())
    with bylab.db.session() as session:  # a write around the actions is seen, too
        session.execute(text("UPDATE organisations SET title = 'Molde' WHERE name = 'molde'"))
    assert catalog_revision(bylab.context()) > before


def test_a_write_from_another_process_is_seen_at_once(embedded: Bylab,
                                                      tmp_path: Path) -> None:
    system = embedded.system_context()
    accounts.organisation_create(system, "molde", "Molde kommune")
    _publish(system, "population-a")
    with TestClient(create_app(embedded), base_url="http://testserver") as client:
        assert _names(_cached_twice(client, embedded)) == ["population-a"]
        environment = {**os.environ, "BYLAB_DATA_DIR": str(embedded.settings.data_dir),
                       "BYLAB_SECRET_KEY": "test-secret"}
        environment.pop("BYLAB_DATABASE_URL", None)
        subprocess.run([str(BYLAB_CLI), "dataset", "add", str(CSV), "--name", "population-b",
                        "--title", "Population", "--org", "molde", "--visibility", "public",
                        "--keyword", "population"], env=environment, check=True,
                       capture_output=True, timeout=120)
        assert _names(_search(client)) == ["population-a", "population-b"]
        shown = client.get("/api/3/action/package_show", params={"id": "population-b"})
        assert shown.status_code == 200


def test_readers_who_see_different_datasets_never_share_entries(
        bylab: Bylab, accounts_setup: dict[str, str], client: httpx.Client) -> None:
    mia = _editor(bylab, accounts_setup["mia"])
    _publish(mia, "population-open")
    _publish(mia, "population-private", visibility="private")
    _publish(mia, "population-network", visibility="shared", shared_with=("smart-molde",))
    tokens = accounts_setup
    everything = ["population-network", "population-open", "population-private"]
    # The most privileged reader asks first, so a shared entry would leak to the others.
    assert _names(_search(client, tokens["mia"], include_private="true")) == everything
    assert _names(_search(client, tokens["ola"], include_private="true")) == [
        "population-network", "population-open"]
    assert _names(_search(client, tokens["ada"], include_private="true")) == ["population-open"]
    assert _names(_search(client, include_private="true")) == ["population-open"]
    assert _names(_search(client, tokens["mia"])) == ["population-open"]  # CKAN's default
    for name, readers in (("population-private", ["mia"]), ("population-network", ["mia", "ola"])):
        for reader in ("mia", "ola", "ada", None):
            headers = {"X-CKAN-API-Key": tokens[reader]} if reader else {}
            allowed = reader in readers
            for path in (f"/api/3/action/package_show?id={name}", f"/datasets/{name}"):
                status = client.get(path, headers=headers).status_code
                assert status == (200 if allowed else 404), (path, reader)


def test_dataset_pages_keep_reader_specific_parts_per_reader(
        bylab: Bylab, accounts_setup: dict[str, str], client: httpx.Client) -> None:
    _publish(_editor(bylab, accounts_setup["mia"]), "population-open")
    as_editor = client.get("/datasets/population-open",
                           headers={"Authorization": f"Bearer {accounts_setup['mia']}"})
    as_visitor = client.get("/datasets/population-open")
    as_other_editor = client.get("/datasets/population-open",
                                 headers={"Authorization": f"Bearer {accounts_setup['ola']}"})
    assert "/datasets/population-open/edit" in as_editor.text
    assert "/datasets/population-open/edit" not in as_visitor.text
    assert "/datasets/population-open/edit" not in as_other_editor.text


def test_the_cache_is_bounded(bylab: Bylab, accounts_setup: dict[str, str],
                              client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "READ_CACHE_ENTRIES", 4)
    queries._read_caches.pop(bylab.db, None)  # made afresh with the smaller bound
    _publish(_editor(bylab, accounts_setup["mia"]), "population-open")
    searches = read_cache(bylab.context(), "package_search")
    for start in range(10):
        assert _search(client, start=start)["count"] == 1
        assert len(searches) <= 4
    assert len(searches) == 4


def test_least_recently_used_entries_go_first_and_old_revisions_are_not_kept() -> None:
    cache = CatalogReadCache(max_entries=2, max_weight=10)
    cache.put(1, "a", "A")
    cache.put(1, "b", "B")
    assert cache.get(1, "a") == "A"  # now b is the least recently used
    cache.put(1, "c", "C")
    assert (cache.get(1, "a"), cache.get(1, "b"), cache.get(1, "c")) == ("A", None, "C")
    cache.put(1, "heavy", "H", weight=10)
    assert len(cache) == 1 and cache.weight == 10
    cache.put(1, "too-heavy", "T", weight=11)  # never kept, and evicts nothing
    assert cache.get(1, "too-heavy") is None and cache.get(1, "heavy") == "H"
    cache.put(2, "a", "A2")
    assert (cache.get(1, "heavy"), cache.get(2, "a"), len(cache)) == (None, "A2", 1)
    cache.put(1, "late", "computed from revision 1")  # a slower reader's result: not kept
    assert cache.get(1, "late") is None and cache.get(2, "late") is None
