"""The ``features`` dataset: every per-perp feature of :data:`qbtc.schemas.FEATURE_COLUMNS`."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from qbtc.features.bars import add_bar_segments
from qbtc.features.carry import (
    DEFAULT_MAX_FUNDING_AGE,
    DEFAULT_MAX_TICKER_AGE,
    add_basis,
    add_funding_rate,
)
from qbtc.features.indicators import (
    add_atr,
    add_momentum,
    add_price_zscore,
    add_rsi,
    add_volume_zscore,
)
from qbtc.features.ranks import add_cross_sectional_ranks
from qbtc.features.returns import add_log_returns
from qbtc.features.volatility import (
    add_close_to_close_vol,
    add_ewma_vol,
    add_garman_klass_vol,
    add_parkinson_vol,
    add_yang_zhang_vol,
)
from qbtc.schemas import FEATURES

RETURN_HORIZONS = (1, 15, 60, 240, 1440)
EWMA_HALF_LIFE = 60
#: Bars of history a bar's features depend on: 1,440 for the daily windows, and enough for
#: the EWMA (half-life 60 bars) to forget its start to 0.5 ** 48 ~ 4e-15 of its weight.
WARMUP_BARS = 2880
RANKS = {
    "rank_momentum_240": "momentum_240",
    "rank_rv_cc_60": "rv_cc_60",
    "rank_funding": "funding_rate",
}


def prepare_bars(ohlcv: pl.LazyFrame, *, timeframe: str = "1m") -> pl.LazyFrame:
    """The 1-minute bars of ``ohlcv`` sorted by ``(symbol, timestamp)``, one row per bar."""
    return (
        ohlcv.filter(pl.col("timeframe") == timeframe)
        .select("symbol", "timestamp", "open", "high", "low", "close", "volume")
        .unique(subset=["symbol", "timestamp"], keep="last")
        .sort("symbol", "timestamp")
    )


def compute_bar_features(bars: pl.LazyFrame) -> pl.LazyFrame:
    """Every feature computed from the bars alone (no carry, no ranks), sorted bars in."""
    lf = add_bar_segments(bars)
    lf = add_log_returns(lf, horizons=RETURN_HORIZONS)
    lf = add_close_to_close_vol(lf, windows=(60, 1440))
    lf = add_parkinson_vol(lf, windows=(60,))
    lf = add_garman_klass_vol(lf, windows=(60,))
    lf = add_yang_zhang_vol(lf, windows=(60, 1440))
    lf = add_ewma_vol(lf, half_life=EWMA_HALF_LIFE)
    lf = add_atr(lf, window=14)
    lf = add_rsi(lf, window=14)
    lf = add_momentum(lf, window=240)
    lf = add_price_zscore(lf, window=240)
    return add_volume_zscore(lf, window=60)


def compute_perp_features(
    ohlcv: pl.LazyFrame,
    *,
    tickers: pl.LazyFrame,
    funding: pl.LazyFrame,
    start: pl.Expr | None = None,
    max_ticker_age: timedelta = DEFAULT_MAX_TICKER_AGE,
    max_funding_age: timedelta = DEFAULT_MAX_FUNDING_AGE,
) -> pl.LazyFrame:
    """Rows of the ``features`` dataset for the bars of ``ohlcv``.

    Parameters
    ----------
    ohlcv
        Rows of the ``ohlcv`` dataset (any order); only ``1m`` bars are used. To compute a
        range incrementally, pass the bars from :data:`WARMUP_BARS` bars before it.
    tickers, funding
        Rows of the ``tickers`` and ``funding_rates`` datasets, joined as of each bar.
    start
        Optional filter on the output (e.g. ``pl.col("timestamp") >= t0``), applied after
        every feature was computed, so warm-up bars feed the windows but are not returned.
    max_ticker_age, max_funding_age
        Older tickers / funding rates give null basis / funding.

    Returns
    -------
    A lazy frame with exactly the ``features`` schema, sorted by ``(symbol, timestamp)``.
    """
    lf = compute_bar_features(prepare_bars(ohlcv))
    lf = add_funding_rate(lf, funding, max_age=max_funding_age)
    lf = add_basis(lf, tickers, max_age=max_ticker_age)
    lf = add_cross_sectional_ranks(lf, columns=RANKS)
    if start is not None:
        lf = lf.filter(start)
    return lf.select(list(FEATURES.columns)).sort("symbol", "timestamp")
