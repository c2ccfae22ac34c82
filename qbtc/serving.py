"""Whether ``qbtc up`` is serving the schedules of a data dir, read by the API's health.

``qbtc up`` writes ``<data_dir>/state/serving.json`` (its pid, when it started and the
pipeline's schedule interval) once its deployments are served, and removes it when it stops.
A file whose process is gone (killed, crashed machine) reads as "not serving".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qbtc.statefile import write_json_atomic

SERVING_FILE = "serving.json"


@dataclass(frozen=True)
class ServingState:
    """``qbtc up`` is serving: process id, start time (UTC), pipeline interval (seconds)."""

    pid: int
    started_at: datetime
    pipeline_interval_s: int


def write_serving_state(state_dir: Path, state: ServingState) -> None:
    payload = {
        "pid": state.pid,
        "started_at": state.started_at.isoformat(),
        "pipeline_interval_s": state.pipeline_interval_s,
    }
    write_json_atomic(state_dir / SERVING_FILE, payload)


def clear_serving_state(state_dir: Path) -> None:
    (state_dir / SERVING_FILE).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def read_serving_state(state_dir: Path) -> ServingState | None:
    """The state of a live ``qbtc up``, or None (no file, a malformed one, or a dead pid)."""
    try:
        raw = json.loads((state_dir / SERVING_FILE).read_text(encoding="utf-8"))
        state = ServingState(
            pid=int(raw["pid"]),
            started_at=datetime.fromisoformat(raw["started_at"]).astimezone(UTC),
            pipeline_interval_s=int(raw["pipeline_interval_s"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if state.pid <= 0 or state.pipeline_interval_s <= 0 or not _alive(state.pid):
        return None
    return state
