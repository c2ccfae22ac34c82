"""Per-perp and option-surface features (pure polars, lazy) and the snapshot signals read.

Transforms take a lazy frame first and keyword-only options. Vols are annualised fractions
from 1-minute bars (525,600 bars a year), returns are log returns, windows count bars, and a
feature at a bar uses only data known when that bar closed (see :mod:`qbtc.features.bars`).
"""

from qbtc.features.bars import BARS_PER_YEAR, add_bar_segments
from qbtc.features.carry import add_basis, add_funding_rate
from qbtc.features.indicators import (
    add_atr,
    add_momentum,
    add_price_zscore,
    add_rsi,
    add_volume_zscore,
)
from qbtc.features.options import compute_option_features
from qbtc.features.perp import WARMUP_BARS, compute_perp_features
from qbtc.features.ranks import add_cross_sectional_ranks
from qbtc.features.returns import add_log_returns
from qbtc.features.snapshot import FeatureSnapshot, FeaturesNotFoundError, latest_snapshot
from qbtc.features.update import FeatureUpdate, compute_option_update, compute_perp_update
from qbtc.features.volatility import (
    add_close_to_close_vol,
    add_ewma_vol,
    add_garman_klass_vol,
    add_parkinson_vol,
    add_yang_zhang_vol,
)

__all__ = [
    "BARS_PER_YEAR",
    "WARMUP_BARS",
    "FeatureSnapshot",
    "FeatureUpdate",
    "FeaturesNotFoundError",
    "add_atr",
    "add_bar_segments",
    "add_basis",
    "add_close_to_close_vol",
    "add_cross_sectional_ranks",
    "add_ewma_vol",
    "add_funding_rate",
    "add_garman_klass_vol",
    "add_log_returns",
    "add_momentum",
    "add_parkinson_vol",
    "add_price_zscore",
    "add_rsi",
    "add_volume_zscore",
    "add_yang_zhang_vol",
    "compute_option_features",
    "compute_option_update",
    "compute_perp_features",
    "compute_perp_update",
    "latest_snapshot",
]
