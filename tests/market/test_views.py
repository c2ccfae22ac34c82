"""Catalog views over market data and gates: market_data (realised vol) and quality_gates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qbtc.lake import LakeReader, write_dataset
from qbtc.quality.records import CheckResult, result_rows
from tests.factories import T0, ohlcv_frame

MINUTES_PER_YEAR = 365 * 1440


def _reader(lake_dir: Path) -> LakeReader:
    return LakeReader(lake_dir)


def test_market_data_keeps_its_columns_and_matches_a_numpy_realised_vol(lake_dir: Path) -> None:
    frame = ohlcv_frame(symbols=("BTC/USDT:USDT",), n=80)
    write_dataset(lake_dir, "ohlcv", frame)
    out = _reader(lake_dir).query("SELECT * FROM market_data ORDER BY timestamp")
    assert out.columns == ["symbol", "price", "volume", "volatility", "timestamp", "timeframe"]
    assert out["price"].to_list() == frame["close"].to_list()
    assert out["volatility"][:10].null_count() == 10  # fewer than 10 returns
    returns = np.diff(np.log(frame["close"].to_numpy()))[-60:]
    expected = returns.std(ddof=1) * np.sqrt(MINUTES_PER_YEAR)
    assert out["volatility"][-1] == pytest.approx(expected, rel=1e-9)


def test_a_return_across_a_hole_is_not_counted(lake_dir: Path) -> None:
    frame = ohlcv_frame(symbols=("ETH/USDT:USDT",), n=80)
    bumped = frame.with_columns(
        pl.when(pl.col("timestamp") > T0 + timedelta(minutes=50))
        .then(pl.col("close") * 1.10)  # a 10% move hidden in the missing bar 50
        .otherwise(pl.col("close"))
        .alias("close")
    ).filter(pl.col("timestamp") != T0 + timedelta(minutes=50))
    write_dataset(lake_dir, "ohlcv", bumped)
    vol = _reader(lake_dir).query("SELECT volatility FROM market_data ORDER BY timestamp")
    closes = np.log(bumped["close"].to_numpy())
    adjacent = np.diff(bumped["timestamp"].to_numpy()) == np.timedelta64(1, "m")
    returns = np.diff(closes)[adjacent][-59:]  # the last 60 bars hold 59 adjacent pairs
    expected = returns.std(ddof=1) * np.sqrt(MINUTES_PER_YEAR)
    assert vol["volatility"][-1] == pytest.approx(expected, rel=1e-9)
    assert vol["volatility"][-1] < 1.0  # ~0.72 for this walk; the hidden 10% jump gives ~9


def test_quality_gates_lists_every_gate_with_its_reasons(lake_dir: Path) -> None:
    as_of = datetime(2026, 1, 5, 12, tzinfo=UTC)
    rows = [
        CheckResult("ohlcv", "coverage", "dataset", "fail", 3, 1, {"missing": ["SOL/USDT:USDT"]}),
        CheckResult(
            "*",
            "gate",
            "dataset",
            "fail",
            100,
            2,
            {"reasons": ["ohlcv.coverage: fail (1 of 3)"], "as_of": as_of.isoformat()},
        ),
    ]
    ran = datetime(2026, 1, 5, 12, 1, tzinfo=UTC)
    write_dataset(lake_dir, "quality_results", result_rows(rows, run_id="r1", checked_at=ran))
    gates = _reader(lake_dir).query("SELECT * FROM quality_gates").to_dicts()
    assert gates == [
        {
            "run_id": "r1",
            "kind": "gate",
            "passed": False,
            "reasons": ["ohlcv.coverage: fail (1 of 3)"],
            "rows_checked": 100,
            "rows_quarantined": 2,
            "as_of": as_of,
            "timestamp": ran,
        }
    ]
