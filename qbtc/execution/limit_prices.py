"""The limit-price policy of option orders: from a quote's bid and ask, a price inside them,
never worse than a set slippage from the mid, on the market's tick grid when one is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qbtc.execution.intents import Side
from qbtc.execution.venue_rules import price_to_precision


@dataclass(frozen=True)
class LimitPrice:
    """A limit price for an option order, or why the quote cannot be priced.

    ``price`` in the quote's currency (on the tick grid when a tick was given); ``mid`` the
    quote's mid; ``reason`` None when ``price`` is usable.
    """

    price: float | None
    mid: float | None
    reason: str | None = None


def option_limit_price(
    side: Side,
    bid: float | None,
    ask: float | None,
    *,
    inside: float,
    max_slippage: float,
    tick: float | None = None,
) -> LimitPrice:
    """The limit price of an option order from its quote (the limit-price policy).

    A buy starts at the ask and a sell at the bid, moved ``inside`` x the spread towards the
    other side (0: take the touch, 0.5: the mid); it is never worse than ``max_slippage``
    (a fraction of the mid) from the mid: a buy pays at most ``mid x (1 + max_slippage)``,
    a sell gets at least ``mid x (1 - max_slippage)``. On a tick grid, a buy is rounded
    down and a sell up, so rounding never makes the price worse.

    A quote without a bid or an ask, with a zero or negative price, or crossed
    (bid > ask) cannot be priced: ``price`` is None and ``reason`` says why (never a
    made-up price).

    Parameters
    ----------
    side : {'buy', 'sell'}
    bid, ask : float or None
        Best bid and ask (premium, quote currency per contract).
    inside : float
        Fraction of the spread in [0, 1] to improve on the far touch.
    max_slippage : float
        Largest distance from the mid, a fraction of the mid (>= 0).
    tick : float, optional
        Price tick of the market.
    """
    if not 0.0 <= inside <= 1.0:
        raise ValueError(f"inside must be a fraction of the spread in [0, 1], got {inside}")
    if not max_slippage >= 0.0:
        raise ValueError(f"max_slippage must be >= 0, got {max_slippage}")
    for name, value in (("bid", bid), ("ask", ask)):
        if value is None or not math.isfinite(value):
            return LimitPrice(None, None, f"no {name} quoted: cannot price a limit order")
        if value <= 0:
            return LimitPrice(None, None, f"{name} {value:g} is not positive")
    assert bid is not None
    assert ask is not None
    if bid > ask:
        return LimitPrice(None, None, f"crossed quote: bid {bid:g} above ask {ask:g}")
    mid = 0.5 * (bid + ask)
    spread = ask - bid
    if side == "buy":
        price = min(ask - inside * spread, mid * (1.0 + max_slippage))
        if tick is not None:
            price = price_to_precision(price, tick, rounding="down")
    else:
        price = max(bid + inside * spread, mid * (1.0 - max_slippage))
        if tick is not None:
            price = price_to_precision(price, tick, rounding="up")
    if price <= 0:
        return LimitPrice(None, mid, f"limit price rounds to zero on tick {tick:g}")
    return LimitPrice(price, mid)
