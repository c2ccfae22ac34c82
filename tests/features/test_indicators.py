"""ATR, RSI, momentum and z-scores: hand-checked values and a numpy implementation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from qbtc.features import add_atr, add_momentum, add_price_zscore, add_rsi, add_volume_zscore
from qbtc.features.perp import prepare_bars
from tests.features import reference
from tests.features.fixtures import MINUTE, T0, bars


def _closes(values: list[float]) -> pl.LazyFrame:
    n = len(values)
    return pl.DataFrame(
        {
            "symbol": ["X/USDT:USDT"] * n,
            "timestamp": [T0 + MINUTE * k for k in range(n)],
            "open": values,
            "high": [v + 0.5 for v in values],
            "low": [v - 0.5 for v in values],
            "close": values,
            "volume": [1.0, 2.0, 3.0, 4.0, 5.0, 9.0][:n],
        }
    ).lazy()


@pytest.fixture
def series() -> pl.DataFrame:
    return prepare_bars(bars(("ETH/USDT:USDT",), n=120, seed=11).lazy()).collect()


def test_rsi_by_hand():
    # Changes +1, -0.5, +1, -0.5, +1. Seed (3 changes): G = 2/3, L = 1/6 -> 80.
    # Then Wilder: G = 4/9, L = 5/18 -> 800/13; G = 17/27, L = 5/27 -> 1700/22.
    out = add_rsi(_closes([10.0, 11.0, 10.5, 11.5, 11.0, 12.0]), window=3).collect()
    rsi = out.get_column("rsi_3").to_list()
    assert rsi[:3] == [None, None, None]
    assert rsi[3:] == pytest.approx([80.0, 800 / 13, 1700 / 22], rel=1e-14)


def test_atr_by_hand():
    # High/low = close +- 0.5. True ranges from bar 1: max(1, |h - c'|, |l - c'|):
    # bar1: h=11.5 c'=10 -> 1.5; bar2: h=11, l=10, c'=11 -> 1.0; bar3: h=12, c'=10.5 -> 1.5;
    # bar4: l=10.5, c'=11.5 -> 1.0; bar5: h=12.5, c'=11 -> 1.5.
    # Seed (3): (1.5 + 1 + 1.5)/3 = 4/3; then 4/3 + (1 - 4/3)/3 = 11/9; 11/9 + (1.5 - 11/9)/3.
    out = add_atr(_closes([10.0, 11.0, 10.5, 11.5, 11.0, 12.0]), window=3).collect()
    atr = out.get_column("atr_3").to_list()
    assert atr[:3] == [None, None, None]
    assert atr[3:] == pytest.approx([4 / 3, 11 / 9, 11 / 9 + (1.5 - 11 / 9) / 3], rel=1e-14)


def test_rsi_of_a_flat_price_is_null_not_nan():
    out = add_rsi(_closes([5.0] * 6), window=3).collect()
    assert out.get_column("rsi_3").null_count() == 6


def test_rsi_and_atr_match_numpy(series):
    out = add_atr(add_rsi(series.lazy(), window=14), window=14).collect()
    c, h, low = (series.get_column(k).to_numpy() for k in ("close", "high", "low"))
    np.testing.assert_allclose(
        out.get_column("rsi_14").to_numpy().astype(float), reference.rsi(c, 14), rtol=1e-12
    )
    np.testing.assert_allclose(
        out.get_column("atr_14").to_numpy().astype(float), reference.atr(h, low, c, 14), rtol=1e-12
    )


def test_momentum_and_zscores_match_numpy(series):
    lf = add_momentum(series.lazy(), window=30)
    out = add_volume_zscore(add_price_zscore(lf, window=30), window=10).collect()
    close, volume = series.get_column("close").to_numpy(), series.get_column("volume").to_numpy()
    np.testing.assert_allclose(
        out.get_column("momentum_30").to_numpy().astype(float),
        reference.momentum(close, 30),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        out.get_column("zscore_30").to_numpy().astype(float),
        reference.zscore(close, 30),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        out.get_column("volume_z_10").to_numpy().astype(float),
        reference.zscore(volume, 10),
        rtol=1e-10,
    )


def test_volume_zscore_by_hand():
    # Volumes 1..5 then 9; window 3 at the last bar: (9 - mean(4, 5, 9)) / std(4, 5, 9).
    out = add_volume_zscore(_closes([1.0] * 6), window=3).collect()
    values = np.array([4.0, 5.0, 9.0])
    expected = (9.0 - values.mean()) / values.std(ddof=1)
    assert out.get_column("volume_z_3").to_list()[-1] == pytest.approx(expected, rel=1e-14)
    assert out.get_column("volume_z_3").to_list()[2] == pytest.approx(1.0, rel=1e-14)
