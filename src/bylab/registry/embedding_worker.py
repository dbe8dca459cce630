"""The serving process's background worker for registry embeddings: once a transaction that
marked records' vectors pending commits, their ids go on the worker's queue, and a daemon
thread (started at the first such commit) embeds them in batches (``embed_pending``), so
neither the write nor the next search pays for the model.

Each process embeds the records written through it, so several serving processes do not
embed the same records; vectors left pending by a process that stopped first are computed by
``bylab registry embed``. Storing is guarded in ``embed_pending`` either way."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from bylab.core import Bylab
from bylab.registry.embeddings import (
    EMBED_BATCH,
    PENDING_KEY,
    embed_pending,
    embeddings_active,
)

log = logging.getLogger(__name__)
THREAD_NAME = "registry-embeddings"
STOP_WAIT_S = 30.0
_workers: dict[Engine, EmbeddingWorker] = {}
_workers_lock = threading.Lock()


class EmbeddingWorker:
    """A queue of record ids whose vectors are pending, and the thread that embeds them."""

    def __init__(self, bylab: Bylab) -> None:
        self.bylab = bylab
        self._queue: queue.SimpleQueue[set[str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._changed = threading.Condition()
        self._submitted = self._finished = 0  # batches of ids put on the queue / handled

    def submit(self, record_ids: set[str]) -> None:
        """Queue the records' vectors, starting the thread at the first call."""
        with self._changed:
            self._submitted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
                self._thread.start()
        self._queue.put(set(record_ids))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued record has been handled; whether that happened in time."""
        with self._changed:
            return self._changed.wait_for(lambda: self._finished >= self._submitted, timeout)

    def stop(self) -> None:
        """Let the thread finish what it is embedding and end."""
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)

    def _run(self) -> None:
        while (record_ids := self._queue.get()) is not None:
            handled = 1
            while len(record_ids) < EMBED_BATCH and not self._queue.empty():
                more = self._queue.get()
                if more is None:
                    self._queue.put(None)  # seen again by the outer loop, after this batch
                    break
                record_ids |= more
                handled += 1
            self._embed(record_ids)
            with self._changed:
                self._finished += handled
                self._changed.notify_all()

    def _embed(self, record_ids: set[str]) -> None:
        ctx = self.bylab.system_context()
        try:
            if embeddings_active(ctx):  # loads the model, here rather than at start-up
                embed_pending(ctx, record_ids)
        except Exception:  # the thread must outlive a database hiccup; the rows stay pending
            log.exception("embedding %d registry records failed", len(record_ids))


def embedding_worker(bylab: Bylab) -> EmbeddingWorker | None:
    """The worker embedding what this process writes to ``bylab``'s database, if one runs."""
    return _workers.get(bylab.db.engine)


@contextmanager
def embedding_worker_running(bylab: Bylab) -> Iterator[EmbeddingWorker | None]:
    """While the block runs, embed in the background the records this process writes (when
    the setting is on); the thread starts at the first write."""
    if not bylab.settings.registry_embeddings:
        yield None
        return
    worker = EmbeddingWorker(bylab)
    with _workers_lock:
        # On the class: sessions are made per use, and _committed ignores other databases'.
        if not event.contains(Session, "after_commit", _committed):
            event.listen(Session, "after_commit", _committed)
            event.listen(Session, "after_soft_rollback", _rolled_back)
        _workers[bylab.db.engine] = worker
    try:
        yield worker
    finally:
        with _workers_lock:
            _workers.pop(bylab.db.engine, None)
        worker.stop()


def _committed(session: Session) -> None:
    """Hand the ids the transaction marked pending to its database's worker."""
    record_ids = session.info.pop(PENDING_KEY, None)
    if record_ids:
        worker = _workers.get(session.get_bind())  # type: ignore[arg-type]
        if worker is not None:
            worker.submit(record_ids)


def _rolled_back(session: Session, _transaction: object) -> None:
    session.info.pop(PENDING_KEY, None)
