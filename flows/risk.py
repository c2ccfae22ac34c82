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

from flows.alerts import RISK_BREACH, alert_kill_switch_tripped, raise_alert, trip_kill_switch
from flows.common import current_run_id, flow_settings, publish_table
from qbtc.execution.intents import OrderIntent, decided_intents, intents_frame
from qbtc.lake import write_dataset
from qbtc.portfolio.plan import PlanConfig
from qbtc.risk.decision import Sizing, check_cycle, plan_config, plan_cycle
from qbtc.risk.killswitch import KillSwitch
from qbtc.risk.records import BOOK, PRE_TRADE, risk_metric_rows, summary_rows
from qbtc.risk.stage import (
    CycleInputs,
    RiskConfig,
    RiskReport,
    apply_venue_rules_to,
    assess_cycle,
    enforce_drawdown,
    load_cycle_inputs,
)
from qbtc.schemas import ORDER_INTENTS, RISK_METRICS

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


@task(cache_policy=NO_CACHE)
def plan(
    inputs: CycleInputs, report: RiskReport, config: PlanConfig, run_id: str
) -> list[OrderIntent]:
    """Vol-targeted, delta-hedged perp targets as order intents."""
    return plan_cycle(inputs, report, config, run_id)


@task(cache_policy=NO_CACHE, timeout_seconds=120)
def venue_rules(
    intents: list[OrderIntent], config: RiskConfig, as_of: datetime, report: RiskReport
) -> list[OrderIntent]:
    """Round to the venue's lots and ticks; refuse orders below its minimums."""
    prices = dict(report.valued.prices)
    return list(apply_venue_rules_to(intents, config, as_of, prices))


@task(cache_policy=NO_CACHE)
def pretrade(
    intents: list[OrderIntent], inputs: CycleInputs, report: RiskReport, config: RiskConfig
) -> tuple[OrderIntent, ...]:
    """Accept or refuse every intent with its reason."""
    return check_cycle(intents, inputs, report, config)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, timeout_seconds=120)
def record(lake_dir: Path, metrics: pl.DataFrame, intents: tuple[OrderIntent, ...]) -> int:
    """Write ``risk_metrics`` and ``order_intents`` (idempotent upserts)."""
    write_dataset(lake_dir, RISK_METRICS, metrics)
    if intents:
        write_dataset(lake_dir, ORDER_INTENTS, intents_frame(intents))
    return len(intents)


def risk_config(
    as_of: datetime | None,
    portfolio_id: str | None,
    seed: int | None,
    scenarios: int | None,
    symbols: list[str] | None = None,
) -> tuple[RiskConfig, datetime]:
    settings = flow_settings(as_of=as_of, portfolio_id=portfolio_id, seed=seed, symbols=symbols)
    config = RiskConfig.from_settings(settings, scenarios=scenarios)
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


def assess_and_alert(config: RiskConfig, inputs: CycleInputs, run_id: str) -> RiskReport:
    """Assess, trip on drawdown, alert on breaches (shared by both flows)."""
    report = assess(inputs, config)
    tripped = enforce_drawdown(report, config)
    if tripped is not None:
        reason = tripped.reason or "drawdown"
        alert_kill_switch_tripped(config.lake_dir, run_id=run_id, reason=reason)
    alert_breaches(config, report, run_id)
    publish_table(
        f"risk-{config.portfolio_id}",
        summary_rows(report),
        f"Risk of {config.portfolio_id} at {report.as_of.isoformat()} (USDT)",
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
    ``symbols`` defaults to ``QBTC_SYMBOLS``.
    """
    config, at = risk_config(as_of, portfolio_id, seed, scenarios, symbols)
    run_id = current_run_id()
    apply_kill_switch(config, kill_switch, run_id)
    inputs = load_inputs(config, at)
    report = assess_and_alert(config, inputs, run_id)
    decided, reused = decide(inputs, report, config, plan_config(config, sizing), run_id)
    metrics = risk_metric_rows(report, config, run_id, PRE_TRADE)
    # A re-run keeps the decision's intents, and with them the pre-trade risk they were
    # checked against (the book has traded since; the monitor records it as "book").
    # An intent is written once: its run and decision never change afterwards.
    record(config.lake_dir, metrics.clear() if reused else metrics, () if reused else decided)
    publish_table(
        f"risk-intents-{config.portfolio_id}",
        [intent_row(i) for i in decided] or [{"intent": "none this cycle"}],
        "Order intents of this cycle: accepted, or refused with the reason",
    )
    return summary(report, decided, run_id)


def decide(
    inputs: CycleInputs, report: RiskReport, config: RiskConfig, planning: PlanConfig, run_id: str
) -> tuple[tuple[OrderIntent, ...], bool]:
    """Plan and check this bar's intents, or reuse them when the bar was decided already.

    A re-run of a cycle must not plan again on a book its first run already traded: the
    same decision keeps the same intents (and client order ids) under the run that decided
    them, so an order always traces back to the signals it was decided on. Returns the
    intents and whether they were reused.
    """
    if inputs.signals.is_empty():
        return (), False
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
        return tuple(earlier), True
    planned = plan(inputs, report, planning, run_id)
    ruled = venue_rules(planned, config, inputs.as_of, report)
    return pretrade(ruled, inputs, report, config), False


@flow(name="risk_monitor")
def risk_monitor(
    as_of: datetime | None = None,
    portfolio_id: str | None = None,
    symbols: list[str] | None = None,
) -> dict[str, Any]:
    """Re-value the current book on the latest marks; alert on a limit breach."""
    config, at = risk_config(as_of, portfolio_id, None, None, symbols)
    run_id = current_run_id()
    inputs = load_inputs(config, at)
    report = assess_and_alert(config, inputs, run_id)
    record(config.lake_dir, risk_metric_rows(report, config, run_id, BOOK), ())
    get_run_logger().info(
        "VaR %.2f USDT, %d breach(es), drawdown %.2f%%",
        report.assessment.full.var,
        len(report.breaches),
        100 * report.drawdown,
    )
    return summary(report, (), run_id)


def intent_row(intent: OrderIntent) -> dict[str, Any]:
    return {
        "symbol": intent.symbol,
        "leg": intent.leg,
        "side": intent.side,
        "quantity": intent.quantity,
        "notional": intent.notional,
        "reduce_only": intent.reduce_only,
        "status": intent.status,
        "reason": intent.reason,
    }


def summary(report: RiskReport, decided: tuple[OrderIntent, ...], run_id: str) -> dict[str, Any]:
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
