"""Order intents from target and current positions.

A change that reduces a position (towards zero, without crossing it) is one reduce-only
intent (leg ``reduce``). A change that flips the sign is split into a reduce-only ``close``
leg and an ``open`` leg, so the closing part can still pass while the kill switch is on.
An increase is leg ``increase``. Reduce-only intents come first, so when a per-cycle order
limit bites, risk-reducing orders are the ones that go through. Legs above the order size
limit are sliced into equal child orders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from qbtc.execution.intents import OrderIntent, Side, in_plan_order

QUANTITY_DECIMALS = 8


def intents_from_targets(
    targets: Mapping[str, float],
    current: Mapping[str, float],
    prices: Mapping[str, float],
    *,
    run_id: str,
    portfolio_id: str,
    strategy: str,
    decision_bar: datetime,
    min_notional: float = 10.0,
    max_order_notional: float | None = None,
) -> list[OrderIntent]:
    """Intents moving each symbol from ``current`` to ``targets`` (signed coins).

    Parameters
    ----------
    targets, current : mapping
        Symbol -> position in coins (long > 0). Symbols absent from ``targets`` are left alone.
    prices : mapping
        Symbol -> mark price, USDT (for each intent's notional).
    min_notional : float
        Changes smaller than this (USDT) are not traded.
    max_order_notional : float, optional
        A leg larger than this (USDT) is sliced into equal child orders, legs ``<leg>-1``,
        ``<leg>-2``, ... (each with its own deterministic client order id).
    """
    intents: list[OrderIntent] = []

    def add(symbol: str, leg: str, quantity: float, reduce_only: bool) -> None:
        side: Side = "buy" if quantity > 0 else "sell"
        notional = abs(quantity) * prices[symbol]
        if notional < min_notional:
            return
        slices = 1
        if max_order_notional is not None and notional > max_order_notional:
            slices = math.ceil(notional / max_order_notional)
        size = round(abs(quantity) / slices, QUANTITY_DECIMALS)
        for k in range(1, slices + 1):
            intents.append(
                OrderIntent(
                    run_id=run_id,
                    portfolio_id=portfolio_id,
                    strategy=strategy,
                    symbol=symbol,
                    leg=leg if slices == 1 else f"{leg}-{k}",
                    decision_bar=decision_bar,
                    side=side,
                    quantity=size,
                    notional=size * prices[symbol],
                    reduce_only=reduce_only,
                )
            )

    for symbol in sorted(targets):
        target, held = targets[symbol], current.get(symbol, 0.0)
        change = target - held
        if abs(change) * prices[symbol] < min_notional:
            continue
        if held != 0 and target * held < 0:
            add(symbol, "close", -held, True)
            add(symbol, "open", target, False)
        elif held != 0 and abs(target) < abs(held):
            add(symbol, "reduce", change, True)
        else:
            add(symbol, "increase", change, False)
    return in_plan_order(intents)
