"""The whole ``features`` frame: schema, no look-ahead, incremental equals full recompute."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from qbtc.features import WARMUP_BARS, compute_perp_features
from qbtc.schemas import FEATURE_COLUMNS, FEATURES
from tests.features.fixtures import MINUTE, T0, bars, funding, tickers

N_BARS = 1600


@pytest.fixture(scope="module")
def market() -> dict[str, pl.DataFrame]:
    ohlcv = bars(n=N_BARS, seed=21)
    return {"ohlcv": ohlcv, "tickers": tickers(ohlcv), "funding": funding()}


@pytest.fixture(scope="module")
def full_features(market) -> pl.DataFrame:
    return _features(market)


def _features(market: dict[str, pl.DataFrame], **kwargs) -> pl.DataFrame:
    return compute_perp_features(
        market["ohlcv"].lazy(),
        tickers=market["tickers"].lazy(),
        funding=market["funding"].lazy(),
        **kwargs,
    ).collect()


def _known_when(market: dict[str, pl.DataFrame], cut: datetime) -> dict[str, pl.Expr]:
    """What is known once bar ``cut`` closed: bars opened by ``cut``, the rest by its close."""
    return {
        name: pl.col("timestamp") <= (cut if name == "ohlcv" else cut + MINUTE) for name in market
    }


def _until(market: dict[str, pl.DataFrame], cut: datetime) -> dict[str, pl.DataFrame]:
    known = _known_when(market, cut)
    return {name: frame.filter(known[name]) for name, frame in market.items()}


def test_output_has_exactly_the_features_schema(market, full_features):
    out = full_features
    assert out.schema == FEATURES.schema
    assert out.height == market["ohlcv"].height
    assert out.get_column("close").null_count() == 0
    # After a day of warm-up every feature is filled (funding and tickers are dense here).
    last = out.filter(pl.col("timestamp") == pl.col("timestamp").max())
    assert last.null_count().row(0) == (0,) * len(FEATURES.columns)
    for name in FEATURE_COLUMNS:
        values = out.get_column(name).drop_nulls().to_numpy()
        assert np.isfinite(values).all(), name


def test_ranks_are_within_unit_interval(full_features):
    out = full_features
    for name in ("rank_momentum_240", "rank_rv_cc_60", "rank_funding"):
        values = out.get_column(name).drop_nulls()
        assert values.min() >= 0.0
        assert values.max() <= 1.0
    # Funding rates differ per symbol (1e-4 x symbol number), so ranks are 0, 0.5 and 1.
    last = out.filter(pl.col("timestamp") == pl.col("timestamp").max()).sort("funding_rate")
    assert last.get_column("rank_funding").to_list() == [0.0, 0.5, 1.0]


@settings(max_examples=10)
@given(cut_bar=st.integers(min_value=0, max_value=N_BARS - 2))
def test_appending_later_data_does_not_change_earlier_features(market, full_features, cut_bar):
    cut = T0 + cut_bar * MINUTE
    full = full_features.filter(pl.col("timestamp") <= cut)
    truncated = _features(_until(market, cut))
    # Equal up to rounding: rolling sums carry ~1e-13 of the history they were updated over.
    assert_frame_equal(truncated, full, check_exact=False, rel_tol=1e-12, abs_tol=1e-11)


def test_changing_later_data_does_not_change_earlier_features(market, full_features):
    cut = T0 + 1000 * MINUTE
    known = _known_when(market, cut)
    later = pl.col("timestamp") > cut
    rng = np.random.default_rng(0)
    shocked = dict(market)
    scale = pl.Series(rng.uniform(0.5, 2.0, market["ohlcv"].height))
    shocked["ohlcv"] = market["ohlcv"].with_columns(
        [pl.when(known["ohlcv"]).then(pl.col(c)).otherwise(pl.col(c) * scale) for c in ("open", "high", "low", "close")]
    )  # fmt: skip
    shocked["tickers"] = market["tickers"].with_columns(
        pl.when(known["tickers"]).then(pl.col("mark")).otherwise(pl.col("mark") * 3).alias("mark")
    )
    shocked["funding"] = market["funding"].with_columns(
        pl.when(known["funding"]).then(pl.col("funding_rate")).otherwise(1.0).alias("funding_rate")
    )
    after = _features(shocked)
    before = full_features.filter(~later)
    assert_frame_equal(after.filter(~later), before, check_exact=False, abs_tol=1e-11)
    assert not after.filter(later).equals(full_features.filter(later))


def test_incremental_from_the_warm_up_window_equals_full_recompute():
    ohlcv = bars(n=WARMUP_BARS + 700, seed=8)
    market = {"ohlcv": ohlcv, "tickers": tickers(ohlcv), "funding": funding()}
    start = T0 + (WARMUP_BARS + 400) * MINUTE
    full = _features(market).filter(pl.col("timestamp") >= start)
    window = {
        "ohlcv": ohlcv.filter(pl.col("timestamp") >= start - WARMUP_BARS * MINUTE),
        "tickers": market["tickers"],
        "funding": market["funding"],
    }
    incremental = _features(window, start=pl.col("timestamp") >= start)
    assert incremental.height == full.height == 300 * 3
    assert_frame_equal(incremental, full, check_exact=False, rel_tol=1e-10, abs_tol=1e-11)


def test_a_shorter_warm_up_would_not_be_enough():
    # Guards the test above: with half the warm-up the EWMA (and daily windows) differ.
    ohlcv = bars(n=WARMUP_BARS + 700, seed=8)
    market = {"ohlcv": ohlcv, "tickers": tickers(ohlcv), "funding": funding()}
    start = T0 + (WARMUP_BARS + 400) * MINUTE
    full = _features(market).filter(pl.col("timestamp") >= start)
    short = {**market, "ohlcv": ohlcv.filter(pl.col("timestamp") >= start - 1500 * MINUTE)}
    partial = _features(short, start=pl.col("timestamp") >= start)
    difference = (partial.get_column("ewma_vol") - full.get_column("ewma_vol")).abs().max()
    assert difference > 1e-9  # type: ignore[operator]


def test_only_one_minute_bars_are_used():
    ohlcv = bars(n=30)
    hourly = ohlcv.with_columns(pl.lit("1h").alias("timeframe"), pl.col("close") * 10)
    empty = {"tickers": tickers(ohlcv).clear(), "funding": funding().clear()}
    both = _features({"ohlcv": pl.concat([ohlcv, hourly]), **empty})
    assert_frame_equal(both, _features({"ohlcv": ohlcv, **empty}))
