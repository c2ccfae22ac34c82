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
from qbtc.risk.book import Book
from qbtc.risk.exposure import Exposure, PortfolioGreeks, exposure, portfolio_greeks
from qbtc.risk.factors import FactorModel
from qbtc.risk.limits import RiskState, UnderlyingRisk, UnitRisk, short_option_margin
from qbtc.risk.montecarlo import (
    MonteCarloResult,
    Scenarios,
    scenario_pnl,
    simulate_scenarios,
    summarise,
)
from qbtc.risk.revaluation import option_values, sensitivities
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
    shocks = simulate_scenarios(model, book.underlyings, horizon_days, scenarios, seed)
    full_pnl = scenario_pnl(book, shocks, "full", threads=threads, mapper=mapper)
    approx_pnl = scenario_pnl(book, shocks, "delta_gamma")
    greeks = portfolio_greeks(book)
    dn, cf = _analytic_vars(book, model, confidence, horizon_days)
    state = RiskState(
        by_symbol=exposure(book).by_symbol,
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
        exposure=exposure(book),
        stress=stress_test(book),
        state=state,
        scenarios=shocks,
        historical=None
        if history is None
        else summarise(
            scenario_pnl(book, history, "full", threads=threads),
            confidence,
            horizon_days,
            "historical",
        ),
    )


def _analytic_vars(
    book: Book, model: FactorModel, confidence: float, horizon_days: float
) -> tuple[float, float]:
    """Delta-normal and delta-gamma (Cornish-Fisher) VaR on the book's factors."""
    sens = sensitivities(book)
    idx = [model.index(name) for name in book.underlyings]
    u = len(model.underlyings)
    cols = idx + [u + i for i in idx]
    cov = model.covariance(horizon_days)[np.ix_(cols, cols)]
    delta = np.concatenate([sens.delta, sens.vega])
    gamma = np.diag(np.concatenate([sens.gamma, np.zeros_like(sens.gamma)]))
    drift = float(sens.theta.sum()) * horizon_days / 365.0
    return (
        var_delta_normal(delta, cov, confidence, drift=drift),
        var_delta_gamma(delta, gamma, cov, confidence, drift=drift),
    )


def unit_risks(
    instruments: Mapping[str, Book], scenarios: Scenarios, threads: int = 2
) -> dict[str, UnitRisk]:
    """Risk of one coin long of each instrument (a one-leg book of quantity 1)."""
    out = {}
    for symbol, unit in instruments.items():
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
        out[symbol] = UnitRisk(
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
    return out
