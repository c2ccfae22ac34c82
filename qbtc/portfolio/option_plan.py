"""What the options planner (:mod:`qbtc.portfolio.options`) works from and what it returns:
the book and chain, the ids and clock of one planning, and the plan of intents, structure
rows and alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from qbtc.execution.intents import OrderIntent
from qbtc.market.contracts import parse_option_symbol
from qbtc.portfolio.chain import ChainQuote
from qbtc.schemas import OPTION_STRUCTURES


@dataclass(frozen=True)
class OptionBook:
    """What the options planner works from (quantities in coins, signed; USDT equity)."""

    vol_views: Mapping[str, Mapping[str, Any]]
    chain: Mapping[str, Sequence[ChainQuote]]
    holdings: Mapping[str, float]
    held_structures: Mapping[str, str]
    equity: float
    working: Mapping[str, float] = field(default_factory=dict)
    """Signed quantity still to fill of the orders working at the venue, per symbol."""


@dataclass(frozen=True)
class DecisionStamp:
    """Ids and clock of one planning: run, book, strategy, decision bar and wall time."""

    run_id: str
    portfolio_id: str
    strategy: str
    decision_bar: datetime
    as_of: datetime


@dataclass
class OptionPlan:
    """Intents (accepted later by the checks, or already refused with a reason), one
    ``option_structures`` row per structure decision, and alert messages."""

    intents: list[OrderIntent] = field(default_factory=list)
    structures: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def structures_frame(self) -> pl.DataFrame:
        if not self.structures:
            return OPTION_STRUCTURES.empty()
        return pl.DataFrame(self.structures, schema=OPTION_STRUCTURES.schema)


def structure_row(
    decision: DecisionStamp,
    sid: str,
    underlying: str,
    action: str,
    legs: Mapping[str, float],
    view: Mapping[str, Any] | None,
    reason: str | None,
    vega_target: float | None = None,
) -> dict[str, Any]:
    """The ``option_structures`` row of one structure decision (quantities in coins)."""
    contracts = [parse_option_symbol(s) for s in sorted(legs)]
    return {
        "structure_id": sid,
        "run_id": decision.run_id,
        "portfolio_id": decision.portfolio_id,
        "timestamp": decision.decision_bar,
        "underlying": underlying,
        "action": action,
        "legs": ",".join(sorted(legs)),
        "quantities": ",".join(f"{legs[s]:g}" for s in sorted(legs)),
        "expiry": min((c.expiry for c in contracts), default=None),
        "vega_target": vega_target,
        "vol_view": None if view is None else view.get("vol_view"),
        "view_id": None if view is None else view.get("view_id"),
        "feature_snapshot": None if view is None else view.get("feature_snapshot"),
        "reason": reason,
    }
