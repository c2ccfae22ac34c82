"""Risk limits and the risk state they are checked against.

:class:`RiskState` is what limits are measured on: signed notional per symbol, Greeks and the
scenario P&L of the book. Every one of them is linear in position quantities (full
revaluation P&L included), so the state after a trade is the state before plus the trade's
quantity times the :class:`UnitRisk` of one coin of the instrument: pre-trade checks of a
whole cycle cost one full revaluation per instrument, not one per order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qbtc.risk.var import var_historical

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Limits:
    """Risk limits (USDT unless stated). See ``qbtc.config.Settings`` for each meaning."""

    max_gross_notional: float
    max_net_notional: float
    max_symbol_notional: float
    max_leverage: float
    max_delta_usd: float
    max_gamma_usd: float
    max_vega_usd: float
    max_var_99: float
    max_order_notional: float
    max_orders_per_cycle: int
    max_data_age_s: float
    max_drawdown: float

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits of a ``qbtc.config.Settings`` (built by the caller)."""
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class UnitRisk:
    """Risk of one coin (one contract) long of ``symbol``.

    ``notional``: signed USDT notional (delta-equivalent for options); ``delta_usd``,
    ``gamma_usd`` (per 1% move), ``vega_usd`` (per vol point); ``pnl``: P&L per scenario.
    """

    symbol: str
    price: float
    notional: float
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    pnl: Floats


@dataclass(frozen=True)
class RiskState:
    """Signed notional per symbol, net Greeks (USDT) and scenario P&L of a book."""

    by_symbol: Mapping[str, float]
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    pnl: Floats
    confidence: float = 0.99

    @property
    def gross_notional(self) -> float:
        return float(sum(abs(v) for v in self.by_symbol.values()))

    @property
    def net_notional(self) -> float:
        return float(sum(self.by_symbol.values()))

    @cached_property
    def var(self) -> float:
        """VaR of the scenario P&L at ``confidence`` (USDT, positive = loss)."""
        return var_historical(self.pnl, self.confidence)

    def after(self, unit: UnitRisk, quantity: float) -> RiskState:
        """The state after trading ``quantity`` coins (signed: buy > 0) of ``unit.symbol``."""
        by_symbol = dict(self.by_symbol)
        by_symbol[unit.symbol] = by_symbol.get(unit.symbol, 0.0) + quantity * unit.notional
        return RiskState(
            by_symbol=by_symbol,
            delta_usd=self.delta_usd + quantity * unit.delta_usd,
            gamma_usd=self.gamma_usd + quantity * unit.gamma_usd,
            vega_usd=self.vega_usd + quantity * unit.vega_usd,
            pnl=self.pnl + quantity * unit.pnl,
            confidence=self.confidence,
        )


@dataclass(frozen=True)
class Breach:
    """A limit exceeded: which, by how much (USDT or ratio), and a readable message."""

    limit: str
    value: float
    threshold: float
    message: str


def measures(state: RiskState, equity: float) -> dict[str, tuple[float, str]]:
    """Limited quantities of ``state``: name -> (absolute value, unit)."""
    return {
        "max_gross_notional": (state.gross_notional, "USDT"),
        "max_net_notional": (abs(state.net_notional), "USDT"),
        "max_leverage": (state.gross_notional / equity, "x"),
        "max_delta_usd": (abs(state.delta_usd), "USDT"),
        "max_gamma_usd": (abs(state.gamma_usd), "USDT per 1%"),
        "max_vega_usd": (abs(state.vega_usd), "USDT per vol point"),
        "max_var_99": (state.var, "USDT"),
    }


LABELS = {
    "max_gross_notional": "gross notional",
    "max_net_notional": "net notional",
    "max_symbol_notional": "notional",
    "max_leverage": "leverage",
    "max_delta_usd": "net delta",
    "max_gamma_usd": "dollar gamma",
    "max_vega_usd": "vega",
    "max_var_99": "1-day VaR",
}


def breaches(state: RiskState, limits: Limits, equity: float) -> list[Breach]:
    """Every limit the book in ``state`` exceeds (the risk monitor's check)."""
    found = []
    for name, (value, unit) in measures(state, equity).items():
        threshold = float(getattr(limits, name))
        if value > threshold:
            found.append(_breach(name, value, threshold, unit))
    for symbol, notional in sorted(state.by_symbol.items()):
        if abs(notional) > limits.max_symbol_notional:
            found.append(
                _breach(
                    "max_symbol_notional",
                    abs(notional),
                    limits.max_symbol_notional,
                    "USDT",
                    f"{symbol} ",
                )
            )
    return found


def _breach(name: str, value: float, threshold: float, unit: str, prefix: str = "") -> Breach:
    label = prefix + LABELS[name]
    message = f"{label} {value:,.2f} {unit} exceeds the limit {threshold:,.2f} {unit}"
    return Breach(name, value, threshold, message)
