"""Serve a stub venue's HTTP handler on an ephemeral port of 127.0.0.1 (tests only)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(
    handler: type[BaseHTTPRequestHandler], *, lifetime_s: float | None = None
) -> Iterator[str]:
    """Run ``handler`` from a daemon thread; yields the base URL; stops on exit (or after
    ``lifetime_s`` seconds, so a stuck test never leaves a server behind)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    timer = threading.Timer(lifetime_s, server.shutdown) if lifetime_s else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if timer is not None:
            timer.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
