"""Frames fetched from a venue match their dataset schemas exactly, closed bars only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from qbtc.lake.validate import check_frame
from qbtc.market import normalize
from qbtc.market.sim import SimExchange
from qbtc.pricing import black76_price
from qbtc.schemas import FUNDING_RATES, OHLCV, OPTION_QUOTES, TICKERS
from tests.market.conftest import AS_OF

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def test_ohlcv_frame_has_every_closed_bar_of_the_window(sim: SimExchange) -> None:
    since = datetime(2026, 3, 1, tzinfo=UTC)
    frame = normalize.fetch_ohlcv_frame(sim, BTC, timeframe="1m", since=since)
    check_frame(OHLCV, frame)
    expected = int((AS_OF - since).total_seconds() // 60)  # the bar opening 12:30 is open
    assert frame.height == expected
    assert frame["timestamp"].min() == since
    assert frame["timestamp"].max() == datetime(2026, 3, 4, 12, 29, tzinfo=UTC)
    assert frame["timestamp"].is_sorted()
    assert frame["timestamp"].n_unique() == frame.height
    assert frame["source"].unique().to_list() == ["sim"]


def test_pagination_is_invisible_in_the_result(sim: SimExchange) -> None:
    since = AS_OF - timedelta(hours=7)
    until = AS_OF - timedelta(hours=1)
    small = normalize.fetch_ohlcv_frame(sim, ETH, since=since, until=until, page_limit=37)
    large = normalize.fetch_ohlcv_frame(sim, ETH, since=since, until=until, page_limit=1500)
    assert small.equals(large)
    assert small.height == 360
    assert small["timestamp"].max() < until


def test_a_window_past_the_clock_is_empty_and_well_typed(sim: SimExchange) -> None:
    frame = normalize.fetch_ohlcv_frame(sim, BTC, since=AS_OF + timedelta(days=1))
    assert frame.height == 0
    check_frame(OHLCV, frame)


class _OverlappingPages(SimExchange):
    """A venue that repeats the last few candles of the previous page (some do)."""

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ) -> list[list[float]]:
        start = None if since is None else since - 5 * 60_000
        return super().fetch_ohlcv(symbol, timeframe, start, limit)


def test_overlapping_pages_never_duplicate_a_bar() -> None:
    venue = _OverlappingPages(seed=7, as_of=AS_OF)
    frame = normalize.fetch_ohlcv_frame(venue, BTC, since=AS_OF - timedelta(hours=3), page_limit=50)
    reference = normalize.fetch_ohlcv_frame(
        SimExchange(seed=7, as_of=AS_OF), BTC, since=AS_OF - timedelta(hours=3)
    )
    assert frame.equals(reference)


def test_candles_to_frame_deduplicates_and_sorts() -> None:
    candles = [[120_000, 2, 3, 1, 2, 5], [60_000, 1, 2, 1, 2, 4], [120_000, 2, 4, 1, 3, 6]]
    frame = normalize.ohlcv_to_frame(candles, symbol=BTC, timeframe="1m", source="test")
    check_frame(OHLCV, frame)
    assert frame["close"].to_list() == [2.0, 3.0]
    assert frame["timestamp"].to_list() == [
        datetime(1970, 1, 1, 0, 1, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 2, tzinfo=UTC),
    ]


def test_tickers_frame_matches_the_schema(sim: SimExchange) -> None:
    frame = normalize.fetch_tickers_frame(sim, [BTC, ETH], now=AS_OF)
    check_frame(TICKERS, frame)
    assert frame["symbol"].to_list() == [BTC, ETH]
    assert frame["timestamp"].unique().to_list() == [AS_OF]
    assert (frame["bid"] < frame["ask"]).all()
    assert frame["open_interest"].null_count() == 0


def test_funding_frame_is_the_settlements_inside_the_window(sim: SimExchange) -> None:
    since, until = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, 8, tzinfo=UTC)
    frame = normalize.fetch_funding_frame(sim, BTC, since=since, until=until, page_limit=25)
    check_frame(FUNDING_RATES, frame)
    assert frame.height == 28 * 3 + 2
    assert frame["timestamp"].min() == since
    assert frame["timestamp"].max() == until
    assert frame["mark_price"].null_count() == 0
    assert frame["index_price"].null_count() == 0


def test_option_chain_frame_matches_the_schema(sim: SimExchange) -> None:
    frame = normalize.fetch_option_chain_frame(sim, "BTC", now=AS_OF)
    check_frame(OPTION_QUOTES, frame)
    assert set(frame["option_type"]) == {"call", "put"}
    assert frame["settlement"].unique().to_list() == ["linear"]
    assert frame["underlying"].unique().to_list() == ["BTC"]
    assert (frame["expiry"] > AS_OF).all()
    with_bid = frame.filter(pl.col("bid").is_not_null())
    assert (with_bid["bid"] <= with_bid["ask"]).all()
    assert (with_bid["bid_iv"] <= with_bid["mark_iv"]).all()


def _deribit_option(symbol: str, mark: float, **info: Any) -> dict[str, Any]:
    """A ccxt option structure as ccxt's deribit.parse_option returns it (prices in BTC)."""
    return {
        "info": {"instrument_name": symbol, "underlying_price": 60_000.0, **info},
        "currency": "BTC",
        "symbol": symbol,
        "timestamp": None,
        "impliedVolatility": None,
        "openInterest": 12.5,
        "bidPrice": info.get("bid_price"),
        "askPrice": info.get("ask_price"),
        "markPrice": mark,
        "underlyingPrice": 60_000.0,
    }


def test_inverse_options_keep_coin_prices_and_get_implied_vols() -> None:
    now = datetime(2026, 3, 4, 8, tzinfo=UTC)
    years = 30 / 365
    usd = float(black76_price(60_000.0, 65_000.0, years, 0.55, True))
    chain = {
        "BTC/USD:BTC-260403-65000-C": _deribit_option(
            "BTC/USD:BTC-260403-65000-C", usd / 60_000.0, ask_price=0.05, mark_iv=55.0
        ),
        "BTC/USD:BTC-260403-65000-P": _deribit_option("BTC/USD:BTC-260403-65000-P", 0.09),
        "BTC-PERPETUAL": {"symbol": "BTC/USD:BTC"},
    }
    frame = normalize.option_chain_to_frame(chain, underlying="BTC", now=now, source="deribit")
    check_frame(OPTION_QUOTES, frame)
    call, put = frame.row(0, named=True), frame.row(1, named=True)
    assert call["settlement"] == "inverse"
    assert call["mark"] == pytest.approx(usd / 60_000.0)
    assert call["mark_iv"] == pytest.approx(0.55)  # Deribit gives percent
    assert call["bid"] is None
    assert call["bid_iv"] is None
    assert call["ask_iv"] > call["mark_iv"]  # implied from the coin ask price
    put_usd = black76_price(60_000.0, 65_000.0, years, put["mark_iv"], False)
    assert float(put_usd) / 60_000.0 == pytest.approx(0.09, rel=1e-6)
    assert frame["expiry"].to_list() == [datetime(2026, 4, 3, 8, tzinfo=UTC)] * 2


def test_unknown_timeframes_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unknown timeframe '1x'"):
        normalize.timeframe_ms("1x")
    assert normalize.timeframe_ms("4h") == 4 * 3_600_000
    assert np.isclose(normalize.to_ms(datetime(1970, 1, 1, 0, 0, 1)), 1000)
