"""Value at Risk and expected shortfall (CVaR) from P&L samples or sensitivities.

Conventions
-----------
* ``pnl`` is profit and loss in money (USDT), gains positive, over one horizon (the horizon
  of the samples: 1-day P&L gives a 1-day VaR; nothing is rescaled here).
* VaR and CVaR are reported as **losses, positive amounts**: a VaR of 100 means a loss of
  100 is exceeded with probability ``1 - confidence``. A negative VaR means that even the
  tail outcome is a gain.
* The empirical VaR is the lower ``confidence`` quantile of the loss distribution
  (``inf{l : P(L <= l) >= confidence}``, numpy's ``inverted_cdf``); CVaR is the
  Rockafellar-Uryasev estimator ``VaR + E[max(L - VaR, 0)] / (1 - confidence)``, which is
  coherent, monotone in the confidence level and never below VaR.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from qbtc.risk._checks import check_confidence, check_psd, finite_vector


def _losses(pnl: ArrayLike) -> NDArray[np.float64]:
    return -finite_vector(pnl, "pnl")


def var_historical(pnl: ArrayLike, confidence: float = 0.99) -> float:
    """Historical (empirical) VaR of P&L samples.

    Parameters
    ----------
    pnl : array_like
        P&L samples in USDT over the VaR horizon (gains positive).
    confidence : float
        Confidence level in (0, 1), e.g. 0.99.

    Returns
    -------
    float
        The ``confidence`` quantile of the loss ``-pnl`` (positive = loss), in USDT.
    """
    level = check_confidence(confidence)
    return lower_quantile(_losses(pnl), level)


def lower_quantile(values: NDArray[np.float64], level: float) -> float:
    """The ``level`` quantile of ``values`` as numpy's ``method="inverted_cdf"`` gives it (the
    same order statistic, index ``ceil(n * level) - 1``), by one partial sort: the checks
    value a few dozen candidate books a cycle, and numpy's general quantile costs more than
    the sort itself on a few hundred scenarios.
    """
    index = values.size * level - 1.0
    below = math.floor(index)
    k = max(below if index == below else below + 1, 0)
    return float(np.partition(values, k)[k])


def cvar_historical(pnl: ArrayLike, confidence: float = 0.99) -> float:
    """Historical CVaR (expected shortfall) of P&L samples, in USDT (positive = loss).

    The average loss beyond VaR, computed as ``VaR + mean(max(L - VaR, 0)) / (1 - confidence)``
    (Rockafellar-Uryasev), so ``cvar_historical >= var_historical`` always.
    """
    level = check_confidence(confidence)
    losses = _losses(pnl)
    var = lower_quantile(losses, level)
    excess = np.maximum(losses - var, 0.0)
    return var + float(excess.mean()) / (1.0 - level)


def var_parametric(pnl: ArrayLike, confidence: float = 0.99) -> float:
    """Normal (variance-covariance) VaR fitted to P&L samples, in USDT (positive = loss).

    ``VaR = z * s - m`` with ``m`` the sample mean, ``s`` the sample standard deviation
    (``ddof=1``) and ``z`` the standard normal ``confidence`` quantile. Needs two samples.
    """
    level = check_confidence(confidence)
    values = finite_vector(pnl, "pnl", minimum=2)
    z = float(ndtri(level))
    return z * float(values.std(ddof=1)) - float(values.mean())


def var_delta_normal(
    delta: ArrayLike,
    covariance: ArrayLike,
    confidence: float = 0.99,
    *,
    drift: float = 0.0,
    checked: bool = False,
) -> float:
    """Delta-normal VaR of a portfolio linear in normal factor moves, in USDT.

    Parameters
    ----------
    delta : array_like, shape (n,)
        P&L per unit move of each factor (USDT per unit of simple return for spot factors,
        USDT per 1.00 of vol for vol factors).
    covariance : array_like, shape (n, n)
        Covariance of the factor moves over the VaR horizon (not annualised), positive
        semi-definite (else ``ValueError``, as :func:`~qbtc.risk.montecarlo.monte_carlo_var`).
    confidence : float
        Confidence level in (0, 1).
    drift : float
        Deterministic P&L over the horizon (e.g. theta), USDT.
    checked : bool
        ``covariance`` is what :func:`~qbtc.risk._checks.check_psd` returned (not checked
        again: its eigenvalues cost more than the VaR).
    """
    level = check_confidence(confidence)
    d, cov = _sensitivities(delta, covariance, checked)
    sd = float(np.sqrt(max(float(d @ cov @ d), 0.0)))
    return float(ndtri(level)) * sd - drift


def var_delta_gamma(
    delta: ArrayLike,
    gamma: ArrayLike,
    covariance: ArrayLike,
    confidence: float = 0.99,
    *,
    drift: float = 0.0,
    checked: bool = False,
) -> float:
    """Delta-gamma VaR (Cornish-Fisher) for options books, in USDT (positive = loss).

    The P&L is approximated by ``drift + delta.x + x.gamma.x / 2`` with ``x ~ N(0,
    covariance)``. Its first four cumulants are exact for this quadratic form; the loss
    quantile uses the Cornish-Fisher expansion with skewness and excess kurtosis.

    Parameters
    ----------
    delta : array_like, shape (n,)
        First-order P&L sensitivities to the factor moves (USDT per unit move).
    gamma : array_like, shape (n, n)
        Symmetric second-order sensitivities (USDT per unit move squared).
    covariance : array_like, shape (n, n)
        Covariance of the factor moves over the horizon (not annualised), positive
        semi-definite (else ``ValueError``).
    confidence : float
        Confidence level in (0, 1).
    drift : float
        Deterministic P&L over the horizon (e.g. theta), USDT.
    checked : bool
        ``covariance`` is what :func:`~qbtc.risk._checks.check_psd` returned.
    """
    level = check_confidence(confidence)
    d, cov = _sensitivities(delta, covariance, checked)
    g = np.asarray(gamma, dtype=np.float64)
    if g.shape != cov.shape or not np.all(np.isfinite(g)):
        raise ValueError(f"gamma must be a finite {cov.shape} matrix, got shape {g.shape}")
    g = (g + g.T) / 2.0
    if not g.any():
        return _delta_only_var(d, cov, level, drift)
    return _cornish_fisher_var(d, g, cov, level, drift)


def _cornish_fisher_var(
    d: NDArray[np.float64],
    g: NDArray[np.float64],
    cov: NDArray[np.float64],
    level: float,
    drift: float,
) -> float:
    """:func:`var_delta_gamma` of checked inputs, ``g`` symmetric."""
    m = g @ cov
    m2, m3 = m @ m, m @ m @ m
    cd = cov @ d
    mean = drift + 0.5 * float(np.trace(m))
    variance = float(d @ cd) + 0.5 * float(np.trace(m2))
    if variance <= 0.0:
        return -mean
    k3 = 3.0 * float(cd @ g @ cd) + float(np.trace(m3))
    k4 = 12.0 * float(cd @ g @ cov @ g @ cd) + 3.0 * float(np.trace(m2 @ m2))
    sd = np.sqrt(variance)
    skew, kurt = k3 / sd**3, k4 / sd**4
    z = float(ndtri(1.0 - level))  # lower P&L tail
    w = z + (z**2 - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24 - (2 * z**3 - 5 * z) * skew**2 / 36
    return float(-(mean + sd * w))


def _delta_only_var(
    d: NDArray[np.float64], cov: NDArray[np.float64], level: float, drift: float
) -> float:
    """:func:`var_delta_gamma` of a zero ``gamma`` (a perps-only book), without its matrix
    products: every gamma term is a zero (the traces +0.0, as their diagonals hold a +0.0
    product), so skewness and excess kurtosis are +0.0 and the Cornish-Fisher quantile is
    ``z`` itself; the same arithmetic on what is left gives the same float.
    """
    cd = cov @ d
    mean = drift + 0.5 * 0.0
    variance = float(d @ cd) + 0.5 * 0.0
    if variance <= 0.0:
        return -mean
    sd = np.sqrt(variance)
    z = float(ndtri(1.0 - level))
    return float(-(mean + sd * z))


def _sensitivities(
    delta: ArrayLike, covariance: ArrayLike, checked: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    d = finite_vector(delta, "delta")
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.shape != (d.size, d.size) or not np.all(np.isfinite(cov)):
        raise ValueError(f"covariance must be a finite {d.size}x{d.size} matrix, got {cov.shape}")
    return d, cov if checked else check_psd(cov)
