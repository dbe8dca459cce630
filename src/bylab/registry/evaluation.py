"""Measuring search quality on a labelled set of queries: recall@5, mean reciprocal rank, and
recall per language pair (query language → record language).

- recall@5 of a query: the share of its relevant records among the first five hits, out of
  at most five (a query with seven relevant records scores 1.0 when five are on top);
- reciprocal rank: 1 / the rank of the first relevant hit (0 when none is found);
- per language pair: of the relevant records in language R for queries in language Q, the
  share found among the first max(5, number relevant) hits.

``evaluate_methods`` scores the same queries once per search method (lexical and taxonomy
alone, embeddings alone, both fused), for the benchmark to print side by side."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import mean

RECALL_AT = 5


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    lang: str
    relevant: tuple[str, ...]  # record names
    typo: bool = False


@dataclass
class QualityReport:
    recall_at_5: float
    mrr: float
    queries: int
    by_pair: dict[str, float] = field(default_factory=dict)  # "nb→sv" -> recall
    misses: list[str] = field(default_factory=list)  # queries with recall@5 < 1

    def lines(self) -> list[str]:
        pairs = "  ".join(f"{pair} {value:.2f}" for pair, value in sorted(self.by_pair.items()))
        return [f"queries {self.queries}  recall@5 {self.recall_at_5:.3f}  MRR {self.mrr:.3f}",
                f"recall by language pair: {pairs}"]

    def summary(self) -> str:
        return f"recall@5 {self.recall_at_5:.3f}  MRR {self.mrr:.3f}"


def evaluate(search: Callable[[LabelledQuery], Sequence[str]], queries: Sequence[LabelledQuery],
             record_lang: dict[str, str]) -> QualityReport:
    """Run every query through ``search`` (ranked record names) and score the rankings."""
    recalls, reciprocal_ranks = [], []
    found_by_pair: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for query in queries:
        ranked = list(search(query))
        relevant = set(query.relevant)
        top = set(ranked[:RECALL_AT])
        recall = len(relevant & top) / min(len(relevant), RECALL_AT)
        recalls.append(recall)
        first = next((rank for rank, name in enumerate(ranked, 1) if name in relevant), None)
        reciprocal_ranks.append(1 / first if first else 0.0)
        wide = set(ranked[:max(RECALL_AT, len(relevant))])
        for name in relevant:
            found_by_pair[f"{query.lang}→{record_lang[name]}"].append(name in wide)
        if recall < 1:
            misses.append(f"{query.text} ({query.lang}): {recall:.2f}")
    return QualityReport(round(mean(recalls), 3), round(mean(reciprocal_ranks), 3),
                         len(queries),
                         {pair: round(mean(found), 2) for pair, found in found_by_pair.items()},
                         misses)


def evaluate_methods(search: Callable[[LabelledQuery, str], Sequence[str]],
                     queries: Sequence[LabelledQuery], record_lang: dict[str, str],
                     methods: Sequence[str]) -> dict[str, QualityReport]:
    """``evaluate`` once per method; ``search`` takes the query and the method's name."""
    return {method: evaluate(lambda query, chosen=method: search(query, chosen), queries,
                             record_lang) for method in methods}


def pair_table(reports: dict[str, QualityReport]) -> list[str]:
    """Recall per language pair, one row per pair and one column per method."""
    methods = list(reports)
    pairs = sorted({pair for report in reports.values() for pair in report.by_pair})
    rows = ["pair    " + "".join(f"{method:>11}" for method in methods)]
    for pair in pairs:
        rows.append(f"{pair:8}" + "".join(
            f"{reports[method].by_pair.get(pair, 0.0):>11.2f}" for method in methods))
    return rows
