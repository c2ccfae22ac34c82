"""Risk limits and the risk state they are checked against.

:class:`RiskState` is what limits are measured on: signed notional per symbol, Greeks and the
scenario P&L of the book. Every one of them is linear in position quantities (full
revaluation P&L included), so the state after a trade is the state before plus the trade's
quantity times the :class:`UnitRisk` of one coin of the instrument: pre-trade checks of a
whole cycle cost one full revaluation per instrument, not one per order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    max_gamma_usd_underlying: float = math.inf
    max_vega_usd_underlying: float = math.inf
    max_theta_usd: float = math.inf
    max_theta_usd_underlying: float = math.inf
    max_premium_at_risk: float = math.inf
    max_short_option_margin: float = math.inf

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits of a ``qbtc.config.Settings`` (built by the caller)."""
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class UnitRisk:
    """Risk of one coin (one contract) long of ``symbol``.

    ``notional``: signed USDT notional (delta-equivalent for options); ``delta_usd``,
    ``gamma_usd`` (per 1% move), ``vega_usd`` (per vol point), ``theta_usd`` (per day);
    ``pnl``: P&L per scenario. For options, ``premium`` is the value of one contract (USDT)
    and ``short_margin`` the margin one short contract needs (USDT, see
    :func:`short_option_margin`); both 0 for perps.
    """

    symbol: str
    price: float
    notional: float
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    pnl: Floats
    underlying: str = ""
    theta_usd: float = 0.0
    premium: float = 0.0
    short_margin: float = 0.0

    @property
    def is_option(self) -> bool:
        return self.premium > 0 or self.short_margin > 0


#: Short option margin: the mark plus this fraction of spot, less the out-of-the-money
#: amount, and never less than the floor fraction of spot (Deribit's standard margin shape).
SHORT_MARGIN_SPOT = 0.15
SHORT_MARGIN_FLOOR = 0.10


def short_option_margin(premium: float, spot: float, strike: float, is_call: bool) -> float:
    """Margin of one short option (USDT): ``premium + max(0.15 S - OTM, 0.10 S)``.

    ``OTM`` is how far out of the money the option is (``K - S`` for a call, ``S - K`` for a
    put, 0 when in the money); all amounts USDT per contract of one coin.
    """
    otm = max(strike - spot, 0.0) if is_call else max(spot - strike, 0.0)
    return premium + max(SHORT_MARGIN_SPOT * spot - otm, SHORT_MARGIN_FLOOR * spot)


@dataclass(frozen=True)
class UnderlyingRisk:
    """Greeks of the positions on one underlying (USDT: gamma per 1%, vega per vol point,
    theta per day)."""

    gamma_usd: float = 0.0
    vega_usd: float = 0.0
    theta_usd: float = 0.0

    def plus(self, unit: UnitRisk, quantity: float) -> UnderlyingRisk:
        return UnderlyingRisk(
            self.gamma_usd + quantity * unit.gamma_usd,
            self.vega_usd + quantity * unit.vega_usd,
            self.theta_usd + quantity * unit.theta_usd,
        )


_NO_RISK = UnderlyingRisk()


@dataclass(frozen=True)
class RiskState:
    """Signed notional per symbol, net Greeks (USDT) and scenario P&L of a book.

    ``by_underlying`` holds the Greeks per underlying; ``options`` the signed quantity held
    of each option with its unit risk (for premium at risk and short-option margin).
    The measures are computed at each read: the pre-trade checks measure each state they
    walk through once (:func:`measures`), and a cache would cost them more than it saves.
    """

    by_symbol: Mapping[str, float]
    delta_usd: float
    gamma_usd: float
    vega_usd: float
    pnl: Floats
    confidence: float = 0.99
    theta_usd: float = 0.0
    by_underlying: Mapping[str, UnderlyingRisk] = field(default_factory=dict)
    options: Mapping[str, tuple[float, UnitRisk]] = field(default_factory=dict)

    @property
    def premium_at_risk(self) -> float:
        """Value of the long options held (USDT): what they can lose at most."""
        return float(sum(max(q, 0.0) * u.premium for q, u in self.options.values()))

    @property
    def short_option_margin(self) -> float:
        """Margin the short options held need (USDT)."""
        return float(sum(max(-q, 0.0) * u.short_margin for q, u in self.options.values()))

    @property
    def gross_notional(self) -> float:
        return float(sum(map(abs, self.by_symbol.values())))

    @property
    def net_notional(self) -> float:
        return float(sum(self.by_symbol.values()))

    @property
    def var(self) -> float:
        """VaR of the scenario P&L at ``confidence`` (USDT, positive = loss)."""
        return var_historical(self.pnl, self.confidence)

    def after(self, unit: UnitRisk, quantity: float) -> RiskState:
        """The state after trading ``quantity`` coins (signed: buy > 0) of ``unit.symbol``."""
        by_symbol = dict(self.by_symbol)
        by_symbol[unit.symbol] = by_symbol.get(unit.symbol, 0.0) + quantity * unit.notional
        # a mapping the trade leaves as it was is shared, not copied (states are immutable)
        by_underlying = self.by_underlying
        if unit.underlying:
            by_underlying = dict(by_underlying)
            held = by_underlying.get(unit.underlying, _NO_RISK)
            by_underlying[unit.underlying] = held.plus(unit, quantity)
        options = self.options
        if unit.is_option:
            options = dict(options)
            before = options.get(unit.symbol, (0.0, unit))[0]
            options[unit.symbol] = (before + quantity, unit)
        return RiskState(
            by_symbol=by_symbol,
            delta_usd=self.delta_usd + quantity * unit.delta_usd,
            gamma_usd=self.gamma_usd + quantity * unit.gamma_usd,
            vega_usd=self.vega_usd + quantity * unit.vega_usd,
            pnl=self.pnl + quantity * unit.pnl,
            confidence=self.confidence,
            theta_usd=self.theta_usd + quantity * unit.theta_usd,
            by_underlying=by_underlying,
            options=options,
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
    gross = state.gross_notional
    return {
        "max_gross_notional": (gross, "USDT"),
        "max_net_notional": (abs(state.net_notional), "USDT"),
        "max_leverage": (gross / equity, "x"),
        "max_delta_usd": (abs(state.delta_usd), "USDT"),
        "max_gamma_usd": (abs(state.gamma_usd), "USDT per 1%"),
        "max_vega_usd": (abs(state.vega_usd), "USDT per vol point"),
        "max_theta_usd": (abs(state.theta_usd), "USDT per day"),
        "max_premium_at_risk": (state.premium_at_risk, "USDT"),
        "max_short_option_margin": (state.short_option_margin, "USDT"),
        "max_var_99": (state.var, "USDT"),
    }


def underlying_measures(state: RiskState, underlying: str) -> dict[str, tuple[float, str]]:
    """Limited Greeks of one underlying: name -> (absolute value, unit)."""
    risk = state.by_underlying.get(underlying, _NO_RISK)
    return {
        "max_gamma_usd_underlying": (abs(risk.gamma_usd), "USDT per 1%"),
        "max_vega_usd_underlying": (abs(risk.vega_usd), "USDT per vol point"),
        "max_theta_usd_underlying": (abs(risk.theta_usd), "USDT per day"),
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
    "max_theta_usd": "theta",
    "max_premium_at_risk": "premium at risk",
    "max_short_option_margin": "short option margin",
    "max_gamma_usd_underlying": "dollar gamma",
    "max_vega_usd_underlying": "vega",
    "max_theta_usd_underlying": "theta",
}


def breaches(state: RiskState, limits: Limits, equity: float) -> list[Breach]:
    """Every limit the book in ``state`` exceeds (the risk monitor's check)."""
    found = []
    for name, (value, unit) in measures(state, equity).items():
        threshold = float(getattr(limits, name))
        if value > threshold:
            found.append(_breach(name, value, threshold, unit))
    for underlying in sorted(state.by_underlying):
        for name, (value, unit) in underlying_measures(state, underlying).items():
            threshold = float(getattr(limits, name))
            if value > threshold:
                found.append(_breach(name, value, threshold, unit, f"{underlying} "))
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
