"""Everything the risk stage knows about a book, computed once per cycle.

One set of Monte Carlo scenarios is drawn per cycle; the book, every tradable instrument
(for incremental pre-trade checks) and the delta-gamma approximation are all revalued on it,
so their figures are directly comparable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qbtc.parallel import Mapper
from qbtc.risk._checks import check_psd
from qbtc.risk.book import Book
from qbtc.risk.exposure import Exposure, PortfolioGreeks, exposure, portfolio_greeks
from qbtc.risk.factors import FactorModel
from qbtc.risk.limits import RiskState, UnderlyingRisk, UnitRisk, short_option_margin
from qbtc.risk.montecarlo import (
    Floats,
    MonteCarloResult,
    Scenarios,
    draw_scenarios,
    revalue_scenarios,
    scenario_pnl,
    summarise,
)
from qbtc.risk.revaluation import (
    RevaluationPlan,
    Sensitivities,
    delta_gamma_pnl,
    option_values,
    plan_revaluation,
    sensitivities,
)
from qbtc.risk.stress import StressResult, stress_test
from qbtc.risk.var import var_delta_gamma, var_delta_normal


@dataclass(frozen=True)
class Assessment:
    """Risk of a book: Monte Carlo (full and delta-gamma), historical simulation, analytic
    VaRs, Greeks, stress.

    VaR figures are USDT losses (positive) at ``confidence`` over ``horizon_days``.
    ``historical`` is None when too little price history exists for it.
    """

    full: MonteCarloResult
    delta_gamma: MonteCarloResult
    delta_normal_var: float
    cornish_fisher_var: float
    greeks: PortfolioGreeks
    exposure: Exposure
    stress: tuple[StressResult, ...]
    state: RiskState
    scenarios: Scenarios
    historical: MonteCarloResult | None = None


def assess_book(
    book: Book,
    model: FactorModel,
    *,
    confidence: float = 0.99,
    horizon_days: float = 1.0,
    scenarios: int = 10_000,
    seed: int = 7,
    threads: int = 2,
    history: Scenarios | None = None,
    mapper: Mapper | None = None,
) -> Assessment:
    """Assess ``book`` (an empty book has zero risk, not an error); ``mapper`` runs the full
    revaluation's chunks elsewhere (a Dask cluster), with the same figures.

    ``history`` (see :func:`qbtc.risk.historical.historical_scenarios`) adds the
    historical-simulation VaR: the book fully revalued on past moves of its underlyings.
    """
    shocks, covariance = draw_scenarios(model, book.underlyings, horizon_days, scenarios, seed)
    # one plan, one set of sensitivities and one exposure serve every figure below
    plan = plan_revaluation(book, horizon_days)
    full_pnl = _full_pnl(book, plan, shocks, threads, mapper)
    sens = sensitivities(book)
    approx_pnl = delta_gamma_pnl(sens, shocks.spot_returns, shocks.vol_shifts, horizon_days)
    greeks = portfolio_greeks(book, sens=sens)
    dn, cf = _analytic_vars(book, model, covariance, sens, confidence, horizon_days)
    held = exposure(book)
    state = RiskState(
        by_symbol=held.by_symbol,
        delta_usd=greeks.delta_usd,
        gamma_usd=greeks.gamma_usd,
        vega_usd=greeks.vega_usd,
        pnl=full_pnl,
        confidence=confidence,
        theta_usd=greeks.theta_usd,
        by_underlying={
            g.underlying: UnderlyingRisk(g.gamma_usd, g.vega_usd, g.theta_usd)
            for g in greeks.by_underlying
        },
    )
    return Assessment(
        full=summarise(full_pnl, confidence, horizon_days, "monte_carlo"),
        delta_gamma=summarise(approx_pnl, confidence, horizon_days, "delta_gamma_mc"),
        delta_normal_var=dn,
        cornish_fisher_var=cf,
        greeks=greeks,
        exposure=held,
        stress=stress_test(book),
        state=state,
        scenarios=shocks,
        historical=None
        if history is None
        else summarise(
            _full_pnl(book, plan, history, threads),
            confidence,
            horizon_days,
            "historical",
        ),
    )


def _full_pnl(
    book: Book,
    plan: RevaluationPlan,
    scenarios: Scenarios,
    threads: int,
    mapper: Mapper | None = None,
) -> Floats:
    """``scenario_pnl(book, scenarios, "full", ...)`` with the book's ``plan`` when it was made
    for the scenarios' horizon."""
    if scenarios.underlyings != book.underlyings:
        raise ValueError("scenarios must be drawn for the book's underlyings, in its order")
    if scenarios.horizon_days != plan.horizon_days:
        plan = plan_revaluation(book, scenarios.horizon_days)
    return revalue_scenarios(
        plan, scenarios.spot_returns, scenarios.vol_shifts, threads=threads, mapper=mapper
    )


def _analytic_vars(
    book: Book,
    model: FactorModel,
    covariance: Floats,
    sens: Sensitivities,
    confidence: float,
    horizon_days: float,
) -> tuple[float, float]:
    """Delta-normal and delta-gamma (Cornish-Fisher) VaR on the book's factors.

    ``covariance``: the model's horizon covariance as :func:`check_psd` gave it; the book's
    factors are all of them in the model's order in a cycle, and then it serves as it is.
    """
    idx = [model.index(name) for name in book.underlyings]
    u = len(model.underlyings)
    cols = idx + [u + i for i in idx]
    if cols == list(range(2 * u)):
        cov = covariance
    else:
        cov = check_psd(model.covariance(horizon_days)[np.ix_(cols, cols)])
    delta = np.concatenate([sens.delta, sens.vega])
    gamma = np.diag(np.concatenate([sens.gamma, np.zeros_like(sens.gamma)]))
    drift = float(sens.theta.sum()) * horizon_days / 365.0
    return (
        var_delta_normal(delta, cov, confidence, drift=drift, checked=True),
        var_delta_gamma(delta, gamma, cov, confidence, drift=drift, checked=True),
    )


def unit_risks(
    instruments: Mapping[str, Book], scenarios: Scenarios, threads: int = 2
) -> dict[str, UnitRisk]:
    """Risk of one coin long of each instrument (a one-leg book of quantity 1)."""
    perps = {
        symbol: unit
        for symbol, unit in instruments.items()
        if unit.perps.size == 1 and not unit.options.size
    }
    fast = _perp_unit_risks(perps, scenarios) if perps else {}
    return {
        symbol: fast[symbol] if symbol in fast else _unit_risk(symbol, unit, scenarios, threads)
        for symbol, unit in instruments.items()
    }


def _unit_risk(symbol: str, unit: Book, scenarios: Scenarios, threads: int) -> UnitRisk:
    """The risk of one instrument's book (any book: the general path)."""
    greeks = portfolio_greeks(unit, per_underlying=False)
    legs = unit.perps if unit.perps.size else unit.options
    underlying = unit.underlyings[int(legs.underlying[0])]
    premium, margin = 0.0, 0.0
    if unit.options.size:
        o = unit.options
        premium = float(option_values(o.forward, o.strike, o.expiry, o.vol, o.is_call)[0])
        spot = float(unit.spot[int(o.underlying[0])])
        margin = short_option_margin(premium, spot, float(o.strike[0]), bool(o.is_call[0]))
    price = float(unit.perps.price[0]) if unit.perps.size else float(unit.options.forward[0])
    return UnitRisk(
        symbol=symbol,
        price=price,
        notional=exposure(unit).net_notional,
        delta_usd=greeks.delta_usd,
        gamma_usd=greeks.gamma_usd,
        vega_usd=greeks.vega_usd,
        pnl=scenario_pnl(unit, scenarios, "full", threads=threads),
        underlying=underlying,
        theta_usd=greeks.theta_usd,
        premium=premium,
        short_margin=margin,
    )


def _perp_unit_risks(units: Mapping[str, Book], scenarios: Scenarios) -> dict[str, UnitRisk]:
    """:func:`unit_risks` of one-leg perp books, all revalued in one array operation (a cycle
    has one per tradable perp): the same figures as the general path, element for element.

    A perp of ``q`` coins at ``p`` holds ``e = 0 + q p`` USDT: its delta and net notional,
    and its P&L in a scenario is ``0 + r e``; its gamma, vega and theta are 0.
    """
    symbols = [s for s, unit in units.items() if unit.underlyings == scenarios.underlyings]
    if not symbols:
        return {}
    legs = [units[s].perps for s in symbols]
    column = np.array([int(leg.underlying[0]) for leg in legs], dtype=np.intp)
    held = 0.0 + np.array([leg.quantity[0] * leg.price[0] for leg in legs])
    pnl = scenarios.spot_returns.T[column]  # (units, scenarios): one row per unit
    pnl *= held[:, None]
    pnl += 0.0
    pnl[held == 0.0] = 0.0  # no exposure: no move is added to the zero P&L
    pnl.flags.writeable = False  # rows are shared views of one array
    return {
        symbol: UnitRisk(
            symbol=symbol,
            price=float(leg.price[0]),
            notional=float(e),
            delta_usd=float(e),
            gamma_usd=0.0,
            vega_usd=0.0,
            pnl=pnl[i],
            underlying=units[symbol].underlyings[int(leg.underlying[0])],
            theta_usd=0.0,
            premium=0.0,
            short_margin=0.0,
        )
        for i, (symbol, leg, e) in enumerate(zip(symbols, legs, held, strict=True))
    }
