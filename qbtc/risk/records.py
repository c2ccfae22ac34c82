"""Rows the risk stage writes: ``risk_metrics`` per method, and summaries for artifacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import polars as pl

from qbtc.risk.cycle_inputs import RiskConfig
from qbtc.risk.cycle_report import RiskReport
from qbtc.risk.exposure import options_delta_coin
from qbtc.schemas import BOOK_GREEKS, RISK_METRICS


class HedgeLike(Protocol):
    """The shape of :class:`qbtc.risk.decision.HedgeTarget` recorded here."""

    @property
    def underlying(self) -> str: ...

    @property
    def perp(self) -> str: ...

    @property
    def directional(self) -> float: ...

    @property
    def options_delta(self) -> float: ...

    @property
    def band_usd(self) -> float: ...


Phase = Literal["pre_trade", "book"]
#: ``risk_metrics.phase`` of the risk stage: the book its pre-trade checks saw.
PRE_TRADE: Phase = "pre_trade"
#: ``risk_metrics.phase`` of the risk monitor: the book as held (after a cycle's orders).
BOOK: Phase = "book"


def risk_metric_rows(
    report: RiskReport, config: RiskConfig, run_id: str, phase: Phase
) -> pl.DataFrame:
    """One ``risk_metrics`` row per VaR method at ``report.as_of``, for ``phase``.

    ``monte_carlo`` (full revaluation, with its standard error) is the figure limits use;
    ``delta_gamma_mc`` revalues the same scenarios with the delta-gamma approximation;
    ``delta_normal`` and ``delta_gamma_cf`` (Cornish-Fisher) are analytic.
    """
    a = report.assessment
    exposure, greeks = a.exposure, a.greeks
    common = {
        "portfolio_id": config.portfolio_id,
        "run_id": run_id,
        "timestamp": report.as_of,
        "phase": phase,
        "sharpe": report.sharpe,
        "sortino": report.sortino,
        "drawdown": report.drawdown,
        "equity": report.equity,
        "gross_notional": exposure.gross_notional,
        "net_notional": exposure.net_notional,
        "leverage": exposure.gross_notional / report.equity if report.equity > 0 else None,
        "delta_usd": greeks.delta_usd,
        "gamma_usd": greeks.gamma_usd,
        "vega_usd": greeks.vega_usd,
        "theta_usd": greeks.theta_usd,
        "confidence": config.confidence,
        "horizon_days": config.horizon_days,
    }
    methods: list[tuple[str, float, float | None, float | None]] = [
        ("monte_carlo", a.full.var, a.full.cvar, a.full.var_stderr),
        ("delta_gamma_mc", a.delta_gamma.var, a.delta_gamma.cvar, a.delta_gamma.var_stderr),
        ("delta_normal", a.delta_normal_var, None, None),
        ("delta_gamma_cf", a.cornish_fisher_var, None, None),
    ]
    if a.historical is not None:
        h = a.historical
        methods.append(("historical", h.var, h.cvar, None))
    rows = [
        {**common, "method": m, "var": var, "cvar": cvar, "mc_stderr": se}
        for m, var, cvar, se in methods
    ]
    return pl.DataFrame(rows, schema=RISK_METRICS.schema)


def summary_rows(report: RiskReport, config: RiskConfig) -> list[dict[str, Any]]:
    """A readable table of the book's risk: VaR by method, Greeks, exposure, stress P&L."""
    a = report.assessment
    label = f"{config.confidence:.0%} {config.horizon_days:g}-day"
    rows: list[dict[str, Any]] = [
        {"measure": f"VaR {label}, Monte Carlo full revaluation", "value": a.full.var},
        {"measure": "  Monte Carlo standard error", "value": a.full.var_stderr},
        {"measure": f"CVaR {label}, Monte Carlo", "value": a.full.cvar},
        {"measure": "VaR, delta-gamma on the same scenarios", "value": a.delta_gamma.var},
        {"measure": "VaR, delta-normal", "value": a.delta_normal_var},
        {"measure": "VaR, delta-gamma Cornish-Fisher", "value": a.cornish_fisher_var},
        {
            "measure": "VaR, historical simulation (past moves, full revaluation)",
            "value": a.historical.var if a.historical is not None else None,
        },
        {"measure": "equity", "value": report.equity},
        {"measure": "drawdown (fraction of peak)", "value": report.drawdown},
        {"measure": "drawdown kill-switch level (fraction)", "value": config.limits.max_drawdown},
        {"measure": "gross notional", "value": a.exposure.gross_notional},
        {"measure": "net notional", "value": a.exposure.net_notional},
        {"measure": "delta USDT", "value": a.greeks.delta_usd},
        {"measure": "gamma USDT per 1%", "value": a.greeks.gamma_usd},
        {"measure": "vega USDT per vol point", "value": a.greeks.vega_usd},
        {"measure": "theta USDT per day", "value": a.greeks.theta_usd},
    ]
    rows += [{"measure": f"stress {s.name}", "value": s.pnl} for s in a.stress]
    rows += [{"measure": f"BREACH {b.limit}", "value": b.value} for b in report.breaches]
    return rows


def book_greeks_rows(
    report: RiskReport,
    config: RiskConfig,
    run_id: str,
    phase: Phase,
    hedges: Sequence[HedgeLike] = (),
) -> pl.DataFrame:
    """One ``book_greeks`` row per underlying of the book (and per hedge planned)."""
    book = report.valued.book
    options = options_delta_coin(book)
    perps: dict[str, float] = {}
    for u, qty in zip(book.perps.underlying, book.perps.quantity, strict=True):
        name = book.underlyings[int(u)]
        perps[name] = perps.get(name, 0.0) + float(qty)
    hedge: Mapping[str, HedgeLike] = {h.underlying: h for h in hedges}
    rows = []
    for g in report.assessment.greeks.by_underlying:
        h = hedge.get(g.underlying)
        rows.append(
            {
                "portfolio_id": config.portfolio_id,
                "run_id": run_id,
                "timestamp": report.as_of,
                "phase": phase,
                "underlying": g.underlying,
                "spot": g.spot,
                "delta_coin": g.delta_coin,
                "option_delta_coin": options.get(g.underlying, 0.0),
                "perp_delta_coin": perps.get(g.underlying, 0.0),
                "delta_usd": g.delta_usd,
                "gamma_usd": g.gamma_usd,
                "vega_usd": g.vega_usd,
                "theta_usd": g.theta_usd,
                "hedge_perp": None if h is None else h.perp,
                "directional_coin": None if h is None else h.directional,
                "hedge_options_delta_coin": None if h is None else h.options_delta,
                "band_usd": None if h is None else h.band_usd,
            }
        )
    if not rows:
        return BOOK_GREEKS.empty()
    return pl.DataFrame(rows, schema=BOOK_GREEKS.schema)
