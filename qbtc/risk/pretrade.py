"""Pre-trade checks: every order intent leaves accepted, or refused with its reason.

Checks, in order (all failing reasons are reported, joined by ``"; "``); an intent
already refused (by the venue rules) keeps its refusal and adds nothing to the book:

1. the quality gate passed and the marks are fresh (``max_data_age_s``);
2. the kill switch is off, or the intent is reduce-only;
3. fewer than ``max_orders_per_cycle`` intents were accepted so far;
4. the order notional is within ``max_order_notional`` (options: quantity x premium);
5. after the trade (and every intent accepted before it), gross and net notional, the
   symbol's notional, leverage, net delta, dollar gamma, vega, theta, the premium of long
   options (premium at risk), the margin of short options and the 99% VaR of the book, and
   the dollar gamma, vega and theta of the traded underlying, are within their limits. A
   limit already exceeded does not block a trade that reduces it.

An intent refused before the checks (by the planner: an option leg that cannot trade) stays
refused with its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qbtc.execution.intents import OrderIntent
from qbtc.risk.killswitch import KillSwitchState
from qbtc.risk.limits import (
    LABELS,
    Limits,
    RiskState,
    UnitRisk,
    measures,
    underlying_measures,
)


@dataclass(frozen=True)
class PretradeContext:
    """Everything the checks need besides the intents.

    ``mark_age_s`` maps each symbol to the age of its mark (seconds at the decision time);
    ``stale_reason`` is set when the book itself could not be valued on fresh marks.
    """

    state: RiskState
    units: Mapping[str, UnitRisk]
    equity: float
    mark_age_s: Mapping[str, float]
    gate_passed: bool
    gate_reasons: tuple[str, ...] = ()
    kill_switch: KillSwitchState = field(default_factory=lambda: KillSwitchState(on=False))
    stale_reason: str | None = None


@dataclass(frozen=True)
class Checked:
    """Intents decided in order, the risk state after the accepted ones, and their count."""

    intents: tuple[OrderIntent, ...]
    state: RiskState
    accepted: int


def check_intents(
    intents: Sequence[OrderIntent], context: PretradeContext, limits: Limits
) -> tuple[OrderIntent, ...]:
    """Accept or refuse each intent in order; accepted ones add to the book for later ones."""
    return check_in_order(intents, context, limits).intents


def check_in_order(
    intents: Sequence[OrderIntent],
    context: PretradeContext,
    limits: Limits,
    *,
    accepted_before: int = 0,
) -> Checked:
    """:func:`check_intents` starting from ``context.state`` and ``accepted_before`` orders
    already accepted this cycle; also returns the state after the accepted intents."""
    state = context.state
    accepted = accepted_before
    decided = []
    for intent in intents:
        if intent.status == "refused":  # refused upstream (venue rules): stays refused
            decided.append(intent)
            continue
        reasons = _gate_reasons(intent, context, limits)
        if not reasons:
            reasons = _order_reasons(intent, context, limits, accepted)
        if not reasons:
            unit = context.units[intent.symbol]
            signed = intent.quantity if intent.side == "buy" else -intent.quantity
            after = state.after(unit, signed)
            reasons = _limit_reasons(state, after, unit, context.equity, limits)
        if reasons:
            decided.append(dataclasses.replace(intent, status="refused", reason="; ".join(reasons)))
            continue
        state, accepted = after, accepted + 1
        decided.append(dataclasses.replace(intent, status="accepted", reason=None))
    return Checked(tuple(decided), state, accepted)


def _gate_reasons(intent: OrderIntent, context: PretradeContext, limits: Limits) -> list[str]:
    reasons = []
    if not context.gate_passed:
        why = ", ".join(context.gate_reasons) or "no reason recorded"
        reasons.append(f"quality gate failed: {why}")
    if context.stale_reason:
        reasons.append(f"stale data: {context.stale_reason}")
    age = context.mark_age_s.get(intent.symbol)
    if age is None or intent.symbol not in context.units:
        reasons.append(f"no mark for {intent.symbol}: cannot value the order")
    elif age > limits.max_data_age_s:
        reasons.append(
            f"stale data: mark of {intent.symbol} is {age:,.0f} s old "
            f"(limit {limits.max_data_age_s:,.0f} s)"
        )
    switch = context.kill_switch
    if switch.on and not intent.reduce_only:
        since = f" since {switch.since.isoformat()}" if switch.since else ""
        reasons.append(f"kill switch on{since} ({switch.reason}): only reduce-only orders pass")
    return reasons


def _order_reasons(
    intent: OrderIntent, context: PretradeContext, limits: Limits, accepted: int
) -> list[str]:
    reasons = []
    if accepted >= limits.max_orders_per_cycle:
        reasons.append(f"orders per cycle limit {limits.max_orders_per_cycle} reached")
    unit = context.units[intent.symbol]
    notional = abs(intent.quantity * (unit.premium if unit.is_option else unit.price))
    if notional > limits.max_order_notional:
        reasons.append(
            f"order notional {notional:,.2f} USDT exceeds the limit "
            f"{limits.max_order_notional:,.2f} USDT"
        )
    return reasons


def _limit_reasons(
    before: RiskState, after: RiskState, traded: UnitRisk, equity: float, limits: Limits
) -> list[str]:
    reasons = []
    symbol = traded.symbol
    pre, post = measures(before, equity), measures(after, equity)
    labels = dict(LABELS)
    pre["max_symbol_notional"] = (abs(before.by_symbol.get(symbol, 0.0)), "USDT")
    post["max_symbol_notional"] = (abs(after.by_symbol.get(symbol, 0.0)), "USDT")
    labels["max_symbol_notional"] = f"{symbol} notional"
    if traded.underlying:
        pre.update(underlying_measures(before, traded.underlying))
        post.update(underlying_measures(after, traded.underlying))
        for name in underlying_measures(after, traded.underlying):
            labels[name] = f"{traded.underlying} {LABELS[name]}"
    for name, (value, unit) in post.items():
        threshold = float(getattr(limits, name))
        if value > threshold and value > pre[name][0] + 1e-9:
            reasons.append(
                f"{labels[name]} would be {value:,.2f} {unit}, above the limit "
                f"{threshold:,.2f} {unit}"
            )
    return reasons
