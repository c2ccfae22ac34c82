"""An order's lineage: intent and risk decision, ledger, fills, signal, features, LLM, run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from qbtc.api.models.base import ApiModel
from qbtc.api.models.book import Order, RiskMetric, Run, SignalRow


class OrderEventRow(ApiModel):
    """One row of the append-only order ledger."""

    event_id: str
    client_order_id: str
    run_id: str
    timestamp: datetime
    event: str = Field(
        description="intent | submitted | acknowledged | partially_filled | filled | "
        "cancelled | rejected | reconciled"
    )
    symbol: str
    side: str
    quantity: float | None = Field(description="Ordered, contracts.")
    filled_quantity: float | None = Field(description="Filled so far, contracts.")
    price: float | None = Field(description="Fill or limit price, USDT (premium ccy for options).")
    venue_order_id: str | None
    reason: str | None


class FillRow(ApiModel):
    """An execution from the venue; fee in fee_currency (positive = paid)."""

    fill_id: str
    client_order_id: str
    venue_order_id: str
    portfolio_id: str
    symbol: str
    timestamp: datetime
    side: str
    quantity: float | None = Field(description="Contracts.")
    price: float | None
    fee: float | None
    fee_currency: str
    liquidity: str
    underlying_price: float | None = Field(
        None,
        description="USD price of the underlying a coin-settled option's coin premium and fee"
        " were converted at (null for other instruments).",
    )


class LlmCallRow(ApiModel):
    """One LLM request and its answer (status ok | cached | rejected | error)."""

    call_id: str
    run_id: str
    timestamp: datetime
    provider: str
    model: str
    prompt_hash: str
    prompt: str
    response: str | None
    status: str
    error: str | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float | None = Field(description="Milliseconds.")
    cost_usd: float | None = Field(description="USD.")


class VolViewRow(ApiModel):
    """A volatility view: vol_view in [-1, 1] (positive: options cheap, buy volatility)."""

    view_id: str
    run_id: str
    underlying: str
    timestamp: datetime = Field(description="Decision bar.")
    vol_view: float | None = Field(description="In [-1, 1]: > 0 buy volatility, < 0 sell it.")
    confidence: float | None = Field(description="In [0, 1].")
    horizon_minutes: int
    provider: str
    model: str | None
    rationale: str
    feature_snapshot: str
    expiry: datetime | None = Field(description="Expiry of the option features read.")
    tenor_days: float | None = Field(description="Days to that expiry.")
    atm_iv: float | None = Field(description="ATM implied vol, annualised fraction.")
    realised_forecast: float | None = Field(description="Forecast realised vol, fraction.")
    term_slope: float | None = Field(description="IV term-structure slope, per year.")
    rr_25d: float | None = Field(description="25-delta risk reversal, call minus put IV.")
    fallback_reason: str | None
    created_at: datetime


class Lineage(ApiModel):
    """Where an order came from, in the order a cycle made it (null: not stored)."""

    client_order_id: str
    intent: Order = Field(description="The intent, the pre-trade decision and its ledger state.")
    risk: list[RiskMetric] = Field(description="Pre-trade risk of the run, per VaR method.")
    events: list[OrderEventRow] = Field(description="Ledger events, oldest first.")
    fills: list[FillRow] = Field(description="Fills, oldest first.")
    signal: SignalRow | None = Field(description="The run's signal for the order's symbol.")
    features: dict[str, Any] | None = Field(
        description="The feature row of the symbol at the decision bar (what the signal read)."
    )
    vol_view: VolViewRow | None = Field(
        None, description="The run's volatility view of the order's underlying, when it has one."
    )
    llm_calls: list[LlmCallRow] = Field(
        description="LLM calls of the run (Gemini; none for rules)."
    )
    run: Run | None = Field(description="The run manifest.")
