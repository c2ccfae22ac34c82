"""Option chains of the simulated venue: expiry buckets, quotes, smile, term structure, parity."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim import SimExchange
from qbtc.market.sim.chain import listed_contracts, option_chain
from qbtc.market.sim.options import ChainDepth, list_expiries
from qbtc.pricing import black76_price
from tests.market.conftest import AS_OF

NOW_MS = int(AS_OF.timestamp() * 1000)


def _by_expiry(chain: dict) -> dict[datetime, list[dict]]:
    groups: dict[datetime, list[dict]] = defaultdict(list)
    for symbol, option in chain.items():
        groups[parse_option_symbol(symbol).expiry].append(option)
    return groups


@given(st.integers(min_value=0, max_value=3 * 365 * 24 * 60))
def test_every_clock_lists_all_four_expiry_buckets(minutes: int) -> None:
    now_ms = NOW_MS + minutes * 60_000
    expiries = list_expiries(now_ms)
    assert {e.kind for e in expiries} == {"daily", "weekly", "monthly", "quarterly"}
    assert all(e.ms > now_ms + 30 * 60_000 and e.when.hour == 8 for e in expiries)
    assert [e.when for e in expiries] == sorted({e.when for e in expiries})
    quarterly = [e.when for e in expiries if e.kind == "quarterly"]
    assert all(q.month % 3 == 0 and q.weekday() == 4 for q in quarterly)


@pytest.mark.parametrize("underlying", ["BTC", "ETH"])
def test_chains_have_every_bucket_with_strikes_around_the_forward(
    sim: SimExchange, underlying: str
) -> None:
    chain = sim.fetch_option_chain(underlying)
    assert {o["info"]["expiryKind"] for o in chain.values()} == {
        "daily",
        "weekly",
        "monthly",
        "quarterly",
    }
    for options in _by_expiry(chain).values():
        forward = options[0]["underlyingPrice"]
        strikes = sorted({parse_option_symbol(o["symbol"]).strike for o in options})
        assert len(strikes) >= 5
        assert strikes[0] < forward < strikes[-1]


def test_quotes_are_ordered_and_linear_in_usdt(sim: SimExchange) -> None:
    chain = sim.fetch_option_chain("BTC")
    for symbol, option in chain.items():
        assert symbol.startswith("BTC/USDT:USDT-")
        assert option["timestamp"] == NOW_MS
        assert option["askPrice"] > 0
        assert option["markPrice"] > 0
        if option["bidPrice"] is not None:
            assert 0 < option["bidPrice"] <= option["markPrice"] <= option["askPrice"]
            assert float(option["info"]["bidIV"]) <= option["impliedVolatility"]
        assert option["impliedVolatility"] <= float(option["info"]["askIV"])
        assert 0.1 < option["impliedVolatility"] < 3.0
    with_bid = sum(o["bidPrice"] is not None for o in chain.values())
    assert with_bid > 0.8 * len(chain)


def test_marks_satisfy_put_call_parity_on_the_forward(sim: SimExchange) -> None:
    chain = sim.fetch_option_chain("ETH")
    for symbol, call in chain.items():
        if not symbol.endswith("-C"):
            continue
        put = chain[symbol[:-1] + "P"]
        strike = parse_option_symbol(symbol).strike
        forward = call["underlyingPrice"]
        assert call["markPrice"] - put["markPrice"] == pytest.approx(forward - strike, abs=2e-4)


def test_marks_are_black76_prices_of_the_mark_iv(sim: SimExchange) -> None:
    option = next(iter(sim.fetch_option_chain("BTC").values()))
    contract = parse_option_symbol(option["symbol"])
    years = (contract.expiry.timestamp() * 1000 - NOW_MS) / (365 * 86_400_000)
    expected = black76_price(
        option["underlyingPrice"],
        contract.strike,
        years,
        option["impliedVolatility"],
        contract.is_call,
    )
    assert option["markPrice"] == pytest.approx(float(expected), abs=1e-4)


def _atm_and_wings(options: list[dict]) -> tuple[float, float, float, float]:
    calls = sorted((o for o in options if o["symbol"].endswith("-C")), key=lambda o: o["symbol"])
    strikes = np.array([parse_option_symbol(o["symbol"]).strike for o in calls])
    ivs = np.array([o["impliedVolatility"] for o in calls])
    order = np.argsort(strikes)
    strikes, ivs = strikes[order], ivs[order]
    forward = calls[0]["underlyingPrice"]
    years = (parse_option_symbol(calls[0]["symbol"]).expiry.timestamp() * 1000 - NOW_MS) / (
        365 * 86_400_000
    )
    atm = float(np.interp(forward, strikes, ivs))
    width = atm * np.sqrt(years)
    low = float(np.interp(forward * np.exp(-width), strikes, ivs))
    high = float(np.interp(forward * np.exp(width), strikes, ivs))
    return years, atm, low, high


def test_the_smile_has_put_skew_and_a_term_structure(sim: SimExchange) -> None:
    shapes = [
        _atm_and_wings(options)
        for _, options in sorted(_by_expiry(sim.fetch_option_chain("BTC")).items())
    ]
    for _, atm, low, high in shapes:
        assert low > high  # downside strikes trade at a higher IV (negative skew)
        assert (low + high) / 2 > atm  # convex smile
    atm_by_tenor = [atm for _, atm, _, _ in shapes]
    steps = np.diff(atm_by_tenor)
    assert np.all(steps >= -1e-9) or np.all(steps <= 1e-9)  # monotone towards the long-run vol
    assert max(atm_by_tenor) - min(atm_by_tenor) > 0.005


def test_option_tickers_and_markets_price_any_live_contract(sim: SimExchange) -> None:
    markets = sim.load_markets()
    listed = next(s for s, m in markets.items() if m["option"])
    assert markets[listed]["settle"] == "USDT"
    assert markets[listed]["linear"]
    ticker = sim.fetch_ticker(listed)
    assert (
        ticker["markPrice"]
        == sim.fetch_option_chain("BTC" if listed.startswith("BTC") else "ETH")[listed]["markPrice"]
    )
    off_grid = listed.rsplit("-", 2)[0] + "-12345-P"
    assert sim.fetch_ticker(off_grid)["ask"] > 0


@pytest.mark.parametrize(("underlying", "depth"), [("BTC", "standard"), ("ETH", "full")])
def test_a_listed_strike_stays_listed_until_its_expiry(underlying: str, depth: ChainDepth) -> None:
    """A real venue never delists a strike before its expiry, however far the market moves:
    every option listed at one clock is listed at every later clock up to its expiry (every
    7 hours over 75 days, so every hour of the day comes round)."""
    seen: dict[str, tuple[int, float]] = {}  # symbol -> (step first listed, expiry ms)
    for step in range(75 * 24 // 7):
        now_ms = NOW_MS + step * 7 * 3_600_000
        listed = listed_contracts(11, underlying, now_ms, depth)
        symbols = {c.symbol for c, _ in listed}
        for symbol, (first, expiry_ms) in seen.items():
            if expiry_ms > now_ms + 30 * 60_000:
                assert symbol in symbols, f"{symbol}, listed since step {first}, gone at {step}"
        for contract, _ in listed:
            seen.setdefault(contract.symbol, (step, contract.expiry.timestamp() * 1000))


def test_a_held_strike_is_still_in_the_chain_weeks_later() -> None:
    """The chain the venue serves (quotes included) still has a strike it listed three weeks
    before, after the market moved away from it; an option held since then keeps its quote."""
    start = option_chain(11, "BTC", NOW_MS)
    later_ms = NOW_MS + 21 * 86_400_000
    later = option_chain(11, "BTC", later_ms)
    alive = [s for s in start if parse_option_symbol(s).expiry.timestamp() * 1000 > later_ms]
    assert alive
    assert set(alive) <= set(later)
    assert all(later[s]["askPrice"] > 0 and later[s]["timestamp"] == later_ms for s in alive)
