"""Risk-adjusted return ratios (Sharpe, Sortino), annualised.

Returns are simple per-period returns (fractions, 0.01 = 1%); ``periods_per_year`` says how
many such periods make a year (365 for daily crypto returns, 525,600 for 1-minute bars). The
risk-free rate and the Sortino target are zero. Both ratios are invariant to scaling the
returns by a positive constant.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qbtc.risk._checks import finite_vector, is_degenerate_dispersion


def _periods(periods_per_year: float) -> float:
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    return float(periods_per_year)


def sharpe(returns: ArrayLike, periods_per_year: float) -> float:
    """Annualised Sharpe ratio: ``mean / std(ddof=1) * sqrt(periods_per_year)``.

    Raises ``ValueError`` on fewer than two returns or returns with zero dispersion (a
    standard deviation below ``DISPERSION_RTOL`` times the largest absolute return counts as
    zero: constant returns have a rounding-noise deviation, not a huge Sharpe ratio).
    """
    scale = _periods(periods_per_year)
    values = finite_vector(returns, "returns", minimum=2)
    deviation = float(values.std(ddof=1))
    if is_degenerate_dispersion(deviation, values):
        raise ValueError("returns have zero dispersion: the Sharpe ratio is undefined")
    return float(values.mean()) / deviation * float(np.sqrt(scale))


def sortino(returns: ArrayLike, periods_per_year: float) -> float:
    """Annualised Sortino ratio: ``mean / downside deviation * sqrt(periods_per_year)``.

    The downside deviation is ``sqrt(mean(min(r, 0)**2))`` over all periods (target 0).
    Raises ``ValueError`` on fewer than two returns or when no return is negative (a
    downside deviation below ``DISPERSION_RTOL`` times the largest absolute return counts as
    zero).
    """
    scale = _periods(periods_per_year)
    values = finite_vector(returns, "returns", minimum=2)
    downside = float(np.sqrt(np.mean(np.minimum(values, 0.0) ** 2)))
    if is_degenerate_dispersion(downside, values):
        raise ValueError("no negative return: the Sortino ratio is undefined")
    return float(values.mean()) / downside * float(np.sqrt(scale))
