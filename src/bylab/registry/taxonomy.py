"""The registry's multilingual taxonomy of domains and technologies (``taxonomy.yaml``) and
matching of its terms in folded text, tolerant of short inflection endings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

import yaml

from bylab.catalog.queries import fold_text
from bylab.errors import InvalidInput

LANGUAGES = ("en", "nb", "sv", "pl")
TermKind = Literal["domains", "technologies"]
_WORD = re.compile(r"\w+")
_MAX_ENDING = 3  # "tvilling" → "tvillinger", "sensor" → "sensorer"


@dataclass(frozen=True)
class Term:
    key: str
    kind: TermKind
    phrases: dict[str, tuple[str, ...]]  # language -> label first, then synonyms

    def label(self, lang: str) -> str:
        return (self.phrases.get(lang) or self.phrases["en"])[0]

    def all_phrases(self, lang: str | None = None) -> list[tuple[str, str]]:
        """(language, phrase) pairs, of one language or of all."""
        langs = [lang] if lang else list(self.phrases)
        return [(code, phrase) for code in langs for phrase in self.phrases.get(code, ())]


@dataclass(frozen=True)
class TermMatch:
    term: Term
    phrase: str  # the taxonomy phrase found in the text
    lang: str


@cache
def taxonomy() -> dict[str, Term]:
    """Every term by key (keys are unique across domains and technologies)."""
    raw = yaml.safe_load(files("bylab.registry").joinpath("taxonomy.yaml").read_text("utf-8"))
    terms: dict[str, Term] = {}
    for kind in ("domains", "technologies"):
        for key, by_lang in raw[kind].items():
            terms[key] = Term(key, kind, {lang: tuple(words) for lang, words in by_lang.items()})
    return terms


def check_terms(keys: list[str], kind: TermKind) -> list[str]:
    """The keys, if each names a term of that kind; InvalidInput naming the field otherwise."""
    known = {key for key, term in taxonomy().items() if term.kind == kind}
    for key in keys:
        if key not in known:
            raise InvalidInput("unknown term '{term}'; known: {known}", field=kind, term=key,
                               known=", ".join(sorted(known)))
    return list(dict.fromkeys(keys))


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold_text(text))


@cache
def phrase_words(phrase: str) -> tuple[str, ...]:
    """The folded words of a taxonomy phrase (cached: phrases are few and asked often)."""
    return tuple(words_of(phrase))


def word_matches(expected: str, found: str) -> bool:
    if len(expected) < 4:
        return found == expected
    return found.startswith(expected) and len(found) - len(expected) <= _MAX_ENDING


def phrase_in(wanted: Sequence[str], text_words: Sequence[str]) -> bool:
    """Whether the phrase's words occur in a row in the text (each may carry a short ending)."""
    size = len(wanted)
    return size > 0 and any(
        all(word_matches(word, text_words[start + i]) for i, word in enumerate(wanted))
        for start in range(len(text_words) - size + 1))


def terms_in(text: str, lang: str | None = None) -> list[TermMatch]:
    """The taxonomy terms whose label or a synonym occurs in the text (longest phrase per
    term). With ``lang``, that language's phrases are tried first, then all others."""
    text_words = words_of(text)
    matches = []
    for term in taxonomy().values():
        found = _longest_phrase_in(term, text_words, lang)
        if found is None and lang:
            found = _longest_phrase_in(term, text_words, None)
        if found:
            matches.append(TermMatch(term, found[1], found[0]))
    return matches


def _longest_phrase_in(term: Term, text_words: list[str],
                       lang: str | None) -> tuple[str, str] | None:
    candidates = [(code, phrase) for code, phrase in term.all_phrases(lang)
                  if phrase_in(phrase_words(phrase), text_words)]
    return max(candidates, key=lambda pair: len(pair[1]), default=None)
