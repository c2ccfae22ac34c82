"""Black-76 delta, gamma and vega of option quotes (private stand-in for qbtc.pricing).

Undiscounted (discount factor 1, as for margined crypto options). Inputs: forward price,
strike, expiry in years (ACT/365), volatility as an annualised fraction. Outputs per unit of
underlying: delta (forward delta), gamma (per unit move of the forward), vega per 1.00 of
volatility (divide by 100 for a vol point). Quotes without a usable input (expiry or vol not
positive, missing prices) get NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

SOURCE = "black76 (qbtc.api.greeks: undiscounted; vega per 1.00 vol)"
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


@dataclass(frozen=True)
class Greeks:
    delta: NDArray[np.float64]
    gamma: NDArray[np.float64]
    vega: NDArray[np.float64]


def black76_greeks(
    forward: NDArray[np.float64],
    strike: NDArray[np.float64],
    expiry: NDArray[np.float64],
    vol: NDArray[np.float64],
    is_call: NDArray[np.bool_],
) -> Greeks:
    """Delta, gamma and vega of Black-76 options (arrays broadcast together)."""
    forward, strike, expiry, vol = (
        np.asarray(a, dtype=np.float64) for a in (forward, strike, expiry, vol)
    )
    shape = np.broadcast(forward, strike, expiry, vol, is_call).shape
    delta, gamma, vega = (np.full(shape, np.nan) for _ in range(3))
    ok = (forward > 0) & (strike > 0) & (expiry > 0) & (vol > 0)
    ok &= np.isfinite(forward) & np.isfinite(strike) & np.isfinite(expiry) & np.isfinite(vol)
    f, k, t, s = (np.broadcast_to(a, shape)[ok] for a in (forward, strike, expiry, vol))
    calls = np.broadcast_to(np.asarray(is_call, dtype=bool), shape)[ok]
    root_t = np.sqrt(t)
    d1 = (np.log(f / k) + 0.5 * s * s * t) / (s * root_t)
    density = np.exp(-0.5 * d1 * d1) / _SQRT_2PI
    delta[ok] = np.where(calls, ndtr(d1), ndtr(d1) - 1.0)
    gamma[ok] = density / (f * s * root_t)
    vega[ok] = f * density * root_t
    return Greeks(delta=delta, gamma=gamma, vega=vega)
