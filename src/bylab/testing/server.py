"""A real bylab HTTP server on a free local port, for clients that need a socket
(ckanapi, Playwright, load benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from bylab.app import create_app
from bylab.core import Bylab


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(bylab: Bylab, port: int | None = None) -> Iterator[str]:
    """Serve ``bylab`` in a background thread; yields the base URL."""
    port = port or free_port()
    config = uvicorn.Config(create_app(bylab), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/api/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        raise RuntimeError(f"bylab test server did not start on port {port}")
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
