"""From volatility views to option order intents: open, keep, close and roll structures.

Per option underlying, each cycle:

1. the view decides the wanted exposure: long volatility when ``vol_view >= vol_threshold``,
   short when ``vol_view <= -vol_threshold``, none in between (no view: held structures are
   kept as they are);
2. every held structure (legs grouped by the ``structure_id`` of the intents that opened
   them) whose nearest expiry is within ``roll_hours`` is closed (leg ``roll``), and so is
   one on the wrong side of the view (leg ``close``); the others are kept; legs already past
   expiry are left to the venue's settlement (structure action ``expired``, no order);
   a kept structure held lopsided (a leg filled in part or not at all,
   :mod:`qbtc.portfolio.legs`) is completed: each short leg is ordered for what it lacks
   (leg ``complete``, structure action ``complete``), less what an order still working at
   the venue on that leg will bring; a closing leg is likewise ordered less what a working
   order on it already closes;
3. when the view wants exposure and no structure on its side is kept, a new one is chosen
   from the chain listed now (:func:`~qbtc.portfolio.structures.select_structure`) and sized
   to the vega budget, but never past the size quoted on the traded side of its thinnest leg
   (legs ``<kind>-call``, ``<kind>-put``).

Closing legs are reduce-only limit orders, opening legs plain limit orders, all priced by the
limit-price policy (:func:`qbtc.execution.venue_rules.option_limit_price`). A leg that
cannot trade (illiquid, crossed or missing quote, past expiry, a strike no longer listed, no
IV) is an intent refused with its reason, never a made-up price; when a structure cannot be
opened at all, the plan says so in ``alerts``. Each structure decision is also a row of
``option_structures`` tying its legs to the vol view (and so to the option-feature snapshot
and the LLM call) behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from qbtc.execution.intents import OrderIntent, Side
from qbtc.execution.venue_rules import option_limit_price
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.portfolio.chain import ChainQuote, index_chain, quote_problem
from qbtc.portfolio.legs import SIZE_TOLERANCE, describe_missing, missing_legs
from qbtc.portfolio.structures import (
    StructureConfig,
    select_structure,
    structure_id,
    structure_quantity,
    structure_vega,
)
from qbtc.schemas import OPTION_STRUCTURES


@dataclass(frozen=True)
class OptionBook:
    """What the options planner works from (quantities in coins, signed; USDT equity)."""

    vol_views: Mapping[str, Mapping[str, Any]]
    chain: Mapping[str, Sequence[ChainQuote]]
    holdings: Mapping[str, float]
    held_structures: Mapping[str, str]
    equity: float
    working: Mapping[str, float] = field(default_factory=dict)
    """Signed quantity still to fill of the orders working at the venue, per symbol."""


@dataclass(frozen=True)
class DecisionStamp:
    """Ids and clock of one planning: run, book, strategy, decision bar and wall time."""

    run_id: str
    portfolio_id: str
    strategy: str
    decision_bar: datetime
    as_of: datetime


@dataclass
class OptionPlan:
    """Intents (accepted later by the checks, or already refused with a reason), one
    ``option_structures`` row per structure decision, and alert messages."""

    intents: list[OrderIntent] = field(default_factory=list)
    structures: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def structures_frame(self) -> pl.DataFrame:
        if not self.structures:
            return OPTION_STRUCTURES.empty()
        return pl.DataFrame(self.structures, schema=OPTION_STRUCTURES.schema)


def held_option_structures(
    holdings: Mapping[str, float], known: Mapping[str, str], portfolio_id: str
) -> dict[str, dict[str, float]]:
    """Held option legs grouped by structure id: ``id -> {symbol: quantity}``.

    A leg no intent ever tagged is grouped with the untagged legs of its underlying and
    expiry (an id derived from them).
    """
    groups: dict[str, dict[str, float]] = {}
    untagged: dict[tuple[str, datetime], list[str]] = {}
    for symbol, quantity in holdings.items():
        if quantity == 0 or not is_option_symbol(symbol):
            continue
        if symbol in known:
            groups.setdefault(known[symbol], {})[symbol] = quantity
        else:
            contract = parse_option_symbol(symbol)
            untagged.setdefault((contract.base, contract.expiry), []).append(symbol)
    for (underlying, _), symbols in untagged.items():
        sid = structure_id(portfolio_id, underlying, "held", symbols)
        groups[sid] = {s: holdings[s] for s in symbols}
    return groups


def wanted_side(view: float | None, threshold: float) -> int | None:
    """+1 long vol, -1 short vol, 0 none; None when there is no view (keep what is held)."""
    if view is None:
        return None
    return 1 if view >= threshold else -1 if view <= -threshold else 0


def plan_option_intents(
    book: OptionBook, config: StructureConfig, decision: DecisionStamp
) -> OptionPlan:
    """Option intents for every underlying with a view or a held structure (module doc)."""
    plan = OptionPlan()
    quotes = index_chain(book.chain)
    live = {
        s: q
        for s, q in book.holdings.items()
        if not is_option_symbol(s) or parse_option_symbol(s).expiry > decision.as_of
    }
    expired = {s: q for s, q in book.holdings.items() if s not in live}
    # past expiry: the venue settles them (a ledger event read back by reconciliation)
    for sid, legs in held_option_structures(
        expired, book.held_structures, decision.portfolio_id
    ).items():
        base = parse_option_symbol(next(iter(legs))).base
        plan.structures.append(_row(decision, sid, base, "expired", legs, None, None))
    incomplete = missing_legs(live, book.held_structures)
    groups = held_option_structures(live, book.held_structures, decision.portfolio_id)
    by_underlying: dict[str, dict[str, dict[str, float]]] = {}
    for sid, legs in groups.items():
        base = parse_option_symbol(next(iter(legs))).base
        by_underlying.setdefault(base, {})[sid] = legs
    for underlying in sorted(set(book.vol_views) | set(by_underlying)):
        view = book.vol_views.get(underlying)
        side = wanted_side(None if view is None else float(view["vol_view"]), config.vol_threshold)
        kept = False
        for sid, legs in sorted(by_underlying.get(underlying, {}).items()):
            action = _held_action(legs, side, decision.as_of, config)
            if action == "keep":
                kept = True
                missing = incomplete.get(sid, {})
                done = _complete_intents(sid, missing, quotes, book, decision, config)
                plan.intents += done
                why = describe_missing(missing, live) if missing else None
                action = "complete" if done else "keep"
                plan.structures.append(_row(decision, sid, underlying, action, legs, view, why))
                continue
            for symbol in sorted(legs):
                closing = _close_intent(
                    symbol, legs[symbol], sid, action, quotes, book, decision, config
                )
                plan.intents += [closing] if closing else []
            plan.structures.append(_row(decision, sid, underlying, action, legs, view, None))
        if side and not kept:
            _open(plan, underlying, side, view or {}, book, config, decision)
    return plan


def _held_action(
    legs: Mapping[str, float], side: int | None, as_of: datetime, config: StructureConfig
) -> str:
    nearest = min(parse_option_symbol(s).expiry for s in legs)
    if nearest - as_of <= timedelta(hours=config.roll_hours):
        return "roll"
    held_side = 1 if sum(legs.values()) > 0 else -1
    if side is None or side == held_side:
        return "keep"
    return "close"


def _limit(
    quote: ChainQuote, side: Side, config: StructureConfig
) -> tuple[float | None, str | None]:
    priced = option_limit_price(
        side, quote.bid, quote.ask, inside=config.limit_inside, max_slippage=config.max_slippage
    )
    return priced.price, None if priced.price is not None else f"{quote.symbol}: {priced.reason}"


def _intent(
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
    return _limit(quote, side, config)


def _still_to_order(symbol: str, side: Side, quantity: float, book: OptionBook) -> float:
    """``quantity`` less what an order working on ``symbol`` in the same direction brings."""
    working = book.working.get(symbol, 0.0) * (1.0 if side == "buy" else -1.0)
    left = quantity - max(working, 0.0)
    return left if left > SIZE_TOLERANCE * quantity else 0.0


def _close_intent(
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


def _complete_intents(
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
    return _intent(
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


def _open(
    plan: OptionPlan,
    underlying: str,
    direction: int,
    view: Mapping[str, Any],
    book: OptionBook,
    config: StructureConfig,
    decision: DecisionStamp,
) -> None:
    side: Side = "buy" if direction > 0 else "sell"
    selection = select_structure(book.chain.get(underlying, ()), side, decision.as_of, config)
    target = config.vega_budget * book.equity
    unit_vega = structure_vega(selection.legs, decision.as_of) if selection.legs else None
    symbols = [leg.symbol for leg in selection.legs]
    held = "long" if direction > 0 else "short"
    sid = structure_id(decision.portfolio_id, underlying, f"{held} {config.kind}", symbols)
    if selection.reason or unit_vega is None or not unit_vega > 0 or target <= 0:
        why = (
            selection.reason
            or "; ".join(selection.problems.values())
            or ("no vega to size on" if target > 0 else "no equity to size on")
        )
        plan.alerts.append(f"{underlying}: no {config.kind} can be opened: {why}")
        plan.structures.append(_row(decision, sid, underlying, "skip", {}, view, why))
        return
    quantity = min(structure_quantity(target, unit_vega), _quoted_size(selection.legs, side))
    legs: dict[str, float] = {}
    for leg in selection.legs:
        reason = selection.problems.get(leg.symbol)
        if reason is None and selection.problems:
            reason = "structure incomplete: " + "; ".join(selection.problems.values())
        price = None
        if reason is None:
            price, reason = _limit(leg, side, config)
        name = f"{config.kind}-{'call' if leg.is_call else 'put'}"
        plan.intents.append(
            _intent(
                leg.symbol,
                name,
                side,
                quantity,
                sid,
                decision,
                price=price,
                reason=reason,
                reduce_only=False,
            )
        )
        legs[leg.symbol] = quantity * direction
    problems = "; ".join(selection.problems.values()) or None
    if problems:
        plan.alerts.append(f"{underlying}: no leg of the {config.kind} can trade: {problems}")
    action = "skip" if problems else "open"
    plan.structures.append(_row(decision, sid, underlying, action, legs, view, problems, target))


def _quoted_size(legs: Sequence[ChainQuote], side: Side) -> float:
    """The smallest size quoted on the traded side of ``legs`` (inf when not quoted): a
    structure is not sized past what its thinnest leg shows, so its legs fill together."""
    sizes = [leg.ask_size if side == "buy" else leg.bid_size for leg in legs]
    known = [size for size in sizes if size is not None]
    return min(known) if known else float("inf")


def _row(
    decision: DecisionStamp,
    sid: str,
    underlying: str,
    action: str,
    legs: Mapping[str, float],
    view: Mapping[str, Any] | None,
    reason: str | None,
    vega_target: float | None = None,
) -> dict[str, Any]:
    contracts = [parse_option_symbol(s) for s in sorted(legs)]
    return {
        "structure_id": sid,
        "run_id": decision.run_id,
        "portfolio_id": decision.portfolio_id,
        "timestamp": decision.decision_bar,
        "underlying": underlying,
        "action": action,
        "legs": ",".join(sorted(legs)),
        "quantities": ",".join(f"{legs[s]:g}" for s in sorted(legs)),
        "expiry": min((c.expiry for c in contracts), default=None),
        "vega_target": vega_target,
        "vol_view": None if view is None else view.get("vol_view"),
        "view_id": None if view is None else view.get("view_id"),
        "feature_snapshot": None if view is None else view.get("feature_snapshot"),
        "reason": reason,
    }
