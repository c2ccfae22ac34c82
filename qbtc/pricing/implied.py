"""Black-76 implied volatility, with a reason code per element where there is none.

The price is reduced to the normalised premium of the out-of-the-money option (put-call
parity), then solved by ``qbtc.pricing.solver`` (a table guess and two Householder(3) steps,
Jäckel's "Let's Be Rational" where that cannot finish: near machine precision everywhere).
The whole pipeline runs in chunks of ``CHUNK`` elements, so that its temporaries stay in the
CPU cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qbtc.pricing.inputs import (
    as_call_flags,
    as_column,
    broadcast_shape,
    check_settlement,
)
from qbtc.pricing.jaeckel import jaeckel_implied_vol
from qbtc.pricing.solver import CHUNK, solve_chunk

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
    inverse = check_settlement(settlement) == "inverse"
    values = [np.asarray(a, dtype=np.float64) for a in (price, forward, strike, expiry, discount)]
    call = as_call_flags(is_call)
    shape = broadcast_shape(*values, call)
    columns = [as_column(a, shape) for a in (*values, call)]
    size = int(np.prod(shape))
    vol = np.empty(size)
    unusable = np.zeros(size, dtype=np.bool_)
    redo = np.zeros(size, dtype=np.bool_)
    with np.errstate(all="ignore"):
        for start in range(0, size, CHUNK):
            part = slice(start, start + CHUNK)
            chunk = [c[part] if c.ndim else c for c in columns]
            vol[part], unusable[part], redo[part] = _solve_chunk(inverse, *chunk)
        index = np.flatnonzero(redo & ~unusable)
        if index.size:  # outside the guess table or not finished: the Jäckel path
            chunk = [c[index] if c.ndim else c for c in columns]
            beta, x, b_max, _ = _normalise(inverse, *chunk)
            vol[index] = jaeckel_implied_vol(beta, x, b_max) / np.sqrt(chunk[3])
        reason = np.zeros(size, dtype=np.int8)
        if unusable.any():
            reason = _reasons(inverse, columns, shape)
            vol[reason != ImpliedVolReason.OK] = np.nan
    return ImpliedVolResult(vol=_unwrap(vol.reshape(shape)), reason=_unwrap(reason.reshape(shape)))


def _normalise(inverse: bool, p, f, k, t, d, call):
    """The out-of-the-money call in normalised units: beta, x = −|ln(F/K)|, b_max, usable."""
    undiscounted = p * f / d if inverse else p / d
    spread = f - k
    time_value = undiscounted - np.maximum((call * 2.0 - 1.0) * spread, 0.0)
    x = -np.abs(np.log(f / k))
    beta = time_value / np.sqrt(f * k)
    b_max = np.exp(0.5 * x)
    # The supremum of the undiscounted price: F for a call, K for a put.
    below_max = (beta < b_max) & (undiscounted < _supremum(f, k, call))
    usable = (beta >= _TINY) & below_max & (t > 0) & (f > 0) & (k > 0) & (d > 0)
    return beta, x, b_max, usable


def _supremum(f, k, call):
    """F for a call, K for a put, exactly (products by 0 and 1 round nothing)."""
    return call * f + (1.0 - call) * k


def _solve_chunk(inverse: bool, p, f, k, t, d, call):
    beta, x, b_max, usable = _normalise(inverse, p, f, k, t, d, call)
    size = np.broadcast_shapes(np.shape(beta), np.shape(t))
    beta, x, b_max, usable = (np.broadcast_to(a, size) for a in (beta, x, b_max, usable))
    if not usable.all():  # stand-ins keep the solver's arithmetic harmless; NaN'd later
        beta = np.where(usable, beta, 0.25)
        x = np.where(usable, x, -0.5)
        b_max = np.where(usable, b_max, np.exp(-0.25))
    s, redo = solve_chunk(beta, x, b_max)
    return s / np.sqrt(t), ~usable, redo


def _reasons(inverse: bool, columns, shape) -> NDArray[np.int8]:
    """Reason codes, later rules winning: inputs first, then the no-arbitrage bounds."""
    size = int(np.prod(shape))
    p, f, k, t, d, call = (c if c.ndim else np.broadcast_to(c, (size,)) for c in columns)
    beta, _, b_max, _ = _normalise(inverse, p, f, k, t, d, call)
    undiscounted = p * f / d if inverse else p / d
    reason = np.zeros(p.size, dtype=np.int8)
    reason[beta < _TINY] = ImpliedVolReason.AT_INTRINSIC
    reason[beta < 0] = ImpliedVolReason.BELOW_INTRINSIC
    above = (beta >= b_max) | (undiscounted >= _supremum(f, k, call))
    reason[above] = ImpliedVolReason.ABOVE_MAXIMUM
    reason[t <= 0] = ImpliedVolReason.EXPIRED
    reason[(f <= 0) | (k <= 0) | (d <= 0) | (p < 0)] = ImpliedVolReason.NON_POSITIVE_INPUT
    finite = np.isfinite(p) & np.isfinite(f) & np.isfinite(k) & np.isfinite(t) & np.isfinite(d)
    reason[~finite] = ImpliedVolReason.NOT_FINITE
    return reason


def _unwrap(array: np.ndarray) -> Any:
    return array[()] if array.ndim == 0 else array
