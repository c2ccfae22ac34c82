"""Black-76 prices of options on a forward, linear (USDT) or inverse (coin) settled.

Conventions used across ``qbtc.pricing``:

- ``forward``: the forward (or perp mark) of the underlying in USDT per coin, ``> 0``.
- ``strike``: USDT per coin, ``> 0``. ``expiry``: years, ACT/365 (see ``year_fraction``).
- ``vol``: annualised volatility as a fraction (0.6 = 60 %).
- ``discount``: discount factor to expiry of the premium currency, ``exp(-r * expiry)``.
- ``settlement="linear"``: premium in USDT for one coin of underlying,
  ``V = discount * θ * (F Φ(θ d1) − K Φ(θ d2))``, ``θ = +1`` call, ``-1`` put.
- ``settlement="inverse"`` (Deribit-style coin-settled options): the payoff
  ``max(θ(S − K), 0) / S`` is paid in coin, worth ``max(θ(S − K), 0)`` USDT at expiry, so the
  premium in coin is the linear premium converted at the forward: ``P = V / F``. With
  ``discount`` read as the coin's discount factor (Deribit uses 1), this is exactly Deribit's
  mark price in coin per option on one coin.

Invalid elements (non-positive forward, strike or discount, negative expiry or vol, NaN) price
as NaN; at ``expiry == 0`` or ``vol == 0`` the price is the discounted intrinsic value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from qbtc.pricing.inputs import (
    FloatArray,
    as_call_flags,
    as_float_arrays,
    check_settlement,
    unwrap,
)

SQRT_HALF = 0.7071067811865475244008443621048490392848359376887


def black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    expiry: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
    *,
    settlement: str = "linear",
) -> Any:
    """Black-76 premium, broadcast over all inputs.

    Parameters
    ----------
    forward, strike : array_like
        Forward and strike in USDT per coin.
    expiry : array_like
        Time to expiry in years (ACT/365).
    vol : array_like
        Annualised volatility as a fraction.
    is_call : array_like
        True for calls, False for puts (or the words 'call'/'put').
    discount : array_like, default 1.0
        Discount factor of the premium currency to expiry.
    settlement : {'linear', 'inverse'}
        'linear': premium in USDT per coin of underlying. 'inverse': premium in coin,
        ``linear premium / forward``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The premium; NaN where an input is invalid.
    """
    kind = check_settlement(settlement)
    f, k, t, v, d = as_float_arrays(forward, strike, expiry, vol, discount)
    theta = np.where(as_call_flags(is_call), 1.0, -1.0)
    if theta.shape != f.shape:
        f, k, t, v, d, theta = np.broadcast_arrays(f, k, t, v, d, theta)
    price = black76_kernel(f, k, t, v, d, theta)
    if kind == "inverse":
        price = price / f
    return unwrap(price)


def black76_kernel(
    f: FloatArray, k: FloatArray, t: FloatArray, v: FloatArray, d: FloatArray, theta: FloatArray
) -> FloatArray:
    """Linear premium of broadcast float64 arrays (``theta`` = ±1).

    Priced as intrinsic value plus the out-of-the-money option of the pair (put-call parity),
    so the time value keeps its relative precision and the price is monotone in vol.
    ``Φ(z) = erfc(−z/√2)/2`` (erfc is the cheaper of the two here).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        s = v * np.sqrt(t)
        a = np.log(f / k) / s
        half_s = 0.5 * s
        otm_sign = np.where(f > k, -1.0, 1.0)
        c = otm_sign * -SQRT_HALF
        e1 = c * (a + half_s)
        e2 = c * (a - half_s)
        price = f * special.erfc(e1)
        price -= k * special.erfc(e2)
        price *= 0.5 * otm_sign
        price += np.maximum(theta * (f - k), 0.0)
        price *= d
    valid = (f > 0) & (k > 0) & (t >= 0) & (v >= 0) & (d > 0)
    if not valid.all():
        price = np.where(valid, price, np.nan)
    degenerate = valid & (s == 0) & (f == k)  # 0/0 in d1: an at-the-money intrinsic is 0
    if degenerate.any():
        price = np.where(degenerate, 0.0, price)
    return price
