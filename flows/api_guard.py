"""A Prefect server that goes away mid-run never fails the cycle.

The cycle's work (lake, ledger, venue) does not need the Prefect server; what does (artifacts,
the orders' concurrency slot, logs and events shipped to the UI) goes through
:func:`call_prefect_api`. The first call that finds the server gone, or the watchdog of
``qbtc run`` (:func:`watch_server`), marks it gone for the rest of the process: later calls
are skipped at once, Prefect's own log and event shipping is silenced, and the cycle goes on
under its file locks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import httpx

logger = logging.getLogger(__name__)

T = TypeVar("T")
_GONE = threading.Event()
_REASON: list[str] = []


def server_gone() -> bool:
    """Whether the Prefect server was found gone during this process."""
    return _GONE.is_set()


def mark_server_gone(reason: str) -> None:
    """Record that the server went away; silence Prefect's shipping of logs and events."""
    if _GONE.is_set():
        return
    _GONE.set()
    _REASON.append(reason)
    logger.warning("Prefect server unreachable (%s): the cycle goes on without it", reason)
    from prefect.logging.handlers import APILogHandler

    for name in (
        "prefect",
        "prefect.flow_runs",
        "prefect.task_runs",
        *logging.root.manager.loggerDict,
    ):
        target = logging.getLogger(name)
        for handler in list(target.handlers):
            if isinstance(handler, APILogHandler):
                target.removeHandler(handler)
    # Its background workers report every failed send to the console: not ours to show
    # (their loggers ignore levels, see prefect._internal._logging).
    for name in ("prefect._internal.concurrency", "prefect.events.clients"):
        logging.getLogger(name).disabled = True


def gone_reason() -> str | None:
    return _REASON[0] if _REASON else None


def call_prefect_api(what: str, call: Callable[[], T]) -> T | None:
    """``call()``, or None when the Prefect server is (or turns out to be) unreachable."""
    if _GONE.is_set():
        return None
    try:
        return call()
    except (httpx.TransportError, OSError) as exc:
        mark_server_gone(f"{what}: {exc}")
        return None


def watch_server(url: str, interval: float = 1.0, misses: int = 2) -> Callable[[], None]:
    """Probe ``url`` (``/api/health``) from a thread; mark the server gone after ``misses``
    failed probes in a row. Returns a function that stops the watchdog."""
    stop = threading.Event()

    def probe() -> None:
        failed = 0
        while not stop.wait(interval):
            try:
                ok = httpx.get(f"{url}/api/health", timeout=max(interval, 5.0)).status_code == 200
            except httpx.HTTPError:
                ok = False
            failed = 0 if ok else failed + 1
            if failed >= misses:
                mark_server_gone(f"{url} stopped answering")
                return

    thread = threading.Thread(target=probe, name="qbtc-prefect-watchdog", daemon=True)
    thread.start()
    return stop.set
