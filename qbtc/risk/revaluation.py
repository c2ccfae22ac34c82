"""Revaluation of a book under factor moves: full (Black-76) and delta-gamma.

A scenario is a simple return ``r`` per underlying and an absolute implied-vol shift ``dv``
per underlying (see :mod:`qbtc.risk.factors`). Perps are repriced linearly
(``P' = P (1 + r)``); options with Black-76 on ``F' = F (1 + r)``, ``sigma' = max(sigma + dv,
VOL_FLOOR)`` and the expiry shortened by the horizon (so the P&L includes time decay); an
option that expires within the horizon is worth its intrinsic value. P&L in USDT.

Options are grouped by (underlying, expiry) once: inside a group the time to expiry is one
scalar and the spot move one column, so a chunk of scenarios is revalued with a handful of
broadcast array operations and no Python loop over positions (:mod:`qbtc.risk.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qbtc.pricing import black76_price, greeks
from qbtc.risk.book import Book, OptionLegs
from qbtc.risk.kernel import VOL_FLOOR, OptionGroup, group_value, make_group

__all__ = ["VOL_FLOOR", "RevaluationPlan", "option_values", "plan_revaluation", "revalue"]

Floats = NDArray[np.float64]

YEAR_DAYS = 365.0
#: Up to this many scenarios, the perps' moves of all underlyings are one array operation;
#: above it, one column at a time (the same products and sums, in the same order).
ONE_ARRAY_ROWS = 2048


def option_values(
    forward: Floats, strike: Floats, expiry: float | Floats, vol: Floats, is_call: NDArray[np.bool_]
) -> Floats:
    """Black-76 USDT value of one contract (undiscounted); intrinsic at or after expiry."""
    t = np.asarray(expiry, dtype=np.float64)
    if np.all(t > 0):
        return np.asarray(black76_price(forward, strike, t, vol, is_call), dtype=np.float64)
    intrinsic = np.where(
        is_call, np.maximum(forward - strike, 0.0), np.maximum(strike - forward, 0.0)
    )
    if np.all(t <= 0):
        return np.asarray(intrinsic, dtype=np.float64)
    safe_t = np.where(t > 0, t, 1.0)
    priced = np.asarray(black76_price(forward, strike, safe_t, vol, is_call), dtype=np.float64)
    return np.where(t > 0, priced, intrinsic)


@dataclass(frozen=True)
class RevaluationPlan:
    """A book prepared for repeated revaluation over ``horizon_days``.

    ``groups`` pairs each option group with its time to expiry after the horizon (years)
    and its value now (USDT).
    """

    underlyings: int
    perp_exposure: Floats
    groups: tuple[tuple[OptionGroup, float, float], ...]
    horizon_days: float


def plan_revaluation(book: Book, horizon_days: float) -> RevaluationPlan:
    """Group the option legs by (underlying, expiry) and net the perp exposure per underlying."""
    if horizon_days < 0:
        raise ValueError(f"horizon_days must be non-negative, got {horizon_days}")
    u = len(book.underlyings)
    exposure = np.zeros(u)
    perps = book.perps
    for k in range(perps.size):  # fixed order: sums are reproducible
        exposure[perps.underlying[k]] += perps.quantity[k] * perps.price[k]
    return RevaluationPlan(u, exposure, _groups(book.options, horizon_days), horizon_days)


def _groups(
    options: OptionLegs, horizon_days: float
) -> tuple[tuple[OptionGroup, float, float], ...]:
    if options.size == 0:
        return ()
    keys = np.stack([options.underlying.astype(np.float64), options.expiry])
    out = []
    for underlying, expiry in np.unique(keys, axis=1).T:
        mask = (options.underlying == int(underlying)) & (options.expiry == expiry)
        group = make_group(
            int(underlying),
            options.forward[mask],
            options.strike[mask],
            options.vol[mask],
            options.is_call[mask],
            options.quantity[mask],
        )
        value_now = float(group_value(group, np.ones(1), np.zeros(1), float(expiry))[0])
        out.append((group, float(expiry) - horizon_days / YEAR_DAYS, value_now))
    return tuple(out)


def revalue(plan: RevaluationPlan, spot_returns: Floats, vol_shifts: Floats) -> Floats:
    """Full-revaluation P&L (USDT) of each scenario.

    Parameters
    ----------
    plan : RevaluationPlan
        The book, from :func:`plan_revaluation`.
    spot_returns, vol_shifts : ndarray, shape (n, U)
        Simple spot returns and absolute implied-vol shifts per scenario and underlying.

    Returns
    -------
    ndarray, shape (n,)
        P&L of each scenario. Each value depends only on its own scenario row, so results
        do not depend on how scenarios are chunked.
    """
    n = spot_returns.shape[0]
    pnl = np.zeros(n)
    held = np.flatnonzero(plan.perp_exposure)
    if n <= ONE_ARRAY_ROWS:
        # every held underlying's move at once, then added one underlying after the other
        for move in spot_returns.T[held] * plan.perp_exposure[held, None]:
            pnl += move
    else:  # many rows: a column at a time streams through memory faster (same sums)
        for k in held.tolist():
            pnl += spot_returns[:, k] * plan.perp_exposure[k]
    for group, expiry_after, value_now in plan.groups:
        u = group.underlying
        pnl += group_value(group, 1.0 + spot_returns[:, u], vol_shifts[:, u], expiry_after)
        pnl -= value_now
    return pnl


@dataclass(frozen=True)
class Sensitivities:
    """First- and second-order P&L sensitivities per underlying (USDT).

    ``delta[u]``: P&L per unit simple return; ``gamma[u]``: second derivative in the return
    (``sum q Gamma F^2``); ``vega[u]``: P&L per 1.00 of vol shift; ``theta[u]``: first-order
    theta, ``sum q * theta`` (USDT per year of calendar time, spot and vol held).
    """

    delta: Floats
    gamma: Floats
    vega: Floats
    theta: Floats


def sensitivities(book: Book) -> Sensitivities:
    """Sensitivities of the whole book (perps and options) to its factors."""
    u = len(book.underlyings)
    delta, gamma, vega, theta = np.zeros(u), np.zeros(u), np.zeros(u), np.zeros(u)
    perps, opts = book.perps, book.options
    np.add.at(delta, perps.underlying, perps.quantity * perps.price)
    if opts.size:
        g = option_greeks(opts)
        q, f = opts.quantity, opts.forward
        np.add.at(delta, opts.underlying, q * g["delta"] * f)
        np.add.at(gamma, opts.underlying, q * g["gamma"] * f * f)
        np.add.at(vega, opts.underlying, q * g["vega"])
        np.add.at(theta, opts.underlying, q * g["theta"])
    return Sensitivities(delta, gamma, vega, theta)


def option_greeks(options: OptionLegs) -> dict[str, Floats]:
    """Black-76 Greeks per contract: delta/gamma in F, vega per 1.00 vol, theta per year.

    Options at or past expiry have the delta of their payoff and no gamma, vega or theta.
    """
    live = options.expiry > 0
    t = np.where(live, options.expiry, 1.0)
    g = greeks(options.forward, options.strike, t, options.vol, options.is_call)
    payoff_delta = np.where(
        options.is_call,
        (options.forward > options.strike).astype(float),
        -(options.forward < options.strike).astype(float),
    )
    out = {}
    for name in ("delta", "gamma", "vega", "theta"):
        value = np.asarray(getattr(g, name), dtype=np.float64)
        out[name] = np.where(live, value, payoff_delta if name == "delta" else 0.0)
    return out


def delta_gamma_pnl(
    sens: Sensitivities, spot_returns: Floats, vol_shifts: Floats, horizon_days: float
) -> Floats:
    """Delta-gamma(-vega-theta) approximation of the P&L of each scenario, USDT.

    The time term is first-order: ``theta * horizon_days / 365`` for every scenario.
    """
    pnl = np.full(spot_returns.shape[0], float(sens.theta.sum()) * horizon_days / YEAR_DAYS)
    # the terms of every underlying at once (one row each), then added one after the other
    r = np.ascontiguousarray(spot_returns.T)
    dv = np.ascontiguousarray(vol_shifts.T)
    terms = sens.delta[:, None] * r + (0.5 * sens.gamma)[:, None] * r * r + sens.vega[:, None] * dv
    for term in terms:
        pnl += term
    return pnl
