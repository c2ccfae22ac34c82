"""The risk stage of a cycle after the book is assessed: trip the kill switch on a drawdown
breach, and build the context pre-trade checks run in.

The stage's pieces: settings and inputs in :mod:`qbtc.risk.cycle_inputs`, the assessment in
:mod:`qbtc.risk.cycle_report`, the venue's grid in :mod:`qbtc.risk.venue_grid`. Each public
function is what one Prefect task of ``flows/risk.py`` calls.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from qbtc.risk.cycle_inputs import CycleInputs, RiskConfig
from qbtc.risk.cycle_report import RiskReport
from qbtc.risk.killswitch import KillSwitch, KillSwitchState
from qbtc.risk.pretrade import PretradeContext


def enforce_drawdown(
    report: RiskReport, config: RiskConfig, switch: KillSwitch | None = None
) -> KillSwitchState | None:
    """Trip the kill switch when the drawdown exceeds its limit; the new state if it tripped.

    The trip is stamped with the cycle's clock (``report.as_of``), so a cycle run again
    ``--as-of`` the same time, or a backtest, gives the same reason and time. ``switch``:
    the switch of ``config.state_dir`` when not given.
    """
    if report.drawdown <= config.limits.max_drawdown:
        return None
    switch = switch or KillSwitch(config.state_dir)
    if switch.status().on:
        return None
    return switch.trip(
        f"drawdown {report.drawdown:.2%} beyond the limit {config.limits.max_drawdown:.2%} "
        f"(equity {report.equity:,.2f} USDT)",
        now=report.as_of,
    )


def pretrade_context(
    inputs: CycleInputs, report: RiskReport, config: RiskConfig, switch: KillSwitch | None = None
) -> PretradeContext:
    """The context pre-trade checks run in, with the kill switch (``switch``, else the one of
    ``config.state_dir``) read now."""
    return PretradeContext(
        state=report.assessment.state,
        units=report.units,
        equity=report.equity,
        mark_age_s=report.valued.mark_age_s,
        gate_passed=inputs.gate.passed,
        gate_reasons=inputs.gate.reasons,
        kill_switch=(switch or KillSwitch(config.state_dir)).status(),
        stale_reason=stale_reason(inputs, report, config.limits.max_data_age_s),
    )


def stale_reason(inputs: CycleInputs, report: RiskReport, max_age_s: float) -> str | None:
    """Why the book or the signals are too old to trade on, or None."""
    reasons = []
    ages = report.valued.mark_age_s
    old = sorted(s for s in report.valued.holdings if ages.get(s, np.inf) > max_age_s)
    if old:
        reasons.append(f"marks of held {', '.join(old)} older than {max_age_s:,.0f} s")
    if not inputs.signals.is_empty():
        bar: datetime = inputs.signals["timestamp"].max()  # type: ignore[assignment]
        age = (inputs.as_of - bar).total_seconds()
        if age > max_age_s:
            reasons.append(f"signals are {age:,.0f} s old (limit {max_age_s:,.0f} s)")
    return "; ".join(reasons) or None
