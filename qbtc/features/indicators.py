"""Technical indicators on 1-minute bars: ATR, RSI, momentum and z-scores.

Wilder smoothing (ATR, RSI) follows Wilder (1978): the first value is the simple mean of the
first ``n`` inputs, then ``s_t = s_{t-1} + (x_t - s_{t-1}) / n``. It restarts at each
segment (a gap-free run of bars, see :mod:`qbtc.features.bars`).
"""

from __future__ import annotations

import polars as pl

from qbtc.features.bars import POSITION, SEGMENT, check_window, complete, finite_or_null
from qbtc.features.returns import LOG_CLOSE, RETURN_1, add_return_basics


def add_wilder_smooth(
    lf: pl.LazyFrame, values: pl.Expr, *, window: int, first_position: int, name: str
) -> pl.LazyFrame:
    """Add ``name``: Wilder's smoothing of ``values``, which are defined from ``first_position``.

    Null before position ``first_position + window - 1``, where the seed (the simple mean of
    the first ``window`` values of the segment) sits. ``values`` must be finite everywhere
    (use 0.0 where undefined): they pass through rolling sums.
    """
    seed_position = first_position + window - 1
    position = pl.col(POSITION)
    seeded = (
        pl.when(position == seed_position)
        .then(values.rolling_mean(window))
        .when(position > seed_position)
        .then(values)
    )
    # Materialise the input first: inside ``over`` the whole expression would run per group.
    smoothed = pl.col(name).ewm_mean(alpha=1.0 / window, adjust=False).over(SEGMENT)
    return lf.with_columns(seeded.alias(name)).with_columns(
        complete(smoothed, seed_position).alias(name)
    )


def add_atr(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``atr_<n>``: Wilder's average true range over ``n`` bars, in price units (USDT).

    True range ``max(high - low, |high - close'|, |low - close'|)`` needs the previous close,
    so the first value is at the ``n + 1``-th bar of a segment.
    """
    check_window(window)
    lf = add_return_basics(lf)
    previous_close = pl.col("close").shift(1)
    true_range = pl.max_horizontal(
        pl.col("high") - pl.col("low"),
        (pl.col("high") - previous_close).abs(),
        (pl.col("low") - previous_close).abs(),
    )
    safe = pl.when(pl.col(POSITION) >= 1).then(true_range).otherwise(0.0)
    return add_wilder_smooth(lf, safe, window=window, first_position=1, name=f"atr_{window}")


def add_rsi(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``rsi_<n>``: Wilder's relative strength index in [0, 100].

    ``100 * G / (G + L)`` with ``G`` and ``L`` the Wilder-smoothed gains and losses of the
    close (equivalent to ``100 - 100 / (1 + G / L)``); null when the close did not move.
    """
    check_window(window)
    lf = add_return_basics(lf)
    change = pl.when(pl.col(POSITION) >= 1).then(pl.col("close").diff()).otherwise(0.0)
    lf = add_wilder_smooth(
        lf, change.clip(lower_bound=0.0), window=window, first_position=1, name="_gains"
    )
    lf = add_wilder_smooth(
        lf, (-change).clip(lower_bound=0.0), window=window, first_position=1, name="_losses"
    )
    gains, losses = pl.col("_gains"), pl.col("_losses")
    rsi = finite_or_null(100.0 * gains / (gains + losses))
    return lf.with_columns(rsi.alias(f"rsi_{window}")).drop("_gains", "_losses")


def add_momentum(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``momentum_<n>``: the ``n``-bar log return in units of its own volatility.

    ``ln(close_t / close_{t-n}) / (s * sqrt(n))`` with ``s`` the sample std of the ``n``
    one-bar log returns in the window: a t-statistic of the trend, comparable across perps.
    Null for a flat window.
    """
    check_window(window, minimum=2)
    lf = add_return_basics(lf)
    change = pl.col(LOG_CLOSE) - pl.col(LOG_CLOSE).shift(window)
    scale = pl.col(RETURN_1).rolling_std(window) * (window**0.5)
    momentum = finite_or_null(change / scale)
    return lf.with_columns(complete(momentum, window).alias(f"momentum_{window}"))


def rolling_zscore(column: str, *, window: int) -> pl.Expr:
    """``(x - mean) / std`` of ``column`` over the last ``window`` bars (sample std, ddof=1)."""
    check_window(window, minimum=2)
    values = pl.col(column)
    score = (values - values.rolling_mean(window)) / values.rolling_std(window)
    return complete(finite_or_null(score), window - 1)


def add_price_zscore(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``zscore_<n>``: z-score of the close against its last ``n`` closes (this one included)."""
    lf = add_return_basics(lf)
    return lf.with_columns(rolling_zscore("close", window=window).alias(f"zscore_{window}"))


def add_volume_zscore(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``volume_z_<n>``: z-score of the bar volume against its last ``n`` volumes."""
    lf = add_return_basics(lf)
    return lf.with_columns(rolling_zscore("volume", window=window).alias(f"volume_z_{window}"))
