"""Why a record was found or matched: a code with parameters, shown translated in the pages
and as English text in the API (``reason``), both from one message per code.

The messages are marked with ``N_``; a page shows ``_(reason.message)|format(**params)``,
with the parameters that name a vocabulary word (a stage, a record type) translated too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bylab.registry.embeddings import MODEL_NAME
from bylab.web.i18n import N_

ReasonParam = str | int | float

MESSAGES: dict[str, str] = {
    # search
    "taxonomy": N_("taxonomy: '%(query_phrase)s' ↔ '%(record_phrase)s'"),
    "taxonomy_in_text": N_("taxonomy: '%(query_phrase)s' ↔ '%(record_phrase)s' "
                           "(%(lang)s, in text)"),
    "text": N_("text"),
    "typo": N_("typo: '%(wrong)s' → '%(right)s'"),
    # search and matching
    "embedding": N_("embedding similarity %(similarity).2f (%(model)s)"),
    # matching
    "shared_domain": N_("shared domain: %(label)s"),
    "shared_technology": N_("shared technology: %(label)s"),
    "shared_term": N_("shared term: '%(phrase)s' ↔ '%(label)s'"),
    "term_in_text": N_("term in text: '%(phrase)s' (%(label)s)"),
    "kpi": N_("KPI %(code)s (%(name)s) ↔ %(labels)s"),
    "stage": N_("stage reached: %(stage)s"),
    "deployed": N_("deployed in %(count)d project(s)"),
    "similar_size": N_("similar size: %(other)s and %(mine)s both have %(band)s inhabitants"),
    "similar_area": N_("similar area: %(other)s %(other_km2).0f km², %(mine)s %(mine_km2).0f km²"),
    "runs_project": N_("runs project '%(title)s'"),
    "offers_solution": N_("offers solution '%(title)s'"),
    "partner": N_("partner in project '%(title)s'"),
    "partner_role": N_("partner in project '%(title)s' (%(role)s)"),
}
# Reason kinds a page shows as badges (``_(reason.kind)``) beyond those bylab.web.i18n lists.
SEARCH_KINDS = (N_("taxonomy"), N_("text"), N_("typo"), N_("embedding"))
# Parameters holding a word of the UI's vocabulary (a stage), translated on the pages.
VOCABULARY_PARAMS = frozenset({"stage"})


@dataclass(frozen=True)
class Reason:
    """One reason: ``kind`` groups reasons (domain, term, text, embedding, …) for badges and
    tests; ``code`` picks the message; ``score`` is what it added (0 when it only explains)."""

    kind: str
    code: str
    params: Mapping[str, ReasonParam] = field(default_factory=dict)
    score: float = 0.0

    def __post_init__(self) -> None:
        if self.code not in MESSAGES:
            raise ValueError(f"unknown reason code '{self.code}'")

    @property
    def message(self) -> str:
        """The untranslated message, with placeholders."""
        return MESSAGES[self.code]

    @property
    def text(self) -> str:
        """The reason in English."""
        return self.message % dict(self.params) if self.params else self.message

    def translated_params(self, gettext: Callable[[str], str]) -> dict[str, ReasonParam]:
        """The parameters, vocabulary words translated (for a page's ``format``)."""
        return {name: gettext(value) if name in VOCABULARY_PARAMS and isinstance(value, str)
                else value for name, value in self.params.items()}

    def as_dict(self) -> dict[str, object]:
        """The structured form the API returns: code and parameters."""
        return {"code": self.code, **self.params}


def embedding_reason(similarity: float, score: float = 0.0) -> Reason:
    """The reason a record counted through its sentence embedding."""
    return Reason("embedding", "embedding", {"similarity": round(similarity, 2),
                                             "model": MODEL_NAME}, score)


def joined(reasons: list[Reason]) -> str:
    """The reasons in English, as the API's ``reason`` string."""
    return "; ".join(reason.text for reason in reasons)
