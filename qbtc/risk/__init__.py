"""Risk analytics (pure numpy/scipy): VaR/CVaR, drawdown, ratios, Monte Carlo with full
revaluation, portfolio Greeks, stress tests, limits, pre-trade checks and the kill switch.

Losses are positive amounts in USDT; units and annualisation are in each docstring.
"""

from qbtc.risk.assessment import Assessment, assess_book, unit_risks
from qbtc.risk.book import Book, OptionLegs, PerpLegs
from qbtc.risk.drawdown import current_drawdown, drawdown_series, max_drawdown
from qbtc.risk.exposure import Exposure, PortfolioGreeks, exposure, portfolio_greeks
from qbtc.risk.factors import FactorModel, estimate_spot_risk, factor_model
from qbtc.risk.killswitch import KillSwitch, KillSwitchState
from qbtc.risk.limits import Breach, Limits, RiskState, UnitRisk, breaches
from qbtc.risk.montecarlo import (
    MonteCarloResult,
    Scenarios,
    monte_carlo_var,
    scenario_pnl,
    simulate_scenarios,
)
from qbtc.risk.pretrade import PretradeContext, check_intents
from qbtc.risk.ratios import sharpe, sortino
from qbtc.risk.stress import STANDARD_SCENARIOS, StressResult, StressScenario, stress_test
from qbtc.risk.var import (
    cvar_historical,
    var_delta_gamma,
    var_delta_normal,
    var_historical,
    var_parametric,
)

__all__ = [
    "STANDARD_SCENARIOS",
    "Assessment",
    "Book",
    "Breach",
    "Exposure",
    "FactorModel",
    "KillSwitch",
    "KillSwitchState",
    "Limits",
    "MonteCarloResult",
    "OptionLegs",
    "PerpLegs",
    "PortfolioGreeks",
    "PretradeContext",
    "RiskState",
    "Scenarios",
    "StressResult",
    "StressScenario",
    "UnitRisk",
    "assess_book",
    "breaches",
    "check_intents",
    "current_drawdown",
    "cvar_historical",
    "drawdown_series",
    "estimate_spot_risk",
    "exposure",
    "factor_model",
    "max_drawdown",
    "monte_carlo_var",
    "portfolio_greeks",
    "scenario_pnl",
    "sharpe",
    "simulate_scenarios",
    "sortino",
    "stress_test",
    "unit_risks",
    "var_delta_gamma",
    "var_delta_normal",
    "var_historical",
    "var_parametric",
]
