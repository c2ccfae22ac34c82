"""Monte Carlo VaR and CVaR with full revaluation of perps and options.

Scenarios are correlated normal factor moves (spot simple returns and implied-vol shifts per
underlying, :mod:`qbtc.risk.factors`), drawn from a seed by :mod:`qbtc.risk.draws`.
Revaluation then runs in chunks of any size on any
number of threads; each scenario's P&L depends only on its own row, so a seed gives
bit-identical VaR however the work is chunked or threaded.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from qbtc.parallel import Mapper
from qbtc.risk._checks import check_confidence, check_psd_eigh, finite_vector
from qbtc.risk.book import Book
from qbtc.risk.draws import correlate
from qbtc.risk.factors import FactorModel
from qbtc.risk.revaluation import (
    RevaluationPlan,
    delta_gamma_pnl,
    plan_revaluation,
    revalue,
    sensitivities,
)

Floats = NDArray[np.float64]

#: Scenarios per chunk sent to a mapper (a cluster): big enough to pay for shipping it.
MAPPED_CHUNK_SCENARIOS = 2500


@dataclass(frozen=True)
class MonteCarloResult:
    """VaR and CVaR (USDT, positive = loss) with their Monte Carlo standard errors.

    ``pnl`` holds the P&L of every scenario (USDT), for incremental (pre-trade) checks.
    """

    method: str
    var: float
    cvar: float
    var_stderr: float
    cvar_stderr: float
    confidence: float
    horizon_days: float
    scenarios: int
    pnl: Floats


def monte_carlo_var(
    book: Book,
    model: FactorModel,
    *,
    confidence: float = 0.99,
    horizon_days: float = 1.0,
    scenarios: int = 10_000,
    seed: int = 7,
    chunk_size: int = 256,
    threads: int = 2,
    method: str = "full",
    mapper: Mapper | None = None,
) -> MonteCarloResult:
    """Monte Carlo VaR/CVaR of ``book`` over ``horizon_days``.

    Parameters
    ----------
    book : Book
        Positions and marks; every underlying of the book must be a factor of ``model``.
    model : FactorModel
        Annualised factor covariance (scaled to the horizon here).
    confidence : float
        VaR confidence level, e.g. 0.99.
    horizon_days : float
        Calendar days (1.0 = one-day VaR).
    scenarios : int
        Number of scenarios (even; antithetic pairs).
    seed : int
        Seed; the same seed gives the same figures for any ``chunk_size`` and ``threads``.
    chunk_size : int
        Scenarios revalued per unit of work (bounds memory: ~chunk_size x options floats).
    threads : int
        Worker threads (numpy and scipy kernels release the GIL).
    mapper : Mapper, optional
        Runs the revaluation chunks elsewhere (a Dask cluster); same figures.
    method : {"full", "delta_gamma"}
        Full revaluation (Black-76) or the delta-gamma-vega-theta approximation.
    """
    level = check_confidence(confidence)
    if book.is_empty:
        raise ValueError("the book has no position: there is no VaR to compute")
    if chunk_size < 1 or threads < 1:
        raise ValueError("chunk_size and threads must be at least 1")
    shocks = simulate_scenarios(model, book.underlyings, horizon_days, scenarios, seed)
    pnl = scenario_pnl(book, shocks, method, chunk_size, threads, mapper)
    return summarise(pnl, level, horizon_days, method)


@dataclass(frozen=True)
class Scenarios:
    """Factor moves over ``horizon_days``: simple spot returns and implied-vol shifts.

    Both arrays have shape (n, U), columns in the order of ``underlyings``.
    """

    underlyings: tuple[str, ...]
    spot_returns: Floats
    vol_shifts: Floats
    horizon_days: float

    @property
    def size(self) -> int:
        return int(self.spot_returns.shape[0])


def simulate_scenarios(
    model: FactorModel,
    underlyings: tuple[str, ...],
    horizon_days: float,
    scenarios: int,
    seed: int,
) -> Scenarios:
    """Draw ``scenarios`` factor moves for ``underlyings`` (all must be factors of ``model``).

    The draw covers all of the model's factors, so an underlying's moves do not depend on
    which other underlyings the book happens to hold.
    """
    return draw_scenarios(model, underlyings, horizon_days, scenarios, seed)[0]


def draw_scenarios(
    model: FactorModel,
    underlyings: tuple[str, ...],
    horizon_days: float,
    scenarios: int,
    seed: int,
) -> tuple[Scenarios, Floats]:
    """:func:`simulate_scenarios` and the horizon covariance of ``model`` it drew them from,
    as :func:`~qbtc.risk._checks.check_psd` gave it (checked once for all who need it)."""
    columns = [model.index(name) for name in underlyings]
    u = len(model.underlyings)
    if scenarios < 2 or scenarios % 2:
        raise ValueError(f"scenarios must be an even number >= 2, got {scenarios}")
    checked, values, vectors = check_psd_eigh(model.covariance(horizon_days))
    moves = correlate(values, vectors, scenarios, seed)
    shocks = Scenarios(
        underlyings=tuple(underlyings),
        spot_returns=np.ascontiguousarray(moves[:, columns]),
        vol_shifts=np.ascontiguousarray(moves[:, [u + c for c in columns]]),
        horizon_days=horizon_days,
    )
    return shocks, checked


def scenario_pnl(
    book: Book,
    scenarios: Scenarios,
    method: str = "full",
    chunk_size: int = 256,
    threads: int = 1,
    mapper: Mapper | None = None,
) -> Floats:
    """P&L (USDT) of ``book`` in each scenario, computed in chunks on ``threads`` threads,
    or, with ``mapper``, in chunks of :data:`MAPPED_CHUNK_SCENARIOS` run by it (a Dask
    cluster from the flows). A scenario's P&L depends on its own row only, so every way of
    running gives bit-identical P&L.

    ``scenarios`` must cover the book's underlyings in the book's order.
    """
    if scenarios.underlyings != book.underlyings:
        raise ValueError("scenarios must be drawn for the book's underlyings, in its order")
    spot_returns, vol_shifts = scenarios.spot_returns, scenarios.vol_shifts
    horizon_days = scenarios.horizon_days
    if method == "delta_gamma":
        return delta_gamma_pnl(sensitivities(book), spot_returns, vol_shifts, horizon_days)
    if method != "full":
        raise ValueError(f"unknown method {method!r}: use 'full' or 'delta_gamma'")
    return revalue_scenarios(
        plan_revaluation(book, horizon_days), spot_returns, vol_shifts, chunk_size, threads, mapper
    )


def revalue_scenarios(
    plan: RevaluationPlan,
    spot_returns: Floats,
    vol_shifts: Floats,
    chunk_size: int = 256,
    threads: int = 1,
    mapper: Mapper | None = None,
) -> Floats:
    """:func:`scenario_pnl` of a book already planned (:func:`plan_revaluation`)."""
    n = spot_returns.shape[0]
    if not plan.groups and mapper is None:
        # perps only: a few multiply-adds per row, cheaper than handing chunks to threads
        return revalue(plan, spot_returns, vol_shifts)
    if mapper is not None:
        step = MAPPED_CHUNK_SCENARIOS
        calls = [
            (plan, spot_returns[i : i + step], vol_shifts[i : i + step]) for i in range(0, n, step)
        ]
        return np.concatenate(mapper(revalue, calls))
    pnl = np.empty(n)
    starts = range(0, n, chunk_size)

    def work(start: int) -> None:
        stop = min(start + chunk_size, n)
        pnl[start:stop] = revalue(plan, spot_returns[start:stop], vol_shifts[start:stop])

    if threads == 1 or len(starts) == 1:
        for start in starts:
            work(start)
    else:
        list(_thread_pool(os.getpid(), threads).map(work, starts))
    return pnl


@cache
def _thread_pool(pid: int, threads: int) -> ThreadPoolExecutor:
    """The revaluation threads of this process (``pid``: a forked child makes its own).

    Kept for the life of the process: starting threads cost more than revaluing a few
    hundred scenarios, and a backtest revalues at every decision.
    """
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"qbtc-revalue-{pid}")


def summarise(pnl: Floats, confidence: float, horizon_days: float, method: str) -> MonteCarloResult:
    """VaR, CVaR and their standard errors from scenario P&L.

    The figures of :func:`~qbtc.risk.var.var_historical`, :func:`~qbtc.risk.var.cvar_historical`,
    :func:`quantile_stderr` and :func:`shortfall_stderr`, from one partial sort of the losses
    and one array of excess losses (a backtest summarises three P&L arrays per decision).
    """
    level = check_confidence(confidence)
    losses = -finite_vector(pnl, "pnl")
    n = losses.size
    h = _stderr_bandwidth(n, level)
    var_at = _order_index(n, level)
    upper_at, lower_at = _linear_indexes(n, level + h), _linear_indexes(n, level - h)
    ordered = np.partition(losses, sorted({var_at, *upper_at, *lower_at}))
    var = float(ordered[var_at])
    excess = np.maximum(losses - var, 0.0)
    return MonteCarloResult(
        method=method,
        var=var,
        cvar=var + float(excess.mean()) / (1.0 - level),
        var_stderr=_sparsity_stderr(
            _linear_quantile(ordered, n, level + h),
            _linear_quantile(ordered, n, level - h),
            level,
            h,
            n,
        ),
        cvar_stderr=float(excess.std(ddof=1) / ((1.0 - confidence) * np.sqrt(n))),
        confidence=confidence,
        horizon_days=horizon_days,
        scenarios=int(pnl.size),
        pnl=pnl,
    )


def _order_index(n: int, level: float) -> int:
    """Index of the ``level`` quantile in sorted order (as :func:`~qbtc.risk.var.lower_quantile`)."""
    index = n * level - 1.0
    below = math.floor(index)
    return max(below if index == below else below + 1, 0)


def _linear_indexes(n: int, q: float) -> tuple[int, int]:
    """Sorted positions numpy's ``method="linear"`` quantile ``q`` reads (``-1``: the last)."""
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return n - 1, n - 1
    if virtual < 0:
        return 0, 0
    below = math.floor(virtual)
    return below, below + 1


def _linear_quantile(ordered: Floats, n: int, q: float) -> float:
    """``np.quantile(values, q)`` (``method="linear"``) from ``ordered``, the values partially
    sorted at the positions :func:`_linear_indexes` names: numpy's arithmetic, step for step."""
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return float(ordered[n - 1])
    if virtual < 0:
        return float(ordered[0])
    below = math.floor(virtual)
    a, b = float(ordered[below]), float(ordered[below + 1])
    t = virtual - below
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def quantile_stderr(losses: Floats, confidence: float) -> float:
    """Standard error of an empirical quantile: ``sqrt(p(1-p)/n) / f(q)``.

    The density at the quantile is estimated by the spacing of neighbouring quantiles with
    the Hall-Sheather bandwidth (as in quantile regression), which needs no model of the
    P&L distribution.
    """
    n = losses.size
    h = _stderr_bandwidth(n, confidence)
    upper, lower = np.quantile(losses, [confidence + h, confidence - h])
    return _sparsity_stderr(float(upper), float(lower), confidence, h, n)


@lru_cache(maxsize=64)  # one per scenario count and confidence: a backtest asks at every decision
def _stderr_bandwidth(n: int, confidence: float) -> float:
    """The Hall-Sheather bandwidth of :func:`quantile_stderr`, kept inside (0, 1)."""
    z = ndtri(confidence)
    bandwidth = n ** (-1 / 3) * ndtri(0.975) ** (2 / 3)
    bandwidth *= (1.5 * _normal_pdf(z) ** 2 / (2 * z**2 + 1)) ** (1 / 3)
    return float(min(bandwidth, 0.5 * (1.0 - confidence), 0.5 * confidence))


def _sparsity_stderr(upper: float, lower: float, confidence: float, h: float, n: int) -> float:
    sparsity = (upper - lower) / (2 * h)
    return float(np.sqrt(confidence * (1 - confidence) / n) * sparsity)


def _normal_pdf(x: float) -> float:
    return float(np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi))


def shortfall_stderr(losses: Floats, confidence: float, var: float) -> float:
    """Standard error of the Rockafellar-Uryasev CVaR estimator: ``sd(max(L - VaR, 0)) /
    ((1 - confidence) sqrt(n))``."""
    excess = np.maximum(losses - var, 0.0)
    return float(excess.std(ddof=1) / ((1.0 - confidence) * np.sqrt(losses.size)))
