"""Black-76 implied volatility, with a reason code per element where there is none.

The price is reduced to the normalised premium of the out-of-the-money option (put-call
parity), then solved by ``qbtc.pricing.solver`` (Jäckel's "Let's Be Rational": two
Householder(3) steps from a rational initial guess, near machine precision everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qbtc.pricing.inputs import (
    as_call_flags,
    broadcast_shape,
    check_settlement,
)
from qbtc.pricing.solver import normalised_implied_vol

_TINY = float(np.finfo(np.float64).tiny)


class ImpliedVolReason(IntEnum):
    """Why an element has no implied vol (``vol`` is NaN wherever the reason is not OK)."""

    OK = 0
    BELOW_INTRINSIC = 1
    """Undiscounted price below the intrinsic value max(θ(F − K), 0): no vol reproduces it."""
    ABOVE_MAXIMUM = 2
    """Undiscounted price at or above its supremum: F for a call, K for a put."""
    NON_POSITIVE_INPUT = 3
    """Forward, strike or discount <= 0, or a negative price."""
    EXPIRED = 4
    """expiry <= 0: the price carries no information about vol."""
    NOT_FINITE = 5
    """An input is NaN or infinite."""
    AT_INTRINSIC = 6
    """No time value (price equals intrinsic to within the smallest normal double): vol -> 0."""


@dataclass(frozen=True)
class ImpliedVolResult:
    """Implied vols (annualised fraction, NaN where undefined) and a reason code per element.

    ``reason`` holds ``ImpliedVolReason`` values as int8 (0 = OK).
    """

    vol: Any
    reason: Any

    def reasons(self) -> list[ImpliedVolReason]:
        """The reason codes as enum members, flattened."""
        return [ImpliedVolReason(int(code)) for code in np.ravel(self.reason)]


def implied_vol(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
    *,
    settlement: str = "linear",
) -> Any:
    """Black-76 implied volatility (annualised fraction), NaN outside the no-arbitrage bounds.

    Parameters
    ----------
    price : array_like
        Option premium: USDT per coin ('linear') or coin per coin ('inverse', Deribit-style).
    forward, strike, expiry, is_call, discount, settlement
        As in ``black76_price``; expiry in years (ACT/365).

    Returns
    -------
    numpy.ndarray or numpy.float64
        Vol, NaN where undefined. ``implied_vol_with_reason`` tells why per element.
    """
    return implied_vol_with_reason(
        price, forward, strike, expiry, is_call, discount, settlement=settlement
    ).vol


def implied_vol_with_reason(
    price: ArrayLike,
    forward: ArrayLike,
    strike: ArrayLike,
    expiry: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
    *,
    settlement: str = "linear",
) -> ImpliedVolResult:
    """Implied vol and an ``ImpliedVolReason`` code per element (see ``implied_vol``)."""
    kind = check_settlement(settlement)
    p, f, k, t, d = (
        np.asarray(a, dtype=np.float64) for a in (price, forward, strike, expiry, discount)
    )
    call = as_call_flags(is_call)
    shape = broadcast_shape(p, f, k, t, d, call)
    with np.errstate(all="ignore"):
        undiscounted = p * f / d if kind == "inverse" else p / d
        spread = f - k
        time_value = undiscounted - np.maximum((call * 2.0 - 1.0) * spread, 0.0)
        x = -np.abs(np.log(f / k))
        beta = time_value / np.sqrt(f * k)
        b_max = np.exp(0.5 * x)
        # The supremum of the undiscounted price: F for a call, K for a put.
        above = (beta >= b_max) | (undiscounted >= k + call * spread)
        ok = (beta >= _TINY) & ~above & (t > 0) & (f > 0) & (k > 0) & (d > 0)
        if ok.all():  # the usual case: every element has a vol
            s = normalised_implied_vol(_flat(beta, shape), _flat(x, shape), _flat(b_max, shape))
            vol = s.reshape(shape) / np.sqrt(t)
            return ImpliedVolResult(vol=_unwrap(vol), reason=_unwrap(np.zeros(shape, np.int8)))
        reason = _reasons(shape, p, f, k, t, d, time_value, beta, above)
        usable = np.flatnonzero(reason == ImpliedVolReason.OK)
        vol = np.full(reason.size, np.nan)
        if usable.size:
            s = normalised_implied_vol(*(_flat(a, shape)[usable] for a in (beta, x, b_max)))
            vol[usable] = s / np.sqrt(_flat(t, shape)[usable])
    return ImpliedVolResult(vol=_unwrap(vol.reshape(shape)), reason=_unwrap(reason.reshape(shape)))


def _reasons(shape, p, f, k, t, d, time_value, beta, above) -> NDArray[np.int8]:
    """Reason codes, later rules winning: inputs first, then the no-arbitrage bounds."""
    flat = [_flat(a, shape) for a in (p, f, k, t, d, time_value, beta, above)]
    p, f, k, t, d, time_value, beta, above = flat
    reason = np.zeros(p.size, dtype=np.int8)
    reason[beta < _TINY] = ImpliedVolReason.AT_INTRINSIC
    reason[time_value < 0] = ImpliedVolReason.BELOW_INTRINSIC
    reason[above] = ImpliedVolReason.ABOVE_MAXIMUM
    reason[t <= 0] = ImpliedVolReason.EXPIRED
    reason[(f <= 0) | (k <= 0) | (d <= 0) | (p < 0)] = ImpliedVolReason.NON_POSITIVE_INPUT
    finite = np.isfinite(p) & np.isfinite(f) & np.isfinite(k) & np.isfinite(t) & np.isfinite(d)
    reason[~finite] = ImpliedVolReason.NOT_FINITE
    return reason


def _flat(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` broadcast to ``shape`` as a 1-d contiguous array (a view when possible)."""
    if array.shape != shape:
        array = np.broadcast_to(array, shape)
    return np.ascontiguousarray(array).reshape(-1)


def _unwrap(array: np.ndarray) -> Any:
    return array[()] if array.ndim == 0 else array
