"""Logging set-up for entry points: concise lines on stderr, full detail in data/logs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(
    data_dir: Path | None = None, *, level: int = logging.INFO, console: bool = True
) -> None:
    """Log ``level`` and above to stderr, and DEBUG and above to ``data_dir/logs/qbtc.log``.

    ``console=False`` leaves the terminal to Prefect's own handler (flows run from the CLI).
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
        handler = logging.FileHandler(log_dir / "qbtc.log", encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "urllib3", "asyncio", "ccxt", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._qbtc_configured = True  # type: ignore[attr-defined]
