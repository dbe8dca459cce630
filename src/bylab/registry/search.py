"""Search across projects, challenges and solutions, in any of the four languages, through the
search index (``bylab.registry.index``).

A record scores for each taxonomy term found in the query: 2.0 when the record is tagged with
it, 1.5 when one of the term's phrases (in any language) occurs in its text. It also scores
for the query's own words found in its text (stemmed in the query's language; a query word
may be the start of a text word): the share of the words no taxonomy term explains, counted
when all of them are found, or at least half when no taxonomy term matched. A query word
that matches nothing is corrected to the nearest known word (one edit, two for words of
eight letters or more).

With the embedding channel on (``bylab.registry.embeddings``), the query's sentence embedding
is compared with every embedded record's (cosine similarity). A search never embeds records:
one whose vector is still pending (written a moment ago, computed in the background) is found
by taxonomy and text meanwhile, and the pages say how many are pending. Fusion is a weighted
sum: a similarity that reaches ``MIN_SIMILARITY`` adds ``EMBEDDING_WEIGHT`` times itself to
the score of a lexical candidate, and brings in the records nearest the query with that
alone.
Lexical scores step by 0.5 to 2.0 and similarities stay below about 0.6, so a record found by
taxonomy or text keeps its lead, similarity breaks ties among them, and records in another
language that share no term or word with the query come after. Each hit says why it was
found, and by which method."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeVar

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import Float, Select, and_, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.registry.embeddings import VectorIndex, query_vector, vector_index
from bylab.registry.index import MODEL_BY_TYPE, STEMMER_NAMES, ensure_index, stems
from bylab.registry.models import SearchTerm, SearchVocabulary, SearchWord
from bylab.registry.reasons import Reason, embedding_reason, joined
from bylab.registry.taxonomy import (
    LANGUAGES,
    TermMatch,
    phrase_words,
    taxonomy,
    terms_in,
    word_matches,
    words_of,
)

ScoredItem = TypeVar("ScoredItem", bound=tuple[str, Any])  # (record id, score or more)

RecordType = Literal["project", "challenge", "solution"]
# "fused": both channels (the default); the others one each, to measure them apart.
SearchMethod = Literal["fused", "lexical", "embedding"]
ALL_WORDS_SCORE = 1.0
MIN_PREFIX = 3  # shorter query words must match a whole word
MIN_TYPO_WORD = 4
LONG_WORD = 8  # from this length two edits count as a typo
TERM_BATCH = 256
MAX_TERM_BATCHES = 8
MAX_HOLDERS = 5_000
# Chosen on tests/data/registry/search_eval.yaml (bench/registry_search.py prints each
# method): USE-m v3 was not trained on Norwegian or Swedish, and unrelated records there reach
# 0.4. At 0.25 the cross-lingual queries gain most (recall@5 0.43 → 0.57) and the main set
# keeps its figures; at 0.35 fewer stray records come in but that gain halves; below 0.25
# near-zero similarities start reordering lexical ties. The weight changes no ranking in the
# set between 0.25 and 2 (lexical scores step by 0.5).
MIN_SIMILARITY = 0.25
EMBEDDING_WEIGHT = 1.0
# Function words of en, nb, sv and pl (folded): they say nothing about what a record is about.
STOP_WORDS = frozenset("""
a an and the of in on for to with by at or is are
og i pa med av til en et ei som er om fra
och for till ett ar att fran
w z na do dla o od oraz sie jest we ze
""".split())


@dataclass(frozen=True)
class SearchHit:
    type: str
    id: str
    name: str
    title: str
    score: float
    reason: str  # the reasons in English
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A record on its way to a hit: its score so far, whether its text counted, and its
    similarity to the query when embeddings count for it."""

    id: str
    type: str
    score: float
    text: bool
    similarity: float | None = None


def _upper(prefix: str) -> str:
    """The least string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _variants(word: str, lang: str | None) -> set[str]:
    return stems(word, [lang] if lang else STEMMER_NAMES) | {word}


@cache
def _taxonomy_words() -> tuple[str, ...]:
    return tuple(sorted({word for term in taxonomy().values()
                         for _lang, phrase in term.all_phrases() for word in words_of(phrase)
                         if len(word) >= MIN_TYPO_WORD}))


def _known(session: Session, word: str, lang: str | None) -> bool:
    if any(word_matches(known, word) or known.startswith(word) for known in _taxonomy_words()):
        return True
    return any(session.scalar(select(SearchVocabulary.word).where(
        SearchVocabulary.word >= variant, SearchVocabulary.word < _upper(variant)).limit(1))
        for variant in _variants(word, lang))


def _correction(session: Session, word: str) -> str | None:
    """The nearest known word (same first letter) within the typo distance, if any."""
    vocabulary = [*_taxonomy_words(), *session.scalars(select(SearchVocabulary.word).where(
        SearchVocabulary.word >= word[0], SearchVocabulary.word < _upper(word[0])))]
    candidates = sorted({known for known in vocabulary if known.startswith(word[0])})
    limit = 2 if len(word) >= LONG_WORD else 1
    best = process.extractOne(word, candidates, scorer=Levenshtein.distance,
                              score_cutoff=limit)
    return best[0] if best else None


def _corrected(session: Session, words: list[str], lang: str | None) -> dict[str, str]:
    corrections = {}
    for word in words:
        if len(word) >= MIN_TYPO_WORD and not _known(session, word, lang):
            if (better := _correction(session, word)) is not None:
                corrections[word] = better
    return corrections


def _words_left(query_words: list[str], matches: list[TermMatch]) -> list[str]:
    """The query's words no matched taxonomy phrase accounts for."""
    covered = [word for match in matches for _lang, phrase in match.term.all_phrases()
               for word in phrase_words(phrase)]
    return [word for word in query_words if word not in STOP_WORDS
            and not any(word_matches(phrase_word, word) for phrase_word in covered)]


def _word_hits(word: str, lang: str | None, type: str | None) -> Select[Any]:
    """Records whose text holds the word (any of its stems; as a prefix when at least three
    letters long), each once."""
    variants = []
    for variant in sorted(_variants(word, lang)):
        if len(variant) >= MIN_PREFIX:
            variants.append(and_(SearchWord.word >= variant, SearchWord.word < _upper(variant)))
        else:
            variants.append(SearchWord.word == variant)
    query = select(SearchWord.record_id, SearchWord.record_type).where(or_(*variants))
    if type:
        query = query.where(SearchWord.record_type == type)
    return query.distinct()


def _ranked(session: Session, matches: list[TermMatch], words: list[str], lang: str | None,
            type: str | None, limit: int) -> list[tuple[str, str, float, bool]]:
    """(record id, type, score, whether its text counted) of the best ``limit`` records,
    scored in the database: the scores of the matched terms plus the share of the remaining
    query words the text holds (when all are, or half when no term matched)."""
    if not matches:
        by_words = _ranked_by_words(session, words, lang, type, limit)
        if by_words is not None:
            return by_words
    holders = _holders_of_all(session, words, lang, type) if matches and words else {}
    if matches and holders is not None:
        keys = [match.term.key for match in matches]
        by_terms = (_ranked_by_one_term(session, keys[0], type, limit) if len(keys) == 1
                    else _ranked_by_terms(session, keys, type, limit))
        if by_terms is not None:
            return _with_text(session, keys, by_terms, holders, limit) if holders else by_terms
    parts = []
    if matches:
        terms = select(SearchTerm.record_id, SearchTerm.record_type,
                       SearchTerm.score.label("score"), literal(0).label("text")).where(
            SearchTerm.term_key.in_([match.term.key for match in matches]))
        parts.append(terms.where(SearchTerm.record_type == type) if type else terms)
    if words:
        hits = union_all(*(_word_hits(word, lang, type) for word in words)).subquery()
        found = func.count()
        needed = len(words) if matches else (len(words) + 1) // 2
        parts.append(select(hits.c.record_id, hits.c.record_type,
                            (cast(found, Float) * ALL_WORDS_SCORE / len(words)).label("score"),
                            literal(1).label("text"))
                     .group_by(hits.c.record_id, hits.c.record_type).having(found >= needed))
    if not parts:
        return []
    scored = union_all(*parts).subquery()
    total = func.sum(scored.c.score)
    query = (select(scored.c.record_id, scored.c.record_type, total, func.max(scored.c.text))
             .group_by(scored.c.record_id, scored.c.record_type)
             .order_by(total.desc(), scored.c.record_id.desc()).limit(limit))
    return [(record_id, kind, float(score), bool(text))
            for record_id, kind, score, text in session.execute(query)]


def _ranked_by_one_term(session: Session, key: str, type: str | None,
                        limit: int) -> list[tuple[str, str, float, bool]]:
    """``_ranked`` for a query that is one taxonomy term: read off the rank index."""
    query = select(SearchTerm.record_id, SearchTerm.record_type, SearchTerm.score).where(
        SearchTerm.term_key == key)
    if type:
        query = query.where(SearchTerm.record_type == type)
    query = query.order_by(SearchTerm.score.desc(), SearchTerm.record_id.desc()).limit(limit)
    return [(record_id, kind, float(score), False)
            for record_id, kind, score in session.execute(query)]


def _term_batch(session: Session, key: str, type: str | None,
                after: tuple[float, str] | None) -> list[tuple[str, str, float]]:
    """The next rows of one term in rank order (score, then record id, both descending)."""
    query = select(SearchTerm.record_id, SearchTerm.record_type, SearchTerm.score).where(
        SearchTerm.term_key == key)
    if type:
        query = query.where(SearchTerm.record_type == type)
    if after:
        query = query.where(or_(SearchTerm.score < after[0], and_(
            SearchTerm.score == after[0], SearchTerm.record_id < after[1])))
    query = query.order_by(SearchTerm.score.desc(), SearchTerm.record_id.desc())
    return [(record_id, kind, float(score))
            for record_id, kind, score in session.execute(query.limit(TERM_BATCH))]


def _ranked_by_terms(session: Session, keys: list[str], type: str | None,
                     limit: int) -> list[tuple[str, str, float, bool]] | None:
    """``_ranked`` for a query of several taxonomy terms, by Fagin's threshold algorithm:
    read each term's records best first, batch by batch, total the new ones' scores, and
    stop when no unread record can beat (or, at an equal score, outrank by id) the last of
    the best ``limit``. None when that takes more than ``MAX_TERM_BATCHES`` rounds (terms
    that rarely go together), for the caller to total every row instead."""
    totals: dict[str, tuple[str, float]] = {}
    last: dict[str, tuple[float, str] | None] = dict.fromkeys(keys)
    done: set[str] = set()
    for _round in range(MAX_TERM_BATCHES):
        new_ids: set[str] = set()
        for key in keys:
            if key in done:
                continue
            rows = _term_batch(session, key, type, last[key])
            if len(rows) < TERM_BATCH:
                done.add(key)
            if rows:
                last[key] = (rows[-1][2], rows[-1][0])
            new_ids.update(record_id for record_id, _kind, _score in rows
                           if record_id not in totals)
        if new_ids:
            totals.update({record_id: (kind, float(total)) for record_id, kind, total in
                           session.execute(select(SearchTerm.record_id, SearchTerm.record_type,
                                                  func.sum(SearchTerm.score))
                                           .where(SearchTerm.term_key.in_(keys),
                                                  SearchTerm.record_id.in_(new_ids))
                                           .group_by(SearchTerm.record_id,
                                                     SearchTerm.record_type))})
        best = _best(totals.items(), limit, lambda item: item[1][1])
        unread = [last[key] for key in keys if key not in done]
        threshold = sum(position[0] for position in unread if position)
        if not unread or (len(best) == limit and _beats_unread(best[-1], threshold, unread)):
            return [(record_id, kind, total, False) for record_id, (kind, total) in best]
    return None


def _best(items: Iterable[ScoredItem], limit: int,
          score: Callable[[ScoredItem], float]) -> list[ScoredItem]:
    """The ``limit`` items (record id first) of highest score, ties by descending id, as the
    index's SQL orders them."""
    return heapq.nlargest(limit, items, key=lambda item: (score(item), item[0]))


def _beats_unread(last_best: tuple[str, tuple[str, float]], threshold: float,
                  unread: list[tuple[float, str] | None]) -> bool:
    """Whether an unread record can neither score more than the last of the best nor, at the
    same score, come before it (an unread record at the threshold has, in every list, an
    id below the last one read there)."""
    record_id, (_kind, score) = last_best
    if score > threshold:
        return True
    return score == threshold and any(
        position is not None and record_id >= position[1] for position in unread)


def _holders(session: Session, word: str, lang: str | None,
             type: str | None) -> dict[str, str] | None:
    """Record id -> type of the records whose text holds the word; None when more than
    ``MAX_HOLDERS`` do (then totalling every row in the database is as quick)."""
    found = {record_id: kind for record_id, kind in
             session.execute(_word_hits(word, lang, type).limit(MAX_HOLDERS + 1))}
    return None if len(found) > MAX_HOLDERS else found


def _ranked_by_words(session: Session, words: list[str], lang: str | None, type: str | None,
                     limit: int) -> list[tuple[str, str, float, bool]] | None:
    """``_ranked`` for a query no taxonomy term matched: records holding at least half of
    its words score the share they hold. None when a word is too common to count here."""
    counts: dict[str, int] = defaultdict(int)
    kinds: dict[str, str] = {}
    for word in words:
        found = _holders(session, word, lang, type)
        if found is None:
            return None
        kinds.update(found)
        for record_id in found:
            counts[record_id] += 1
    needed = (len(words) + 1) // 2
    best = _best(((record_id, ALL_WORDS_SCORE * count / len(words))
                  for record_id, count in counts.items() if count >= needed),
                 limit, lambda item: item[1])
    return [(record_id, kinds[record_id], score, True) for record_id, score in best]


def _holders_of_all(session: Session, words: list[str], lang: str | None,
                    type: str | None) -> dict[str, str] | None:
    """Record id -> type of the records whose text holds every word; None when a word is in
    more than ``MAX_HOLDERS`` records (then totalling every row is as quick)."""
    holders: dict[str, str] | None = None
    for word in words:
        found = _holders(session, word, lang, type)
        if found is None:
            return None
        holders = found if holders is None else {
            record_id: kind for record_id, kind in holders.items() if record_id in found}
        if not holders:
            return {}
    return holders or {}


def _with_text(session: Session, keys: list[str], by_terms: list[tuple[str, str, float, bool]],
               holders: dict[str, str], limit: int) -> list[tuple[str, str, float, bool]]:
    """The best ``limit`` when the records holding every remaining query word score one more:
    the best by terms alone and those records hold them all."""
    term_scores = {record_id: float(total) for record_id, total in session.execute(
        select(SearchTerm.record_id, func.sum(SearchTerm.score))
        .where(SearchTerm.term_key.in_(keys), SearchTerm.record_id.in_(holders))
        .group_by(SearchTerm.record_id))}
    candidates = {record_id: (kind, score, False) for record_id, kind, score, _ in by_terms}
    for record_id, kind in holders.items():
        candidates[record_id] = (kind, term_scores.get(record_id, 0.0) + ALL_WORDS_SCORE, True)
    best = _best(candidates.items(), limit, lambda item: item[1][1])
    return [(record_id, kind, score, text) for record_id, (kind, score, text) in best]


def _term_reasons(session: Session, matches: list[TermMatch],
                  record_ids: list[str]) -> dict[str, list[Reason]]:
    by_key = {match.term.key: match for match in matches}
    reasons: dict[str, list[Reason]] = defaultdict(list)
    if not by_key or not record_ids:
        return reasons
    for record_id, key, phrase, lang, tagged in session.execute(
            select(SearchTerm.record_id, SearchTerm.term_key, SearchTerm.phrase,
                   SearchTerm.lang, SearchTerm.tagged)
            .where(SearchTerm.record_id.in_(record_ids), SearchTerm.term_key.in_(by_key))
            .order_by(SearchTerm.term_key)):
        params = {"query_phrase": by_key[key].phrase, "record_phrase": phrase}
        reasons[record_id].append(
            Reason("taxonomy", "taxonomy", params) if tagged
            else Reason("taxonomy", "taxonomy_in_text", {**params, "lang": lang}))
    return reasons


def _title(texts: dict[str, str], lang: str | None) -> str:
    for candidate in (lang, *LANGUAGES):
        if candidate and texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def _hits(session: Session, ranked: list[Candidate], reasons: dict[str, list[Reason]],
          lang: str | None, note: list[Reason]) -> list[SearchHit]:
    """The ranked records with names, titles (in ``lang`` where they have it) and reasons."""
    hits = []
    for type_name, model in MODEL_BY_TYPE.items():
        wanted = {candidate.id: candidate for candidate in ranked if candidate.type == type_name}
        if not wanted:
            continue
        for record_id, name, title in session.execute(
                select(model.id, model.name, model.title).where(model.id.in_(wanted))):
            candidate = wanted[record_id]
            why = [*reasons.get(record_id, []), *_method_reasons(candidate), *note]
            hits.append(SearchHit(type_name, record_id, name,
                                  _title(title, lang if lang in title else None),
                                  round(candidate.score, 3), joined(why), tuple(why)))
    hits.sort(key=lambda hit: (-hit.score, hit.title))
    return hits


def _method_reasons(candidate: Candidate) -> list[Reason]:
    found = [Reason("text", "text")] if candidate.text else []
    if candidate.similarity is not None:
        found.append(embedding_reason(candidate.similarity))
    return found


def _fused(lexical: list[tuple[str, str, float, bool]], vectors: VectorIndex | None,
           text: str, type: str | None, limit: int, admit: float) -> list[Candidate]:
    """The lexical candidates, and with embeddings on the records nearest the query whose
    similarity reaches ``admit``, scored as the module's description says; best first."""
    candidates = {record_id: Candidate(record_id, kind, score, found_in_text)
                  for record_id, kind, score, found_in_text in lexical}
    if vectors is not None:
        query = query_vector(text)
        nearest = {record_id: (kind, similarity) for record_id, kind, similarity
                   in vectors.nearest(query, limit, type) if similarity >= admit}
        similar = {**vectors.similarities(query, candidates),
                   **{record_id: similarity for record_id, (_kind, similarity) in nearest.items()}}
        for record_id, similarity in similar.items():
            held = candidates.get(record_id) or Candidate(record_id, nearest[record_id][0],
                                                          0.0, False)
            if similarity >= admit:
                candidates[record_id] = Candidate(
                    record_id, held.type, held.score + EMBEDDING_WEIGHT * similarity,
                    held.text, similarity)
    # Stable: at equal scores the lexical order (score, then id) and then the nearest first.
    return sorted(candidates.values(), key=lambda candidate: -candidate.score)[:limit]


def registry_search(ctx: Context, text: str, lang: str | None = None,
                    type: RecordType | None = None, limit: int = 50,
                    method: SearchMethod = "fused") -> list[SearchHit]:
    """Projects, challenges and solutions matching ``text``, best first, each with its score
    and the reasons it matched ("taxonomy: 'vann' ↔ 'water'", "text", "embedding similarity
    0.52 (USE multilingual v3)", and "typo: 'x' → 'y'" when a word was corrected). Accents do
    not matter; a query in one language finds records in another through shared taxonomy
    terms, and with embeddings on through meaning. ``lang`` is the query's language (its
    taxonomy phrases and stemmer are tried first, and titles are given in it where they
    exist); ``type`` limits the search to one kind of record; ``method`` leaves out one
    channel (for evaluation; "embedding" finds nothing while embeddings are off)."""
    query_words = [word for word in words_of(text) if len(word) >= 2]
    if not query_words:
        raise InvalidInput("give some words to search for", field="q")
    if type is not None and type not in MODEL_BY_TYPE:
        raise InvalidInput("type must be one of {types}", field="type",
                           types=", ".join(MODEL_BY_TYPE))
    ensure_index(ctx)
    vectors = vector_index(ctx) if method != "lexical" else None
    typed = text
    with ctx.db.session() as session:
        corrections = _corrected(session, query_words, lang) if method != "embedding" else {}
        if corrections:
            query_words = [corrections.get(word, word) for word in query_words]
            text = " ".join(query_words)
        matches = terms_in(text, lang) if method != "embedding" else []
        lexical = [] if method == "embedding" else _ranked(
            session, matches, _words_left(query_words, matches), lang, type, limit)
        admit = MIN_SIMILARITY if method == "fused" else -1.0  # alone: rank them all
        note = [Reason("typo", "typo", {"wrong": wrong, "right": right})
                for wrong, right in corrections.items()]

        def hits() -> list[SearchHit]:
            ranked = _fused(lexical, vectors, typed, type, limit, admit)
            reasons = _term_reasons(session, matches, [candidate.id for candidate in ranked])
            found = _hits(session, ranked, reasons, lang, note)
            if vectors is not None and vectors.forget(_gone(ranked, found)):
                return hits()  # the places of the records gone go to the next nearest
            return found

        return hits()


def _gone(ranked: list[Candidate], hits: list[SearchHit]) -> set[str]:
    """The candidates found by their vector whose records are no longer there."""
    shown = {hit.id for hit in hits}
    return {candidate.id for candidate in ranked
            if candidate.similarity is not None and candidate.id not in shown}
