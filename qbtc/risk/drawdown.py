"""Drawdowns of an equity curve, as fractions of the running peak."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qbtc.risk._checks import finite_vector


def _positive(equity: ArrayLike) -> NDArray[np.float64]:
    values = finite_vector(equity, "equity")
    if (values <= 0.0).any():
        raise ValueError("equity must be positive at every point (drawdowns are fractions of it)")
    return values


def drawdown_series(equity: ArrayLike) -> NDArray[np.float64]:
    """Drawdown at each point: ``1 - equity / running peak``, a fraction in [0, 1].

    Parameters
    ----------
    equity : array_like
        Equity (account value, USDT) in time order; every value must be positive.
    """
    values = _positive(equity)
    peak = np.maximum.accumulate(values)
    return np.clip(1.0 - values / peak, 0.0, 1.0)


def max_drawdown(equity: ArrayLike) -> float:
    """Largest peak-to-trough fall of an equity curve, a fraction in [0, 1].

    0 for a curve that never falls (a rising series), 0.25 when equity once fell 25% below
    its previous peak. Unit-free and not annualised.
    """
    return float(drawdown_series(equity).max())


def current_drawdown(equity: ArrayLike) -> float:
    """Drawdown of the last point from the running peak, a fraction in [0, 1].

    The last point's running peak is the maximum of the whole curve: one reduction, not the
    series (a backtest asks at every decision, on a history that grows by one each time).
    """
    values = _positive(equity)
    return float(np.clip(1.0 - values[-1] / values.max(), 0.0, 1.0))
