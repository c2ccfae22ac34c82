"""Stress scenarios: instantaneous spot and implied-vol shocks with full revaluation."""

from __future__ import annotations

from dataclasses import dataclass

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
    book: Book, scenarios: tuple[StressScenario, ...] = STANDARD_SCENARIOS
) -> tuple[StressResult, ...]:
    """Revalue ``book`` under each scenario, instantaneously (no time decay)."""
    if not scenarios:
        raise ValueError("no stress scenario given")
    u = len(book.underlyings)
    spot = np.array([[s.spot_shift] * u for s in scenarios], dtype=np.float64)
    vol = np.array([[s.vol_shift] * u for s in scenarios], dtype=np.float64)
    if np.any(spot <= -1.0):
        raise ValueError("a spot shift must be above -100%")
    pnl = revalue(plan_revaluation(book, 0.0), spot.reshape(-1, u), vol.reshape(-1, u))
    return tuple(
        StressResult(s.name, s.spot_shift, s.vol_shift, float(p))
        for s, p in zip(scenarios, pnl, strict=True)
    )
