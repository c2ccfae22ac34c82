"""The simulated venue regenerates any window identically, whatever the request order."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from qbtc.market.sim import SimExchange
from qbtc.market.sim import daily as daily_module
from qbtc.market.sim.intraday import minute_bars
from tests.market.conftest import AS_OF

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
MS = 1000
NOW_MS = int(AS_OF.timestamp() * MS)


def _clear_caches() -> None:
    minute_bars.cache_clear()
    daily_module._CACHE.clear()


def _window(exchange: SimExchange, symbol: str, days_back: float, limit: int) -> list[list[float]]:
    since = NOW_MS - int(days_back * 86_400_000)
    return exchange.fetch_ohlcv(symbol, "1m", since=since, limit=limit)


def test_same_seed_and_window_twice_is_identical() -> None:
    first = _window(SimExchange(seed=7, as_of=AS_OF), BTC, 3, 1500)
    _clear_caches()
    second = _window(SimExchange(seed=7, as_of=AS_OF), BTC, 3, 1500)
    assert first == second
    assert len(first) == 1500


def test_windows_do_not_depend_on_request_order() -> None:
    _clear_caches()
    forward = SimExchange(seed=11, as_of=AS_OF)
    a_first = [_window(forward, s, d, 700) for s in (BTC, ETH) for d in (20, 2, 9)]
    _clear_caches()
    backward = SimExchange(seed=11, as_of=AS_OF)
    b_reversed = [_window(backward, s, d, 700) for s in (ETH, BTC) for d in (9, 2, 20)]
    assert a_first == [b_reversed[i] for i in (5, 4, 3, 2, 1, 0)]
    assert backward.fetch_funding_rate_history(ETH, limit=30) == forward.fetch_funding_rate_history(
        ETH, limit=30
    )


def test_a_listed_subset_does_not_change_a_symbols_prices() -> None:
    alone = SimExchange(seed=7, as_of=AS_OF, symbols=(ETH,))
    together = SimExchange(seed=7, as_of=AS_OF)
    assert _window(alone, ETH, 1, 500) == _window(together, ETH, 1, 500)


def test_a_longer_daily_horizon_leaves_earlier_days_bit_identical() -> None:
    short = daily_module.generate_daily(7, 2560)
    long = daily_module.generate_daily(7, 3072)
    for name in ("log_close", "factor_vol", "idio_vol", "idio_jump", "premium"):
        left, right = getattr(short, name), getattr(long, name)
        assert np.array_equal(left, right[..., : left.shape[-1]]), name


def test_a_different_seed_gives_a_different_market() -> None:
    seven = _window(SimExchange(seed=7, as_of=AS_OF), BTC, 1, 100)
    eight = _window(SimExchange(seed=8, as_of=AS_OF), BTC, 1, 100)
    assert [bar[0] for bar in seven] == [bar[0] for bar in eight]
    assert [bar[4] for bar in seven] != [bar[4] for bar in eight]


@given(
    offset=st.integers(min_value=0, max_value=3000),
    length=st.integers(min_value=1, max_value=400),
)
def test_any_sub_window_is_a_slice_of_a_larger_window(offset: int, length: int) -> None:
    exchange = SimExchange(seed=3, as_of=AS_OF)
    since = NOW_MS - 4 * 86_400_000
    start = (since // 60_000 + 1) * 60_000
    big = [*exchange.fetch_ohlcv(BTC, since=start, limit=1500)]
    big += exchange.fetch_ohlcv(BTC, since=big[-1][0] + 60_000, limit=1500)
    big += exchange.fetch_ohlcv(BTC, since=big[-1][0] + 60_000, limit=1500)
    small = exchange.fetch_ohlcv(BTC, since=start + offset * 60_000, limit=length)
    assert small == big[offset : offset + length]


def test_the_wall_clock_venue_matches_a_fixed_clock_at_the_same_minute() -> None:
    live = SimExchange(seed=5)
    bars = live.fetch_ohlcv(BTC, limit=3)
    closed_at = datetime.fromtimestamp((bars[-1][0] + 60_000) / MS, UTC)
    fixed = SimExchange(seed=5, as_of=closed_at)
    assert fixed.fetch_ohlcv(BTC, limit=3) == bars
