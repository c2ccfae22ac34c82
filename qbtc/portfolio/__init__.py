"""Portfolio construction: volatility-targeted sizing, mean-variance weights, delta hedging
with perps, and order intents from target versus current positions."""

from qbtc.portfolio.hedging import hedged_perp_targets
from qbtc.portfolio.optimizer import (
    MeanVarianceResult,
    expected_returns_from_signals,
    mean_variance_weights,
)
from qbtc.portfolio.orders import intents_from_targets
from qbtc.portfolio.sizing import vol_target_notional

__all__ = [
    "MeanVarianceResult",
    "expected_returns_from_signals",
    "hedged_perp_targets",
    "intents_from_targets",
    "mean_variance_weights",
    "vol_target_notional",
]
