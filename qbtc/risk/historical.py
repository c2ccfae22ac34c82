"""Historical-simulation scenarios: the book revalued on past moves of its underlyings.

Where Monte Carlo draws factor moves from a fitted normal model, historical simulation
replays the moves the market actually made, fat tails and co-movement included. Each past
bar's simple return of every underlying (from the perps' aligned closes) is one scenario,
scaled to the risk horizon by the square root of time (``sqrt(bars per horizon)``): the
price history the cycle reads (a day of 1-minute bars by default) holds too few
non-overlapping horizon-length moves to use them directly. Implied vols are left unchanged
(the lake holds no history of the surface for every expiry), so option P&L comes from the
spot moves, with full revaluation.
"""

from __future__ import annotations

import numpy as np

from qbtc.risk.inputs import PriceHistory
from qbtc.risk.montecarlo import Scenarios
from qbtc.symbols import base_currency

#: Fewer past returns than this cannot make a 99% tail: the method is not recorded then.
MIN_SCENARIOS = 100


def historical_scenarios(
    prices: PriceHistory, underlyings: tuple[str, ...], horizon_days: float
) -> Scenarios:
    """Past one-bar returns of ``underlyings``, scaled to ``horizon_days`` (sqrt of time).

    Raises ``ValueError`` when an underlying has no perp in ``prices`` or fewer than
    :data:`MIN_SCENARIOS` returns exist.
    """
    columns: dict[str, int] = {}
    for index, symbol in enumerate(prices.symbols):
        columns.setdefault(base_currency(symbol), index)
    missing = [u for u in underlyings if u not in columns]
    if missing:
        raise ValueError(f"no perp price history for underlying(s) {missing}")
    closes = np.asarray(prices.closes, dtype=np.float64)
    picked = [columns[u] for u in underlyings]
    if picked != list(range(closes.shape[1])):  # else every column, in order: no copy
        closes = closes[:, picked]
    returns = closes[1:] / closes[:-1] - 1.0
    if returns.shape[0] < MIN_SCENARIOS:
        raise ValueError(
            f"historical simulation needs at least {MIN_SCENARIOS} past returns, "
            f"got {returns.shape[0]}"
        )
    bars_per_horizon = horizon_days * prices.periods_per_year / 365.0
    scaled = returns * np.sqrt(bars_per_horizon)
    # A simple return below -100% is no price: cap the scaled move at a near-total loss.
    np.clip(scaled, -0.99, None, out=scaled)
    return Scenarios(
        underlyings=underlyings,
        spot_returns=scaled,
        vol_shifts=np.zeros_like(scaled),
        horizon_days=horizon_days,
    )
