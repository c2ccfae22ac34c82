"""Backtest results as lake rows: ``backtests``, ``backtest_equity``, ``backtest_intents``,
``backtest_trades``, ``backtest_metrics``.

The ``backtests`` row goes last, so the views (which show completed backtests only) never
show a backtest whose other rows are not all stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from qbtc.backtest.engine import BacktestRun
from qbtc.backtest.metrics import Metric
from qbtc.lake import write_dataset
from qbtc.manifest import code_version
from qbtc.schemas import (
    BACKTEST_EQUITY,
    BACKTEST_INTENTS,
    BACKTEST_METRICS,
    BACKTEST_TRADES,
    BACKTESTS,
    LLM_CALLS,
)
from qbtc.signals import llm_calls_frame


def equity_frame(run: BacktestRun) -> pl.DataFrame:
    equity = np.array([d.equity for d in run.decisions], dtype=np.float64)
    peak = np.maximum.accumulate(np.maximum(equity, 1e-300)) if equity.size else equity
    drawdown = np.clip(1.0 - equity / peak, 0.0, 1.0) if equity.size else equity
    return pl.DataFrame(
        {
            "backtest_id": [run.backtest_id] * len(run.decisions),
            "timestamp": [d.at for d in run.decisions],
            "equity": equity,
            "drawdown": drawdown,
            "gross_notional": [g for g, _ in run.notionals],
            "net_notional": [n for _, n in run.notionals],
            "fees": run.fees,
            "funding": run.funding,
            "var": [d.var for d in run.decisions],
        },
        schema=BACKTEST_EQUITY.schema,
    )


def trades_frame(run: BacktestRun) -> pl.DataFrame:
    rows = [
        {
            "backtest_id": run.backtest_id,
            "fill_id": f.fill_id,
            "client_order_id": f.intent.client_order_id,
            "timestamp": f.timestamp,
            "decision_bar": f.intent.decision_bar,
            "symbol": f.intent.symbol,
            "side": f.intent.side,
            "quantity": f.quantity,
            "price": f.price,
            "fee": f.fee,
            "notional": f.quantity * f.price,
            "reduce_only": f.intent.reduce_only,
        }
        for f in run.fills
    ]
    return pl.DataFrame(rows, schema=BACKTEST_TRADES.schema) if rows else BACKTEST_TRADES.empty()


def backtest_intents_frame(run: BacktestRun) -> pl.DataFrame:
    rows = [
        {
            "backtest_id": run.backtest_id,
            "client_order_id": i.client_order_id,
            "timestamp": i.decision_bar,
            "decided_at": d.at,
            "symbol": i.symbol,
            "leg": i.leg,
            "side": i.side,
            "quantity": i.quantity,
            "notional": i.notional,
            "reduce_only": i.reduce_only,
            "status": i.status,
            "reason": i.reason,
        }
        for d in run.decisions
        for i in d.intents
    ]
    return pl.DataFrame(rows, schema=BACKTEST_INTENTS.schema) if rows else BACKTEST_INTENTS.empty()


def metrics_frame(backtest_id: str, metrics: Sequence[Metric], at: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "backtest_id": [backtest_id] * len(metrics),
            "metric": [m.name for m in metrics],
            "value": [m.value for m in metrics],
            "unit": [m.unit for m in metrics],
            "timestamp": [at] * len(metrics),
        },
        schema=BACKTEST_METRICS.schema,
    )


def backtest_row(run: BacktestRun, *, at: datetime, tear_sheet: Path | None) -> pl.DataFrame:
    config = run.config
    return pl.DataFrame(
        [
            {
                "backtest_id": run.backtest_id,
                "timestamp": at,
                "status": "completed",
                "start": config.start,
                "end": config.end,
                "interval": config.interval,
                "symbols": ",".join(config.symbols),
                "provider": config.provider,
                "seed": config.seed,
                "initial_equity": config.initial_equity,
                "fill_model": config.fill_model,
                "fee_rate": config.fee_rate,
                "slippage_bps": config.slippage_bps,
                "var_scenarios": config.var_scenarios,
                "options": config.options,
                "parameters": json.dumps(config.parameters(), sort_keys=True),
                "code_version": code_version(),
                "data_snapshot": run.data_snapshot,
                "decisions": len(run.decisions),
                "final_equity": run.final_equity,
                "wall_s": run.wall_s,
                "caveat": run.caveat,
                "tear_sheet": str(tear_sheet) if tear_sheet else None,
                "sweep_id": config.sweep_id,
            }
        ],
        schema=BACKTESTS.schema,
    )


def write_results(
    lake_dir: Path,
    run: BacktestRun,
    metrics: Sequence[Metric],
    *,
    tear_sheet: Path | None,
    at: datetime | None = None,
) -> datetime:
    """Store a completed backtest (the ``backtests`` row last); returns its timestamp."""
    moment = at or datetime.now(UTC)
    write_dataset(lake_dir, BACKTEST_EQUITY, equity_frame(run))
    write_dataset(lake_dir, BACKTEST_INTENTS, backtest_intents_frame(run))
    write_dataset(lake_dir, BACKTEST_TRADES, trades_frame(run))
    write_dataset(lake_dir, BACKTEST_METRICS, metrics_frame(run.backtest_id, metrics, moment))
    if run.calls:  # paid answers are kept, so a replay backtest can reproduce them for free
        write_dataset(lake_dir, LLM_CALLS, llm_calls_frame(run.calls))
    write_dataset(lake_dir, BACKTESTS, backtest_row(run, at=moment, tear_sheet=tear_sheet))
    return moment
