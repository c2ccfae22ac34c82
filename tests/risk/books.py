"""Small books and factor models shared by the risk tests (hand-checkable numbers)."""

from __future__ import annotations

import numpy as np

from qbtc.risk import Book, OptionLegs, PerpLegs, factor_model

UNDERLYINGS = ("BTC", "ETH")
SPOT = np.array([50_000.0, 3_000.0])


def model(vol_of_vol: float = 0.8):
    return factor_model(UNDERLYINGS, [0.6, 0.8], [[1.0, 0.7], [0.7, 1.0]], vol_of_vol=vol_of_vol)


def perp_book(btc: float = 10.0, eth: float = -100.0) -> Book:
    perps = PerpLegs(("BTC/USDT:USDT", "ETH/USDT:USDT"), [0, 1], [btc, eth], SPOT)
    return Book(UNDERLYINGS, SPOT, perps)


def option_book(n: int = 12, seed: int = 5) -> Book:
    """Calls and puts on both underlyings over three expiries, long and short."""
    rng = np.random.default_rng(seed)
    underlying = rng.integers(0, 2, n)
    forward = SPOT[underlying] * 1.001
    opts = OptionLegs(
        symbols=tuple(f"OPT{i}" for i in range(n)),
        underlying=underlying,
        quantity=rng.choice([-3.0, -1.0, 1.0, 2.0], n),
        forward=forward,
        strike=forward * rng.uniform(0.8, 1.2, n),
        expiry=rng.choice([7 / 365, 30 / 365, 90 / 365], n),
        vol=rng.uniform(0.4, 0.9, n),
        is_call=rng.random(n) < 0.5,
    )
    perps = PerpLegs(("BTC/USDT:USDT",), [0], [-1.5], SPOT[:1])
    return Book(UNDERLYINGS, SPOT, perps, opts)


def single_option(
    quantity: float = 1.0,
    *,
    strike: float = 50_000.0,
    expiry: float = 0.25,
    vol: float = 0.5,
    is_call: bool = True,
) -> Book:
    opts = OptionLegs(("BTC-C",), [0], [quantity], [50_000.0], [strike], [expiry], [vol], [is_call])
    return Book(UNDERLYINGS, SPOT, options=opts)
