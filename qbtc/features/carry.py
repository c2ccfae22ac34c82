"""Carry features joined as of each bar's close: funding rate and annualised perp basis.

A feature row describes its bar at the bar's close (``timestamp + 1 minute``, the moment its
close price is known), so each bar takes the latest ticker or funding settlement stamped at
or before that close, never a later one. A ticker snapped when a cycle runs, right as the
decision bar closes, therefore counts for that bar. Inputs older than a tolerance give
null rather than a stale value.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from qbtc.features.bars import BAR, finite_or_null

#: Funding intervals per year for 8-hourly funding (365 x 3): converts the perp premium
#: ``mark / index - 1`` into the annual rate it implies.
FUNDING_PERIODS_PER_YEAR = 1095
DEFAULT_MAX_TICKER_AGE = timedelta(minutes=15)
DEFAULT_MAX_FUNDING_AGE = timedelta(days=1)


def _as_of(
    lf: pl.LazyFrame, other: pl.LazyFrame, *, columns: list[str], max_age: timedelta
) -> pl.LazyFrame:
    """Left as-of join by symbol: the latest row of ``other`` stamped at or before the close."""
    right = (
        other.select("symbol", pl.col("timestamp").alias("_known_at"), *columns)
        .drop_nulls("_known_at")
        .sort("_known_at")
    )
    return (
        lf.with_columns((pl.col("timestamp") + BAR).alias("_bar_close"))
        .join_asof(
            right,
            left_on="_bar_close",
            right_on="_known_at",
            by="symbol",
            strategy="backward",
            tolerance=max_age,
            check_sortedness=False,
        )
        .drop("_bar_close", "_known_at", strict=False)
    )


def add_funding_rate(
    lf: pl.LazyFrame,
    funding: pl.LazyFrame,
    *,
    max_age: timedelta = DEFAULT_MAX_FUNDING_AGE,
) -> pl.LazyFrame:
    """Add ``funding_rate``: the latest settled funding rate (per 8 h interval, a fraction).

    Parameters
    ----------
    lf
        Bars with ``symbol`` and ``timestamp``.
    funding
        Rows of the ``funding_rates`` dataset (``symbol``, ``timestamp``, ``funding_rate``);
        a rate is known from its settlement ``timestamp``.
    max_age
        Rates settled longer ago than this give null.
    """
    rates = funding.select("symbol", "timestamp", "funding_rate")
    return _as_of(lf, rates, columns=["funding_rate"], max_age=max_age)


def add_basis(
    lf: pl.LazyFrame,
    tickers: pl.LazyFrame,
    *,
    max_age: timedelta = DEFAULT_MAX_TICKER_AGE,
) -> pl.LazyFrame:
    """Add ``basis_annualized``: ``(mark / index - 1) * 1095`` from the latest ticker.

    The perp premium over its index, annualised with 1,095 eight-hour funding periods a
    year (the rate at which funding would pay it away). Null when no ticker within
    ``max_age`` or the index is not positive.
    """
    marks = tickers.select("symbol", "timestamp", "mark", "index")
    joined = _as_of(lf, marks, columns=["mark", "index"], max_age=max_age)
    basis = (pl.col("mark") / pl.col("index") - 1.0) * FUNDING_PERIODS_PER_YEAR
    basis = pl.when(pl.col("index") > 0).then(finite_or_null(basis))
    return joined.with_columns(basis.alias("basis_annualized")).drop("mark", "index")
