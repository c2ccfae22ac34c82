"""Realised volatility estimators over windows of 1-minute bars, annualised.

Every estimator returns an annualised fraction (0.5 = 50 %): the per-bar variance estimate is
multiplied by 525,600 bars per year (365 x 1,440) before the square root. ``n`` is the window
in bars; a value is null until the whole window (and, where a previous close is needed, the
bar before it) lies inside one gap-free segment.

Per-bar estimators with ``o, h, l, c`` the log open, high, low, close of a bar and ``c'`` the
previous bar's log close:

- close-to-close: sample variance (ddof = 1) of the ``n`` one-bar log returns ``c - c'``;
- Parkinson (1980): mean of ``(h - l)^2 / (4 ln 2)``;
- Garman-Klass (1980): mean of ``0.5 (h - l)^2 - (2 ln 2 - 1)(c - o)^2`` (null if negative);
- Yang-Zhang (2000): ``var(o - c') + k var(c - o) + (1 - k) mean(RS)`` with sample variances,
  Rogers-Satchell ``RS = (h - c)(h - o) + (l - c)(l - o)`` and
  ``k = 0.34 / (1.34 + (n + 1) / (n - 1))``;
- EWMA: exponentially weighted mean of squared one-bar log returns (weights normalised,
  pandas/polars ``adjust=True``), half-life in bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from qbtc.features.bars import (
    LN2,
    POSITION,
    SEGMENT,
    add_bar_segments,
    annualised_vol,
    check_window,
    complete,
    yang_zhang_k,
)
from qbtc.features.returns import LOG_CLOSE, RETURN_1, add_return_basics

_RANGE_SQUARED = "_range_squared"
_BODY_SQUARED = "_body_squared"
_OPENING_JUMP = "_opening_jump"
_BODY = "_body"
_ROGERS_SATCHELL = "_rogers_satchell"


def _add_bar_terms(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Per-bar log range terms shared by the range-based estimators."""
    lf = add_return_basics(lf)
    if _RANGE_SQUARED in lf.collect_schema():
        return lf
    log_open, log_high, log_low = (pl.col(c).log() for c in ("open", "high", "low"))
    log_close = pl.col(LOG_CLOSE)
    body = log_close - log_open
    jump = log_open - log_close.shift(1)
    rogers_satchell = (log_high - log_close) * (log_high - log_open) + (log_low - log_close) * (
        log_low - log_open
    )
    return lf.with_columns(
        ((log_high - log_low) ** 2).alias(_RANGE_SQUARED),
        (body**2).alias(_BODY_SQUARED),
        body.alias(_BODY),
        pl.when(pl.col(POSITION) >= 1).then(jump).otherwise(0.0).alias(_OPENING_JUMP),
        rogers_satchell.alias(_ROGERS_SATCHELL),
    )


def add_close_to_close_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_cc_<n>``: annualised sample std (ddof=1) of the last ``n`` one-bar log returns."""
    lf = add_return_basics(lf)
    columns = []
    for n in windows:
        check_window(n, minimum=2)
        variance = pl.col(RETURN_1).rolling_var(n)
        columns.append(complete(annualised_vol(variance), n).alias(f"rv_cc_{n}"))
    return lf.with_columns(columns)


def add_parkinson_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_parkinson_<n>``: annualised Parkinson high-low volatility over ``n`` bars."""
    lf = _add_bar_terms(lf)
    columns = []
    for n in windows:
        check_window(n)
        variance = pl.col(_RANGE_SQUARED).rolling_mean(n) / (4.0 * LN2)
        columns.append(complete(annualised_vol(variance), n - 1).alias(f"rv_parkinson_{n}"))
    return lf.with_columns(columns)


def add_garman_klass_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_garman_klass_<n>``: annualised Garman-Klass OHLC volatility over ``n`` bars."""
    lf = _add_bar_terms(lf)
    per_bar = 0.5 * pl.col(_RANGE_SQUARED) - (2.0 * LN2 - 1.0) * pl.col(_BODY_SQUARED)
    columns = []
    for n in windows:
        check_window(n)
        variance = per_bar.rolling_mean(n)
        columns.append(complete(annualised_vol(variance), n - 1).alias(f"rv_garman_klass_{n}"))
    return lf.with_columns(columns)


def add_yang_zhang_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_yang_zhang_<n>``: annualised Yang-Zhang drift-independent volatility."""
    lf = _add_bar_terms(lf)
    columns = []
    for n in windows:
        k = yang_zhang_k(n)
        variance = (
            pl.col(_OPENING_JUMP).rolling_var(n)
            + k * pl.col(_BODY).rolling_var(n)
            + (1.0 - k) * pl.col(_ROGERS_SATCHELL).rolling_mean(n)
        )
        columns.append(complete(annualised_vol(variance), n).alias(f"rv_yang_zhang_{n}"))
    return lf.with_columns(columns)


def add_ewma_vol(lf: pl.LazyFrame, *, half_life: int, name: str = "ewma_vol") -> pl.LazyFrame:
    """Add ``name``: annualised EWMA volatility of one-bar log returns.

    The variance is the exponentially weighted mean (weights ``0.5 ** (age / half_life)``,
    normalised over the segment so far) of squared one-bar log returns; it restarts at each
    segment and is null until ``half_life`` returns exist.
    """
    check_window(half_life)
    lf = add_return_basics(lf)
    squared = pl.when(pl.col(POSITION) >= 1).then(pl.col(RETURN_1) ** 2)
    variance = pl.col("_squared").ewm_mean(half_life=half_life, adjust=True).over(SEGMENT)
    return (
        lf.with_columns(squared.alias("_squared"))
        .with_columns(complete(annualised_vol(variance), half_life).alias(name))
        .drop("_squared")
    )


__all__ = [
    "add_bar_segments",
    "add_close_to_close_vol",
    "add_ewma_vol",
    "add_garman_klass_vol",
    "add_parkinson_vol",
    "add_yang_zhang_vol",
]
