"""Black-76 values of a group of options under many scenarios at once.

This is the Monte Carlo inner loop. A group holds options of one underlying and one expiry,
so in a scenario every forward grows by the same factor ``g = 1 + r`` and the time to
expiry is one scalar. The Black-76 formula of :func:`qbtc.pricing.black76_price` is
evaluated in a form that exploits this:

* ``ln(F g / K) = ln(F / K) + ln g``: one log per scenario instead of one per option;
* puts by put-call parity, ``P = C - (F g - K)``, whose sum over the group is a per-scenario
  scalar; so only calls are evaluated;
* ``sum q C = g sum(qF N(d1)) - sum(qK N(d2))``: the forward factor comes out of the sum.

Per option and scenario this leaves an add, a max, three multiplications, a division, a
subtraction and two normal CDFs. Values are undiscounted USDT per contract, like
``black76_price(..., discount=1.0)``, which the tests hold it to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

Floats = NDArray[np.float64]

#: Implied vols are floored at one vol point when shocked down.
VOL_FLOOR = 0.01
#: Forwards never fall below this fraction of their level (a -100% move).
MIN_GROWTH = 1e-12


@dataclass(frozen=True)
class OptionGroup:
    """Options of one underlying and one expiry, prepared for :func:`group_value`."""

    underlying: int
    forward: Floats
    strike: Floats
    vol: Floats
    is_call: NDArray[np.bool_]
    quantity: Floats
    log_moneyness: Floats
    quantity_forward: Floats
    quantity_strike: Floats
    put_forward: float
    put_strike: float


def make_group(
    underlying: int,
    forward: Floats,
    strike: Floats,
    vol: Floats,
    is_call: NDArray[np.bool_],
    quantity: Floats,
) -> OptionGroup:
    """Precompute what does not depend on the scenario."""
    puts = ~is_call
    return OptionGroup(
        underlying=underlying,
        forward=forward,
        strike=strike,
        vol=vol,
        is_call=is_call,
        quantity=quantity,
        log_moneyness=np.log(forward / strike),
        quantity_forward=quantity * forward,
        quantity_strike=quantity * strike,
        put_forward=float(np.sum(quantity[puts] * forward[puts])),
        put_strike=float(np.sum(quantity[puts] * strike[puts])),
    )


def group_value(group: OptionGroup, growth: Floats, vol_shift: Floats, expiry: float) -> Floats:
    """``sum_i q_i V_i`` (USDT) in each scenario.

    Parameters
    ----------
    group : OptionGroup
        The options.
    growth : ndarray, shape (n,)
        Forward growth factor ``1 + r`` per scenario.
    vol_shift : ndarray, shape (n,)
        Absolute implied-vol shift per scenario (vol units).
    expiry : float
        Time to expiry in years (ACT/365) at which to value; at or below 0, intrinsic value.
    """
    g = np.maximum(growth, MIN_GROWTH)
    if expiry <= 0.0:
        forward = group.forward * g[:, None]
        payoff = np.where(group.is_call, forward - group.strike, group.strike - forward)
        return (np.maximum(payoff, 0.0) * group.quantity).sum(axis=1)
    total_vol = np.maximum(group.vol + vol_shift[:, None], VOL_FLOOR)
    total_vol *= np.sqrt(expiry)
    d1 = group.log_moneyness + np.log(g)[:, None]
    d1 /= total_vol
    half_vol = total_vol
    half_vol *= 0.5
    d2 = d1 - half_vol
    d1 += half_vol
    n1 = ndtr(d1)
    n1 *= group.quantity_forward
    n2 = ndtr(d2)
    n2 *= group.quantity_strike
    calls = g * n1.sum(axis=1) - n2.sum(axis=1)
    return calls - (g * group.put_forward - group.put_strike)
