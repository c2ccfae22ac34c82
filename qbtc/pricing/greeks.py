"""Black-76 Greeks, linear (USDT) or inverse (coin) settled.

Units (``settlement="linear"``, premium ``V`` in USDT per coin of underlying):

- ``delta = ∂V/∂F`` (dimensionless; USDT per USDT move of the forward, per coin).
- ``gamma = ∂²V/∂F²`` (per USDT).
- ``vega = ∂V/∂vol`` in USDT per 1.00 of vol (×0.01 for a vol point: ``vega_per_vol_point``).
- ``theta = ∂V/∂t`` in USDT per year of calendar time, with the forward and the continuously
  compounded rate ``r = −ln(discount)/expiry`` held fixed, so ``theta = r·V − ∂V/∂expiry``
  (/365 for a calendar day: ``theta_per_day``). Negative for a long option when r = 0.
- ``vanna = ∂²V/∂F∂vol`` (per 1.00 of vol), ``volga = ∂²V/∂vol²`` (USDT per 1.00 of vol²).

``settlement="inverse"``: the same derivatives of the coin premium ``P = V/F``:
``delta = Δ/F − V/F²`` (coin per USDT), ``gamma = Γ/F − 2Δ/F² + 2V/F³``, ``vega = vega/F``,
``theta = theta/F``, ``vanna = vanna/F − vega/F²``, ``volga = volga/F`` (all in coin).
``F·delta = Δ − P·F/F = Δ − P`` is the coin delta Deribit shows.

At ``expiry == 0`` or ``vol == 0`` the limits are returned: delta a step, gamma and volga 0,
vega and vanna 0 except at the money, where they keep their finite limits, and theta its
discounting term alone, ``r·V`` (the time value's decay is 0 at zero vol; ``r = 0`` at expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from qbtc.pricing.black76 import black76_price
from qbtc.pricing.inputs import (
    FloatArray,
    as_call_flags,
    as_float_arrays,
    check_settlement,
)
from qbtc.units import DAYS_PER_YEAR, VOL_POINT

ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649


@dataclass(frozen=True)
class Greeks:
    """Greeks of one or many options (arrays of the broadcast input shape); see module doc."""

    price: Any
    delta: Any
    gamma: Any
    vega: Any
    theta: Any
    vanna: Any
    volga: Any
    settlement: str

    @property
    def vega_per_vol_point(self) -> Any:
        """Premium change for +1 vol point (0.01 of vol)."""
        return self.vega * VOL_POINT

    @property
    def theta_per_day(self) -> Any:
        """Premium change over one calendar day (1/365 of a year)."""
        return self.theta / DAYS_PER_YEAR


def greeks(
    forward: ArrayLike,
    strike: ArrayLike,
    expiry: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
    *,
    settlement: str = "linear",
) -> Greeks:
    """Price and Greeks under Black-76, broadcast over all inputs (see module doc for units).

    Parameters are those of ``black76_price``. Invalid elements give NaN.
    """
    kind = check_settlement(settlement)
    f, k, t, v, d = as_float_arrays(forward, strike, expiry, vol, discount)
    theta_sign = np.where(as_call_flags(is_call), 1.0, -1.0)
    f, k, t, v, d, theta_sign = np.broadcast_arrays(f, k, t, v, d, theta_sign)
    linear = _linear_greeks(f, k, t, v, d, theta_sign)
    if kind == "inverse":
        with np.errstate(all="ignore"):  # invalid elements are already NaN
            linear = _to_inverse(linear, f)
    price, delta, gamma, vega, theta, vanna, volga = (_unwrap(a) for a in linear)
    return Greeks(price, delta, gamma, vega, theta, vanna, volga, settlement=kind)


def _linear_greeks(f, k, t, v, d, sign) -> tuple[FloatArray, ...]:
    price = np.asarray(black76_price(f, k, t, v, sign > 0, d))
    with np.errstate(all="ignore"):
        sqrt_t = np.sqrt(t)
        s = v * sqrt_t
        d1 = np.log(f / k) / s + 0.5 * s
        d1 = np.where((s == 0) & (f == k), 0.0, d1)
        d2 = d1 - s
        cdf1 = special.ndtr(sign * d1)
        pdf1 = ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * d1 * d1)
        rate = np.where(t > 0, -np.log(d) / t, 0.0)
        delta = d * sign * cdf1
        live = s > 0
        gamma = np.where(live, d * pdf1 / (f * s), 0.0)
        vega = d * f * pdf1 * sqrt_t
        theta = rate * price - np.where(live, d * f * pdf1 * v / (2.0 * sqrt_t), 0.0)
        # At vol 0 only the at-the-money element has pdf1 > 0; there -d2/vol -> sqrt(T)/2.
        vanna = d * pdf1 * np.where(live, -d2 / v, 0.5 * sqrt_t)
        volga = np.where(live, vega * d1 * d2 / v, 0.0)
    valid = (f > 0) & (k > 0) & (t >= 0) & (v >= 0) & (d > 0)
    values = (price, delta, gamma, vega, theta, vanna, volga)
    if valid.all():
        return values
    return tuple(np.where(valid, a, np.nan) for a in values)


def _to_inverse(linear: tuple[FloatArray, ...], f: FloatArray) -> tuple[FloatArray, ...]:
    """Derivatives of P = V/F from those of V (product rule in F; vol and time commute)."""
    price, delta, gamma, vega, theta, vanna, volga = linear
    premium = price / f
    return (
        premium,
        (delta - premium) / f,
        (gamma - 2.0 * (delta - premium) / f) / f,
        vega / f,
        theta / f,
        (vanna - vega / f) / f,
        volga / f,
    )


def _unwrap(array: FloatArray) -> Any:
    return array[()] if array.ndim == 0 else array
