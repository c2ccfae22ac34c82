"""Risk factors of the book: one spot factor and one implied-vol factor per underlying.

Spot factors are simple returns of the underlying (``S' = S * (1 + r)``; forwards move with
spot). Vol factors are absolute shifts of implied volatility (``sigma' = sigma + dv``, in
annualised vol units: 0.01 = one vol point), applied in parallel to every option of the
underlying. Factor moves over a horizon of ``h`` days are normal with covariance
``annual covariance * h / 365`` (square-root-of-time scaling, calendar days: crypto trades
every day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

DAYS_PER_YEAR = 365.0
#: Default annualised volatility of ATM implied-vol changes (0.8 = 80 vol points a year,
#: about 4.2 vol points a day), typical of BTC/ETH implied vols.
DEFAULT_VOL_OF_VOL = 0.8
#: Default correlation between an underlying's spot return and its implied-vol change.
DEFAULT_SPOT_VOL_CORRELATION = -0.4


@dataclass(frozen=True)
class FactorModel:
    """Annualised covariance of the factor moves ``[r_1..r_U, dv_1..dv_U]``.

    Attributes
    ----------
    underlyings : tuple of str
        Base currencies (``"BTC"``), the order of the factors.
    annual_covariance : ndarray, shape (2U, 2U)
        Covariance of one year of factor moves (spot returns first, then vol shifts).
    """

    underlyings: tuple[str, ...]
    annual_covariance: NDArray[np.float64]

    def __post_init__(self) -> None:
        n = 2 * len(self.underlyings)
        cov = np.asarray(self.annual_covariance, dtype=np.float64)
        if n == 0 or cov.shape != (n, n) or not np.all(np.isfinite(cov)):
            raise ValueError(f"annual_covariance must be a finite {n}x{n} matrix, got {cov.shape}")
        if not np.array_equal(cov, cov.T) and not np.allclose(cov, cov.T):
            raise ValueError("annual_covariance must be symmetric")
        object.__setattr__(self, "annual_covariance", cov)

    def covariance(self, horizon_days: float) -> NDArray[np.float64]:
        """Covariance of the factor moves over ``horizon_days`` calendar days."""
        if not horizon_days > 0:
            raise ValueError(f"horizon_days must be positive, got {horizon_days}")
        return self.annual_covariance * (horizon_days / DAYS_PER_YEAR)

    def index(self, underlying: str) -> int:
        """Position of ``underlying`` among the spot factors."""
        try:
            return self.underlyings.index(underlying)
        except ValueError:
            raise ValueError(
                f"no risk factor for {underlying!r}; factors cover {list(self.underlyings)}"
            ) from None


def factor_model(
    underlyings: tuple[str, ...] | list[str],
    spot_vol: ArrayLike,
    spot_correlation: ArrayLike | None = None,
    *,
    vol_of_vol: float | ArrayLike = DEFAULT_VOL_OF_VOL,
    spot_vol_correlation: float = DEFAULT_SPOT_VOL_CORRELATION,
) -> FactorModel:
    """Build a factor model from vols and a spot correlation matrix.

    The full correlation is ``[[C, rho C], [rho C, C]]`` (``C`` the spot correlation, ``rho``
    the spot-vol correlation): vol factors are correlated across underlyings like spots are,
    and positive semi-definite whenever ``C`` is and ``|rho| <= 1``.

    Parameters
    ----------
    underlyings : sequence of str
        Base currencies.
    spot_vol : array_like, shape (U,)
        Annualised volatility of the spot simple returns (0.6 = 60%).
    spot_correlation : array_like, shape (U, U), optional
        Correlation of spot returns (identity when omitted).
    vol_of_vol : float or array_like
        Annualised standard deviation of implied-vol shifts, in vol units.
    spot_vol_correlation : float
        Correlation between an underlying's spot return and its vol shift, in [-1, 1].
    """
    names = tuple(underlyings)
    u = len(names)
    vols = np.broadcast_to(np.asarray(spot_vol, dtype=np.float64), (u,))
    vov = np.broadcast_to(np.asarray(vol_of_vol, dtype=np.float64), (u,))
    if u == 0 or np.any(vols <= 0) or np.any(vov < 0) or not np.all(np.isfinite(vols)):
        raise ValueError("factor_model needs underlyings with positive finite spot vols")
    if not -1.0 <= spot_vol_correlation <= 1.0:
        raise ValueError(f"spot_vol_correlation must be in [-1, 1], got {spot_vol_correlation}")
    corr = np.eye(u) if spot_correlation is None else np.asarray(spot_correlation, np.float64)
    if corr.shape != (u, u):
        raise ValueError(f"spot_correlation must be {u}x{u}, got {corr.shape}")
    block = np.array([[1.0, spot_vol_correlation], [spot_vol_correlation, 1.0]])
    full_corr = np.empty((2 * u, 2 * u))
    for i, j in np.ndindex(2, 2):  # np.kron(block, corr), a quadrant at a time
        full_corr[i * u : (i + 1) * u, j * u : (j + 1) * u] = block[i, j] * corr
    scale = np.concatenate([vols, vov])
    return FactorModel(names, full_corr * np.outer(scale, scale))


def estimate_spot_risk(
    closes: ArrayLike, periods_per_year: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Annualised vols and correlation of simple returns from aligned close prices.

    Parameters
    ----------
    closes : array_like, shape (T, U)
        Close prices (USDT), one column per underlying, rows in time order and aligned.
    periods_per_year : float
        Bars per year (525,600 for 1-minute bars).

    Returns
    -------
    (vol, correlation) : ndarray (U,), ndarray (U, U)
    """
    prices = np.asarray(closes, dtype=np.float64)
    if prices.ndim != 2 or prices.shape[0] < 3 or prices.shape[1] == 0:
        raise ValueError("estimate_spot_risk needs at least 3 aligned rows of close prices")
    if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
        raise ValueError("close prices must be positive and finite")
    cov = np.atleast_2d(sample_covariance(prices[1:] / prices[:-1] - 1.0))
    sd = np.sqrt(np.diag(cov))
    if np.any(sd <= 0):
        raise ValueError("a price series never moves: its volatility cannot be estimated")
    corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return sd * np.sqrt(periods_per_year), corr


def sample_covariance(observations: NDArray[np.float64]) -> NDArray[np.float64]:
    """``np.cov(observations, rowvar=False, ddof=1)`` of a float64 array of rows of
    observations, step for step, on ``observations`` themselves (overwritten: the caller's
    own temporary), where ``np.cov`` first copies them (a backtest estimates at every
    decision).
    """
    x = observations.T if observations.shape[0] != 1 else observations
    fact = x.shape[1] - 1
    if fact <= 0:  # np.cov's degenerate case, with its warning
        return np.asarray(np.cov(observations, rowvar=False, ddof=1))
    x -= x.mean(axis=1)[:, None]
    c = np.dot(x, x.T.conj())
    c *= np.true_divide(1, fact)
    return c.squeeze()
