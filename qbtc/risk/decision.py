"""A cycle's decision: plan order intents from its signals, put them on the venue's grid,
then check each before trading.

The ``risk`` flow's tasks (``plan``, ``venue_rules``, ``pretrade``) and the backtest
(:func:`decide_intents`) call these same functions in this order, so a backtest decides
exactly as the live cycle does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from qbtc.execution.intents import OrderIntent
from qbtc.execution.venue_rules import VenueRules, rule_intents
from qbtc.portfolio.plan import PlanConfig, plan_intents
from qbtc.risk.pretrade import check_intents
from qbtc.risk.stage import (
    CycleInputs,
    RiskConfig,
    RiskReport,
    apply_venue_rules_to,
    pretrade_context,
)

Sizing = Literal["vol_target", "mean_variance"]


def plan_config(config: RiskConfig, sizing: Sizing = "vol_target") -> PlanConfig:
    """The planner's knobs from the risk stage's config (limits shared with the checks)."""
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
    )


def plan_cycle(
    inputs: CycleInputs, report: RiskReport, config: PlanConfig, run_id: str
) -> list[OrderIntent]:
    """Vol-targeted, delta-hedged perp targets of the cycle's signals as order intents."""
    if inputs.signals.is_empty():
        return []
    valued = report.valued
    return plan_intents(
        inputs.signals,
        valued.book,
        valued.holdings,
        valued.prices,
        report.volatility,
        report.correlation,
        equity=report.equity,
        config=config,
        run_id=run_id,
        decision_bar=inputs.signals["timestamp"].max(),  # type: ignore[arg-type]
    )


def check_cycle(
    intents: list[OrderIntent], inputs: CycleInputs, report: RiskReport, config: RiskConfig
) -> tuple[OrderIntent, ...]:
    """Accept or refuse every intent with its reason (the kill switch read now)."""
    return check_intents(intents, pretrade_context(inputs, report, config), config.limits)


def decide_intents(
    inputs: CycleInputs,
    report: RiskReport,
    config: RiskConfig,
    planning: PlanConfig,
    run_id: str,
    *,
    rules: Mapping[str, VenueRules] | None = None,
) -> tuple[OrderIntent, ...]:
    """Plan, round to the venue's grid and check: the ``risk`` flow's decision.

    ``rules`` are the venue's lots and minimums when already loaded (a backtest reads them
    once); without them they are read from ``config.exchange`` at the decision time.
    """
    planned = plan_cycle(inputs, report, planning, run_id)
    if not planned:
        return ()
    prices = dict(report.valued.prices)
    ruled = (
        rule_intents(planned, rules, prices)
        if rules is not None
        else apply_venue_rules_to(planned, config, inputs.as_of, prices)
    )
    return check_cycle(list(ruled), inputs, report, config)
