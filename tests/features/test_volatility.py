"""Realised-vol estimators: hand-checked values and an independent numpy implementation."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from qbtc.features import (
    BARS_PER_YEAR,
    add_close_to_close_vol,
    add_ewma_vol,
    add_garman_klass_vol,
    add_parkinson_vol,
    add_yang_zhang_vol,
)
from qbtc.features.perp import prepare_bars
from tests.features import reference
from tests.features.fixtures import MINUTE, T0, bars


def _one(symbol_bars: pl.DataFrame) -> dict[str, np.ndarray]:
    return {c: symbol_bars.get_column(c).to_numpy() for c in ("open", "high", "low", "close")}


def _column(lf: pl.LazyFrame, name: str) -> np.ndarray:
    return lf.collect().get_column(name).to_numpy().astype(float)


@pytest.fixture
def series() -> pl.DataFrame:
    return prepare_bars(bars(("BTC/USDT:USDT",), n=80).lazy()).collect()


def test_bars_per_year_is_365_days_of_minutes():
    assert BARS_PER_YEAR == 365 * 24 * 60


def test_parkinson_of_two_hand_built_bars():
    # ln(H/L) = 0.01 then 0.02: variance per bar (1e-4 + 4e-4) / 2 / (4 ln 2).
    frame = pl.DataFrame(
        {
            "symbol": ["X/USDT:USDT"] * 2,
            "timestamp": [T0, T0 + MINUTE],
            "open": [100.0, 100.0],
            "high": [100.0 * math.exp(0.01), 100.0 * math.exp(0.02)],
            "low": [100.0, 100.0],
            "close": [100.0, 100.0],
            "volume": [1.0, 1.0],
        }
    )
    out = _column(add_parkinson_vol(frame.lazy(), windows=(2,)), "rv_parkinson_2")
    expected = math.sqrt(2.5e-4 / (4 * math.log(2)) * 525_600)
    assert np.isnan(out[0])
    assert out[1] == pytest.approx(expected, rel=1e-14)
    assert out[1] == pytest.approx(6.884223, abs=1e-6)  # sqrt(9.0168e-5 * 525600)


def test_close_to_close_matches_numpy(series):
    got = _column(add_close_to_close_vol(series.lazy(), windows=(5, 20)), "rv_cc_20")
    np.testing.assert_allclose(got, reference.close_to_close(_one(series)["close"], 20), rtol=1e-12)


@pytest.mark.parametrize("window", [2, 5, 30])
def test_range_estimators_match_numpy(series, window):
    p = _one(series)
    lf = add_garman_klass_vol(
        add_parkinson_vol(series.lazy(), windows=(window,)), windows=(window,)
    )
    frame = lf.collect()
    np.testing.assert_allclose(
        frame.get_column(f"rv_parkinson_{window}").to_numpy().astype(float),
        reference.parkinson(p["high"], p["low"], window),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        frame.get_column(f"rv_garman_klass_{window}").to_numpy().astype(float),
        reference.garman_klass(p["open"], p["high"], p["low"], p["close"], window),
        rtol=1e-12,
    )


@pytest.mark.parametrize("window", [2, 5, 30])
def test_yang_zhang_matches_numpy(series, window):
    p = _one(series)
    got = _column(add_yang_zhang_vol(series.lazy(), windows=(window,)), f"rv_yang_zhang_{window}")
    expected = reference.yang_zhang(p["open"], p["high"], p["low"], p["close"], window)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_ewma_vol_matches_numpy(series):
    got = _column(add_ewma_vol(series.lazy(), half_life=10), "ewma_vol")
    np.testing.assert_allclose(got, reference.ewma_vol(_one(series)["close"], 10), rtol=1e-12)


def test_a_missing_bar_restarts_every_window():
    frame = prepare_bars(bars(("BTC/USDT:USDT",), n=40, missing=(20,)).lazy()).collect()
    lf = add_close_to_close_vol(frame.lazy(), windows=(5,))
    lf = add_yang_zhang_vol(add_parkinson_vol(lf, windows=(5,)), windows=(5,))
    out = add_ewma_vol(lf, half_life=3).collect()
    after_gap = out.filter(pl.col("timestamp") > T0 + 20 * MINUTE)
    # Bars 21..: the segment restarts at bar 21, so 5-bar windows need bars 21..25 (+1 for
    # the previous close).
    first = after_gap.head(6)
    assert first.get_column("rv_cc_5").null_count() == 5
    assert first.get_column("rv_parkinson_5").null_count() == 4
    assert first.get_column("rv_yang_zhang_5").null_count() == 5
    assert first.get_column("ewma_vol").null_count() == 3
    # The second segment alone gives the same values as if it were the whole series.
    alone = add_close_to_close_vol(
        frame.filter(pl.col("timestamp") > T0 + 20 * MINUTE).lazy(), windows=(5,)
    ).collect()
    np.testing.assert_allclose(
        after_gap.get_column("rv_cc_5").to_numpy().astype(float),
        alone.get_column("rv_cc_5").to_numpy().astype(float),
        rtol=1e-12,
    )


def test_symbols_do_not_share_windows():
    frame = prepare_bars(bars(n=30).lazy()).collect()
    out = add_close_to_close_vol(frame.lazy(), windows=(5,)).collect()
    per_symbol = out.group_by("symbol").agg(pl.col("rv_cc_5").head(5).null_count())
    assert per_symbol.get_column("rv_cc_5").to_list() == [5, 5, 5]


def test_windows_must_be_whole_bars():
    frame = bars(n=5).lazy()
    with pytest.raises(ValueError, match="at least 2 bars"):
        add_close_to_close_vol(frame, windows=(1,))
    with pytest.raises(ValueError, match="window"):
        add_parkinson_vol(frame, windows=(timedelta(minutes=5),))  # type: ignore[arg-type]
