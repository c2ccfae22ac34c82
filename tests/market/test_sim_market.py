"""Market realism of the simulated venue: closed bars only, OHLC sanity, funding, correlation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import ccxt
import numpy as np
import pytest

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.market.errors import UnknownSymbolError
from qbtc.market.sim import SimExchange
from qbtc.market.sim.daily import funding_from_premium
from tests.market.conftest import AS_OF

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
NOW_MS = int(AS_OF.timestamp() * 1000)
HOUR_MS = 3_600_000


def _bars(exchange: SimExchange, symbol: str, days: int) -> np.ndarray:
    since = NOW_MS - days * 86_400_000
    rows: list[list[float]] = []
    while True:
        page = exchange.fetch_ohlcv(symbol, since=since, limit=1500)
        if not page:
            return np.array(rows)
        rows += page
        since = int(page[-1][0]) + 60_000


def test_the_venue_lists_at_least_the_ten_default_perps(sim: SimExchange) -> None:
    markets = sim.load_markets()
    assert set(DEFAULT_SYMBOLS) <= {s for s, m in markets.items() if m["swap"]}
    assert markets[BTC]["linear"]
    assert markets[BTC]["id"] == "BTCUSDT"


@pytest.mark.parametrize("timeframe", ["1m", "5m", "1h", "4h", "1d"])
def test_no_bar_is_returned_before_it_closes(timeframe: str) -> None:
    exchange = SimExchange(seed=7, as_of=AS_OF)
    step = {"1m": 60_000, "5m": 300_000, "1h": HOUR_MS, "4h": 4 * HOUR_MS, "1d": 24 * HOUR_MS}
    bars = exchange.fetch_ohlcv(BTC, timeframe, limit=50)
    assert bars[-1][0] + step[timeframe] <= NOW_MS < bars[-1][0] + 2 * step[timeframe]
    assert exchange.fetch_ohlcv(BTC, timeframe, since=bars[-1][0] + 1) == []
    assert exchange.fetch_ohlcv(BTC, timeframe, since=NOW_MS + HOUR_MS) == []


def test_the_bar_in_progress_appears_once_the_clock_passes_its_close(sim: SimExchange) -> None:
    last = sim.fetch_ohlcv(BTC, limit=1)[0]
    sim.set_clock(AS_OF + timedelta(minutes=1))
    assert sim.fetch_ohlcv(BTC, limit=2)[0] == last
    assert sim.fetch_ohlcv(BTC, limit=2)[1][0] == last[0] + 60_000


def test_bars_are_consistent_ohlc_on_a_continuous_path(sim: SimExchange) -> None:
    bars = _bars(sim, ETH, 3)
    _, open_, high, low, close, volume = bars.T
    assert np.all(high >= np.maximum(open_, close))
    assert np.all(low <= np.minimum(open_, close))
    assert np.all(low > 0)
    assert np.all(volume >= 0)
    assert np.array_equal(open_[1:], close[:-1])
    assert np.all(np.diff(bars[:, 0]) == 60_000)


def test_coarser_timeframes_aggregate_the_minute_bars(sim: SimExchange) -> None:
    hour_start = (NOW_MS - 6 * HOUR_MS) // HOUR_MS * HOUR_MS
    minutes = np.array(sim.fetch_ohlcv(BTC, "1m", since=hour_start, limit=60))
    hour = sim.fetch_ohlcv(BTC, "1h", since=int(minutes[0, 0]), limit=1)[0]
    assert hour[0] == minutes[0, 0]
    assert hour[1:5] == [minutes[0, 1], minutes[:, 2].max(), minutes[:, 3].min(), minutes[-1, 4]]
    assert hour[5] == pytest.approx(minutes[:, 5].sum())


def test_btc_and_eth_returns_are_positively_correlated(sim: SimExchange) -> None:
    btc, eth = (np.diff(np.log(_bars(sim, s, 20)[:, 4])) for s in (BTC, ETH))
    assert np.corrcoef(btc, eth)[0, 1] > 0.3
    daily = [
        np.diff(np.log(np.array(sim.fetch_ohlcv(s, "1d", limit=400))[:, 4])) for s in (BTC, ETH)
    ]
    assert np.corrcoef(*daily)[0, 1] > 0.5


def test_volume_follows_the_intraday_profile_and_volatility_is_stochastic(sim: SimExchange) -> None:
    bars = _bars(sim, BTC, 30)
    hours = (bars[:, 0] // HOUR_MS) % 24
    assert bars[hours == 14, 5].mean() > 1.3 * bars[hours == 4, 5].mean()
    daily = np.array(sim.fetch_ohlcv(BTC, "1d", limit=721))
    returns = np.diff(np.log(daily[:, 4]))
    monthly_vol = returns[: 24 * 30].reshape(24, 30).std(axis=1)
    assert monthly_vol.max() > 1.8 * monthly_vol.min()


def test_funding_settles_every_eight_hours_and_follows_the_premium(sim: SimExchange) -> None:
    history = sim.fetch_funding_rate_history(BTC, limit=600)
    times = np.array([entry["timestamp"] for entry in history])
    assert len(history) == 600
    assert times[-1] <= NOW_MS < times[-1] + 8 * HOUR_MS
    assert np.all(np.diff(times) == 8 * HOUR_MS)
    assert {datetime.fromtimestamp(t / 1000, UTC).hour for t in times} == {0, 8, 16}
    rates = np.array([entry["fundingRate"] for entry in history])
    mark = np.array([float(entry["info"]["markPrice"]) for entry in history])
    index = np.array([float(entry["info"]["indexPrice"]) for entry in history])
    premium = mark / index - 1.0
    assert np.all(np.abs(rates) <= 0.003)
    moved = rates != 0.0001
    assert moved.sum() > 20
    assert np.corrcoef(rates[moved], premium[moved])[0, 1] > 0.5


def test_funding_formula_golden_values() -> None:
    premium = np.array([0.0001, 0.0004, 0.0009, -0.0006, 0.01])
    assert funding_from_premium(premium).tolist() == [0.0001, 0.0001, 0.0004, -0.0001, 0.003]


def test_tickers_quote_inside_the_spread_with_mark_and_index(sim: SimExchange) -> None:
    tickers = sim.fetch_tickers()
    assert set(tickers) == set(DEFAULT_SYMBOLS)
    for symbol, ticker in tickers.items():
        assert ticker["symbol"] == symbol
        assert ticker["timestamp"] == NOW_MS
        assert 0 < ticker["bid"] < ticker["ask"]
        assert ticker["bid"] <= ticker["last"] <= ticker["ask"]
        assert abs(ticker["markPrice"] / ticker["indexPrice"] - 1) < 0.01
        assert ticker["baseVolume"] > 0
        assert ticker["quoteVolume"] > 0
    last_bar = sim.fetch_ohlcv(BTC, limit=1)[0]
    assert tickers[BTC]["last"] == last_bar[4]


def test_an_unknown_symbol_names_close_matches() -> None:
    with pytest.raises(UnknownSymbolError, match=r"did you mean BTC/USDT:USDT"):
        SimExchange(symbols=("BTC/USDT",))
    with pytest.raises(UnknownSymbolError, match="ETH/USDT:USDT"):
        SimExchange(as_of=AS_OF).fetch_ticker("ETH/USDC:USDC")


def test_a_time_before_the_simulated_history_says_what_to_do() -> None:
    early = SimExchange(as_of=datetime(2019, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="2020-01-01"):
        early.fetch_ohlcv(BTC)


def test_an_unsupported_timeframe_is_refused_with_the_choices(sim: SimExchange) -> None:
    with pytest.raises(ccxt.BadRequest, match="1m, 3m, 5m"):
        sim.fetch_ohlcv(BTC, "7m")


def test_each_perp_ticker_is_a_copy_of_its_own() -> None:
    """Tickers are remembered per (seed, symbol, clock): a caller changing one changes
    nobody else's."""
    from qbtc.market.sim.tickers import perp_ticker

    now = int(datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp() * 1000)
    first = perp_ticker(7, "BTC/USDT:USDT", now)
    kept = json.loads(json.dumps(first))
    first["last"] = 0.0
    first["info"]["markPrice"] = "0"
    assert perp_ticker(7, "BTC/USDT:USDT", now) == kept
