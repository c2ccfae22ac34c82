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

The legs of one option structure (intents sharing a ``structure_id``) are checked together,
at the place of the first of them: checks 1-4 per leg, the limits (5) on the book after all
of them, so a delta-neutral straddle is measured as the straddle it is, not as a directional
first leg. Either every leg is accepted or the structure is refused, each leg with the
reason (a leg refused upstream refuses its siblings too). The kill switch still applies leg
by leg: reduce-only legs (closing or rolling a held structure) pass it.
"""

from __future__ import annotations

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
    checks = _LimitChecks(limits, context.equity)
    decided: dict[int, OrderIntent] = {}
    for positions in _decision_units(intents):
        legs = [intents[k] for k in positions]
        outcome, state, accepted = _check_unit(legs, state, accepted, context, limits, checks)
        decided.update(zip(positions, outcome, strict=True))
    return Checked(tuple(decided[k] for k in range(len(intents))), state, accepted)


def _decision_units(intents: Sequence[OrderIntent]) -> list[list[int]]:
    """Positions of the intents decided together, in order: the legs of a structure form one
    unit (at its first leg), every other intent is a unit of its own."""
    units: list[list[int]] = []
    by_structure: dict[str, list[int]] = {}
    for k, intent in enumerate(intents):
        sid = intent.structure_id
        if sid is None:
            units.append([k])
        elif sid in by_structure:
            by_structure[sid].append(k)
        else:
            by_structure[sid] = [k]
            units.append(by_structure[sid])
    return units


def _check_unit(
    legs: list[OrderIntent],
    state: RiskState,
    accepted: int,
    context: PretradeContext,
    limits: Limits,
    checks: _LimitChecks,
) -> tuple[list[OrderIntent], RiskState, int]:
    """Accept every leg of ``legs`` or refuse them all; the state and count after them."""
    reasons = {}
    for k, intent in enumerate(legs):
        if intent.status == "refused":  # refused upstream (planner, venue rules)
            reasons[k] = [intent.reason or "refused"]
            continue
        found = _gate_reasons(intent, context, limits)
        reasons[k] = found or _order_reasons(intent, context, limits, accepted + k)
    after = state
    if not any(reasons.values()):
        traded = []
        for intent in legs:
            unit = context.units[intent.symbol]
            after = after.after(unit, intent.quantity if intent.side == "buy" else -intent.quantity)
            traded.append(unit)
        limit = checks.reasons(state, after, traded)
        if limit and len(legs) > 1:
            limit = [f"the structure's {len(legs)} legs together: {'; '.join(limit)}"]
        reasons = dict.fromkeys(range(len(legs)), limit)
    if not any(reasons.values()):
        done = [i.evolve(status="accepted", reason=None) for i in legs]
        return done, after, accepted + len(legs)
    return [_refused(k, legs, reasons) for k in range(len(legs))], state, accepted


def _refused(k: int, legs: list[OrderIntent], reasons: dict[int, list[str]]) -> OrderIntent:
    """Leg ``k`` refused: its own reasons, else those of the sibling legs that failed."""
    intent = legs[k]
    if intent.status == "refused":
        return intent
    own = "; ".join(reasons[k])
    if not own:
        others = "; ".join(f"{legs[j].symbol}: {'; '.join(r)}" for j, r in reasons.items() if r)
        own = f"structure refused with its other leg(s): {others}"
    return intent.evolve(status="refused", reason=own)


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


class _LimitChecks:
    """The limits of one :func:`check_in_order` call, measured on the states it walks
    through: each state's measures are computed once (as the state after a trade, then as
    the state before the next), each threshold read once, a label written only for a
    limit that fails."""

    def __init__(self, limits: Limits, equity: float) -> None:
        self.equity = equity
        self.thresholds = {name: float(getattr(limits, name)) for name in LABELS}
        self.measured: list[tuple[RiskState, dict[str, tuple[float, str]]]] = []

    def measures(self, state: RiskState) -> dict[str, tuple[float, str]]:
        for known, values in self.measured:
            if known is state:
                return values
        return measures(state, self.equity)

    def reasons(self, before: RiskState, after: RiskState, traded: Sequence[UnitRisk]) -> list[str]:
        """Limits ``after`` exceeds and ``before`` did not (or by less): the book's, and the
        notional and underlying Greeks of each symbol and underlying ``traded``."""
        pre = self.measures(before)
        post = measures(after, self.equity)
        limits = self.thresholds
        failed = [
            ("", name, value, unit)
            for name, (value, unit) in post.items()
            if value > limits[name] and value > pre[name][0] + 1e-9
        ]
        for symbol in dict.fromkeys(u.symbol for u in traded):
            value = abs(after.by_symbol.get(symbol, 0.0))
            was = abs(before.by_symbol.get(symbol, 0.0))
            if value > limits["max_symbol_notional"] and value > was + 1e-9:
                failed.append((f"{symbol} ", "max_symbol_notional", value, "USDT"))
        for underlying in dict.fromkeys(u.underlying for u in traded if u.underlying):
            was_greeks = underlying_measures(before, underlying)
            for name, (value, unit) in underlying_measures(after, underlying).items():
                if value > limits[name] and value > was_greeks[name][0] + 1e-9:
                    failed.append((f"{underlying} ", name, value, unit))
        self.measured = [(before, pre), (after, post)]
        return [
            f"{prefix}{LABELS[name]} would be {value:,.2f} {unit}, above the limit "
            f"{limits[name]:,.2f} {unit}"
            for prefix, name, value, unit in failed
        ]
