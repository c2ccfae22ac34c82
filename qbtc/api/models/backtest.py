"""Backtests: the list, one backtest's metrics, equity curve and trades."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from qbtc.api.models.base import ApiModel
from qbtc.api.models.book import Run


class BacktestSummary(ApiModel):
    """A completed backtest (``backtests`` row) with its headline metrics.

    ``total_return`` and ``max_drawdown`` are fractions, ``sharpe`` annualised; money USDT.
    """

    backtest_id: str
    timestamp: datetime = Field(description="When the backtest ran (UTC).")
    created_at: datetime = Field(description="Same as timestamp.")
    status: str
    start: datetime
    end: datetime
    interval: str
    symbols: str = Field(description="Comma-separated perps.")
    provider: str
    strategy: str = Field(description="The provider or user strategy that decided.")
    seed: int
    initial_equity: float
    final_equity: float
    fill_model: str
    fee_rate: float = Field(description="Fraction of notional (bars fills).")
    slippage_bps: float
    var_scenarios: int = Field(description="Monte Carlo VaR scenarios per decision.")
    options: bool
    parameters: Any
    code_version: str
    data_snapshot: str = Field(description="SHA-256 of the market data the backtest read.")
    decisions: int
    wall_s: float
    caveat: str | None
    tear_sheet: str | None = Field(description="Path of the tear sheet file on the server.")
    tear_sheet_url: str = Field(description="Where this API serves the tear sheet (HTML).")
    sweep_id: str | None
    total_return: float | None
    annual_return: float | None
    sharpe: float | None
    max_drawdown: float | None

    _parse_json = field_validator("parameters", mode="before")(Run._parse_json.__func__)  # type: ignore[attr-defined]


class BacktestMetric(ApiModel):
    """One metric of a backtest with its unit."""

    backtest_id: str
    metric: str
    value: float | None
    unit: str
    timestamp: datetime


class BacktestEquityPoint(ApiModel):
    """Equity after one decision (USDT), drawdown (fraction), notionals, fees, funding, VaR."""

    backtest_id: str
    timestamp: datetime
    equity: float
    drawdown: float
    gross_notional: float
    net_notional: float
    fees: float
    funding: float
    var: float


class BacktestTrade(ApiModel):
    """One simulated fill (quantity in contracts; price, notional and fee in USDT)."""

    backtest_id: str
    fill_id: str
    client_order_id: str
    timestamp: datetime
    decision_bar: datetime
    symbol: str
    side: str
    quantity: float
    price: float
    fee: float
    notional: float
    reduce_only: bool


class BacktestDetail(ApiModel):
    """One backtest: its row, every metric, the equity curve and the trades."""

    backtest: BacktestSummary
    metrics: list[BacktestMetric]
    equity: list[BacktestEquityPoint]
    trades: list[BacktestTrade]
