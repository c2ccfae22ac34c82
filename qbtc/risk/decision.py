"""A cycle's decision: option structures first, then perps that also hedge them; every leg
put on the venue's grid, then checked before trading.

1. Option intents from the vol views and the chain listed now
   (:func:`qbtc.portfolio.options.plan_option_intents`, when ``PlanConfig.options`` is set),
   rounded to the venue's lots and ticks (refused below its minimums) and checked
   (:func:`qbtc.risk.pretrade.check_in_order`) on unit risks of the options they trade.
2. The options delta of each underlying *after* the accepted option legs (coins) is what the
   perp of that underlying must offset: perp targets are planned on it
   (:func:`qbtc.portfolio.plan.plan_perps`), so the book's net delta ends the cycle within the
   hedge band of its directional target; they are rounded and checked on the risk state the
   option legs left.
3. After the orders, :func:`hedge_topup` re-hedges on the book they left (an option leg that
   filled only in part changes the options delta): the net delta ends every cycle inside the
   band.

The ``risk`` and ``hedge`` flows and the backtest call these same functions, so a backtest
decides exactly as the live cycle does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from qbtc.execution.intents import OrderIntent
from qbtc.execution.ruled_intents import rule_intents
from qbtc.execution.venue_rules import VenueRules
from qbtc.lake import read_dataset
from qbtc.market.contracts import is_option_symbol
from qbtc.portfolio.chain import chain_quotes
from qbtc.portfolio.option_plan import DecisionStamp, OptionBook, OptionPlan
from qbtc.portfolio.options import plan_option_intents
from qbtc.portfolio.orders import intents_from_targets
from qbtc.portfolio.plan import PlanConfig, plan_perps
from qbtc.portfolio.structures import StructureConfig
from qbtc.risk.cycle_inputs import CycleInputs, RiskConfig
from qbtc.risk.cycle_report import RiskReport, with_option_units
from qbtc.risk.exposure import options_delta_coin
from qbtc.risk.killswitch import KillSwitch
from qbtc.risk.pretrade import check_in_order
from qbtc.risk.stage import pretrade_context
from qbtc.risk.valuation import ValuedBook
from qbtc.risk.venue_grid import CycleVenueRules, apply_venue_rules_to
from qbtc.schemas import BOOK_GREEKS
from qbtc.symbols import base_currency

Sizing = Literal["vol_target", "mean_variance"]

#: Puts intents on the venue's grid: ``rule(intents, prices) -> intents`` (rounded, or
#: refused with the reason); ``prices`` values each symbol's notional (USDT per coin).
VenueRule = Callable[[list[OrderIntent], dict[str, float]], tuple[OrderIntent, ...]]


def plan_config(
    config: RiskConfig,
    sizing: Sizing = "vol_target",
    options: StructureConfig | None = None,
) -> PlanConfig:
    """The planner's knobs from the risk stage's config (limits shared with the checks);
    ``options`` the option structure knobs (None: no options leg)."""
    limits = config.limits
    return PlanConfig(
        portfolio_id=config.portfolio_id,
        strategy=config.strategy,
        target_vol=config.target_vol,
        max_symbol_notional=limits.max_symbol_notional,
        max_gross_notional=limits.max_gross_notional,
        max_leverage=limits.max_leverage,
        band_usd=config.band_usd,
        max_order_notional=limits.max_order_notional,
        min_order_notional=config.min_order_notional,
        sizing=sizing,
        options=options,
    )


@dataclass(frozen=True)
class HedgeTarget:
    """How one underlying is hedged this cycle (coins of the underlying).

    ``directional``: the perp position the directional signal asks for; ``options_delta``:
    the options' delta after this cycle's accepted option legs; the perp's hedged target is
    ``directional - options_delta``, re-traded only outside ``band_usd``.
    """

    underlying: str
    perp: str
    directional: float
    options_delta: float
    band_usd: float


@dataclass(frozen=True)
class CycleDecision:
    """Checked intents (options first), option structure rows, alerts and hedge targets."""

    intents: tuple[OrderIntent, ...]
    structures: pl.DataFrame
    alerts: tuple[str, ...]
    hedges: tuple[HedgeTarget, ...]


def vol_view_map(vol_views: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """``underlying -> vol_views row`` (the decision bar's views)."""
    if vol_views.is_empty():
        return {}
    return {row["underlying"]: row for row in vol_views.iter_rows(named=True)}


def plan_options(
    inputs: CycleInputs, report: RiskReport, config: StructureConfig, decision: DecisionStamp
) -> OptionPlan:
    """The option legs of this cycle (refused ones carry their reason)."""
    book = OptionBook(
        vol_views=vol_view_map(inputs.vol_views),
        chain=chain_quotes(inputs.marks.options),
        holdings=report.valued.holdings,
        held_structures=inputs.structure_ids,
        equity=report.equity,
        working=inputs.working_orders,
    )
    return plan_option_intents(book, config, decision)


def managed_only(plan: OptionPlan, underlyings: set[str]) -> OptionPlan:
    """The option legs and structures of ``underlyings`` only.

    A cycle manages the perps it was given and the options on their underlyings; a run on a
    subset of symbols leaves every other underlying's options as they are (no new
    structure, no roll, no close), like the other perps.
    """
    return OptionPlan(
        intents=[i for i in plan.intents if base_currency(i.symbol) in underlyings],
        structures=[row for row in plan.structures if row["underlying"] in underlyings],
        alerts=plan.alerts,
    )


def _delta_after(report: RiskReport, accepted: tuple[OrderIntent, ...]) -> dict[str, float]:
    """Options delta per underlying (coins) after the accepted option legs."""
    book = report.valued.book
    delta = options_delta_coin(book, expired=False)
    for intent in accepted:
        if intent.status != "accepted":
            continue
        unit = report.units[intent.symbol]
        spot = float(book.spot[book.underlyings.index(unit.underlying)])
        signed = intent.quantity if intent.side == "buy" else -intent.quantity
        delta[unit.underlying] = delta.get(unit.underlying, 0.0) + signed * unit.delta_usd / spot
    return delta


def decide_cycle(
    inputs: CycleInputs,
    report: RiskReport,
    risk: RiskConfig,
    planning: PlanConfig,
    run_id: str,
    *,
    rule: VenueRule | None = None,
    switch: KillSwitch | None = None,
) -> CycleDecision:
    """Plan, round and check the whole cycle (see the module docstring).

    ``rule`` puts intents on the venue's grid (default: the markets of ``risk.exchange`` at
    the decision time); ``switch`` is the kill switch the checks read (default: the one of
    ``risk.state_dir``).
    """
    if inputs.signals.is_empty():
        return CycleDecision((), pl.DataFrame(), (), ())
    bar = inputs.signals["timestamp"].max()
    prices = dict(report.valued.prices)

    venue_rule = rule or CycleVenueRules(risk, inputs.as_of)

    def ruled(intents: list[OrderIntent]) -> list[OrderIntent]:
        return list(venue_rule(intents, prices)) if intents else intents

    decision = DecisionStamp(run_id, planning.portfolio_id, planning.strategy, bar, inputs.as_of)  # type: ignore[arg-type]
    options = OptionPlan()
    if planning.options is not None:
        managed = {base_currency(symbol) for symbol in risk.symbols}
        managed_views = inputs.vol_views
        if not managed_views.is_empty():
            managed_views = managed_views.filter(pl.col("underlying").is_in(sorted(managed)))
        planned = plan_options(
            dataclasses.replace(inputs, vol_views=managed_views),
            report,
            planning.options,
            decision,
        )
        options = managed_only(planned, managed)
    if options.intents:  # units of the options to open (none to add without option legs)
        report = with_option_units(
            inputs, report, [i.symbol for i in options.intents], risk.threads
        )
        prices.update(report.valued.prices)
    context = pretrade_context(inputs, report, risk, switch)
    checked = check_in_order(ruled(options.intents), context, risk.limits)
    delta = _delta_after(report, checked.intents)
    valued = report.valued
    perps = plan_perps(
        inputs.signals,
        valued.book,
        valued.holdings,
        valued.prices,
        report.volatility,
        report.correlation,
        equity=report.equity,
        config=planning,
        run_id=run_id,
        decision_bar=bar,  # type: ignore[arg-type]
        options_delta=delta,
    )
    after = check_in_order(
        ruled(perps.intents),
        dataclasses.replace(context, state=checked.state),
        risk.limits,
        accepted_before=checked.accepted,
    )
    hedges = tuple(
        HedgeTarget(
            base_currency(perp),
            perp,
            perps.directional[perp],
            delta.get(base_currency(perp), 0.0),
            planning.band_usd,
        )
        for perp in sorted(perps.hedged)
        if delta.get(base_currency(perp))
    )
    return CycleDecision(
        intents=checked.intents + after.intents,
        structures=options.structures_frame(),
        alerts=tuple(options.alerts),
        hedges=hedges,
    )


def rules_rule(rules: Mapping[str, VenueRules]) -> VenueRule:
    """A :data:`VenueRule` from lots and minimums already loaded (a backtest reads them
    once; without a rule the cycle reads them from ``config.exchange`` at the decision)."""

    def rule(intents: list[OrderIntent], prices: dict[str, float]) -> tuple[OrderIntent, ...]:
        return rule_intents(intents, rules, prices)

    return rule


#: Strategy suffix of the hedge top-up's intents (their own client order ids and re-run check).
HEDGE_SUFFIX = ":hedge"


def load_hedge_targets(lake_dir: Path, run_id: str, portfolio_id: str) -> dict[str, HedgeTarget]:
    """The hedges cycle ``run_id`` planned (its ``pre_trade`` ``book_greeks`` rows)."""
    rows = read_dataset(lake_dir, BOOK_GREEKS).filter(
        (pl.col("run_id") == run_id)
        & (pl.col("portfolio_id") == portfolio_id)
        & (pl.col("phase") == "pre_trade")
        & pl.col("hedge_perp").is_not_null()
    )
    return {
        r["underlying"]: HedgeTarget(
            r["underlying"],
            r["hedge_perp"],
            r["directional_coin"],
            r["hedge_options_delta_coin"],
            r["band_usd"],
        )
        for r in rows.iter_rows(named=True)
    }


def holds_options(positions: pl.DataFrame) -> bool:
    """Whether the book holds an option (the hedge stage has nothing to do otherwise)."""
    held = positions.filter(pl.col("quantity") != 0)["symbol"]
    return any(is_option_symbol(symbol) for symbol in held)


def hedge_trades(
    valued: ValuedBook, targets: Mapping[str, HedgeTarget], max_symbol_notional: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Perp targets (coins) of the hedges more than their band away, and those perps' holdings.

    For each planned hedge the perp's target is ``directional - options delta held`` (live
    legs only), capped at ``max_symbol_notional``. Needs only the book on its marks, so the
    hedge stage knows whether anything is to trade before it assesses any risk.
    """
    delta = options_delta_coin(valued.book, expired=False)
    wanted, current = {}, {}
    for hedge in targets.values():
        price = valued.prices.get(hedge.perp)
        if price is None:
            continue
        target = hedge.directional - delta.get(hedge.underlying, 0.0)
        cap = max_symbol_notional / price
        target = max(-cap, min(cap, target))
        held = valued.holdings.get(hedge.perp, 0.0)
        if abs(target - held) * price > hedge.band_usd:
            wanted[hedge.perp], current[hedge.perp] = target, held
    return wanted, current


def hedge_topup(
    inputs: CycleInputs,
    report: RiskReport,
    risk: RiskConfig,
    planning: PlanConfig,
    run_id: str,
    targets: Mapping[str, HedgeTarget],
    *,
    rule: VenueRule | None = None,
    switch: KillSwitch | None = None,
) -> tuple[OrderIntent, ...]:
    """Perp orders that bring each option underlying's net delta back inside its band.

    Run after the cycle's orders, on the book they left: option limit orders may fill only
    in part, so the options delta the perps were planned on can differ from the one held.
    The perps of :func:`hedge_trades` are traded, rounded to the venue's grid and checked
    like any intent (strategy ``<strategy>:hedge``). Nothing when the book holds no option
    (``rule`` and ``switch`` as in :func:`decide_cycle`).
    """
    if inputs.signals.is_empty() or not targets or not holds_options(inputs.positions):
        return ()
    valued = report.valued
    wanted, current = hedge_trades(valued, targets, planning.max_symbol_notional)
    if not wanted:
        return ()
    intents = intents_from_targets(
        wanted,
        current,
        dict(valued.prices),
        run_id=run_id,
        portfolio_id=planning.portfolio_id,
        strategy=planning.strategy + HEDGE_SUFFIX,
        decision_bar=inputs.signals["timestamp"].max(),  # type: ignore[arg-type]
        min_notional=planning.min_order_notional,
        max_order_notional=planning.max_order_notional,
    )
    prices = dict(valued.prices)
    ruled = (
        rule(intents, prices)
        if rule is not None
        else apply_venue_rules_to(intents, risk, inputs.as_of, prices)
    )
    context = pretrade_context(inputs, report, risk, switch)
    return check_in_order(list(ruled), context, risk.limits).intents
