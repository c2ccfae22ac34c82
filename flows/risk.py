"""Flows ``risk`` (assess the book, size and hedge, pre-trade checks, record the intents)
and ``risk_monitor`` (re-value the current book on the latest marks, alert on a breach).

Every task body calls one ``qbtc`` function. A limit breach of the book is an ``alerts`` row
plus a Prefect event (``qbtc.alert.risk-breach``); a kill switch trip is a critical alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.alerts import (
    OPTIONS_SKIPPED,
    RISK_BREACH,
    alert_kill_switch_tripped,
    raise_alert,
    trip_kill_switch,
)
from flows.cluster import heavy_mapper
from flows.common import current_run_id, flow_settings, publish_table, whole
from qbtc.execution.intents import OrderIntent, decided_intents, intents_frame
from qbtc.lake import write_dataset
from qbtc.parallel import Mapper
from qbtc.portfolio.plan import PlanConfig
from qbtc.portfolio.structures import StructureConfig
from qbtc.risk.cycle_inputs import CycleInputs, RiskConfig, load_cycle_inputs
from qbtc.risk.cycle_report import RiskReport, assess_cycle
from qbtc.risk.decision import (
    HEDGE_SUFFIX,
    CycleDecision,
    HedgeTarget,
    Sizing,
    decide_cycle,
    hedge_topup,
    hedge_trades,
    holds_options,
    load_hedge_targets,
    plan_config,
)
from qbtc.risk.killswitch import KillSwitch
from qbtc.risk.records import BOOK, PRE_TRADE, book_greeks_rows, risk_metric_rows, summary_rows
from qbtc.risk.stage import enforce_drawdown
from qbtc.risk.valuation import value_book
from qbtc.schemas import BOOK_GREEKS, OPTION_STRUCTURES, ORDER_INTENTS, RISK_METRICS

KillSwitchAction = Literal["on", "off"]


@dataclass(frozen=True)
class RiskOutcome:
    """What one ``risk`` run decided."""

    report: RiskReport
    intents: tuple[OrderIntent, ...]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, timeout_seconds=120)
def load_inputs(config: RiskConfig, as_of: datetime) -> CycleInputs:
    """Positions, marks, signals, prices, equity history, quality gate, kill switch."""
    return load_cycle_inputs(config, as_of)


@task(cache_policy=NO_CACHE, timeout_seconds=300)
def assess(inputs: CycleInputs, config: RiskConfig) -> RiskReport:
    """Monte Carlo VaR with full revaluation, Greeks, stress, limits of the book."""
    return assess_cycle(inputs, config)


@task(cache_policy=NO_CACHE, timeout_seconds=300)
def plan_and_check(
    inputs: CycleInputs, report: RiskReport, config: RiskConfig, planning: PlanConfig, run_id: str
) -> CycleDecision:
    """Option structures on vol views, then delta-hedged perp targets; every leg rounded to
    the venue's lots and ticks (refused below its minimums) and checked."""
    return decide_cycle(inputs, report, config, planning, run_id)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, timeout_seconds=120)
def record(
    lake_dir: Path,
    metrics: pl.DataFrame,
    intents: tuple[OrderIntent, ...],
    greeks: pl.DataFrame | None = None,
    structures: pl.DataFrame | None = None,
) -> int:
    """Write ``risk_metrics``, ``book_greeks``, ``option_structures`` and ``order_intents``
    (idempotent upserts)."""
    write_dataset(lake_dir, RISK_METRICS, metrics)
    if greeks is not None and greeks.height:
        write_dataset(lake_dir, BOOK_GREEKS, greeks)
    if structures is not None and structures.height:
        write_dataset(lake_dir, OPTION_STRUCTURES, structures)
    if intents:
        write_dataset(lake_dir, ORDER_INTENTS, intents_frame(intents))
    return len(intents)


def risk_config(
    as_of: datetime | None,
    portfolio_id: str | None,
    seed: int | None,
    scenarios: int | None,
    symbols: list[str] | None = None,
    mapper: Mapper | None = None,
) -> tuple[RiskConfig, datetime]:
    settings = flow_settings(as_of=as_of, portfolio_id=portfolio_id, seed=seed, symbols=symbols)
    config = RiskConfig.from_settings(settings, scenarios=scenarios, mapper=mapper)
    return config, (settings.as_of or datetime.now(UTC)).astimezone(UTC)


def apply_kill_switch(config: RiskConfig, action: KillSwitchAction | None, run_id: str) -> None:
    """The ``kill_switch`` flow parameter: trip or reset by hand before anything else."""
    if action == "off":
        KillSwitch(config.state_dir).reset()
    elif action == "on":
        reason = f"tripped by hand (risk flow parameter, run {run_id})"
        trip_kill_switch(config.state_dir, config.lake_dir, reason=reason, run_id=run_id)


def alert_breaches(config: RiskConfig, report: RiskReport, run_id: str) -> int:
    """One alert (row + Prefect event) per limit the book exceeds."""
    for breach in report.breaches:
        raise_alert(
            config.lake_dir,
            event=RISK_BREACH,
            run_id=run_id,
            message=f"{config.portfolio_id}: {breach.message}",
            details={"limit": breach.limit, "value": breach.value, "threshold": breach.threshold},
        )
    return len(report.breaches)


def assess_and_alert(
    config: RiskConfig, inputs: CycleInputs, run_id: str, *, when: str
) -> RiskReport:
    """Assess, trip on drawdown, alert on breaches (shared by both flows); ``when`` titles
    the risk table: "before orders" (the risk stage) or "after orders" (the book)."""
    report = assess(whole(inputs), config)
    tripped = enforce_drawdown(report, config)
    if tripped is not None:
        reason = tripped.reason or "drawdown"
        alert_kill_switch_tripped(config.lake_dir, run_id=run_id, reason=reason)
    alert_breaches(config, report, run_id)
    publish_table(
        f"risk-{config.portfolio_id}-{when}",
        summary_rows(report, config),
        f"Risk {when} of {config.portfolio_id} at {report.as_of.isoformat()} (USDT)",
    )
    return report


@flow(name="risk")
def risk(
    as_of: datetime | None = None,
    portfolio_id: str | None = None,
    seed: int | None = None,
    scenarios: int | None = None,
    kill_switch: KillSwitchAction | None = None,
    sizing: Sizing = "vol_target",
    symbols: list[str] | None = None,
) -> dict[str, Any]:
    """Assess the book, turn signals into order intents and check each before trading.

    ``kill_switch`` trips ("on") or resets ("off") the kill switch before the run;
    ``sizing`` picks volatility targeting or the constrained mean-variance optimiser;
    ``symbols`` defaults to ``QBTC_SYMBOLS``. The Monte Carlo revaluation runs on Dask when
    one is configured (``QBTC_DASK_ADDRESS`` or ``QBTC_DASK_LOCAL_WORKERS``).
    """
    with heavy_mapper(flow_settings()) as mapper:
        config, at = risk_config(as_of, portfolio_id, seed, scenarios, symbols, mapper)
        return run_risk(config, at, as_of, kill_switch, sizing)


def run_risk(
    config: RiskConfig,
    at: datetime,
    as_of: datetime | None,
    kill_switch: KillSwitchAction | None,
    sizing: Sizing,
) -> dict[str, Any]:
    """The body of :func:`risk` (inside its flow run)."""
    run_id = current_run_id()
    apply_kill_switch(config, kill_switch, run_id)
    inputs = load_inputs(config, at)
    report = assess_and_alert(config, inputs, run_id, when="before orders")
    options = StructureConfig.from_settings(flow_settings(as_of=as_of))
    made = decide_or_reuse(inputs, report, config, plan_config(config, sizing, options), run_id)
    decided, reused = made.intents, made.reused
    metrics = risk_metric_rows(report, config, run_id, PRE_TRADE)
    greeks = book_greeks_rows(report, config, run_id, PRE_TRADE, made.hedges)
    # A re-run keeps the decision's intents, and with them the pre-trade risk they were
    # checked against (the book has traded since; the monitor records it as "book").
    # An intent is written once: its run and decision never change afterwards.
    if reused:
        metrics, greeks = metrics.clear(), greeks.clear()
    record(config.lake_dir, metrics, whole(() if reused else decided), greeks, made.structures)
    for message in made.alerts:
        raise_alert(config.lake_dir, event=OPTIONS_SKIPPED, run_id=run_id, message=message)
    publish_table(
        f"risk-intents-{config.portfolio_id}",
        [intent_row(i) for i in decided] or [{"intent": "none this cycle"}],
        "Order intents of this cycle: accepted, or refused with the reason",
    )
    return risk_summary(report, decided, run_id)


@dataclass(frozen=True)
class Decided:
    """This bar's intents, structures, hedges and alerts; ``reused`` when decided before."""

    intents: tuple[OrderIntent, ...]
    reused: bool
    structures: pl.DataFrame | None = None
    hedges: tuple[HedgeTarget, ...] = ()
    alerts: tuple[str, ...] = ()


def decide_or_reuse(
    inputs: CycleInputs, report: RiskReport, config: RiskConfig, planning: PlanConfig, run_id: str
) -> Decided:
    """Plan and check this bar's intents, or reuse them when the bar was decided already.

    A re-run of a cycle must not plan again on a book its first run already traded: the
    same decision keeps the same intents (and client order ids) under the run that decided
    them, so an order always traces back to the signals it was decided on.
    """
    if inputs.signals.is_empty():
        return Decided((), False)
    bar = inputs.signals["timestamp"].max()
    earlier = decided_intents(
        config.lake_dir,
        portfolio_id=config.portfolio_id,
        strategy=config.strategy,
        decision_bar=bar,  # type: ignore[arg-type]
    )
    if earlier:
        get_run_logger().info(
            "decision bar %s already decided (run %s): reusing its %d intent(s)",
            bar,
            earlier[0].run_id,
            len(earlier),
        )
        return Decided(tuple(earlier), True)
    made = plan_and_check(whole(inputs), whole(report), config, planning, run_id)
    return Decided(made.intents, False, made.structures, made.hedges, made.alerts)


@flow(name="hedge")
def hedge(
    as_of: datetime | None = None,
    portfolio_id: str | None = None,
    symbols: list[str] | None = None,
    intents_run_id: str | None = None,
) -> dict[str, Any]:
    """Re-hedge after the cycle's orders: perp orders that bring each option underlying's
    net delta back inside the band of the target cycle ``intents_run_id`` planned (default:
    this run). Returns the run whose hedge intents the next orders stage executes."""
    config, at = risk_config(as_of, portfolio_id, None, None, symbols)
    run_id = current_run_id()
    targets = load_hedge_targets(config.lake_dir, intents_run_id or run_id, config.portfolio_id)
    if not targets:
        return {"intents_run_id": run_id, "accepted": 0, "refused": 0}
    inputs = load_inputs(config, at)
    if not holds_options(inputs.positions):  # nothing to re-hedge
        return {"intents_run_id": run_id, "accepted": 0, "refused": 0}
    planning = plan_config(config)
    if not inputs.signals.is_empty():
        earlier = decided_intents(
            config.lake_dir,
            portfolio_id=config.portfolio_id,
            strategy=planning.strategy + HEDGE_SUFFIX,
            decision_bar=inputs.signals["timestamp"].max(),  # type: ignore[arg-type]
        )
        if earlier:  # a re-run: the orders stage sends what is not sent yet, nothing twice
            done = [i.status for i in earlier]
            return {
                "intents_run_id": earlier[0].run_id,
                "accepted": done.count("accepted"),
                "refused": done.count("refused"),
            }
    valued = value_book(inputs.positions, inputs.marks, list(config.symbols))
    if not hedge_trades(valued, targets, planning.max_symbol_notional)[0]:
        # every hedge inside its band: nothing to trade, no second risk assessment
        return {"intents_run_id": run_id, "accepted": 0, "refused": 0}
    report = assess(whole(inputs), config)
    decided = hedge_topup(inputs, report, config, planning, run_id, targets)
    record(config.lake_dir, RISK_METRICS.empty(), whole(decided))
    statuses = [i.status for i in decided]
    return {
        "intents_run_id": run_id,
        "accepted": statuses.count("accepted"),
        "refused": statuses.count("refused"),
    }


@flow(name="risk_monitor")
def risk_monitor(
    as_of: datetime | None = None,
    portfolio_id: str | None = None,
    symbols: list[str] | None = None,
) -> dict[str, Any]:
    """Re-value the current book on the latest marks; alert on a limit breach.

    Args:
        as_of: Value the book as of this time (UTC); empty: now.
        portfolio_id: The book to value; empty: QBTC_PORTFOLIO_ID (main).
        symbols: Perps whose prices drive risk besides those held; empty: QBTC_SYMBOLS.
    """
    config, at = risk_config(as_of, portfolio_id, None, None, symbols)
    run_id = current_run_id()
    inputs = load_inputs(config, at)
    report = assess_and_alert(config, inputs, run_id, when="after orders")
    record(
        config.lake_dir,
        risk_metric_rows(report, config, run_id, BOOK),
        (),
        book_greeks_rows(report, config, run_id, BOOK),
    )
    get_run_logger().info(
        "VaR %.2f USDT, %d breach(es), drawdown %.2f%%",
        report.assessment.full.var,
        len(report.breaches),
        100 * report.drawdown,
    )
    return risk_summary(report, (), run_id)


def intent_row(intent: OrderIntent) -> dict[str, Any]:
    return {
        "symbol": intent.symbol,
        "structure": intent.structure_id,
        "leg": intent.leg,
        "side": intent.side,
        "quantity": intent.quantity,
        "notional": intent.notional,
        "reduce_only": intent.reduce_only,
        "status": intent.status,
        "reason": intent.reason,
    }


def risk_summary(
    report: RiskReport, decided: tuple[OrderIntent, ...], run_id: str
) -> dict[str, Any]:
    statuses = [i.status for i in decided]
    return {
        "run_id": run_id,
        # the run whose intents this cycle executes (an earlier one when the bar was decided)
        "intents_run_id": decided[0].run_id if decided else run_id,
        "as_of": report.as_of.isoformat(),
        "var": report.assessment.full.var,
        "cvar": report.assessment.full.cvar,
        "equity": report.equity,
        "drawdown": report.drawdown,
        "breaches": [b.message for b in report.breaches],
        "accepted": statuses.count("accepted"),
        "refused": statuses.count("refused"),
    }
