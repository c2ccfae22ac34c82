"""Bar-series conventions shared by every perp feature: gaps, segments and annualisation.

Features are computed on 1-minute bars, keyed by the bar's open time (as in ``ohlcv``); a
row describes its bar as of the bar's close (``timestamp + 1 minute``) and uses only data
stamped at or before that close. Windows count bars. A *segment* is a run of
consecutive 1-minute bars of one symbol with no missing bar; a windowed feature is defined
only when its whole window lies inside one segment, so a missing bar makes the features whose
window spans it null instead of silently stretching the window (no gap-filling). Recursive
filters (EWMA, Wilder smoothing) restart at a segment start.

Frames are expected sorted by ``(symbol, timestamp)`` with one row per symbol and bar.
"""

from __future__ import annotations

import math
from datetime import timedelta

import polars as pl

#: Length of one bar.
BAR = timedelta(minutes=1)
#: Bars per year used to annualise variances of 1-minute bars (365 days x 1,440 bars).
BARS_PER_YEAR = 525_600
#: Column with the bar's position in its segment (0 at a segment start).
POSITION = "_position"
#: Column with the segment id (an integer increasing down the frame).
SEGMENT = "_segment"


def annualised_vol(variance_per_bar: pl.Expr) -> pl.Expr:
    """Annualised volatility ``sqrt(variance_per_bar * 525,600)`` (variance of 1m log returns).

    A negative variance estimate (possible for Garman-Klass on tiny windows) gives null.
    """
    return pl.when(variance_per_bar >= 0).then((variance_per_bar * BARS_PER_YEAR).sqrt())


def add_bar_segments(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``_segment`` and ``_position`` (bars since the segment started) to sorted bars.

    A segment starts at a symbol's first bar and after every missing bar (a timestamp step
    other than one minute).
    """
    if POSITION in lf.collect_schema():
        return lf
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = (
        (pl.col("symbol").rle_id().diff().fill_null(1) != 0)
        | (pl.col("timestamp").diff() != BAR).fill_null(True)
    ).alias("_start")
    return (
        lf.with_columns(starts)
        .with_columns(
            # A running count is non-decreasing: flagging it sorted lets ``over`` slice groups.
            pl.col("_start").cum_sum().cast(pl.Int64).set_sorted().alias(SEGMENT),
            (row - pl.when(pl.col("_start")).then(row).forward_fill()).alias(POSITION),
        )
        .drop("_start")
    )


def symbol_blocks(frame: pl.DataFrame) -> list[tuple[str, int, int]] | None:
    """``(symbol, offset, length)`` of each run of one symbol's rows, in frame order, when
    every symbol's rows form a single run (no null symbol); else None."""
    runs = frame.select(pl.col("symbol").rle()).unnest("symbol")
    if runs["value"].null_count() or runs["value"].n_unique() != runs.height:
        return None
    offsets = runs["len"].cum_sum() - runs["len"]
    return list(zip(runs["value"], offsets, runs["len"], strict=True))


def by_symbol(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each symbol's rows of ``frame``, in frame order: slices when every symbol's rows are
    contiguous (sorted bars), else a partition (a copy)."""
    blocks = symbol_blocks(frame)
    if blocks is not None:
        return {symbol: frame.slice(offset, length) for symbol, offset, length in blocks}
    return {key: part for (key,), part in frame.partition_by("symbol", as_dict=True).items()}


def sort_bars(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted by ``(symbol, timestamp)``.

    A lake read of one-file partitions gives each symbol's bars as one block in time order
    (blocks in the order they were written); such blocks are only put in symbol order (a
    string sort of every row costs ~30x more). Any other frame is sorted.
    """
    blocks = symbol_blocks(frame) if frame.height else None
    in_time_order = (
        blocks is not None
        and frame["timestamp"].null_count() == 0
        and frame.select(
            ((pl.col("timestamp").diff() > 0) | (pl.col("symbol").rle_id().diff() != 0)).all()
        ).item()
    )
    if blocks is None or not in_time_order:
        return frame.sort("symbol", "timestamp")
    return pl.concat(
        [frame.slice(offset, length) for _, offset, length in sorted(blocks)], rechunk=False
    )


def complete(expr: pl.Expr, bars_back: int) -> pl.Expr:
    """``expr`` where its window reaches ``bars_back`` bars back inside one segment, else null."""
    return pl.when(pl.col(POSITION) >= bars_back).then(expr)


def previous(column: str, bars_back: int = 1) -> pl.Expr:
    """Value of ``column`` ``bars_back`` rows up (valid only where :func:`complete` holds)."""
    return pl.col(column).shift(bars_back)


def finite_or_null(expr: pl.Expr) -> pl.Expr:
    """``expr`` with NaN and infinities (zero-variance windows) replaced by null."""
    return pl.when(expr.is_finite()).then(expr)


def yang_zhang_k(window: int) -> float:
    """Yang-Zhang weight ``k = 0.34 / (1.34 + (n + 1) / (n - 1))`` for a window of ``n`` bars."""
    if window < 2:
        raise ValueError(f"Yang-Zhang needs a window of at least 2 bars, got {window}")
    return 0.34 / (1.34 + (window + 1) / (window - 1))


def check_window_length(window: int, *, minimum: int = 1) -> int:
    """Validate a window length in bars."""
    if not isinstance(window, int) or window < minimum:
        raise ValueError(f"window must be an integer of at least {minimum} bars, got {window!r}")
    return window


LN2 = math.log(2.0)
