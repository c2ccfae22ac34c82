"""Option structures: which options express a volatility view, and how many of them.

The default structure is a **straddle** (a call and a put at the strike nearest the
forward: delta-neutral at inception); a **strangle** buys or sells the call whose forward
delta is nearest ``+target_delta`` and the put nearest ``-target_delta`` instead. Both legs
have the same expiry and quantity.

The expiry is the listed one inside ``[min_expiry_days, max_expiry_days]`` (and more than
``roll_hours`` away, so a new structure is not rolled at once) whose tenor is nearest
``target_expiry_days``. When a leg of that expiry cannot trade (:func:`quote_problem`), the
next nearest expiry is tried; when none can, the reasons of the first are reported.

Size: the structure's vega (USDT per vol point per unit: one coin of each leg) is scaled to a
**vega budget** per underlying, ``vega_budget x equity`` USDT per vol point, reached in full
once the view passes the threshold (the sign of the view picks long or short volatility).
The id of a structure is derived from its content (portfolio, underlying, kind, leg
symbols), so the same structure always has the same id and every leg's intent carries it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from qbtc.portfolio.chain import ChainQuote, LiquidityRules, quote_greeks, quote_problem

StructureKind = Literal["straddle", "strangle"]


@dataclass(frozen=True)
class StructureConfig:
    """Knobs of option structures (``qbtc.config.Settings`` ``option_*`` fields).

    Days are calendar days, ``vega_budget`` a fraction of equity (USDT per vol point per
    USDT of equity), ``vol_threshold`` the smallest ``|vol_view|`` that trades,
    ``roll_hours`` how long before expiry a structure is rolled or closed.
    """

    kind: StructureKind = "straddle"
    target_delta: float = 0.25
    min_expiry_days: float = 7.0
    max_expiry_days: float = 45.0
    target_expiry_days: float = 30.0
    vega_budget: float = 0.001
    vol_threshold: float = 0.1
    roll_hours: float = 48.0
    liquidity: LiquidityRules = field(default_factory=lambda: LiquidityRules(0.25, 0.0))
    limit_inside: float = 0.0
    max_slippage: float = 0.05

    @classmethod
    def from_settings(cls, settings: Any) -> StructureConfig | None:
        """The knobs of a ``qbtc.config.Settings`` (None when ``options_enabled`` is off)."""
        if not settings.options_enabled:
            return None
        return cls(
            kind=settings.option_structure,
            target_delta=settings.option_target_delta,
            min_expiry_days=settings.option_min_expiry_days,
            max_expiry_days=settings.option_max_expiry_days,
            target_expiry_days=settings.option_target_expiry_days,
            vega_budget=settings.option_vega_budget,
            vol_threshold=settings.option_vol_threshold,
            roll_hours=settings.option_roll_hours,
            liquidity=LiquidityRules(settings.option_max_spread, settings.option_min_quote_size),
            limit_inside=settings.option_limit_inside,
            max_slippage=settings.option_max_slippage,
        )


@dataclass(frozen=True)
class Selection:
    """The legs picked for a structure, or why none can trade.

    ``legs`` are the quotes of the chosen (or, on failure, the first tried) expiry;
    ``problems`` maps a leg's symbol to why it cannot trade; ``reason`` is set when there
    was nothing to choose from at all.
    """

    legs: tuple[ChainQuote, ...]
    problems: dict[str, str]
    reason: str | None = None

    @property
    def tradable(self) -> bool:
        return bool(self.legs) and not self.problems and self.reason is None


def structure_id(portfolio_id: str, underlying: str, kind: str, symbols: Sequence[str]) -> str:
    """Deterministic structure id: ``os`` + 24 hex chars of a SHA-256 of its content."""
    key = "\x1f".join((portfolio_id, underlying, kind, *sorted(symbols))).encode()
    return "os" + hashlib.sha256(key).hexdigest()[:24]


def _expiries(
    quotes: Sequence[ChainQuote], as_of: datetime, config: StructureConfig
) -> list[datetime]:
    """Listed expiries inside the window, nearest the target tenor first."""
    earliest = as_of + max(
        timedelta(days=config.min_expiry_days), timedelta(hours=config.roll_hours)
    )
    latest = as_of + timedelta(days=config.max_expiry_days)
    target = as_of + timedelta(days=config.target_expiry_days)
    inside = {q.expiry for q in quotes if earliest < q.expiry <= latest}
    return sorted(inside, key=lambda e: (abs((e - target).total_seconds()), e))


def _straddle(quotes: Sequence[ChainQuote]) -> tuple[ChainQuote, ...]:
    """Call and put at the listed strike (both types) nearest the forward."""
    by_strike: dict[float, dict[bool, ChainQuote]] = {}
    for q in quotes:
        by_strike.setdefault(q.strike, {})[q.is_call] = q
    pairs = [legs for legs in by_strike.values() if len(legs) == 2]
    if not pairs:
        return ()
    best = min(
        pairs, key=lambda legs: (abs(legs[True].strike - legs[True].forward), legs[True].strike)
    )
    return (best[True], best[False])


def _strangle(
    quotes: Sequence[ChainQuote], as_of: datetime, target_delta: float
) -> tuple[ChainQuote, ...]:
    """The call nearest ``+target_delta`` and the put nearest ``-target_delta``."""
    picked = []
    for is_call, target in ((True, target_delta), (False, -target_delta)):
        scored = []
        for q in quotes:
            if q.is_call != is_call:
                continue
            g = quote_greeks(q, as_of)
            if g is not None:
                scored.append((abs(g.delta - target), q.strike, q))
        if not scored:
            return ()
        picked.append(min(scored, key=lambda item: (item[0], item[1]))[2])
    return tuple(picked)


def _legs(
    quotes: Sequence[ChainQuote], as_of: datetime, config: StructureConfig
) -> tuple[ChainQuote, ...]:
    if config.kind == "strangle":
        return _strangle(quotes, as_of, config.target_delta)
    return _straddle(quotes)


def select_structure(
    quotes: Sequence[ChainQuote],
    side: Literal["buy", "sell"],
    as_of: datetime,
    config: StructureConfig,
) -> Selection:
    """The structure to trade on ``side`` from one underlying's listed chain (module doc)."""
    expiries = _expiries(quotes, as_of, config)
    if not expiries:
        return Selection(
            (),
            {},
            f"no listed expiry between {config.min_expiry_days:g} and "
            f"{config.max_expiry_days:g} days (and more than {config.roll_hours:g} h away)",
        )
    first: Selection | None = None
    for expiry in expiries:
        legs = _legs([q for q in quotes if q.expiry == expiry], as_of, config)
        if not legs:
            attempt = Selection((), {}, f"no {config.kind} listed for expiry {expiry:%Y-%m-%d}")
        else:
            problems = {
                leg.symbol: why
                for leg in legs
                if (why := quote_problem(leg, side, as_of, config.liquidity)) is not None
            }
            attempt = Selection(legs, problems)
        if attempt.tradable:
            return attempt
        first = first or attempt
    assert first is not None
    return first


def structure_vega(legs: Sequence[ChainQuote], as_of: datetime) -> float | None:
    """Vega of one unit (one coin of each leg), USDT per vol point.

    A leg without a usable IV counts as the mean vega of the others (so a structure whose
    leg cannot trade is still sized, and refused with the reason); None when no leg has one.
    """
    vegas = [g.vega for leg in legs if (g := quote_greeks(leg, as_of)) is not None]
    if not vegas:
        return None
    return sum(vegas) * len(legs) / len(vegas)


def structure_quantity(vega_target: float, unit_vega: float) -> float:
    """Coins per leg so the structure's vega is ``vega_target`` (both USDT per vol point)."""
    if not unit_vega > 0:
        raise ValueError(f"a structure's vega must be positive, got {unit_vega}")
    if vega_target < 0:
        raise ValueError(f"the vega target must be non-negative, got {vega_target}")
    return round(vega_target / unit_vega, 8)
