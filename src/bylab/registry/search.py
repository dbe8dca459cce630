"""Search across projects, challenges and solutions, in any of the four languages.

A record scores for each taxonomy term found in the query: most when the record is tagged
with it, less when one of the term's phrases (in any language) occurs in its text. It also
scores for the query's own words found in its text. Each hit says why it was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.registry.models import Challenge, Project, Solution
from bylab.registry.taxonomy import (
    LANGUAGES,
    TermMatch,
    phrase_in,
    terms_in,
    word_matches,
    words_of,
)

RecordType = Literal["project", "challenge", "solution"]
MODEL_BY_TYPE: dict[str, type[Project | Challenge | Solution]] = {
    "project": Project, "challenge": Challenge, "solution": Solution}
TAGGED_SCORE = 2.0
TERM_IN_TEXT_SCORE = 1.5
ALL_WORDS_SCORE = 1.0


@dataclass(frozen=True)
class SearchHit:
    type: str
    id: str
    name: str
    title: str
    score: float
    reason: str


def _record_terms(record: Project | Challenge | Solution) -> set[str]:
    return set(record.domains) | set(getattr(record, "technologies", []))


def _record_lang(record: Project | Challenge | Solution, wanted: str | None) -> str:
    if wanted and wanted in record.title:
        return wanted
    return next((lang for lang in record.title if lang in LANGUAGES), "en")


def _taxonomy_score(match: TermMatch, record: Project | Challenge | Solution,
                    text_words: list[str]) -> tuple[float, str] | None:
    if match.term.key in _record_terms(record):
        label = match.term.label(_record_lang(record, None))
        return TAGGED_SCORE, f"taxonomy: '{match.phrase}' ↔ '{label}'"
    record_lang = _record_lang(record, None)
    phrases = sorted(match.term.all_phrases(), key=lambda pair: pair[0] != record_lang)
    for lang, phrase in phrases:
        if phrase_in(words_of(phrase), text_words):
            return TERM_IN_TEXT_SCORE, f"taxonomy: '{match.phrase}' ↔ '{phrase}' ({lang}, in text)"
    return None


def _text_score(query_words: list[str], text_words: list[str]) -> float:
    """Share of the query's words the text holds (a word may be the start of a text word)."""
    if not query_words:
        return 0.0
    found = sum(any(word == text_word or (len(word) >= 3 and text_word.startswith(word))
                    for text_word in text_words) for word in query_words)
    return ALL_WORDS_SCORE * found / len(query_words)


def _words_left(query_words: list[str], matches: list[TermMatch]) -> list[str]:
    """The query's words no matched taxonomy phrase accounts for."""
    covered = [word for match in matches for word in words_of(match.phrase)]
    return [word for word in query_words
            if not any(word_matches(phrase_word, word) for phrase_word in covered)]


def _score(record: Project | Challenge | Solution, matches: list[TermMatch],
           query_words: list[str]) -> tuple[float, list[str]]:
    text_words = words_of(record.search_text)
    score, reasons = 0.0, []
    for match in matches:
        scored = _taxonomy_score(match, record, text_words)
        if scored:
            score += scored[0]
            reasons.append(scored[1])
    # Words a taxonomy term explains already do not count twice.
    text_score = _text_score(_words_left(query_words, matches), text_words)
    # Every remaining word, or (when no taxonomy term helps) at least half of them.
    if text_score == ALL_WORDS_SCORE or (text_score >= ALL_WORDS_SCORE / 2 and not matches):
        score += text_score
        reasons.append("text")
    return round(score, 3), reasons


def registry_search(ctx: Context, text: str, lang: str | None = None,
                    type: RecordType | None = None, limit: int = 50) -> list[SearchHit]:
    """Projects, challenges and solutions matching ``text``, best first, each with its score
    and the reason it matched ("taxonomy: 'vann' ↔ 'water'" or "text"). Accents do not
    matter; a query in one language finds records in another through shared taxonomy terms.
    ``lang`` is the query's language (its taxonomy phrases are tried first, and titles are
    given in it where they exist); ``type`` limits the search to one kind of record."""
    query_words = [word for word in words_of(text) if len(word) >= 2]
    if not query_words:
        raise InvalidInput("give some words to search for", field="q")
    if type is not None and type not in MODEL_BY_TYPE:
        raise InvalidInput(f"type must be one of {', '.join(MODEL_BY_TYPE)}", field="type")
    matches = terms_in(text, lang)
    hits = []
    with ctx.db.session() as session:
        for type_name, model in MODEL_BY_TYPE.items():
            if type and type != type_name:
                continue
            for record in session.scalars(select(model)):
                score, reasons = _score(record, matches, query_words)
                if score > 0:
                    title = (record.title.get(_record_lang(record, lang))
                             or next(iter(record.title.values())))
                    hits.append(SearchHit(type_name, record.id, record.name, title, score,
                                          "; ".join(reasons)))
    hits.sort(key=lambda hit: (-hit.score, hit.title))
    return hits[:limit]
