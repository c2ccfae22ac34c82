"""The orders on option legs: limit prices from the chain's quotes, closing legs and the legs
that complete a lopsided structure, each less what an order working at the venue brings;
a leg that cannot trade is an intent refused with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from qbtc.execution.intents import OrderIntent, Side
from qbtc.execution.limit_prices import option_limit_price
from qbtc.portfolio.chain import ChainQuote, quote_problem
from qbtc.portfolio.legs import SIZE_TOLERANCE
from qbtc.portfolio.option_plan import DecisionStamp, OptionBook
from qbtc.portfolio.structures import StructureConfig


def leg_limit_price(
    quote: ChainQuote, side: Side, config: StructureConfig
) -> tuple[float | None, str | None]:
    """The limit price of ``side`` on ``quote`` by the limit-price policy, or why there is none."""
    priced = option_limit_price(
        side, quote.bid, quote.ask, inside=config.limit_inside, max_slippage=config.max_slippage
    )
    return priced.price, None if priced.price is not None else f"{quote.symbol}: {priced.reason}"


def leg_intent(
    symbol: str,
    leg: str,
    side: Side,
    quantity: float,
    sid: str,
    decision: DecisionStamp,
    *,
    price: float | None,
    reason: str | None,
    reduce_only: bool,
) -> OrderIntent:
    """A limit order intent on an option leg of structure ``sid``; refused when ``reason``."""
    return OrderIntent(
        run_id=decision.run_id,
        portfolio_id=decision.portfolio_id,
        strategy=decision.strategy,
        symbol=symbol,
        leg=leg,
        decision_bar=decision.decision_bar,
        side=side,
        quantity=quantity,
        notional=quantity * (price or 0.0),
        order_type="limit",
        limit_price=price,
        reduce_only=reduce_only,
        status="refused" if reason else "pending",
        reason=reason,
        structure_id=sid,
    )


def _priced(
    symbol: str,
    side: Side,
    quotes: Mapping[str, ChainQuote],
    as_of: datetime,
    config: StructureConfig,
) -> tuple[float | None, str | None]:
    """The limit price of an order on ``symbol`` now, or why it cannot trade."""
    quote = quotes.get(symbol)
    if quote is None:
        return None, f"{symbol} is not listed in the chain now (strike or expiry not quoted)"
    reason = quote_problem(quote, side, as_of, config.liquidity)
    if reason is not None:
        return None, reason
    return leg_limit_price(quote, side, config)


def _still_to_order(symbol: str, side: Side, quantity: float, book: OptionBook) -> float:
    """``quantity`` less what an order working on ``symbol`` in the same direction brings."""
    working = book.working.get(symbol, 0.0) * (1.0 if side == "buy" else -1.0)
    left = quantity - max(working, 0.0)
    return left if left > SIZE_TOLERANCE * quantity else 0.0


def close_intent(
    symbol: str,
    held: float,
    sid: str,
    action: str,
    quotes: Mapping[str, ChainQuote],
    book: OptionBook,
    decision: DecisionStamp,
    config: StructureConfig,
) -> OrderIntent | None:
    """The reduce-only leg closing ``held``; None when a working order already closes it."""
    side: Side = "sell" if held > 0 else "buy"
    failing = f"cannot {action} {symbol}"
    leg = _LegOrder(symbol, action, side, abs(held), sid, reduce_only=True, failing=failing)
    return _order_leg(leg, quotes, book, decision, config)


def complete_intents(
    sid: str,
    missing: Mapping[str, float],
    quotes: Mapping[str, ChainQuote],
    book: OptionBook,
    decision: DecisionStamp,
    config: StructureConfig,
) -> list[OrderIntent]:
    """Orders for the quantity each short leg of a kept structure lacks (module doc)."""
    out = []
    for symbol, lacking in sorted(missing.items()):
        side: Side = "buy" if lacking > 0 else "sell"
        failing = f"cannot complete the structure with {symbol}"
        leg = _LegOrder(symbol, "complete", side, abs(lacking), sid, False, failing)
        intent = _order_leg(leg, quotes, book, decision, config)
        out += [intent] if intent else []
    return out


@dataclass(frozen=True)
class _LegOrder:
    """An order on a held structure's leg: what, and the prefix of a refusal's reason."""

    symbol: str
    leg: str
    side: Side
    quantity: float
    sid: str
    reduce_only: bool
    failing: str


def _order_leg(
    order: _LegOrder,
    quotes: Mapping[str, ChainQuote],
    book: OptionBook,
    decision: DecisionStamp,
    config: StructureConfig,
) -> OrderIntent | None:
    """The intent of ``order`` at the quote now, less what an order working on the leg
    brings (None when that is all of it); refused with the reason when it cannot trade."""
    quantity = _still_to_order(order.symbol, order.side, order.quantity, book)
    if not quantity:
        return None
    price, reason = _priced(order.symbol, order.side, quotes, decision.as_of, config)
    return leg_intent(
        order.symbol,
        order.leg,
        order.side,
        quantity,
        order.sid,
        decision,
        price=price,
        reason=f"{order.failing}: {reason}" if reason else None,
        reduce_only=order.reduce_only,
    )
