"""Quality rules of OHLCV bars, including the jump score and the timeframe grid.

Jump score
----------
For each bar the one-bar log move ``r = ln(close / anchor)`` is measured against the close of
the previous bar when that bar is adjacent (exactly one bar earlier, from the batch or the
clean stored bars), otherwise against the bar's own open. Anchoring on the open after a hole
keeps one quarantined jump from making every later bar look like a jump. The scale is a
robust per-symbol sigma of those moves: ``1.4826 * MAD`` (the mean absolute deviation times
``sqrt(pi/2)`` when more than half of the moves are equal, e.g. tick-bound prices). The score
is ``|r| / sigma``; a bar that only undoes the previous flagged bar (a one-bar spike) is
scored on the net move of the two. Symbols with fewer than :data:`MIN_RETURNS` moves are
not scored (too little data for a sigma).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from qbtc.quality.checks import (
    CheckContext,
    DatasetRules,
    ExpectationSpec,
    RowCheck,
    at_least,
    helper_at_most,
    not_after,
    not_null_checks,
    positive,
    present,
    unique_key,
)
from qbtc.schemas import OHLCV

MIN_RETURNS = 30
"""Fewest one-bar moves per symbol before the jump check scores its bars."""

_TIMEFRAME_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def timeframe_step(timeframe: str) -> timedelta:
    """Bar length of a ccxt timeframe (``1m``, ``5m``, ``1h``, ``4h``, ``1d``, ``1w``)."""
    unit = timeframe[-1:]
    count = timeframe[:-1]
    if unit not in _TIMEFRAME_UNITS or not count.isdigit() or int(count) <= 0:
        raise ValueError(
            f"unsupported timeframe {timeframe!r}: use e.g. 1m, 5m, 15m, 1h, 4h, 1d or 1w"
        )
    return timedelta(seconds=int(count) * _TIMEFRAME_UNITS[unit])


def _step(ctx: CheckContext) -> timedelta:
    if ctx.step is None:
        raise ValueError("OHLCV checks need the bar length (CheckContext.step)")
    return ctx.step


def grid_offsets(frame: pl.DataFrame, ctx: CheckContext) -> pl.Series:
    """Seconds between each bar's timestamp and the timeframe grid below it (0 = on grid)."""
    step_us = _step(ctx) // timedelta(microseconds=1)
    epoch_us = pl.col("timestamp").dt.epoch("us")
    offset = (epoch_us % step_us).abs().cast(pl.Float64) / 1e6
    return frame.select(offset.alias("_off_grid")).to_series()


def _moves(frame: pl.DataFrame, ctx: CheckContext) -> pl.DataFrame:
    """Candidate bars (batch and reference) sorted by symbol and time, with their move."""
    columns = ["symbol", "timestamp", "open", "close"]
    batch = frame.select(columns).with_row_index("_row").with_columns(pl.lit(False).alias("_ref"))
    ok = (
        present("open")
        & present("close")
        & (pl.col("open") > 0)
        & (pl.col("close") > 0)
        & pl.col("timestamp").is_not_null()
        & pl.col("symbol").is_not_null()
    )
    batch = batch.filter(ok & ~pl.struct("symbol", "timestamp").is_duplicated())
    parts = [batch]
    if ctx.reference is not None and ctx.reference.height:
        ref = ctx.reference.select(columns).filter(ok)
        ref = ref.join(batch.select("symbol", "timestamp"), on=["symbol", "timestamp"], how="anti")
        ref = ref.with_columns(pl.lit(None, pl.UInt32).alias("_row"), pl.lit(True).alias("_ref"))
        parts.append(ref.select(batch.columns))
    bars = pl.concat(parts).sort("symbol", "timestamp")
    adjacent = (pl.col("timestamp") - pl.col("timestamp").shift(1).over("symbol")) == _step(ctx)
    anchor = pl.when(adjacent).then(pl.col("close").shift(1).over("symbol")).otherwise("open")
    return bars.with_columns(adjacent.fill_null(False).alias("_adjacent")).with_columns(
        (pl.col("close") / anchor).log().alias("_r")
    )


def jump_scores(frame: pl.DataFrame, ctx: CheckContext) -> pl.Series:
    """Robust sigma score of each bar's one-bar move (null where not scored); see module doc."""
    bars = _moves(frame, ctx)
    r = pl.col("_r")
    deviation = (r - r.median().over("symbol")).abs()
    mad = deviation.median().over("symbol")
    sigma = pl.when(mad > 0).then(1.4826 * mad).otherwise(1.2533 * deviation.mean().over("symbol"))
    scored = bars.with_columns(
        pl.when((r.count().over("symbol") >= MIN_RETURNS) & (sigma > 0))
        .then(sigma)
        .otherwise(None)
        .alias("_sigma")
    ).with_columns((r.abs() / pl.col("_sigma")).alias("_score"))
    prev_score = pl.col("_score").shift(1).over("symbol")
    prev_r = r.shift(1).over("symbol")
    net = (r + prev_r).abs() / pl.col("_sigma")
    undoes_spike = (
        pl.col("_adjacent")
        & (prev_score > ctx.jump_sigma)
        & (r.sign() != prev_r.sign())
        & (net <= ctx.jump_sigma)
    )
    scored = scored.with_columns(
        pl.when(undoes_spike.fill_null(False)).then(net).otherwise("_score").alias("_score")
    )
    aligned = (
        frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
        .join(scored.filter(~pl.col("_ref")).select("_row", "_score"), on="_row", how="left")
        .sort("_row")
    )
    return aligned["_score"].alias("_price_jump")


def time_steps(frame: pl.DataFrame, ctx: CheckContext) -> pl.Series:
    """Seconds from the previous row of the same symbol, in batch order (negative when the
    time goes back; null for a symbol's first row or a missing timestamp)."""
    step = pl.col("timestamp").diff().over("symbol").dt.total_microseconds() / 1e6
    return frame.select(step.alias("_out_of_order")).to_series()


def ohlcv_rules(extra: tuple[RowCheck, ...] = ()) -> DatasetRules:
    """Every row-level check of the ``ohlcv`` dataset (plus ``extra`` ones)."""
    checks = [
        *not_null_checks(OHLCV.schema, OHLCV.nullable),
        *(positive(c) for c in ("open", "high", "low", "close")),
        positive("volume", strict=False),
        at_least("high_below_open", "high", "open"),
        at_least("high_below_close", "high", "close"),
        at_least("low_above_open", "open", "low"),
        at_least("low_above_close", "close", "low"),
        unique_key(OHLCV.primary_key),
        RowCheck(
            name="out_of_order",
            bad=lambda ctx: pl.col("_out_of_order") < 0,
            expect=lambda ctx: (
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween", {"column": "_out_of_order", "min_value": 0}
                ),
            ),
            derive=time_steps,
            description="timestamps never go back within a symbol (file/batch order)",
        ),
        RowCheck(
            name="off_grid",
            bad=lambda ctx: pl.col("_off_grid") > 0,
            expect=lambda ctx: helper_at_most("off_grid", 0.0),
            derive=grid_offsets,
            description="bar open time on the timeframe grid",
        ),
        not_after("bar_not_closed", "timestamp", lambda ctx: ctx.as_of - _step(ctx)),
        RowCheck(
            name="price_jump",
            bad=lambda ctx: pl.col("_price_jump") > ctx.jump_sigma,
            expect=lambda ctx: helper_at_most("price_jump", ctx.jump_sigma),
            derive=jump_scores,
            description="one-bar log move within N robust sigmas",
        ),
        *extra,
    ]
    return DatasetRules(
        dataset=OHLCV.name,
        checks=tuple(checks),
        key_columns=OHLCV.primary_key,
        coverage_column="symbol",
        freshness=True,
    )
