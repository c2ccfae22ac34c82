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
limit-price policy (:func:`qbtc.execution.limit_prices.option_limit_price`). A leg that
cannot trade (illiquid, crossed or missing quote, past expiry, a strike no longer listed, no
IV) is an intent refused with its reason, never a made-up price; when a structure cannot be
opened at all, the plan says so in ``alerts``. Each structure decision is also a row of
``option_structures`` tying its legs to the vol view (and so to the option-feature snapshot
and the LLM call) behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from qbtc.execution.intents import Side
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.portfolio.chain import ChainQuote, index_chain
from qbtc.portfolio.legs import describe_missing, missing_legs
from qbtc.portfolio.option_orders import close_intent, complete_intents, leg_intent, leg_limit_price
from qbtc.portfolio.option_plan import DecisionStamp, OptionBook, OptionPlan, structure_row
from qbtc.portfolio.structures import (
    StructureConfig,
    select_structure,
    structure_id,
    structure_quantity,
    structure_vega,
)


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
        plan.structures.append(structure_row(decision, sid, base, "expired", legs, None, None))
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
                done = complete_intents(sid, missing, quotes, book, decision, config)
                plan.intents += done
                why = describe_missing(missing, live) if missing else None
                action = "complete" if done else "keep"
                plan.structures.append(
                    structure_row(decision, sid, underlying, action, legs, view, why)
                )
                continue
            for symbol in sorted(legs):
                closing = close_intent(
                    symbol, legs[symbol], sid, action, quotes, book, decision, config
                )
                plan.intents += [closing] if closing else []
            plan.structures.append(
                structure_row(decision, sid, underlying, action, legs, view, None)
            )
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
        plan.structures.append(structure_row(decision, sid, underlying, "skip", {}, view, why))
        return
    quantity = min(structure_quantity(target, unit_vega), _quoted_size(selection.legs, side))
    legs: dict[str, float] = {}
    for leg in selection.legs:
        reason = selection.problems.get(leg.symbol)
        if reason is None and selection.problems:
            reason = "structure incomplete: " + "; ".join(selection.problems.values())
        price = None
        if reason is None:
            price, reason = leg_limit_price(leg, side, config)
        name = f"{config.kind}-{'call' if leg.is_call else 'put'}"
        plan.intents.append(
            leg_intent(
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
    plan.structures.append(
        structure_row(decision, sid, underlying, action, legs, view, problems, target)
    )


def _quoted_size(legs: Sequence[ChainQuote], side: Side) -> float:
    """The smallest size quoted on the traded side of ``legs`` (inf when not quoted): a
    structure is not sized past what its thinnest leg shows, so its legs fill together."""
    sizes = [leg.ask_size if side == "buy" else leg.bid_size for leg in legs]
    known = [size for size in sizes if size is not None]
    return min(known) if known else float("inf")
