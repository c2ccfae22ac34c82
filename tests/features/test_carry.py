"""Funding and basis joined as of each bar: latest known value, no look-ahead, staleness."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from qbtc.features import add_basis, add_funding_rate
from qbtc.features.carry import FUNDING_PERIODS_PER_YEAR
from qbtc.schemas import FUNDING_RATES, TICKERS
from tests.features.fixtures import MINUTE, T0


def _bars(n: int = 5) -> pl.LazyFrame:
    return pl.DataFrame(
        {"symbol": "A/USDT:USDT", "timestamp": [T0 + MINUTE * k for k in range(n)]}
    ).lazy()


def _ticker(at, mark: float, index: float, symbol: str = "A/USDT:USDT") -> dict:
    return {"symbol": symbol, "timestamp": at, "bid": mark, "ask": mark, "last": mark,
            "mark": mark, "index": index, "volume_24h": 1.0, "quote_volume_24h": None,
            "open_interest": None, "source": "t"}  # fmt: skip


def test_basis_uses_the_latest_ticker_at_or_before_the_bar_close():
    rows = [
        _ticker(T0, 101.0, 100.0),
        _ticker(T0 + timedelta(seconds=30), 102.0, 100.0),  # inside bar 0
        _ticker(T0 + 2 * MINUTE, 99.0, 100.0),  # exactly when bar 1 closes
        _ticker(T0 + MINUTE, 500.0, 100.0, symbol="B/USDT:USDT"),
    ]
    tickers = pl.DataFrame(rows, schema=TICKERS.schema).lazy()
    out = add_basis(_bars(), tickers).collect()
    basis = out.get_column("basis_annualized").to_list()
    assert basis == pytest.approx(
        [0.02 * FUNDING_PERIODS_PER_YEAR] + [-0.01 * FUNDING_PERIODS_PER_YEAR] * 4, rel=1e-12
    )
    assert FUNDING_PERIODS_PER_YEAR == 3 * 365


def test_a_ticker_after_the_bar_close_is_not_used():
    late = T0 + MINUTE + timedelta(microseconds=1)  # bar 0 closed a microsecond earlier
    tickers = pl.DataFrame([_ticker(late, 101.0, 100.0)], schema=TICKERS.schema).lazy()
    out = add_basis(_bars(2), tickers).collect()
    assert out.get_column("basis_annualized").to_list()[0] is None
    assert out.get_column("basis_annualized").to_list()[1] == pytest.approx(10.95, rel=1e-12)


def test_basis_is_null_before_any_ticker_and_when_stale():
    tickers = pl.DataFrame([_ticker(T0 + 2 * MINUTE, 101.0, 100.0)], schema=TICKERS.schema).lazy()
    out = add_basis(_bars(), tickers, max_age=timedelta(minutes=2)).collect()
    # Bars close at minutes 1..5: before the ticker, then ages 0, 1, 2 and 3 minutes.
    assert out.get_column("basis_annualized").is_null().to_list() == [
        True, False, False, False, True,
    ]  # fmt: skip


def test_funding_rate_is_the_last_settled_rate():
    rows = [
        {"symbol": "A/USDT:USDT", "timestamp": T0 - timedelta(hours=8), "funding_rate": 1e-4},
        {"symbol": "A/USDT:USDT", "timestamp": T0 + 3 * MINUTE, "funding_rate": -2e-4},
    ]
    funding = pl.DataFrame(rows).with_columns(
        pl.col("timestamp").cast(FUNDING_RATES.columns["timestamp"])
    )
    out = add_funding_rate(_bars(), funding.lazy()).collect()
    # The -2e-4 settlement at minute 3 is known when bar 2 closes.
    assert out.get_column("funding_rate").to_list() == [1e-4, 1e-4, -2e-4, -2e-4, -2e-4]
    stale = add_funding_rate(_bars(), funding.lazy(), max_age=timedelta(hours=1)).collect()
    assert stale.get_column("funding_rate").to_list() == [None, None, -2e-4, -2e-4, -2e-4]
