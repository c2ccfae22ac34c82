"""Stress scenarios: instantaneous spot and implied-vol shocks with full revaluation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qbtc.risk.book import Book
from qbtc.risk.revaluation import plan_revaluation, revalue


@dataclass(frozen=True)
class StressScenario:
    """A shock applied to every underlying at once.

    ``spot_shift`` is a simple return (-0.2 = spot down 20%); ``vol_shift`` an absolute move
    of implied vol in vol units (0.2 = up 20 vol points; vols are floored at 1 point).
    """

    name: str
    spot_shift: float
    vol_shift: float


@dataclass(frozen=True)
class StressResult:
    """P&L (USDT, gains positive) of the book in one scenario."""

    name: str
    spot_shift: float
    vol_shift: float
    pnl: float


STANDARD_SCENARIOS: tuple[StressScenario, ...] = (
    StressScenario("spot -20%", -0.20, 0.0),
    StressScenario("spot -10%", -0.10, 0.0),
    StressScenario("spot +10%", 0.10, 0.0),
    StressScenario("spot +20%", 0.20, 0.0),
    StressScenario("vol -20 pts", 0.0, -0.20),
    StressScenario("vol +20 pts", 0.0, 0.20),
    StressScenario("crash: spot -30%, vol +40 pts", -0.30, 0.40),
)


def stress_test(
    book: Book, scenarios: Sequence[StressScenario] = STANDARD_SCENARIOS
) -> tuple[StressResult, ...]:
    """Revalue ``book`` under each scenario, instantaneously (no time decay)."""
    if not scenarios:
        raise ValueError("no stress scenario given")
    spot, vol = _shocks(tuple(scenarios), len(book.underlyings))
    pnl = revalue(plan_revaluation(book, 0.0), spot, vol)
    return tuple(
        StressResult(s.name, s.spot_shift, s.vol_shift, float(p))
        for s, p in zip(scenarios, pnl, strict=True)
    )


@lru_cache(maxsize=16)
def _shocks(scenarios: tuple[StressScenario, ...], u: int) -> tuple[np.ndarray, np.ndarray]:
    """Spot and vol moves of each scenario for ``u`` underlyings (read-only; made once: a
    backtest stresses the book at every decision)."""
    spot = np.array([[s.spot_shift] * u for s in scenarios], dtype=np.float64).reshape(-1, u)
    vol = np.array([[s.vol_shift] * u for s in scenarios], dtype=np.float64).reshape(-1, u)
    if np.any(spot <= -1.0):
        raise ValueError("a spot shift must be above -100%")
    spot.flags.writeable = False
    vol.flags.writeable = False
    return spot, vol
