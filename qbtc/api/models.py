"""Response models of the read-only API (the OpenAPI spec is generated from them).

Row models mirror their lake dataset in :mod:`qbtc.schemas` (same names, same units; a test
checks it). Numbers that can be missing or not finite in the lake are ``null``. Timestamps
are UTC ISO 8601. Money is USDT unless a field says otherwise.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

Item = TypeVar("Item")


class ApiModel(BaseModel):
    """Base of every response model: ignores extra lake columns, forbids nothing else."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# --- errors -------------------------------------------------------------------------------


class FieldError(ApiModel):
    location: str = Field(description="Where the bad value is, e.g. 'query.limit'.")
    message: str


class ErrorResponse(ApiModel):
    """Every error answer: one clear message, plus the offending fields on a 422."""

    detail: str
    errors: list[FieldError] | None = None


# --- pagination ------------------------------------------------------------------------------


class Page(ApiModel, Generic[Item]):
    """One page of a list, newest first unless the route says otherwise."""

    items: list[Item]
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


# --- health ---------------------------------------------------------------------------------


class DatasetFreshness(ApiModel):
    dataset: str
    files: int = Field(description="Parquet files in the dataset.")
    newest: datetime | None = Field(description="Newest value of the dataset's time column.")
    lag_seconds: float | None = Field(description="Seconds from `newest` to now.")


class RunSummary(ApiModel):
    run_id: str
    flow: str
    status: str
    timestamp: datetime = Field(description="When the run started.")
    finished_at: datetime | None
    age_seconds: float = Field(description="Seconds since the run started.")
    message: str | None = None


class QualityGate(ApiModel):
    passed: bool
    run_id: str | None
    timestamp: datetime | None
    reasons: list[str]


class KillSwitch(ApiModel):
    on: bool = Field(
        description="True while only reduce-only orders may pass (also when unreadable)."
    )
    reason: str | None
    since: datetime | None
    readable: bool = Field(description="False when the state file exists but is malformed.")


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    time: datetime
    problems: list[str]
    datasets: list[DatasetFreshness]
    last_run: RunSummary | None
    quality_gate: QualityGate
    kill_switch: KillSwitch


# --- book -----------------------------------------------------------------------------------


class Position(ApiModel):
    """Latest snapshot of one position; quantity signed (long > 0); PnL in USDT."""

    id: str
    portfolio_id: str
    symbol: str
    type: str
    side: str
    quantity: float | None
    entry_price: float | None
    mark_price: float | None
    unrealized_pnl: float | None
    realized_pnl: float | None
    fees: float | None
    funding: float | None
    underlying: str
    expiry: datetime | None
    strike: float | None
    option_type: str | None
    delta: float | None
    gamma: float | None
    vega: float | None
    theta: float | None
    timestamp: datetime


class RiskMetric(ApiModel):
    """Risk of a book: VaR/CVaR USDT (loss positive) at `confidence` over `horizon_days`."""

    portfolio_id: str
    run_id: str
    timestamp: datetime
    method: str
    var: float | None
    cvar: float | None
    sharpe: float | None
    sortino: float | None
    drawdown: float | None
    equity: float | None
    gross_notional: float | None
    net_notional: float | None
    leverage: float | None
    delta_usd: float | None
    gamma_usd: float | None
    vega_usd: float | None
    theta_usd: float | None
    mc_stderr: float | None
    confidence: float | None
    horizon_days: float | None


class RiskMetrics(ApiModel):
    latest: list[RiskMetric] = Field(description="Latest row of every portfolio and method.")
    history: Page[RiskMetric]


class Signal(ApiModel):
    signal_id: str
    run_id: str
    symbol: str
    timestamp: datetime
    direction: str
    strength: float | None = Field(description="Target exposure in [-1, 1] of the risk budget.")
    confidence: float | None
    horizon_minutes: int
    provider: str
    model: str | None
    rationale: str
    feature_snapshot: str
    fallback_reason: str | None
    created_at: datetime


class Order(ApiModel):
    """An order intent and the latest state of it in the order ledger (null: never sent)."""

    client_order_id: str
    run_id: str
    portfolio_id: str
    strategy: str
    symbol: str
    leg: str
    timestamp: datetime = Field(description="Decision bar.")
    side: str
    quantity: float | None
    order_type: str
    limit_price: float | None
    reduce_only: bool
    notional: float | None
    status: str = Field(description="accepted | refused (by pre-trade checks).")
    reason: str | None
    last_event: str | None
    last_event_at: datetime | None
    filled_quantity: float | None
    last_price: float | None
    venue_order_id: str | None


class Run(ApiModel):
    """A run manifest; JSON columns are returned parsed."""

    run_id: str
    flow: str
    status: str
    timestamp: datetime
    finished_at: datetime | None
    parameters: Any
    seed: int | None
    as_of: datetime | None
    code_version: str
    package_versions: Any
    snapshots: Any
    llm_model: str | None
    stage_durations: Any
    message: str | None

    @field_validator(
        "parameters", "package_versions", "snapshots", "stage_durations", mode="before"
    )
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        """JSON text is returned parsed; anything unparsable as it is."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


# --- market ---------------------------------------------------------------------------------


class MarketSummary(ApiModel):
    """Last price, 24h statistics, funding and realised volatility of one perpetual."""

    symbol: str
    last_price: float | None = Field(description="Ticker last price, else the last close.")
    price_timestamp: datetime | None
    bid: float | None
    ask: float | None
    mark: float | None
    index: float | None
    bar_timestamp: datetime | None = Field(description="Open time of the last bar.")
    open_24h: float | None
    high_24h: float | None
    low_24h: float | None
    close: float | None
    change_24h: float | None = Field(description="close / open_24h - 1 (a fraction).")
    volume_24h: float | None = Field(description="Base currency, summed over 24h of bars.")
    bars_24h: int
    realized_vol_24h: float | None = Field(
        description="Annualised close-to-close volatility of the last 24h of bars (fraction)."
    )
    funding_rate: float | None = Field(description="Latest 8h funding rate (fraction).")
    funding_timestamp: datetime | None


class Bar(ApiModel):
    timestamp: datetime = Field(description="Bucket open time.")
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    volume: float | None
    bars: int = Field(description="Stored bars aggregated into this one.")


class Ohlcv(ApiModel):
    symbol: str
    timeframe: str
    items: list[Bar] = Field(description="Oldest first.")
    next_since: datetime | None = Field(description="`since` of the next page; null at the end.")


class OptionQuote(ApiModel):
    """Latest quote of one option; IV annualised fraction; Black-76 Greeks on mark IV."""

    symbol: str
    timestamp: datetime
    expiry: datetime
    strike: float
    option_type: str
    settlement: str
    bid: float | None
    ask: float | None
    mark: float | None
    bid_iv: float | None
    ask_iv: float | None
    mark_iv: float | None
    underlying_price: float | None
    open_interest: float | None
    expiry_years: float = Field(description="ACT/365 from the quote to expiry.")
    delta: float | None = Field(description="Forward delta (per 1 unit of underlying).")
    gamma: float | None = Field(description="Per unit of underlying, per unit move.")
    vega: float | None = Field(description="Per 1.00 (100 points) of volatility.")


class OptionChain(ApiModel):
    underlying: str
    timestamp: datetime | None = Field(description="Newest quote of the chain.")
    greeks: str = Field(description="Where the Greeks come from.")
    quotes: list[OptionQuote]


# --- streams (not in OpenAPI: sent over /ws/*) ---------------------------------------------------


class PriceRow(ApiModel):
    symbol: str
    ticker_timestamp: datetime | None
    bid: float | None
    ask: float | None
    last: float | None
    mark: float | None
    bar_timestamp: datetime | None
    close: float | None


class Alert(ApiModel):
    alert_id: str
    run_id: str
    timestamp: datetime
    kind: str
    severity: str
    message: str
    details: str


class StreamMessage(ApiModel):
    """One WebSocket frame: the channel, a sequence number per connection and the data."""

    channel: Literal["prices", "positions", "alerts"]
    sequence: int
    data: list[PriceRow] | list[Position] | list[Alert]
