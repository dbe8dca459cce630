"""Measuring search quality on a labelled set of queries: recall@5, mean reciprocal rank, and
recall per language pair (query language → record language).

- recall@5 of a query: the share of its relevant records among the first five hits, out of
  at most five (a query with seven relevant records scores 1.0 when five are on top);
- reciprocal rank: 1 / the rank of the first relevant hit (0 when none is found);
- per language pair: of the relevant records in language R for queries in language Q, the
  share found among the first max(5, number relevant) hits."""

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
