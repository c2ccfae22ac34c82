"""Order intents put on the venue's grid before they are sent: each rounded to its market's
lots and ticks by :func:`qbtc.execution.venue_rules.apply_venue_rules`, or refused with the
reason (an unlisted market, an order below the venue's minimums, markets that cannot be read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qbtc.execution.intents import OrderIntent
from qbtc.execution.venue_rules import VenueRules, apply_venue_rules


def rule_intent(
    intent: OrderIntent, rules: VenueRules | None, *, reference_price: float
) -> OrderIntent:
    """``intent`` rounded to the venue's grid, or refused with the reason.

    An intent already refused is returned as is; one whose market the venue does not list
    (``rules`` None) is refused. The notional is recomputed at ``reference_price``.
    """
    if intent.status == "refused":
        return intent
    if rules is None:
        return _refused(intent, f"venue rules: {intent.symbol} is not listed on the venue")
    buy = intent.side == "buy"
    ruled = apply_venue_rules(
        rules,
        intent.quantity,
        reference_price=reference_price,
        limit_price=intent.limit_price if intent.order_type == "limit" else None,
        side=intent.side,
        reduce_only=intent.reduce_only,
        price_rounding="down" if buy else "up",
    )
    if not ruled.accepted:
        return _refused(intent, ruled.refusal or "venue rules")
    price = ruled.price if ruled.price is not None else reference_price
    return intent.evolve(
        quantity=ruled.quantity,
        limit_price=ruled.price if intent.order_type == "limit" else intent.limit_price,
        notional=ruled.quantity * price,
    )


def rule_intents(
    intents: Sequence[OrderIntent],
    rules: Mapping[str, VenueRules],
    prices: Mapping[str, float],
) -> tuple[OrderIntent, ...]:
    """:func:`rule_intent` over ``intents``; ``prices`` values each symbol's notional.

    A symbol missing from ``prices`` is valued at the intent's own notional per coin.
    """
    out = []
    for intent in intents:
        reference = prices.get(intent.symbol) or intent.notional / intent.quantity
        out.append(rule_intent(intent, rules.get(intent.symbol), reference_price=reference))
    return tuple(out)


def refuse_all(intents: Sequence[OrderIntent], reason: str) -> tuple[OrderIntent, ...]:
    """Every intent refused with ``reason`` (e.g. the venue's markets could not be read)."""
    return tuple(i if i.status == "refused" else _refused(i, reason) for i in intents)


def _refused(intent: OrderIntent, reason: str) -> OrderIntent:
    joined = reason if not intent.reason else f"{intent.reason}; {reason}"
    return intent.evolve(status="refused", reason=joined)
