"""Logging set-up for entry points: concise lines on stderr, full detail in data/logs.

``data/logs/qbtc.log`` rotates by size (``max_mb``, ``backups`` kept), so a long ``make up``
never fills the disk with logs. A log file that cannot be written (a full disk) stops being
written, instead of printing a ``--- Logging error ---`` block per record.
"""

from __future__ import annotations

import logging
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "urllib3",
    "asyncio",
    "ccxt",
    "great_expectations",
    "websockets",
    "aiosqlite",
)


class QuietRotatingFileHandler(RotatingFileHandler):
    """A rotating log file that stops writing when it cannot (a full disk), without a word:
    the command that hit the full disk says so in its one line."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        self.broken = True
        self.setLevel(logging.CRITICAL + 1)  # nothing more goes to this file


def setup_logging(
    data_dir: Path | None = None,
    *,
    level: int = logging.INFO,
    console: bool = True,
    max_mb: float = 20.0,
    backups: int = 5,
) -> None:
    """Log ``level`` and above to stderr, and DEBUG and above to ``data_dir/logs/qbtc.log``.

    ``console=False`` leaves the terminal to Prefect's own handler (flows run from the CLI).
    The log file rotates at ``max_mb`` MiB, keeping ``backups`` older files.
    """
    root = logging.getLogger()
    if getattr(root, "_qbtc_configured", False):
        return
    root.setLevel(logging.DEBUG)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(level)
        stream.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        root.addHandler(stream)
    if data_dir is not None:
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = QuietRotatingFileHandler(
            log_dir / "qbtc.log",
            maxBytes=int(max_mb * 2**20),
            backupCount=backups,
            encoding="utf-8",
        )
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._qbtc_configured = True  # type: ignore[attr-defined]


class RotatingLog:
    """A size-rotated log file for a child process's output (``path``, ``path.1``, ...)."""

    def __init__(self, path: Path, *, max_mb: float = 20.0, backups: int = 5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = QuietRotatingFileHandler(
            path, maxBytes=int(max_mb * 2**20), backupCount=backups, encoding="utf-8"
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))

    def write_line(self, line: str) -> None:
        record = logging.LogRecord("child", logging.INFO, "", 0, line.rstrip("\n"), None, None)
        self._handler.handle(record)

    def close(self) -> None:
        """Close the file (a later line opens it again)."""
        self._handler.close()

    def __enter__(self) -> RotatingLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def copy_from(self, stream: IO[bytes]) -> None:
        """Copy ``stream`` line by line until it ends (run in a thread; never blocks the child)."""
        with self:
            for raw in iter(stream.readline, b""):
                self.write_line(raw.decode("utf-8", errors="replace"))

    def follow(self, stream: IO[bytes]) -> threading.Thread:
        """Copy ``stream`` in a daemon thread; returns it."""
        thread = threading.Thread(target=self.copy_from, args=(stream,), daemon=True)
        thread.start()
        return thread
