"""Mean-variance portfolio construction with constraints (scipy.optimize, SLSQP).

Maximises ``mu.w - risk_aversion / 2 * w.Sigma.w`` over weights ``w`` (notional as a fraction
of equity, signed) subject to per-symbol caps ``|w_i| <= cap_i``, a gross cap
``sum |w_i| <= gross`` and a volatility cap ``sqrt(w.Sigma.w) <= target_vol``. The absolute
values are handled exactly by splitting ``w = u - v`` with ``u, v >= 0``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class MeanVarianceResult:
    """Optimal weights (fraction of equity, signed), expected return and vol (annualised)."""

    weights: Floats
    expected_return: float
    volatility: float


def mean_variance_weights(
    expected_return: ArrayLike,
    covariance: ArrayLike,
    *,
    risk_aversion: float,
    max_weight: float | ArrayLike,
    max_gross: float,
    target_vol: float,
) -> MeanVarianceResult:
    """Constrained mean-variance weights.

    Parameters
    ----------
    expected_return : array_like, shape (n,)
        Annualised expected returns (fractions).
    covariance : array_like, shape (n, n)
        Annualised covariance of returns.
    risk_aversion : float
        Penalty on variance (> 0).
    max_weight : float or array_like
        Cap on each absolute weight (notional / equity).
    max_gross : float
        Cap on the sum of absolute weights (gross leverage).
    target_vol : float
        Cap on the portfolio's annualised volatility.
    """
    mu = np.asarray(expected_return, dtype=np.float64)
    cov = np.asarray(covariance, dtype=np.float64)
    n = mu.size
    if n == 0 or cov.shape != (n, n) or not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
        raise ValueError("expected_return (n,) and covariance (n, n) must be finite and non-empty")
    if not (risk_aversion > 0 and max_gross > 0 and target_vol > 0):
        raise ValueError("risk_aversion, max_gross and target_vol must be positive")
    caps = np.broadcast_to(np.asarray(max_weight, dtype=np.float64), (n,))
    objective, constraints = _problem(mu, cov, risk_aversion, max_gross, target_vol)
    result = minimize(
        objective,
        np.zeros(2 * n),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, float(c)) for c in caps] * 2,
        constraints=constraints,
        options={"maxiter": 500, "ftol": 1e-12},
    )
    if not result.success:
        raise RuntimeError(f"mean-variance optimisation failed: {result.message}")
    w = result.x[:n] - result.x[n:]
    return MeanVarianceResult(
        weights=w,
        expected_return=float(mu @ w),
        volatility=float(np.sqrt(max(float(w @ cov @ w), 0.0))),
    )


def _problem(
    mu: Floats, cov: Floats, risk_aversion: float, max_gross: float, target_vol: float
) -> tuple[Callable[[Floats], tuple[float, Floats]], list[dict[str, Any]]]:
    """Objective (value and gradient) and constraints over ``x = [u, v]``, ``w = u - v``."""
    n = mu.size

    def split(x: Floats) -> Floats:
        return x[:n] - x[n:]

    def objective(x: Floats) -> tuple[float, Floats]:
        w = split(x)
        grad_w = -(mu - risk_aversion * cov @ w)
        value = -(mu @ w - 0.5 * risk_aversion * w @ cov @ w)
        return float(value), np.concatenate([grad_w, -grad_w])

    def vol_room(x: Floats) -> float:
        w = split(x)
        return float(target_vol**2 - w @ cov @ w)

    def vol_room_grad(x: Floats) -> Floats:
        g = -2.0 * cov @ split(x)
        return np.concatenate([g, -g])

    constraints = [
        {"type": "ineq", "fun": lambda x: max_gross - x.sum(), "jac": lambda x: -np.ones(2 * n)},
        {"type": "ineq", "fun": vol_room, "jac": vol_room_grad},
    ]
    return objective, constraints


def expected_returns_from_signals(
    strength: ArrayLike, confidence: ArrayLike, volatility: ArrayLike, *, information_ratio: float
) -> Floats:
    """Annualised expected returns implied by signals: ``strength * confidence * IR * vol``.

    A full-strength, fully confident signal on an asset with volatility ``vol`` is taken to
    promise ``information_ratio`` units of that volatility per year.
    """
    s, c, v = (np.asarray(a, dtype=np.float64) for a in (strength, confidence, volatility))
    return s * c * information_ratio * v
