"""Log returns over several horizons, in bars."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from qbtc.features.bars import POSITION, add_bar_segments, check_window, complete

#: Internal column: log close price.
LOG_CLOSE = "_log_close"
#: Internal column: one-bar log return, 0.0 where undefined (safe inside rolling windows).
RETURN_1 = "_return_1"


def add_return_basics(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add segments, the log close and the one-bar log return used by several features."""
    lf = add_bar_segments(lf)
    if RETURN_1 in lf.collect_schema():
        return lf
    log_close = pl.col("close").log()
    one_bar = log_close - log_close.shift(1)
    return lf.with_columns(log_close.alias(LOG_CLOSE)).with_columns(
        pl.when(pl.col(POSITION) >= 1).then(one_bar).otherwise(0.0).alias(RETURN_1)
    )


def add_log_returns(lf: pl.LazyFrame, *, horizons: Sequence[int]) -> pl.LazyFrame:
    """Add ``ret_<h>``: the log return ``ln(close_t / close_{t-h})`` over ``h`` bars.

    Parameters
    ----------
    lf
        1-minute bars sorted by ``(symbol, timestamp)`` with a ``close`` column (USDT).
    horizons
        Horizons in bars. ``ret_h`` is null until ``h`` earlier bars exist in the segment.

    Returns
    -------
    The frame with one ``ret_<h>`` column per horizon (not annualised).
    """
    lf = add_return_basics(lf)
    columns = []
    for horizon in horizons:
        check_window(horizon)
        change = pl.col(LOG_CLOSE) - pl.col(LOG_CLOSE).shift(horizon)
        columns.append(complete(change, horizon).alias(f"ret_{horizon}"))
    return lf.with_columns(columns)
