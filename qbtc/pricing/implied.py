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
    as_float_arrays,
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
    p, f, k, t, d = as_float_arrays(price, forward, strike, expiry, discount)
    call = as_call_flags(is_call)
    arrays = np.broadcast_arrays(p, f, k, t, d, call)
    shape = arrays[0].shape
    p, f, k, t, d, call = (np.ravel(a) for a in arrays)
    reason = _input_reasons(p, f, k, t, d)
    vol = np.full(p.shape, np.nan)
    usable = np.flatnonzero(reason == ImpliedVolReason.OK)
    if usable.size:
        pu, fu, ku, tu, du, cu = (a[usable] for a in (p, f, k, t, d, call))
        undiscounted = pu * fu / du if kind == "inverse" else pu / du
        vol_part, reason_part = _solve(undiscounted, fu, ku, tu, cu)
        vol[usable] = vol_part
        reason[usable] = reason_part
    return ImpliedVolResult(vol=_shaped(vol, shape), reason=_shaped(reason, shape))


def _input_reasons(p, f, k, t, d) -> NDArray[np.int8]:
    reason = np.zeros(p.shape, dtype=np.int8)
    finite = np.isfinite(p) & np.isfinite(f) & np.isfinite(k) & np.isfinite(t) & np.isfinite(d)
    reason[~finite] = ImpliedVolReason.NOT_FINITE
    non_positive = finite & ((f <= 0) | (k <= 0) | (d <= 0) | (p < 0))
    reason[non_positive] = ImpliedVolReason.NON_POSITIVE_INPUT
    reason[finite & ~non_positive & (t <= 0)] = ImpliedVolReason.EXPIRED
    return reason


def _solve(p, f, k, t, call):
    """Reduce to the out-of-the-money call in normalised units, check bounds, solve."""
    intrinsic = np.maximum(np.where(call, f - k, k - f), 0.0)
    time_value = p - intrinsic
    x = -np.abs(np.log(f / k))
    beta = time_value / (np.sqrt(f) * np.sqrt(k))
    reason = np.zeros(p.shape, dtype=np.int8)
    reason[beta < _TINY] = ImpliedVolReason.AT_INTRINSIC
    reason[time_value < 0] = ImpliedVolReason.BELOW_INTRINSIC
    b_max = np.exp(0.5 * x)
    reason[beta >= b_max] = ImpliedVolReason.ABOVE_MAXIMUM
    vol = np.full(p.shape, np.nan)
    ok = np.flatnonzero(reason == ImpliedVolReason.OK)
    if ok.size == p.size:
        vol = normalised_implied_vol(beta, x, b_max) / np.sqrt(t)
    elif ok.size:
        vol[ok] = normalised_implied_vol(beta[ok], x[ok], b_max[ok]) / np.sqrt(t[ok])
    return vol, reason


def _shaped(array: np.ndarray, shape: tuple[int, ...]) -> Any:
    array = array.reshape(shape)
    return array[()] if array.ndim == 0 else array
