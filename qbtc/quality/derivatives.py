"""Quality rules of tickers, funding rates and option quotes.

Bounds
------
- Funding: ``|funding_rate| <= MAX_FUNDING_RATE`` per interval (a fraction: Binance caps most
  perpetuals at 0.75% to 3% per 8 hours, so 5% means a broken feed, not a hot market).
- Option IVs are annualised fractions: ``0 < mark_iv <= MAX_IV`` and bid/ask IVs in
  ``[0, MAX_IV]`` where quoted (a venue quotes no bid as a missing bid, never a zero one).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from qbtc.quality.checks import (
    CheckContext,
    DatasetRules,
    ExpectationSpec,
    RowCheck,
    at_least,
    between,
    in_set,
    not_after,
    not_null_checks,
    positive,
    present,
    unique_key,
)
from qbtc.schemas import FUNDING_RATES, OPTION_QUOTES, TICKERS

MAX_FUNDING_RATE = 0.05
"""Largest believable funding rate per interval (fraction)."""

MAX_IV = 5.0
"""Largest believable implied volatility (annualised fraction, 500%)."""


def _as_of(ctx: CheckContext) -> datetime:
    return ctx.as_of


def tickers_rules(extra: tuple[RowCheck, ...] = ()) -> DatasetRules:
    """Row checks of ``tickers``: prices positive, bid <= ask, volumes >= 0, not future."""
    checks = [
        *not_null_checks(TICKERS.schema, TICKERS.nullable),
        *(positive(c) for c in ("bid", "ask", "last", "mark", "index")),
        at_least("crossed_quote", "ask", "bid"),
        positive("volume_24h", strict=False),
        positive("quote_volume_24h", strict=False),
        positive("open_interest", strict=False),
        unique_key(TICKERS.primary_key),
        not_after("future_timestamp", "timestamp", _as_of),
        *extra,
    ]
    return DatasetRules(TICKERS.name, tuple(checks), TICKERS.primary_key, coverage_column="symbol")


def funding_rules(extra: tuple[RowCheck, ...] = ()) -> DatasetRules:
    """Row checks of ``funding_rates``: sane rate, positive prices, not future."""
    checks = [
        *not_null_checks(FUNDING_RATES.schema, FUNDING_RATES.nullable),
        between("funding_rate_out_of_bounds", "funding_rate", -MAX_FUNDING_RATE, MAX_FUNDING_RATE),
        positive("mark_price"),
        positive("index_price"),
        unique_key(FUNDING_RATES.primary_key),
        not_after("future_timestamp", "timestamp", _as_of),
        *extra,
    ]
    return DatasetRules(FUNDING_RATES.name, tuple(checks), FUNDING_RATES.primary_key)


def _expired(ctx: CheckContext) -> pl.Expr:
    return (
        pl.col("expiry").is_not_null()
        & pl.col("timestamp").is_not_null()
        & (pl.col("expiry") <= pl.col("timestamp"))
    )


def option_rules(extra: tuple[RowCheck, ...] = ()) -> DatasetRules:
    """Row checks of ``option_quotes``: strike > 0, unexpired, 0 < bid <= ask, sane IVs."""
    checks = [
        *not_null_checks(OPTION_QUOTES.schema, OPTION_QUOTES.nullable),
        positive("strike"),
        RowCheck(
            name="expired",
            bad=_expired,
            expect=lambda ctx: (
                ExpectationSpec(
                    "ExpectColumnPairValuesAToBeGreaterThanB",
                    {
                        "column_A": "expiry",
                        "column_B": "timestamp",
                        "or_equal": False,
                        "ignore_row_if": "either_value_is_missing",
                    },
                ),
            ),
            description="expiry after the quote time",
        ),
        positive("bid"),
        positive("ask"),
        at_least("crossed_quote", "ask", "bid"),
        positive("mark", strict=False),
        positive("underlying_price"),
        positive("open_interest", strict=False),
        RowCheck(
            name="mark_iv_out_of_range",
            bad=lambda ctx: present("mark_iv") & ~pl.col("mark_iv").is_between(0, MAX_IV, "right"),
            expect=lambda ctx: (
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "mark_iv", "min_value": 0, "max_value": MAX_IV, "strict_min": True},
                ),
            ),
            description=f"0 < mark_iv <= {MAX_IV}",
        ),
        between("bid_iv_out_of_range", "bid_iv", 0.0, MAX_IV),
        between("ask_iv_out_of_range", "ask_iv", 0.0, MAX_IV),
        in_set("option_type_unknown", "option_type", ("call", "put")),
        unique_key(OPTION_QUOTES.primary_key),
        not_after("future_timestamp", "timestamp", _as_of),
        *extra,
    ]
    return DatasetRules(
        OPTION_QUOTES.name, tuple(checks), OPTION_QUOTES.primary_key, coverage_column="underlying"
    )
