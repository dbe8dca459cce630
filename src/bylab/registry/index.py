"""The registry's search index, kept in step with the records by the actions that write them.

Per record it holds (1) the taxonomy terms the record is tagged with (``TAGGED_SCORE``) or
whose phrase, in any language, is in its text (``TERM_IN_TEXT_SCORE``), and (2) the word stems
of its text: each word stemmed by the Snowball stemmer of each of the record's languages
(English, Norwegian, Swedish; Polish has no Snowball stemmer, so Polish-only records keep
their words, which a query word matches as a prefix). A vocabulary of every stem lets search
correct a query word that matches nothing (typo tolerance).

It also marks each record's sentence embedding pending when its text changed
(``bylab.registry.embeddings``; computed in the background once the write commits).

A database whose records predate the index (migration 0009) fills it at its first search
(``ensure_index``); after a change to ``taxonomy.yaml``, run ``bylab registry reindex``."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import snowballstemmer
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.registry.embeddings import vector_row_update, vector_rows_sync
from bylab.registry.models import (
    Challenge,
    Project,
    SearchTerm,
    SearchVocabulary,
    SearchWord,
    Solution,
)
from bylab.registry.taxonomy import LANGUAGES, taxonomy, terms_in, words_of

TAGGED_SCORE = 2.0
TERM_IN_TEXT_SCORE = 1.5
MIN_WORD = 2
MAX_WORD = 100
STEMMER_NAMES = {"en": "english", "nb": "norwegian", "sv": "swedish"}
MODEL_BY_TYPE: dict[str, type[Project | Challenge | Solution]] = {
    "project": Project, "challenge": Challenge, "solution": Solution}
_local = threading.local()  # Snowball stemmers keep state: one set per thread


def _stemmer(lang: str) -> snowballstemmer.stemmer:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {code: snowballstemmer.stemmer(name)
                                      for code, name in STEMMER_NAMES.items()}
    return stemmers[lang]


def stems(word: str, langs: Iterable[str]) -> set[str]:
    """The word's stems in those languages (the word itself when none has a stemmer)."""
    found = {_stemmer(lang).stemWord(word) for lang in langs if lang in STEMMER_NAMES}
    return found or {word}


def record_langs(record: Project | Challenge | Solution) -> list[str]:
    texts = [record.title, getattr(record, "description", None) or getattr(record, "needs", {})]
    return sorted({lang for text in texts for lang in text if lang in LANGUAGES})


def main_lang(record: Project | Challenge | Solution) -> str:
    return next((lang for lang in record.title if lang in LANGUAGES), "en")


def term_rows(record_type: str, record: Project | Challenge | Solution) -> list[dict[str, object]]:
    """The record's taxonomy terms: tagged ones, then others whose phrase is in its text
    (phrases of the record's own language tried first)."""
    lang = main_lang(record)
    tagged = list(dict.fromkeys([*record.domains, *getattr(record, "technologies", [])]))
    rows: list[dict[str, object]] = []
    for key in tagged:
        rows.append({"term_key": key, "record_id": record.id, "record_type": record_type,
                     "score": TAGGED_SCORE, "phrase": taxonomy()[key].label(lang),
                     "lang": lang, "tagged": True})
    for match in terms_in(record.search_text, lang):
        if match.term.key not in tagged:
            rows.append({"term_key": match.term.key, "record_id": record.id,
                         "record_type": record_type, "score": TERM_IN_TEXT_SCORE,
                         "phrase": match.phrase[:200], "lang": match.lang, "tagged": False})
    return rows


def word_rows(record_type: str, record: Project | Challenge | Solution) -> list[dict[str, str]]:
    langs = record_langs(record)
    words = {stem for word in words_of(record.search_text) if MIN_WORD <= len(word) <= MAX_WORD
             for stem in stems(word, langs)}
    return [{"word": word, "record_id": record.id, "record_type": record_type}
            for word in sorted(words)]


def _add_vocabulary(session: Session, words: set[str]) -> None:
    if not words:
        return
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(
        SearchVocabulary).on_conflict_do_nothing()
    session.execute(statement, [{"word": word} for word in sorted(words)])


def store_index_rows(session: Session, terms: list[dict[str, object]],
                     words: list[dict[str, str]]) -> None:
    """Insert index rows (of records not yet in the index) in bulk."""
    if terms:
        session.execute(insert(SearchTerm), terms)
    if words:
        session.execute(insert(SearchWord), words)
    _add_vocabulary(session, {row["word"] for row in words})


def index_record(session: Session, record_type: str,
                 record: Project | Challenge | Solution, remove: bool = False) -> None:
    """(Re)index one record, in the transaction that writes it; ``remove``: take it out of
    the index (it is being deleted)."""
    session.flush()
    for model in (SearchTerm, SearchWord):
        session.execute(delete(model).where(model.record_id == record.id))
    vector_row_update(session, record_type, record, remove)
    if not remove:
        store_index_rows(session, term_rows(record_type, record),
                         word_rows(record_type, record))


def reindex(ctx: Context) -> int:
    """Rebuild the whole index from the records, marking the vectors of new or changed texts
    pending (``embed_pending`` computes them); how many records it holds."""
    count = 0
    with ctx.db.session() as session:
        for model in (SearchTerm, SearchWord, SearchVocabulary):
            session.execute(delete(model))
        records = [(record_type, record) for record_type, model in MODEL_BY_TYPE.items()
                   for record in session.scalars(select(model))]
        for record_type, record in records:
            store_index_rows(session, term_rows(record_type, record),
                             word_rows(record_type, record))
            count += 1
        vector_rows_sync(session, records)
    return count


def ensure_index(ctx: Context) -> None:
    """Build the index when it is empty while records exist (records older than it)."""
    with ctx.db.session() as session:
        if session.scalar(select(SearchWord.record_id).limit(1)) is not None:
            return
        if not any(session.scalar(select(model.id).limit(1))
                   for model in MODEL_BY_TYPE.values()):
            return
    reindex(ctx)
