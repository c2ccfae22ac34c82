"""The window's closes: one row per bar time of any symbol, NaN where a symbol has none."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.backtest.window import _digest, align_closes

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


def _aligned_by_search(bars: pl.DataFrame, symbols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The general alignment, row by row: every bar time of any symbol, searched."""
    times = np.unique(bars["timestamp"].dt.epoch("us").to_numpy())
    closes = np.full((times.size, len(symbols)), np.nan)
    for symbol, stamp, close in bars.select("symbol", "timestamp", "close").iter_rows():
        if symbol in symbols:
            row = np.searchsorted(times, int(stamp.timestamp() * 1_000_000))
            closes[row, symbols.index(symbol)] = close
    return times, closes


@settings(max_examples=100, deadline=None)
@given(
    minutes=st.lists(st.lists(st.integers(0, 8), unique=True, max_size=6), max_size=4),
    same_times=st.booleans(),
    shuffled=st.booleans(),
)
def test_closes_equal_the_general_alignment(minutes, same_times, shuffled):
    """Symbols on one common set of bar times (slices, no search) or each on its own, in
    symbol blocks or shuffled rows: the same times and closes as searching row by row."""
    names = ["B", "A", "C", "D"][: len(minutes)]
    rows = [
        (name, T0 + timedelta(minutes=m), float(10 * j + m))
        for j, name in enumerate(names)
        for m in sorted(minutes[0] if same_times else minutes[j])
    ]
    bars = pl.DataFrame(
        rows,
        schema={"symbol": pl.String, "timestamp": pl.Datetime("us", "UTC"), "close": pl.Float64},
        orient="row",
    )
    if shuffled:
        bars = bars.sample(fraction=1.0, shuffle=True, seed=len(rows))
    symbols = ["A", "B", "C", "E"]
    times, closes = align_closes(bars, symbols)
    want_times, want_closes = _aligned_by_search(bars, symbols)
    np.testing.assert_array_equal(times, want_times)
    np.testing.assert_array_equal(closes, want_closes)


@settings(max_examples=100, deadline=None)
@given(
    symbols=st.lists(st.sampled_from(["A", "BB", "", "é", None]), max_size=8),
    closes=st.lists(st.floats(allow_nan=True) | st.none(), max_size=8),
)
def test_the_digest_hashes_strings_joined_and_numbers_as_their_bytes(symbols, closes):
    """The data snapshot's bytes: each string column joined by \\x1f (nulls as ""), each
    other column's values (nulls as 0) as in memory."""
    frame = pl.DataFrame({"symbol": pl.Series(symbols, dtype=pl.String)}).with_columns(
        pl.Series("close", (closes + [1.0] * len(symbols))[: len(symbols)], dtype=pl.Float64)
    )
    stamps = pl.DataFrame({"timestamp": [T0, None]}, schema={"timestamp": pl.Datetime("us", "UTC")})
    want = hashlib.sha256()
    for part in (frame, stamps):
        want.update(",".join(part.columns).encode())
        for column in part.get_columns():
            if column.dtype == pl.String:
                want.update("\x1f".join(v or "" for v in column.to_list()).encode())
            else:
                want.update(column.to_physical().fill_null(0).to_numpy().tobytes())
    assert _digest(frame, stamps) == want.hexdigest()
