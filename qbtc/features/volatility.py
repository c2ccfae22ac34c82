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
    annualised_vol,
    check_window_length,
    complete,
    yang_zhang_k,
)
from qbtc.features.returns import LOG_CLOSE, RETURN_1, SQUARED_RETURN, add_return_basics

_RANGE_SQUARED = "_range_squared"
_BODY_SQUARED = "_body_squared"
_OPENING_JUMP = "_opening_jump"
_BODY = "_body"
_ROGERS_SATCHELL = "_rogers_satchell"


def add_bar_terms(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add the per-bar log range terms the range-based estimators share (after the basics)."""
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


# Expression builders: they need the columns of ``add_bar_terms`` and can all be evaluated
# in one ``with_columns`` (in parallel). The ``add_*`` transforms wrap them.


def close_to_close_vol(window: int) -> pl.Expr:
    """``rv_cc_<n>``: annualised sample std (ddof=1) of the last ``n`` one-bar log returns."""
    check_window_length(window, minimum=2)
    variance = pl.col(RETURN_1).rolling_var(window)
    return complete(annualised_vol(variance), window).alias(f"rv_cc_{window}")


def parkinson_vol(window: int) -> pl.Expr:
    """``rv_parkinson_<n>``: annualised Parkinson high-low volatility over ``n`` bars."""
    check_window_length(window)
    variance = pl.col(_RANGE_SQUARED).rolling_mean(window) / (4.0 * LN2)
    return complete(annualised_vol(variance), window - 1).alias(f"rv_parkinson_{window}")


def garman_klass_vol(window: int) -> pl.Expr:
    """``rv_garman_klass_<n>``: annualised Garman-Klass OHLC volatility over ``n`` bars."""
    check_window_length(window)
    per_bar = 0.5 * pl.col(_RANGE_SQUARED) - (2.0 * LN2 - 1.0) * pl.col(_BODY_SQUARED)
    variance = per_bar.rolling_mean(window)
    return complete(annualised_vol(variance), window - 1).alias(f"rv_garman_klass_{window}")


def yang_zhang_vol(window: int) -> pl.Expr:
    """``rv_yang_zhang_<n>``: annualised Yang-Zhang drift-independent volatility."""
    k = yang_zhang_k(window)
    variance = (
        pl.col(_OPENING_JUMP).rolling_var(window)
        + k * pl.col(_BODY).rolling_var(window)
        + (1.0 - k) * pl.col(_ROGERS_SATCHELL).rolling_mean(window)
    )
    return complete(annualised_vol(variance), window).alias(f"rv_yang_zhang_{window}")


def ewma_vol(half_life: int, name: str = "ewma_vol") -> pl.Expr:
    """``name``: annualised EWMA volatility of one-bar log returns.

    The variance is the exponentially weighted mean (weights ``0.5 ** (age / half_life)``,
    normalised over the segment so far) of squared one-bar log returns; it restarts at each
    segment and is null until ``half_life`` returns exist.
    """
    check_window_length(half_life)
    variance = pl.col(SQUARED_RETURN).ewm_mean(half_life=half_life, adjust=True).over(SEGMENT)
    return complete(annualised_vol(variance), half_life).alias(name)


def add_close_to_close_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_cc_<n>`` for each window (see :func:`close_to_close_vol`)."""
    return add_return_basics(lf).with_columns(close_to_close_vol(n) for n in windows)


def add_parkinson_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_parkinson_<n>`` for each window (see :func:`parkinson_vol`)."""
    return add_bar_terms(lf).with_columns(parkinson_vol(n) for n in windows)


def add_garman_klass_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_garman_klass_<n>`` for each window (see :func:`garman_klass_vol`)."""
    return add_bar_terms(lf).with_columns(garman_klass_vol(n) for n in windows)


def add_yang_zhang_vol(lf: pl.LazyFrame, *, windows: Sequence[int]) -> pl.LazyFrame:
    """Add ``rv_yang_zhang_<n>`` for each window (see :func:`yang_zhang_vol`)."""
    return add_bar_terms(lf).with_columns(yang_zhang_vol(n) for n in windows)


def add_ewma_vol(lf: pl.LazyFrame, *, half_life: int, name: str = "ewma_vol") -> pl.LazyFrame:
    """Add the EWMA volatility column ``name`` (see :func:`ewma_vol`)."""
    return add_return_basics(lf).with_columns(ewma_vol(half_life, name))
