"""The window's closes: one row per bar time of any symbol, NaN where a symbol has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from qbtc.backtest.window import align_closes

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_closes_are_aligned_on_every_bar_time_with_nan_where_a_symbol_has_no_bar():
    bars = pl.DataFrame(
        {
            "symbol": ["A", "A", "B", "B", "B"],
            "timestamp": [
                T0,
                T0 + timedelta(minutes=2),
                T0,
                T0 + timedelta(minutes=1),
                T0 + timedelta(minutes=2),
            ],
            "close": [1.0, 3.0, 10.0, 11.0, 12.0],
        }
    )
    times, closes = align_closes(bars, ["B", "A", "C"])
    start = int(T0.timestamp() * 1e6)
    assert times.tolist() == [start, start + 60_000_000, start + 120_000_000]
    expected = np.array([[10.0, 1.0, np.nan], [11.0, np.nan, np.nan], [12.0, 3.0, np.nan]])
    np.testing.assert_array_equal(closes, expected)
