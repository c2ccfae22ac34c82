"""From signals to order intents: size, hedge, diff against the book.

1. Each perp's directional target comes from its signal (strength in [-1, 1], zero when the
   direction is flat): volatility-targeted (``sizing="vol_target"``, the default) or from
   the constrained mean-variance optimiser (``sizing="mean_variance"``, expected returns
   ``strength x confidence x information ratio x vol``); capped per symbol and on gross
   notional (the tighter of the gross limit and leverage x equity).
2. The perp carrying each underlying's view also offsets the delta of the options on that
   underlying, re-traded only outside the hedge band, and never past the per-symbol cap.
3. Intents move current positions to the targets (reduce-only legs first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import polars as pl

from qbtc.execution.intents import OrderIntent
from qbtc.portfolio.hedging import hedged_perp_targets
from qbtc.portfolio.optimizer import expected_returns_from_signals, mean_variance_weights
from qbtc.portfolio.orders import intents_from_targets
from qbtc.portfolio.sizing import clip, vol_target_notional
from qbtc.portfolio.structures import StructureConfig
from qbtc.risk.book import Book
from qbtc.risk.exposure import options_delta_coin
from qbtc.symbols import base_currency


@dataclass(frozen=True)
class PlanConfig:
    """Sizing and hedging knobs (USDT unless stated; ``target_vol`` annualised); ``options``
    the option structure knobs (None: the options leg is off)."""

    portfolio_id: str
    strategy: str
    target_vol: float
    max_symbol_notional: float
    max_gross_notional: float
    max_leverage: float
    band_usd: float
    max_order_notional: float | None = None
    min_order_notional: float = 10.0
    sizing: Literal["vol_target", "mean_variance"] = "vol_target"
    risk_aversion: float = 2.0
    information_ratio: float = 0.5
    options: StructureConfig | None = None


def signal_strengths(signals: pl.DataFrame) -> dict[str, float]:
    """Signed strength per symbol: ``|strength|`` with the sign of ``direction``; flat is 0."""
    sign = {"long": 1.0, "short": -1.0, "flat": 0.0}
    out = {}
    columns = (signals[name].to_list() for name in ("symbol", "direction", "strength"))
    for symbol, direction, strength in zip(*columns, strict=True):
        if direction not in sign:
            raise ValueError(f"unknown signal direction {direction!r} for {symbol}")
        out[symbol] = sign[direction] * min(abs(float(strength)), 1.0)
    return out


@dataclass(frozen=True)
class PerpPlan:
    """Perp intents, each perp's directional target (coins) and the options delta (coins)
    each hedging perp offsets."""

    intents: list[OrderIntent]
    directional: dict[str, float]
    hedged: dict[str, float]


def plan_perps(
    signals: pl.DataFrame,
    book: Book,
    holdings: Mapping[str, float],
    prices: Mapping[str, float],
    volatility: Mapping[str, float],
    correlation: Mapping[str, Mapping[str, float]] | None = None,
    *,
    equity: float,
    config: PlanConfig,
    run_id: str,
    decision_bar: datetime,
    options_delta: Mapping[str, float] | None = None,
) -> PerpPlan:
    """Order intents for the perps of ``signals`` (no signal, no trade), with the targets
    behind them.

    ``options_delta`` (coins per underlying) is the options delta to hedge when it is not the
    book's: the delta after this cycle's option trades.
    """
    strengths = {s: v for s, v in signal_strengths(signals).items() if s in prices}
    if not strengths or equity <= 0:
        return PerpPlan([], {}, {})
    if config.sizing == "mean_variance":
        confidence = dict(zip(signals["symbol"], signals["confidence"], strict=True))
        notional = _mean_variance_notional(
            strengths, confidence, volatility, correlation, equity, config
        )
    else:
        notional = vol_target_notional(
            strengths,
            volatility,
            equity=equity,
            target_vol=config.target_vol,
            max_symbol_notional=config.max_symbol_notional,
            max_gross_notional=_gross_cap(config, equity),
        )
    directional = {s: n / prices[s] for s, n in notional.items()}
    current = {s: q for s, q in holdings.items() if s in directional}
    hedged = _hedged_delta(book, directional, options_delta)
    targets = hedged_perp_targets(directional, current, hedged, prices, band_usd=config.band_usd)
    # the hedge may push a perp past its cap: hedge only up to it (the checks would refuse)
    caps = {s: config.max_symbol_notional / prices[s] for s in targets}
    targets = {s: clip(q, -caps[s], caps[s]) for s, q in targets.items()}
    intents = intents_from_targets(
        targets,
        current,
        prices,
        run_id=run_id,
        portfolio_id=config.portfolio_id,
        strategy=config.strategy,
        decision_bar=decision_bar,
        min_notional=config.min_order_notional,
        max_order_notional=config.max_order_notional,
    )
    return PerpPlan(intents, directional, hedged)


def _gross_cap(config: PlanConfig, equity: float) -> float:
    """Gross notional cap (USDT): the tighter of the gross limit and leverage x equity."""
    return min(config.max_gross_notional, config.max_leverage * equity)


def _hedged_delta(
    book: Book, directional: Mapping[str, float], options_delta: Mapping[str, float] | None
) -> dict[str, float]:
    """Options delta (coins) each perp must offset: the first perp of an underlying hedges."""
    option_delta = options_delta_coin(book) if options_delta is None else dict(options_delta)
    out: dict[str, float] = {}
    hedged: set[str] = set()
    for symbol in directional:
        base = base_currency(symbol)
        if base in option_delta and base not in hedged:
            out[symbol] = option_delta[base]
            hedged.add(base)
    return out


def _mean_variance_notional(
    strengths: Mapping[str, float],
    confidence: Mapping[str, float],
    volatility: Mapping[str, float],
    correlation: Mapping[str, Mapping[str, float]] | None,
    equity: float,
    config: PlanConfig,
) -> dict[str, float]:
    """Target notionals (USDT) from the constrained mean-variance optimiser."""
    if correlation is None:
        raise ValueError("mean-variance sizing needs the correlation of the perps' returns")
    names = sorted(strengths)
    vols = np.array([volatility[s] for s in names])
    corr = np.array([[correlation[a][b] for b in names] for a in names])
    mu = expected_returns_from_signals(
        [strengths[s] for s in names],
        [confidence[s] for s in names],
        vols,
        information_ratio=config.information_ratio,
    )
    result = mean_variance_weights(
        mu,
        corr * np.outer(vols, vols),
        risk_aversion=config.risk_aversion,
        max_weight=config.max_symbol_notional / equity,
        max_gross=_gross_cap(config, equity) / equity,
        target_vol=config.target_vol,
    )
    return {s: float(w * equity) for s, w in zip(names, result.weights, strict=True)}
