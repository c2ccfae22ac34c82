"""Technical indicators on 1-minute bars: ATR, RSI, momentum and z-scores.

Wilder smoothing (ATR, RSI) follows Wilder (1978): the first value is the simple mean of the
first ``n`` inputs, then ``s_t = s_{t-1} + (x_t - s_{t-1}) / n``. It restarts at each
segment (a gap-free run of bars, see :mod:`qbtc.features.bars`).

Expression builders need the columns of :func:`~qbtc.features.returns.add_return_basics`.
Wilder smoothing runs in two steps: a *seed* column (materialised: inside ``over`` a whole
expression would be evaluated group by group), then the smoothing over segments.
"""

from __future__ import annotations

import polars as pl

from qbtc.features.bars import POSITION, SEGMENT, check_window_length, complete, finite_or_null
from qbtc.features.returns import LOG_CLOSE, RETURN_1, add_return_basics

_FIRST = 1  # true range and price changes need the previous close


def wilder_seed(values: pl.Expr, *, window: int, first_position: int = _FIRST) -> pl.Expr:
    """Input of Wilder's smoothing: the seed mean at its position, then the raw values.

    ``values`` are defined from ``first_position`` on and must be finite everywhere (use 0.0
    where undefined): they pass through a rolling sum.
    """
    check_window_length(window)
    seed_position = first_position + window - 1
    position = pl.col(POSITION)
    return (
        pl.when(position == seed_position)
        .then(values.rolling_mean(window))
        .when(position > seed_position)
        .then(values)
    )


def wilder_smooth(seed_column: str, *, window: int, first_position: int = _FIRST) -> pl.Expr:
    """Wilder's smoothing of a materialised :func:`wilder_seed` column, per segment."""
    smoothed = pl.col(seed_column).ewm_mean(alpha=1.0 / window, adjust=False).over(SEGMENT)
    return complete(smoothed, first_position + window - 1)


def _true_range() -> pl.Expr:
    previous_close = pl.col("close").shift(1)
    true_range = pl.max_horizontal(
        pl.col("high") - pl.col("low"),
        (pl.col("high") - previous_close).abs(),
        (pl.col("low") - previous_close).abs(),
    )
    return pl.when(pl.col(POSITION) >= 1).then(true_range).otherwise(0.0)


def _change() -> pl.Expr:
    return pl.when(pl.col(POSITION) >= 1).then(pl.col("close").diff()).otherwise(0.0)


def atr_seed(window: int) -> pl.Expr:
    """Seed column of :func:`atr`."""
    return wilder_seed(_true_range(), window=window).alias(f"_atr_seed_{window}")


def atr(window: int) -> pl.Expr:
    """``atr_<n>``: Wilder's average true range over ``n`` bars, in price units (USDT).

    True range ``max(high - low, |high - close'|, |low - close'|)`` needs the previous
    close, so the first value is at the ``n + 1``-th bar of a segment.
    """
    return wilder_smooth(f"_atr_seed_{window}", window=window).alias(f"atr_{window}")


def rsi_seeds(window: int) -> list[pl.Expr]:
    """Seed columns of the smoothed gains and losses of :func:`rsi`."""
    return [
        wilder_seed(_change().clip(lower_bound=0.0), window=window).alias(f"_gain_seed_{window}"),
        wilder_seed((-_change()).clip(lower_bound=0.0), window=window).alias(
            f"_loss_seed_{window}"
        ),
    ]


def rsi_averages(window: int) -> list[pl.Expr]:
    """Wilder-smoothed gains and losses of :func:`rsi` (from :func:`rsi_seeds`)."""
    return [
        wilder_smooth(f"_{side}_seed_{window}", window=window).alias(f"_{side}_{window}")
        for side in ("gain", "loss")
    ]


def rsi(window: int) -> pl.Expr:
    """``rsi_<n>``: Wilder's relative strength index in [0, 100].

    ``100 * G / (G + L)`` with ``G`` and ``L`` the Wilder-smoothed gains and losses of the
    close (equivalent to ``100 - 100 / (1 + G / L)``); null when the close did not move.
    """
    gains, losses = pl.col(f"_gain_{window}"), pl.col(f"_loss_{window}")
    return finite_or_null(100.0 * gains / (gains + losses)).alias(f"rsi_{window}")


def momentum(window: int) -> pl.Expr:
    """``momentum_<n>``: the ``n``-bar log return in units of its own volatility.

    ``ln(close_t / close_{t-n}) / (s * sqrt(n))`` with ``s`` the sample std of the ``n``
    one-bar log returns in the window: a t-statistic of the trend, comparable across perps.
    Null for a flat window.
    """
    check_window_length(window, minimum=2)
    change = pl.col(LOG_CLOSE) - pl.col(LOG_CLOSE).shift(window)
    scale = pl.col(RETURN_1).rolling_std(window) * (window**0.5)
    return complete(finite_or_null(change / scale), window).alias(f"momentum_{window}")


def rolling_zscore(column: str, *, window: int) -> pl.Expr:
    """``(x - mean) / std`` of ``column`` over the last ``window`` bars (sample std, ddof=1)."""
    check_window_length(window, minimum=2)
    values = pl.col(column)
    score = (values - values.rolling_mean(window)) / values.rolling_std(window)
    return complete(finite_or_null(score), window - 1)


def price_zscore(window: int) -> pl.Expr:
    """``zscore_<n>``: z-score of the close against its last ``n`` closes (this one included)."""
    return rolling_zscore("close", window=window).alias(f"zscore_{window}")


def volume_zscore(window: int) -> pl.Expr:
    """``volume_z_<n>``: z-score of the bar volume against its last ``n`` volumes."""
    return rolling_zscore("volume", window=window).alias(f"volume_z_{window}")


def add_atr(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``atr_<n>`` (see :func:`atr`)."""
    seed = f"_atr_seed_{window}"
    lf = add_return_basics(lf).with_columns(atr_seed(window))
    return lf.with_columns(atr(window)).drop(seed)


def add_rsi(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``rsi_<n>`` (see :func:`rsi`)."""
    lf = add_return_basics(lf).with_columns(rsi_seeds(window))
    lf = lf.with_columns(rsi_averages(window)).with_columns(rsi(window))
    temporary = [f"_{kind}_{window}" for kind in ("gain_seed", "loss_seed", "gain", "loss")]
    return lf.drop(temporary)


def add_momentum(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``momentum_<n>`` (see :func:`momentum`)."""
    return add_return_basics(lf).with_columns(momentum(window))


def add_price_zscore(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``zscore_<n>`` (see :func:`price_zscore`)."""
    return add_return_basics(lf).with_columns(price_zscore(window))


def add_volume_zscore(lf: pl.LazyFrame, *, window: int) -> pl.LazyFrame:
    """Add ``volume_z_<n>`` (see :func:`volume_zscore`)."""
    return add_return_basics(lf).with_columns(volume_zscore(window))
