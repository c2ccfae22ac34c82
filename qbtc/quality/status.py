"""Store a gate's outcome in the lake, and read the latest trading gate back.

The trading gate is the ``quality_results`` row with ``dataset='*'`` and ``check='gate'``;
its ``timestamp`` is when the gate ran (wall clock, UTC), so the latest row is the last gate
that ran whatever ``as_of`` it judged. Trading stages call :func:`latest_gate` and refuse to
run unless it passed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from qbtc.lake import scan_dataset, write_dataset
from qbtc.quality.gate import GateReport
from qbtc.quality.records import result_rows
from qbtc.schemas import QUALITY_RESULTS, QUARANTINE

GATE_CHECK = "gate"
NO_GATE_REASON = "no quality gate has run yet: run `qbtc ingest` first"


@dataclass(frozen=True)
class GateStatus:
    """The latest trading gate: passed or not, which run, when, and why it failed."""

    passed: bool
    run_id: str | None
    timestamp: datetime | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class StoredGate:
    """What :func:`store_gate` wrote: new clean rows per dataset, quarantined rows."""

    written: Mapping[str, int]
    quarantined: int
    results: int


def store_gate(lake_dir: Path, report: GateReport) -> StoredGate:
    """Write clean rows, quarantined rows, then the results (summary row last).

    Every write is idempotent, so storing the same report again adds nothing; results go
    last, so a gate row exists only once the data it judged is stored.
    """
    written = {}
    for outcome in report.datasets:
        if outcome.clean.height:
            written[outcome.dataset] = write_dataset(
                lake_dir, outcome.dataset, outcome.clean
            ).rows_written
        else:
            written[outcome.dataset] = 0
    quarantine = report.quarantine
    quarantined = write_dataset(lake_dir, QUARANTINE, quarantine).rows_written
    results = result_rows(report.results, run_id=report.run_id, checked_at=report.checked_at)
    write_dataset(lake_dir, QUALITY_RESULTS, results)
    return StoredGate(written, quarantined, results.height)


def latest_gate(lake_dir: Path) -> GateStatus:
    """The most recent trading gate; without one, ``passed=False`` and what to do."""
    rows = (
        scan_dataset(lake_dir, QUALITY_RESULTS)
        .filter((pl.col("dataset") == "*") & (pl.col("check") == GATE_CHECK))
        .sort("timestamp")
        .tail(1)
        .collect()
    )
    if rows.height == 0:
        return GateStatus(False, None, None, (NO_GATE_REASON,))
    row = rows.row(0, named=True)
    try:
        reasons = tuple(str(r) for r in json.loads(row["details"]).get("reasons", []))
    except (ValueError, AttributeError):
        reasons = ()
    passed = row["status"] == "pass"
    if not passed and not reasons:
        reasons = (f"quality gate of run {row['run_id']} ended with status {row['status']}",)
    return GateStatus(passed, row["run_id"], row["timestamp"], reasons)
