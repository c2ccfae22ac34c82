"""Log returns over several horizons, in bars."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from qbtc.features.bars import POSITION, add_bar_segments, check_window_length, complete

#: Internal column: log close price.
LOG_CLOSE = "_log_close"
#: Internal column: one-bar log return, 0.0 where undefined (safe inside rolling windows).
RETURN_1 = "_return_1"
#: Internal column: squared one-bar log return, null at a segment start.
SQUARED_RETURN = "_squared_return"


def add_return_basics(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add segments, the log close and the one-bar log return used by several features."""
    lf = add_bar_segments(lf)
    if RETURN_1 in lf.collect_schema():
        return lf
    log_close = pl.col("close").log()
    one_bar = pl.col(LOG_CLOSE) - pl.col(LOG_CLOSE).shift(1)
    defined = pl.col(POSITION) >= 1
    return lf.with_columns(log_close.alias(LOG_CLOSE)).with_columns(
        pl.when(defined).then(one_bar).otherwise(0.0).alias(RETURN_1),
        pl.when(defined).then(one_bar**2).alias(SQUARED_RETURN),
    )


def log_return(horizon: int) -> pl.Expr:
    """``ret_<h>``: ``ln(close_t / close_{t-h})``, null until ``h`` earlier bars exist.

    Needs the columns of :func:`add_return_basics`.
    """
    check_window_length(horizon)
    change = pl.col(LOG_CLOSE) - pl.col(LOG_CLOSE).shift(horizon)
    return complete(change, horizon).alias(f"ret_{horizon}")


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
    return add_return_basics(lf).with_columns(log_return(h) for h in horizons)
