"""Drawdowns of an equity curve, as fractions of the running peak."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qbtc.risk._checks import finite_vector


def drawdown_series(equity: ArrayLike) -> NDArray[np.float64]:
    """Drawdown at each point: ``1 - equity / running peak``, a fraction in [0, 1].

    Parameters
    ----------
    equity : array_like
        Equity (account value, USDT) in time order; every value must be positive.
    """
    values = finite_vector(equity, "equity")
    if np.any(values <= 0.0):
        raise ValueError("equity must be positive at every point (drawdowns are fractions of it)")
    peak = np.maximum.accumulate(values)
    return np.clip(1.0 - values / peak, 0.0, 1.0)


def max_drawdown(equity: ArrayLike) -> float:
    """Largest peak-to-trough fall of an equity curve, a fraction in [0, 1].

    0 for a curve that never falls (a rising series), 0.25 when equity once fell 25% below
    its previous peak. Unit-free and not annualised.
    """
    return float(drawdown_series(equity).max())


def current_drawdown(equity: ArrayLike) -> float:
    """Drawdown of the last point from the running peak, a fraction in [0, 1]."""
    return float(drawdown_series(equity)[-1])
