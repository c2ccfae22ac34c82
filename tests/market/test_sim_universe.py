"""A universe of hundreds: QBTC_SIM_PERPS lists more perps, deterministically, and full chains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qbtc.config import Settings
from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim import SimExchange
from qbtc.market.sim import daily as daily_module
from qbtc.market.sim.intraday import minute_bars
from qbtc.market.sim.universe import (
    BLOCK_SIZE,
    CATALOGUE,
    MAX_PERPS,
    SPECS,
    generated_spec,
    listed_symbols,
    locate,
)
from tests.market.conftest import AS_OF

BTC = "BTC/USDT:USDT"


def test_the_catalogue_starts_with_the_majors_and_has_unique_letter_symbols() -> None:
    assert CATALOGUE[: len(SPECS)] == SPECS
    bases = [spec.base for spec in CATALOGUE]
    assert len(set(bases)) == len(bases) == MAX_PERPS
    assert all(base.isalpha() and base.isupper() for base in bases)
    assert listed_symbols(200)[:2] == (BTC, "ETH/USDT:USDT")
    assert len(listed_symbols(200)) == 200


def test_generated_perps_are_the_same_in_every_process_and_plausible() -> None:
    spec = generated_spec(123)
    assert spec == CATALOGUE[123]
    for spec in CATALOGUE[len(SPECS) :]:
        assert 0.0005 < spec.price < 1500
        tick = 10.0**-spec.price_decimals
        assert spec.price / tick >= 1_000, "about five significant digits of price"
        assert 0.6 <= spec.beta <= 1.6
        assert 0.4 <= spec.idio_vol <= 0.9
        assert 2e7 <= spec.daily_notional <= 1.01e9


def test_generated_catalogue_is_a_fixed_golden_list() -> None:
    """Changing the draw would silently re-price every stored generated perp."""
    spec = CATALOGUE[20]
    assert spec.base == "QAAU"
    assert (spec.price, spec.beta, spec.idio_vol) == (39.812, 1.36, 0.42)


def test_listing_more_perps_leaves_the_majors_bit_identical() -> None:
    majors = tuple(spec.symbol for spec in SPECS)
    small = SimExchange(seed=7, as_of=AS_OF, symbols=majors)
    large = SimExchange(seed=7, as_of=AS_OF, symbols=listed_symbols(200))
    for symbol in (BTC, "FIL/USDT:USDT"):
        assert small.fetch_ohlcv(symbol, limit=300) == large.fetch_ohlcv(symbol, limit=300)
    assert small.fetch_tickers(list(majors)) == large.fetch_tickers(list(majors))
    # Block 0 is exactly what generate_daily makes for the majors alone.
    block0 = daily_module.generate_daily(7, 2560)
    explicit = daily_module.generate_daily(7, 2560, SPECS)
    assert np.array_equal(block0.log_close, explicit.log_close)


def test_a_generated_perp_regenerates_identically_and_differs_by_seed() -> None:
    symbol = listed_symbols(200)[-1]
    assert locate(symbol) == divmod(199, BLOCK_SIZE)
    first = SimExchange(seed=7, as_of=AS_OF, symbols=(symbol,)).fetch_ohlcv(symbol, limit=200)
    minute_bars.cache_clear()
    daily_module._CACHE.clear()
    again = SimExchange(seed=7, as_of=AS_OF, symbols=(symbol,)).fetch_ohlcv(symbol, limit=200)
    other = SimExchange(seed=8, as_of=AS_OF, symbols=(symbol,)).fetch_ohlcv(symbol, limit=200)
    assert first == again
    assert first != other
    closes = np.array([bar[4] for bar in first])
    assert np.all(closes > 0)
    assert np.all(np.isfinite(closes))
    spec = CATALOGUE[199]
    assert math.isclose(closes[-1], spec.price, rel_tol=0.9), "near its reference level"


def test_the_venue_lists_every_perp_of_a_200_universe() -> None:
    venue = SimExchange(seed=7, as_of=AS_OF, symbols=listed_symbols(200))
    markets = venue.load_markets()
    assert sum(1 for m in markets.values() if m["swap"]) == 200
    assert len(venue.fetch_tickers()) == 200


def test_sim_perps_setting_sets_the_traded_universe_unless_symbols_are_given() -> None:
    assert len(Settings(sim_perps=200).symbols) == 200
    assert Settings(sim_perps=200, symbols=[BTC]).symbols == [BTC]
    assert len(Settings().symbols) == 10
    with pytest.raises(ValueError, match="sim_perps"):
        Settings(sim_perps=MAX_PERPS + 1)


@pytest.mark.parametrize("underlying", ["BTC", "ETH"])
def test_full_chains_are_deribit_sized_and_quote_shared_contracts_alike(underlying: str) -> None:
    standard = SimExchange(seed=7, as_of=AS_OF).fetch_option_chain(underlying)
    full = SimExchange(seed=7, as_of=AS_OF, chain_depth="full").fetch_option_chain(underlying)
    assert len(full) >= 400, f"{underlying}: {len(full)} options"
    assert len(full) > 1.8 * len(standard)
    shared = set(standard) & set(full)
    assert len(shared) > 0.5 * len(standard)
    for symbol in shared:
        assert full[symbol]["markPrice"] == standard[symbol]["markPrice"]
    strikes = sorted({parse_option_symbol(s).strike for s in full})
    forward = next(iter(full.values()))["underlyingPrice"]
    assert strikes[0] < 0.8 * forward < 1.25 * forward < strikes[-1], "deep wings are listed"
