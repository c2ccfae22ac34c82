"""The option chain as the planner reads it, and whether a quote can be traded.

:func:`chain_quotes` turns the latest ``option_quotes`` rows (one snapshot per underlying,
the chain the venue lists now) into :class:`ChainQuote` values. :func:`quote_problem` says
why a quote cannot be traded, in one line, or returns None. A quote is refused when:

- its expiry is at or before the decision time;
- it has no bid or no ask, a zero or negative one, or is crossed (bid above ask);
- its spread is wider than ``max_spread`` (a fraction of the mid);
- the size quoted on the side the order takes (ask for a buy, bid for a sell) is below
  ``min_quote_size`` contracts, when the venue quotes sizes;
- it has no usable implied vol: no positive mark IV, and the IV solver cannot invert its mark.

Nothing is ever made up: a quote that fails is skipped with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from qbtc.execution.intents import Side
from qbtc.pricing import greeks, implied_vol_with_reason, year_fraction


@dataclass(frozen=True)
class ChainQuote:
    """One listed option: prices in USDT per coin, IV an annualised fraction.

    ``forward`` is the quote's underlying (forward) price; sizes in contracts (None when the
    venue does not quote sizes); missing prices are None.
    """

    symbol: str
    underlying: str
    timestamp: datetime
    expiry: datetime
    strike: float
    is_call: bool
    bid: float | None
    ask: float | None
    mark: float | None
    mark_iv: float | None
    forward: float
    bid_size: float | None = None
    ask_size: float | None = None

    @property
    def mid(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return 0.5 * (self.bid + self.ask)

    def years(self, as_of: datetime) -> float:
        """ACT/365 years from ``as_of`` to expiry."""
        return float(year_fraction(as_of, self.expiry))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def chain_quotes(quotes: pl.DataFrame) -> dict[str, list[ChainQuote]]:
    """The listed chain per underlying: the rows of each underlying's latest snapshot."""
    if quotes.is_empty():
        return {}
    latest = quotes.filter(pl.col("timestamp") == pl.col("timestamp").max().over("underlying"))
    out: dict[str, list[ChainQuote]] = {}
    for row in latest.sort("symbol").iter_rows(named=True):
        forward = _number(row["underlying_price"])
        if forward is None or forward <= 0:
            continue
        out.setdefault(row["underlying"], []).append(
            ChainQuote(
                symbol=row["symbol"],
                underlying=row["underlying"],
                timestamp=row["timestamp"],
                expiry=row["expiry"],
                strike=float(row["strike"]),
                is_call=row["option_type"] == "call",
                bid=_number(row.get("bid")),
                ask=_number(row.get("ask")),
                mark=_number(row.get("mark")),
                mark_iv=_number(row.get("mark_iv")),
                forward=forward,
                bid_size=_number(row.get("bid_size")),
                ask_size=_number(row.get("ask_size")),
            )
        )
    return out


@dataclass(frozen=True)
class LiquidityRules:
    """When a quote is too poor to trade: ``max_spread`` a fraction of the mid,
    ``min_quote_size`` in contracts."""

    max_spread: float
    min_quote_size: float


def usable_vol(quote: ChainQuote, as_of: datetime) -> tuple[float | None, str | None]:
    """The quote's implied vol (mark IV, else inverted from its mark), or why there is none."""
    if quote.mark_iv is not None and quote.mark_iv > 0:
        return quote.mark_iv, None
    if quote.mark is None:
        return None, "no mark IV and no mark price: the IV solver has nothing to invert"
    years = quote.years(as_of)
    result = implied_vol_with_reason(quote.mark, quote.forward, quote.strike, years, quote.is_call)
    vol = float(result.vol)
    if not math.isfinite(vol) or vol <= 0:
        why = result.reasons()[0].name.lower().replace("_", " ")
        return None, f"the IV solver cannot invert the mark {quote.mark:g} ({why})"
    return vol, None


def quote_problem(
    quote: ChainQuote, side: Side, as_of: datetime, rules: LiquidityRules
) -> str | None:
    """Why ``quote`` cannot be traded on ``side`` now (see the module docstring), or None."""
    if quote.expiry <= as_of:
        return f"{quote.symbol} expired at {quote.expiry:%Y-%m-%d %H:%M} UTC"
    bid, ask = quote.bid, quote.ask
    if bid is None:
        return f"{quote.symbol}: no bid quoted (illiquid)"
    if ask is None:
        return f"{quote.symbol}: no ask quoted (illiquid)"
    if bid <= 0 or ask <= 0:
        return f"{quote.symbol}: zero or negative quote (bid {bid:g}, ask {ask:g})"
    if bid > ask:
        return f"{quote.symbol}: crossed quote (bid {bid:g} above ask {ask:g})"
    mid = 0.5 * (bid + ask)
    spread = (ask - bid) / mid
    if spread > rules.max_spread:
        return (
            f"{quote.symbol}: spread {spread:.1%} of mid is wider than the limit "
            f"{rules.max_spread:.1%} (illiquid)"
        )
    size = quote.ask_size if side == "buy" else quote.bid_size
    if size is not None and size < rules.min_quote_size:
        return (
            f"{quote.symbol}: {size:g} contract(s) quoted on the {side} side, below the "
            f"minimum {rules.min_quote_size:g} (illiquid)"
        )
    _, why = usable_vol(quote, as_of)
    return None if why is None else f"{quote.symbol}: {why}"


@dataclass(frozen=True)
class QuoteGreeks:
    """Per coin long: forward delta, vega (USDT per vol point), gamma, theta (USDT per day)."""

    delta: float
    vega: float
    gamma: float
    theta: float
    vol: float


def quote_greeks(quote: ChainQuote, as_of: datetime) -> QuoteGreeks | None:
    """Black-76 Greeks of one coin of ``quote`` at its usable vol (None without one)."""
    vol, _ = usable_vol(quote, as_of)
    years = quote.years(as_of)
    if vol is None or years <= 0:
        return None
    g = greeks(quote.forward, quote.strike, years, vol, quote.is_call)
    return QuoteGreeks(
        delta=float(g.delta),
        vega=float(g.vega_per_vol_point),
        gamma=float(g.gamma),
        theta=float(g.theta_per_day),
        vol=vol,
    )


def index_chain(chain: Mapping[str, Sequence[ChainQuote]]) -> dict[str, ChainQuote]:
    """Every listed quote by symbol."""
    return {q.symbol: q for quotes in chain.values() for q in quotes}
