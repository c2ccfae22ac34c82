"""Storing a gate and reading the latest trading gate back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from qbtc.lake import read_dataset
from qbtc.quality import (
    DatasetBatch,
    GatePolicy,
    GateReport,
    evaluate_gate,
    latest_gate,
    ohlcv_rules,
    store_gate,
)
from qbtc.quality.status import NO_GATE_REASON
from tests.factories import T0, ohlcv_frame

STEP = timedelta(minutes=1)
AS_OF = T0 + timedelta(minutes=31)


def _report(run_id: str, *, bad: bool, checked_at: datetime, summary: str = "gate") -> GateReport:
    frame = ohlcv_frame(n=30)
    if bad:
        frame = frame.with_columns(pl.lit(-1.0).alias("volume"))
    batch = DatasetBatch(ohlcv_rules(), frame, expected=("BTC/USDT:USDT",), step=STEP)
    return evaluate_gate(
        [batch],
        run_id=run_id,
        as_of=AS_OF,
        policy=GatePolicy(),
        summary_check=summary,
        checked_at=checked_at,
    )


def test_no_gate_yet_means_not_passed_and_says_what_to_do(lake_dir: Path) -> None:
    status = latest_gate(lake_dir)
    assert not status.passed
    assert status.run_id is None
    assert status.reasons == (NO_GATE_REASON,)
    assert "qbtc ingest" in NO_GATE_REASON


def test_latest_gate_is_the_last_gate_that_ran(lake_dir: Path) -> None:
    first = datetime(2026, 2, 1, tzinfo=UTC)
    store_gate(lake_dir, _report("good", bad=False, checked_at=first))
    assert latest_gate(lake_dir).passed
    store_gate(lake_dir, _report("bad", bad=True, checked_at=first + timedelta(minutes=1)))
    status = latest_gate(lake_dir)
    assert (status.passed, status.run_id) == (False, "bad")
    assert status.timestamp == first + timedelta(minutes=1)
    assert status.reasons == (
        "ohlcv.bad_fraction: fail (60 of 60)",
        "ohlcv.coverage: fail (1 of 1)",
    )
    # a file import is judged the same way but never stands in for the trading gate
    later = first + timedelta(minutes=2)
    store_gate(lake_dir, _report("import", bad=False, checked_at=later, summary="file_import"))
    assert latest_gate(lake_dir).run_id == "bad"


def test_storing_a_report_twice_stores_every_row_once(lake_dir: Path) -> None:
    report = _report("r1", bad=False, checked_at=datetime(2026, 2, 1, tzinfo=UTC))
    first = store_gate(lake_dir, report)
    again = store_gate(lake_dir, report)
    assert first.written == {"ohlcv": 60}
    assert again.written == {"ohlcv": 0}
    results = read_dataset(lake_dir, "quality_results")
    assert results.height == first.results
    gate = results.filter(pl.col("dataset") == "*").row(0, named=True)
    assert (gate["check"], gate["status"], gate["level"]) == ("gate", "pass", "dataset")
    assert json.loads(gate["details"])["reasons"] == []
    assert set(results["status"]) <= {"pass", "fail", "error"}
    assert read_dataset(lake_dir, "ohlcv").height == 60
