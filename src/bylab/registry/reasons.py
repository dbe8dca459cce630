"""Why a record was found or matched: a code with parameters, shown translated in the pages
and as English text in the API (``reason``), both from one message per code.

The messages are marked for extraction (``N_``, ``Plural.ngettext`` for those with a plural
form); a page shows ``reason.in_language(lang)``: the message translated, the form chosen by
``count``, the parameters that name a vocabulary word (a stage) translated and the numbers with
fixed decimals (``%(similarity).2f``) written with the language's separators."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from bylab.registry.embeddings import MODEL_NAME
from bylab.web.i18n import N_, format_number, translations_for

ReasonParam = str | int | float


class Plural(NamedTuple):
    """A message with a singular and a plural form, chosen by the reason's ``count``."""

    singular: str
    plural: str

    @classmethod
    def ngettext(cls, singular: str, plural: str) -> Plural:
        """Mark both forms for extraction (the extractor reads ``ngettext`` calls) without
        translating them now."""
        return cls(singular, plural)


MESSAGES: dict[str, str | Plural] = {
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
    "deployed": Plural.ngettext("deployed in %(count)d project",
                                "deployed in %(count)d projects"),
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
PLURAL_PARAM = "count"
# A number with fixed decimals; on a page it is written with the language's separators.
FIXED_DECIMALS = re.compile(r"%\((\w+)\)\.(\d+)f")


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
        if isinstance(MESSAGES[self.code], Plural) and PLURAL_PARAM not in self.params:
            raise ValueError(f"reason '{self.code}' needs its '{PLURAL_PARAM}'")

    @property
    def message(self) -> str:
        """The untranslated message, with placeholders (the form for the reason's count)."""
        return self._message_in(_english_gettext, _english_ngettext)

    @property
    def text(self) -> str:
        """The reason in English (numbers as Python writes them: 0.46)."""
        return self.message % dict(self.params) if self.params else self.message

    def in_language(self, language: str) -> str:
        """The reason in ``language`` for a page: translated, its numbers with the
        language's separators; English when a translation's placeholders do not fit."""
        translations = translations_for(language)
        translated = self._message_in(translations.gettext, translations.ngettext)
        params = self.translated_params(translations.gettext)
        try:
            return _with_local_numbers(translated, params, language)
        except (KeyError, ValueError, TypeError):
            return _with_local_numbers(self.message, params, language)

    def _message_in(self, gettext: Callable[[str], str],
                    ngettext: Callable[[str, str, int], str]) -> str:
        message = MESSAGES[self.code]
        if isinstance(message, Plural):
            return ngettext(message.singular, message.plural, int(self.params[PLURAL_PARAM]))
        return gettext(message)

    def translated_params(self, gettext: Callable[[str], str]) -> dict[str, ReasonParam]:
        """The parameters, vocabulary words translated (for a page's ``format``)."""
        return {name: gettext(value) if name in VOCABULARY_PARAMS and isinstance(value, str)
                else value for name, value in self.params.items()}

    def as_dict(self) -> dict[str, object]:
        """The structured form the API returns: code and parameters."""
        return {"code": self.code, **self.params}


def _english_gettext(message: str) -> str:
    return message


def _english_ngettext(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def _with_local_numbers(message: str, params: Mapping[str, ReasonParam],
                        language: str) -> str:
    """``message`` filled with ``params``, each fixed-decimal number written in the
    language (0,46 in nb, sv and pl)."""
    if not params:
        return message
    shown = dict(params)

    def as_text(placeholder: re.Match[str]) -> str:
        name, decimals = placeholder.group(1), int(placeholder.group(2))
        shown[name] = format_number(float(params[name]), language, decimals)
        return f"%({name})s"

    return FIXED_DECIMALS.sub(as_text, message) % shown


def embedding_reason(similarity: float, score: float = 0.0) -> Reason:
    """The reason a record counted through its sentence embedding."""
    return Reason("embedding", "embedding", {"similarity": round(similarity, 2),
                                             "model": MODEL_NAME}, score)


def joined(reasons: list[Reason]) -> str:
    """The reasons in English, as the API's ``reason`` string."""
    return "; ".join(reason.text for reason in reasons)
