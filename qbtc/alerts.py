"""Alert rows: one builder for every place that records an alert in the ``alerts`` dataset.

The pipeline's stages (through :func:`flows.alerts.raise_alert`, which also emits the Prefect
event) and the command line record alerts the same way, so an alert has one id rule and one
shape wherever it comes from.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from qbtc.lake.writer import write_dataset
from qbtc.schemas import ALERTS


def alert_id(run_id: str, kind: str, message: str) -> str:
    """Deterministic id: the same alert of the same run is stored once (idempotent writes)."""
    return hashlib.sha256(f"{run_id}|qbtc.alert.{kind}|{message}".encode()).hexdigest()[:24]


def record_alert(
    lake_dir: Path,
    *,
    kind: str,
    run_id: str,
    message: str,
    severity: str = "warning",
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write one ``alerts`` row (``kind`` such as ``kill-switch``) and return it."""
    row = {
        "alert_id": alert_id(run_id, kind, message),
        "run_id": run_id,
        "timestamp": (now or datetime.now(UTC)).astimezone(UTC),
        "kind": kind,
        "severity": severity,
        "message": message,
        "details": json.dumps(details or {}, sort_keys=True, default=str),
    }
    write_dataset(lake_dir, ALERTS, pl.DataFrame([row], schema=ALERTS.schema))
    return row
