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
    as_call_flags,
    as_column,
    broadcast_shape,
    check_settlement,
    unwrap,
)

SQRT_HALF = 0.7071067811865475244008443621048490392848359376887
CHUNK = 8192  # elements per pass: the temporaries stay in the CPU cache


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
    f, k, t, v, d = (
        np.asarray(a, dtype=np.float64) for a in (forward, strike, expiry, vol, discount)
    )
    call = as_call_flags(is_call)
    shape = broadcast_shape(f, k, t, v, d, call)
    price = np.empty(shape)
    out = price.reshape(-1)
    columns = [as_column(a, shape) for a in (f, k, t, v, d, call)]
    with np.errstate(all="ignore"):  # overflow, 0/0 and the like end as inf/NaN, fixed below
        for start in range(0, out.size, CHUNK):
            part = slice(start, start + CHUNK)
            out[part] = black76_kernel(*(c[part] if c.ndim else c for c in columns))
        if not _all_valid(f, k, t, v, d):
            price = np.where(np.broadcast_to(_valid(f, k, t, v, d), shape), price, np.nan)
        if np.any(t == 0) or np.any(v == 0):
            # 0/0 in d1 at the money with no time or no vol: the intrinsic value there is 0.
            degenerate = ((t == 0) | (v == 0)) & (f == k)
            price = np.where(np.broadcast_to(degenerate, shape), 0.0, price)
        if kind == "inverse":
            price = price / f
    return unwrap(price)


def black76_kernel(f, k, t, v, d, call):
    """Linear premium, elementwise (arrays of one shape or scalars; warnings silenced by the caller).

    Priced as intrinsic value plus the out-of-the-money option of the pair (put-call parity),
    so the time value keeps its relative precision and the price is monotone in vol.
    ``Φ(z) = erfc(−z/√2)/2``, and the out-of-the-money sign folds into ``c = ±1/√2``.
    """
    s = np.sqrt(t)
    s *= v
    a = np.log(f / k)
    a /= s
    s *= 0.5
    spread = f - k
    c = np.copysign(SQRT_HALF, spread)  # +1/√2 when the put is out of the money
    e1 = a + s
    e1 *= c
    a -= s
    a *= c
    price = special.erfc(e1)
    price *= f
    e2 = special.erfc(a)
    e2 *= k
    price -= e2
    c *= -SQRT_HALF
    price *= c
    spread *= call * 2.0 - 1.0
    spread = np.maximum(spread, 0.0)
    price += spread
    price *= d
    return price


def _all_valid(f, k, t, v, d) -> bool:
    """Fast check on the un-broadcast inputs (NaN fails every comparison)."""
    if min(np.size(x) for x in (f, k, t, v, d)) == 0:
        return True  # nothing to price: the result is empty either way
    return bool(
        np.min(f) > 0 and np.min(k) > 0 and np.min(t) >= 0 and np.min(v) >= 0 and np.min(d) > 0
    )


def _valid(f, k, t, v, d):
    return (f > 0) & (k > 0) & (t >= 0) & (v >= 0) & (d > 0)
