"""Logging set-up for entry points: concise lines on stderr, full detail in data/logs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(data_dir: Path | None = None, *, level: int = logging.INFO) -> None:
    """Log ``level`` and above to stderr, and DEBUG and above to ``data_dir/logs/qbtc.log``."""
    root = logging.getLogger()
    if getattr(root, "_qbtc_configured", False):
        return
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(console)
    if data_dir is not None:
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / "qbtc.log", encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "urllib3", "asyncio", "ccxt"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._qbtc_configured = True  # type: ignore[attr-defined]
