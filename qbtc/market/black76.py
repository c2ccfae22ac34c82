"""A small vectorised Black-76 for the market layer (pricing sim options, inverting quotes).

Kept private to ``qbtc.market`` so the venue does not depend on the pricing package; the
full pricing library (Greeks, inverse options) lives in ``qbtc.pricing``.

Units: ``forward`` and ``strike`` in the quote currency (USDT), ``expiry`` in years
(ACT/365), ``vol`` an annualised fraction, ``discount`` the discount factor to expiry
(1.0 for undiscounted, as Binance's USDT-margined options are quoted).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

_VOL_LOW = 1e-4
_VOL_HIGH = 5.0
_BISECTIONS = 60


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    expiry: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
) -> np.ndarray:
    """Black-76 premium of European options on a forward (same currency as ``forward``)."""
    f, k, t, v = (np.asarray(x, dtype=float) for x in (forward, strike, expiry, vol))
    if np.any(f <= 0) or np.any(k <= 0) or np.any(t <= 0) or np.any(v <= 0):
        raise ValueError("black76_price needs forward, strike, expiry and vol > 0")
    total = v * np.sqrt(t)
    d1 = np.log(f / k) / total + 0.5 * total
    d2 = d1 - total
    call = f * ndtr(d1) - k * ndtr(d2)
    put = k * ndtr(-d2) - f * ndtr(-d1)
    return np.asarray(discount, dtype=float) * np.where(np.asarray(is_call, dtype=bool), call, put)


def implied_vol(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
) -> np.ndarray:
    """Black-76 implied vol by bisection on [0.0001, 5]; NaN where no vol fits the price.

    A price below intrinsic value or above the forward (call) / strike (put) has no implied
    vol and gives NaN, never an exception.
    """
    p, f, k, t = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (price, forward, strike, expiry))
    )
    call = np.broadcast_to(np.asarray(is_call, dtype=bool), p.shape)
    df = np.broadcast_to(np.asarray(discount, dtype=float), p.shape)
    low = np.full(p.shape, _VOL_LOW)
    high = np.full(p.shape, _VOL_HIGH)
    valid = (p > 0) & (f > 0) & (k > 0) & (t > 0)
    safe = (np.where(valid, f, 1.0), np.where(valid, k, 1.0), np.where(valid, t, 1.0))
    price_low = black76_price(*safe, low, call, df)
    price_high = black76_price(*safe, high, call, df)
    valid &= (p >= price_low) & (p <= price_high)
    for _ in range(_BISECTIONS):
        middle = 0.5 * (low + high)
        above = black76_price(*safe, middle, call, df) > p
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    return np.where(valid, 0.5 * (low + high), np.nan)
