"""How a cycle of the ``pipeline`` flow ends when it does not simply succeed: the one-line
reason of a failed stage (a full disk says where and whether orders went), the run recorded
as failed, the alerts a completed cycle reports as warnings, and the LLM model behind its
signals.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import get_run_logger

from qbtc.config import Settings
from qbtc.diskspace import disk_full_message, is_disk_full
from qbtc.lake import read_dataset
from qbtc.manifest import RunManifest, record_run
from qbtc.report import LIBRARY_ALERTS, run_alerts
from qbtc.schemas import ORDER_EVENTS


def answering_model(signals_summary: dict[str, Any] | None) -> str | None:
    """The LLM model behind the cycle's signals: None when rules made them (also after a
    fallback, whose reason the signals summary keeps) or the stage did not run."""
    if not signals_summary or signals_summary.get("provider") == "rules":
        return None
    model = signals_summary.get("model")
    return str(model) if model else None


def warnings_message(settings: Settings, run_id: str, started_at: datetime) -> str | None:
    """What a completed cycle must not pass over in silence: the alerts it raised (a kill
    switch tripped by a reconciliation mismatch, a venue circuit opened, a corrupt file
    quarantined), as the run's message."""
    alerts = run_alerts(settings.lake_dir, run_id, since=started_at, kinds=LIBRARY_ALERTS)
    if not alerts:
        return None
    return "completed with warnings: " + "; ".join(alerts)


def record_failed_run(settings: Settings, manifest: RunManifest, exc: BaseException) -> None:
    """Record the run as failed with the first line of ``exc`` (best effort: a full disk
    may refuse even that, and the original error is what the caller raises)."""
    text = failure_reason(settings, manifest.run_id, exc)
    try:
        record_run(settings.lake_dir, manifest.finish("failed", f"cycle failed: {text}"))
    except Exception as again:
        get_run_logger().error("could not record the failed run: %s", again)


class StageFailedError(RuntimeError):
    """A stage of the cycle failed; the stages after it did not run."""


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type when it has none)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def orders_sent(lake_dir: Path, run_id: str) -> bool:
    """Whether run ``run_id`` sent any order (a ``submitted`` event precedes every send)."""
    events = read_dataset(lake_dir, ORDER_EVENTS)
    return not events.filter(
        (pl.col("run_id") == run_id) & (pl.col("event") == "submitted")
    ).is_empty()


def failure_reason(settings: Settings, run_id: str, exc: BaseException) -> str:
    """One line for a failed stage; a full disk says where, what to do and whether orders went."""
    if is_disk_full(exc):
        sent = orders_sent(settings.lake_dir, run_id)
        return disk_full_message(exc, data_dir=settings.data_dir, orders_sent=sent)
    return first_line(exc)
