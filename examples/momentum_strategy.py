"""An example user strategy: time-series momentum, scaled by realised volatility.

Run it live or in a backtest::

    qbtc run --strategy examples.momentum_strategy:MomentumStrategy
    qbtc backtest --provider examples.momentum_strategy:MomentumStrategy \
        --start 2026-11-01T00:00Z --end 2026-11-30T00:00Z --interval 1h

Directional view per perp: the 4-hour log return (``ret_240``) in units of the return's own
standard deviation over 4 hours (``rv_cc_60`` annualised, scaled to 240 minutes), squashed
with ``tanh`` to [-1, 1]; confidence is how much of the day's move the 4-hour move explains.
Volatility view per option underlying: implied volatility rich against realised
(``iv_minus_rv`` > 0 on the nearest expiry) is a view to sell vol, and vice versa.
"""

from __future__ import annotations

import math

from qbtc.signals.model import SnapshotLike
from qbtc.signals.plugins import DirectionalView, StrategyViews, VolatilityView

MINUTES_PER_YEAR = 525_600.0


class MomentumStrategy:
    """Volatility-scaled 4-hour momentum (see the module docstring)."""

    name = "momentum"

    def __init__(self, scale: float = 1.5, horizon_minutes: int = 240) -> None:
        self.scale = scale
        self.horizon_minutes = horizon_minutes

    def views(self, snapshot: SnapshotLike) -> StrategyViews:
        directional = []
        for row in snapshot.perps.iter_rows(named=True):
            move, vol = row["ret_240"], row["rv_cc_60"]
            if move is None or not vol:
                directional.append(DirectionalView(row["symbol"], 0.0, 0.0, rationale="no data"))
                continue
            sigma = vol * math.sqrt(240.0 / MINUTES_PER_YEAR)
            z = move / sigma
            day = row["ret_1440"]
            confidence = min(1.0, abs(move) / abs(day)) if day else 0.5
            directional.append(
                DirectionalView(
                    row["symbol"],
                    round(math.tanh(z / self.scale), 4),
                    round(confidence, 4),
                    self.horizon_minutes,
                    f"4h move {move:+.4f} = {z:+.2f} sigma",
                )
            )
        volatility = []
        options = snapshot.options.sort("tenor_days")
        for underlying in sorted(set(options["underlying"].to_list())):
            nearest = options.filter(options["underlying"] == underlying).row(0, named=True)
            spread = nearest["iv_minus_rv"]
            if spread is not None:
                view = max(-1.0, min(1.0, -spread / 0.10))
                volatility.append(
                    VolatilityView(
                        underlying, round(view, 4), 0.5, rationale=f"iv-rv {spread:+.3f}"
                    )
                )
        return StrategyViews(tuple(directional), tuple(volatility))
