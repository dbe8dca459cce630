"""Search quality on the labelled evaluation set (tests/data/registry/search_eval.yaml):
recall@5 and MRR over 60+ queries in en, nb, sv and pl, with floors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bylab.auth import actions as accounts
from bylab.core import Bylab, Context
from bylab.registry.actions import ProjectInput, project_create
from bylab.registry.evaluation import LabelledQuery, QualityReport, evaluate
from bylab.registry.search import registry_search

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "registry" / "search_eval.yaml"
RECALL_FLOOR = 0.8
MRR_FLOOR = 0.85
TYPO_RECALL_FLOOR = 0.6


def eval_set() -> dict[str, Any]:
    return yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))


def load_records(ctx: Context, records: list[dict[str, Any]]) -> None:
    accounts.organisation_create(ctx, "eval-org", "Evaluation records")
    for record in records:
        project_create(ctx, "eval-org", ProjectInput(
            name=record["name"], title={record["lang"]: record["title"]},
            description={record["lang"]: record["text"]}, domains=record["domains"],
            technologies=record["technologies"]))


def labelled(entries: list[dict[str, Any]]) -> list[LabelledQuery]:
    return [LabelledQuery(entry["q"], entry["lang"], tuple(entry["relevant"]),
                          entry.get("typo", False)) for entry in entries]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, QualityReport]:
    from bylab.testing.backends import embedded_instance

    data = eval_set()
    bylab: Bylab = embedded_instance(tmp_path_factory.mktemp("eval"))
    try:
        load_records(bylab.system_context(), data["records"])
        ctx = bylab.context()
        langs = {record["name"]: record["lang"] for record in data["records"]}
        queries = labelled(data["queries"])

        def search(query: LabelledQuery) -> list[str]:
            return [hit.name for hit in registry_search(ctx, query.text, query.lang)]

        return {"all": evaluate(search, [q for q in queries if not q.typo], langs),
                "typo": evaluate(search, [q for q in queries if q.typo], langs)}
    finally:
        bylab.close()


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
    plural = registry_search(reader, "trygghetsalarmer", "nb")
    assert [hit.name for hit in plural] == ["test-alarm"] and plural[0].reason == "text"
    typo = registry_search(reader, "trygghetsalram", "nb")
    assert [hit.name for hit in typo] == ["test-alarm"]
    assert typo[0].reason == "text; typo: 'trygghetsalram' → 'trygghetsalarm'"
    assert [hit.name for hit in registry_search(reader, "alarm og", "nb")] == ["test-alarm"]
    assert registry_search(reader, "og", "nb") == []
