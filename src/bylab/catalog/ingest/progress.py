"""Progress reports while a file is read: ``progress(done, total, unit)``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

# progress(done, total, unit): bytes read so far out of total (total may be None).
ProgressCallback = Callable[[int, int | None, str], None]

POLL_INTERVAL_S = 0.2


class ByteProgress:
    """Reports bytes of the source file. A file read in two passes (a transcoding or
    decompression pass, then the conversion) reports each pass as one half of the bytes."""

    def __init__(self, callback: ProgressCallback | None, total_bytes: int) -> None:
        self.callback = callback
        self.total_bytes = total_bytes
        self._offset = 0
        self._share = 1.0
        self._reported = 0

    def split_passes(self) -> None:
        """Call before the first of two passes: each then reports half of the bytes."""
        self._share = 0.5

    def next_pass(self) -> None:
        """Call when the second of two passes starts."""
        self._offset = int(self.total_bytes * self._share)

    def report(self, fraction: float) -> None:
        if self.callback is None:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        done = self._offset + int(self.total_bytes * self._share * fraction)
        # Never backwards: a reader that declines a file part-way is followed by another.
        self._reported = max(self._reported, min(done, self.total_bytes))
        self.callback(self._reported, self.total_bytes, "bytes")

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(self.total_bytes, self.total_bytes, "bytes")

    @contextmanager
    def watching(self, connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Report DuckDB's progress on the statement run inside the block."""
        if self.callback is None:
            yield
            return
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(POLL_INTERVAL_S):
                percent = connection.query_progress()
                if percent >= 0:
                    self.report(percent / 100)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()
        self.report(1.0)
