"""Datasets of backtests: the run, its equity curve, its trades, its metrics, sweeps.

Every row carries ``backtest_id``; the ``backtests`` row is written last, once everything
else is stored, and the SQL views show only completed backtests, so a backtest that failed
halfway is never half-visible.
"""

from __future__ import annotations

from qbtc.schemas.core import (
    BOOL,
    BY_MONTH,
    F64,
    I64,
    STR,
    TS,
    Dataset,
    Partition,
    register,
)

#: One directory per backtest (ids are slash-free hex strings).
BY_BACKTEST = (Partition("bt", "backtest_id", "value"),)

BACKTESTS = register(
    Dataset(
        name="backtests",
        columns={
            "backtest_id": STR,
            "timestamp": TS,
            "status": STR,
            "start": TS,
            "end": TS,
            "interval": STR,
            "symbols": STR,
            "provider": STR,
            "seed": I64,
            "initial_equity": F64,
            "fill_model": STR,
            "fee_rate": F64,
            "slippage_bps": F64,
            "var_scenarios": I64,
            "options": BOOL,
            "parameters": STR,
            "code_version": STR,
            "data_snapshot": STR,
            "decisions": I64,
            "final_equity": F64,
            "wall_s": F64,
            "caveat": STR,
            "tear_sheet": STR,
            "sweep_id": STR,
        },
        primary_key=("backtest_id",),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "One row per completed backtest (timestamp = when it ran): parameters (JSON), seed, "
            "code version, SHA-256 of the market data it read, equity in USDT, wall time in s."
        ),
        nullable=frozenset({"caveat", "tear_sheet", "sweep_id"}),
    )
)

BACKTEST_EQUITY = register(
    Dataset(
        name="backtest_equity",
        columns={
            "backtest_id": STR,
            "timestamp": TS,
            "equity": F64,
            "drawdown": F64,
            "gross_notional": F64,
            "net_notional": F64,
            "fees": F64,
            "funding": F64,
            "var": F64,
        },
        primary_key=("backtest_id", "timestamp"),
        mode="upsert",
        partition_by=BY_BACKTEST,
        description=(
            "Equity after each decision (USDT), drawdown from the peak (fraction), gross and "
            "net notional (USDT), cumulative fees paid and funding received (USDT), the "
            "pre-trade 99% 1-day VaR the checks saw (USDT)."
        ),
    )
)

BACKTEST_TRADES = register(
    Dataset(
        name="backtest_trades",
        columns={
            "backtest_id": STR,
            "fill_id": STR,
            "client_order_id": STR,
            "timestamp": TS,
            "decision_bar": TS,
            "symbol": STR,
            "side": STR,
            "quantity": F64,
            "price": F64,
            "fee": F64,
            "notional": F64,
            "reduce_only": BOOL,
        },
        primary_key=("backtest_id", "fill_id"),
        mode="upsert",
        partition_by=BY_BACKTEST,
        description=(
            "Simulated fills: quantity in contracts, price and notional in USDT, fee in USDT "
            "(paid); client order ids as the live cycle derives them."
        ),
    )
)

BACKTEST_INTENTS = register(
    Dataset(
        name="backtest_intents",
        columns={
            "backtest_id": STR,
            "client_order_id": STR,
            "timestamp": TS,
            "decided_at": TS,
            "symbol": STR,
            "leg": STR,
            "side": STR,
            "quantity": F64,
            "notional": F64,
            "reduce_only": BOOL,
            "status": STR,
            "reason": STR,
        },
        primary_key=("backtest_id", "client_order_id"),
        mode="upsert",
        partition_by=BY_BACKTEST,
        description=(
            "Every order intent a backtest decided (timestamp = decision bar, decided_at = "
            "decision time): accepted, or refused with the pre-trade reason; quantity in "
            "contracts, notional in USDT."
        ),
        nullable=frozenset({"reason"}),
    )
)

BACKTEST_METRICS = register(
    Dataset(
        name="backtest_metrics",
        columns={
            "backtest_id": STR,
            "metric": STR,
            "value": F64,
            "unit": STR,
            "timestamp": TS,
        },
        primary_key=("backtest_id", "metric"),
        mode="upsert",
        partition_by=BY_BACKTEST,
        description=(
            "One row per metric of a backtest with its unit (fraction, USDT, days...); "
            "timestamp = when the backtest ran."
        ),
    )
)

BACKTEST_SWEEPS = register(
    Dataset(
        name="backtest_sweeps",
        columns={
            "sweep_id": STR,
            "set_index": I64,
            "backtest_id": STR,
            "timestamp": TS,
            "parameters": STR,
            "total_return": F64,
            "annual_return": F64,
            "sharpe": F64,
            "max_drawdown": F64,
            "turnover": F64,
            "fees": F64,
            "final_equity": F64,
        },
        primary_key=("sweep_id", "set_index"),
        mode="upsert",
        partition_by=BY_MONTH,
        description=(
            "Comparison table of a parameter sweep: one row per parameter set (parameters as "
            "JSON), returns and drawdown as fractions, turnover in multiples of mean equity, "
            "fees and final equity in USDT."
        ),
    )
)
