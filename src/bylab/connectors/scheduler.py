"""The background loop `bylab serve` starts when the ``harvest_scheduler`` setting is on: every
``harvest_scheduler_interval_s`` it runs the due harvest sources. Each server process runs
one; the database claim in ``run_due`` makes each due run happen once among them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bylab.connectors.sources import run_due
from bylab.core import Bylab

__all__ = ["harvest_scheduler_running"]

log = logging.getLogger(__name__)


@contextmanager
def harvest_scheduler_running(bylab: Bylab) -> Iterator[threading.Thread | None]:
    """Run the scheduler loop in a daemon thread while the block runs (if the setting is on)."""
    if not bylab.settings.harvest_scheduler:
        yield None
        return
    stop = threading.Event()
    thread = threading.Thread(target=_loop, args=(bylab, stop), name="bylab-harvest-scheduler",
                              daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)


def _loop(bylab: Bylab, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            due = run_due(bylab.system_context())
            for run in due.runs:
                log.info("harvest run %s: %s %s", run.id, run.status, run.message)
        except Exception:  # the loop must outlive a database hiccup; the next round retries
            log.exception("the harvest scheduler round failed")
        stop.wait(bylab.settings.harvest_scheduler_interval_s)
