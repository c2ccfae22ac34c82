"""``sort_bars``: a reorder of time-ordered symbol blocks, else a sort; always the sort's result."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.features.bars import sort_bars
from tests.features.fixtures import T0

_SYMBOLS = st.sampled_from(["ETH/USDT:USDT", "BTC/USDT:USDT", "SOL/USDT:USDT", "A", None])
_BLOCK = st.tuples(_SYMBOLS, st.lists(st.integers(0, 30), max_size=6))


def _frame(blocks: list[tuple[str | None, list[int]]], *, in_order: bool) -> pl.DataFrame:
    rows = [
        (symbol, T0 + timedelta(minutes=m), float(i))
        for i, (symbol, minutes) in enumerate(blocks)
        for m in (sorted(set(minutes)) if in_order else minutes)
    ]
    return pl.DataFrame(
        rows,
        schema={"symbol": pl.String, "timestamp": pl.Datetime("us", "UTC"), "close": pl.Float64},
        orient="row",
    )


@settings(max_examples=200, deadline=None)
@given(blocks=st.lists(_BLOCK, max_size=6), in_order=st.booleans())
def test_sort_bars_equals_the_sort(blocks, in_order):
    """Blocks written in any symbol order, time-ordered or not, a symbol in one block or
    several, null symbols, repeated bars: the same frame as the sort."""
    frame = _frame(blocks, in_order=in_order)
    keys = frame.select("symbol", "timestamp")
    if not keys.is_duplicated().any():  # with repeated keys any order of them is a sort
        assert sort_bars(frame).equals(frame.sort("symbol", "timestamp"))
    else:
        assert (
            sort_bars(frame).select("symbol", "timestamp").equals(keys.sort("symbol", "timestamp"))
        )


def test_time_ordered_blocks_are_reordered_without_a_sort():
    frame = _frame([("SOL", [0, 1, 2]), ("BTC", [1, 2]), ("ETH", [0, 5])], in_order=True)
    out = sort_bars(frame)
    assert out.equals(frame.sort("symbol", "timestamp"))
    assert out.n_chunks() == 3  # three slices of the input, no sort
    assert out["close"].to_list() == [1.0, 1.0, 2.0, 2.0, 0.0, 0.0, 0.0]
