"""open_exchange picks the simulated venue or a ccxt one, with the contract's defaults."""

from __future__ import annotations

import pytest

from qbtc.market.ccxt_adapter import CcxtExchange
from qbtc.market.errors import UnknownSymbolError
from qbtc.market.protocol import Exchange
from qbtc.market.sim import SimExchange
from qbtc.market.venue import open_exchange
from tests.market.conftest import AS_OF


def test_sim_is_the_deterministic_offline_venue() -> None:
    venue = open_exchange("sim", seed=3, as_of=AS_OF, symbols=["BTC/USDT:USDT"])
    assert isinstance(venue, SimExchange)
    assert isinstance(venue, Exchange)
    assert venue.milliseconds() == int(AS_OF.timestamp() * 1000)
    assert venue.fetch_ohlcv("BTC/USDT:USDT", limit=5) == SimExchange(
        seed=3, as_of=AS_OF
    ).fetch_ohlcv("BTC/USDT:USDT", limit=5)


def test_sim_refuses_unknown_symbols_at_once() -> None:
    with pytest.raises(UnknownSymbolError, match="did you mean ETH/USDT:USDT"):
        open_exchange("sim", seed=7, as_of=None, symbols=["ETH/USDT"])


def test_a_ccxt_venue_opens_on_its_test_environment() -> None:
    venue = open_exchange(
        "binanceusdm", seed=7, as_of=None, symbols=["BTC/USDT:USDT"], timeout_ms=2500, max_retries=1
    )
    assert isinstance(venue, CcxtExchange)
    assert isinstance(venue, Exchange)
    assert venue.sandbox
    assert venue.id == "binanceusdm"
    assert venue.client.timeout == 2500
    assert venue.caller.policy.max_retries == 1


def test_a_fixed_clock_is_refused_for_a_real_venue() -> None:
    with pytest.raises(ValueError, match="--as-of replays the simulated venue only"):
        open_exchange("binanceusdm", seed=7, as_of=AS_OF, symbols=["BTC/USDT:USDT"])
