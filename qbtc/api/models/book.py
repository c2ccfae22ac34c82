"""Rows of the book: positions, risk, signals, orders, runs and alerts (mirror qbtc.schemas)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from qbtc.api.models.base import ApiModel, Page
from qbtc.units import POSITION_GREEK_UNITS, RATIO_UNITS, RISK_UNITS


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
    delta: float | None = Field(description=POSITION_GREEK_UNITS["delta"])
    gamma: float | None = Field(description=POSITION_GREEK_UNITS["gamma"])
    vega: float | None = Field(description=POSITION_GREEK_UNITS["vega"])
    theta: float | None = Field(description=POSITION_GREEK_UNITS["theta"])
    timestamp: datetime
    pnl_usd: float | None = Field(
        None, description="Net PnL in USD: realised + unrealised - fees + funding."
    )
    pnl_coin: float | None = Field(
        None,
        description="Net PnL of a coin-settled (inverse) option in its coin (pnl_coin_currency):"
        " premiums, fees and settlement as paid in coin, the open quantity at the coin mark;"
        " null for other instruments.",
    )
    pnl_coin_currency: str | None = Field(
        None, description="The coin of pnl_coin (BTC, ETH); null for other instruments."
    )
    structure_id: str | None = Field(
        None, description="Option structure the leg belongs to (null for perps)."
    )
    structure_state: str | None = Field(
        None,
        description="State of the leg's option structure, judged on the portfolio's whole book"
        " (every page alike): `complete`, or `incomplete: <leg> held <q>, <missing> to the"
        " structure's size` for each leg short of the structure's size (its largest leg), as in"
        " `qbtc positions`; null for a position of no structure.",
    )


class RiskMetric(ApiModel):
    """Risk of a book: VaR/CVaR USDT (loss positive) at `confidence` over `horizon_days`."""

    portfolio_id: str
    run_id: str
    timestamp: datetime
    method: str
    phase: str = Field(
        description="pre_trade: the book a cycle's checks saw, before its orders; "
        "book: the book as held (after a cycle's orders, and every risk-monitor run)."
    )
    var: float | None
    cvar: float | None
    sharpe: float | None = Field(description=f"Sharpe ratio, {RATIO_UNITS}.")
    sortino: float | None = Field(description=f"Sortino ratio, {RATIO_UNITS}.")
    drawdown: float | None
    equity: float | None
    gross_notional: float | None
    net_notional: float | None
    leverage: float | None
    delta_usd: float | None = Field(description=RISK_UNITS["delta_usd"])
    gamma_usd: float | None = Field(description=RISK_UNITS["gamma_usd"])
    vega_usd: float | None = Field(description=RISK_UNITS["vega_usd"])
    theta_usd: float | None = Field(description=RISK_UNITS["theta_usd"])
    mc_stderr: float | None
    confidence: float | None
    horizon_days: float | None


class UnderlyingGreeksRow(ApiModel):
    """The book's Greeks on one underlying (a ``book_greeks`` row) and its perp hedge."""

    portfolio_id: str
    run_id: str
    timestamp: datetime
    phase: str
    underlying: str
    spot: float | None
    delta_coin: float | None = Field(description="Net delta, coins (options + perps).")
    option_delta_coin: float | None = Field(description="Delta of the option legs, coins.")
    perp_delta_coin: float | None = Field(description="Perp position, coins.")
    delta_usd: float | None = Field(description=RISK_UNITS["delta_usd"])
    gamma_usd: float | None = Field(description=RISK_UNITS["gamma_usd"])
    vega_usd: float | None = Field(description=RISK_UNITS["vega_usd"])
    theta_usd: float | None = Field(description=RISK_UNITS["theta_usd"])
    hedge_perp: str | None = Field(description="Perp hedging the options (pre_trade rows).")
    directional_coin: float | None = Field(
        description="Net delta the cycle aimed at: the perp's directional target, coins."
    )
    hedge_options_delta_coin: float | None = Field(
        description="Options delta the perp offsets after the cycle's option legs, coins."
    )
    band_usd: float | None = Field(description="No-trade band of the hedge, USDT.")


class RiskMetrics(ApiModel):
    latest: list[RiskMetric] = Field(description="Latest row of every portfolio, method and phase.")
    history: Page[RiskMetric]
    greeks: list[UnderlyingGreeksRow] = Field(
        default_factory=list,
        description="Latest Greeks per portfolio, phase and underlying, with the perp hedge.",
    )


class SignalRow(ApiModel):
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
    structure_id: str | None = Field(
        None, description="Option structure of an option leg (null for perps)."
    )


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


class Alert(ApiModel):
    alert_id: str
    run_id: str
    timestamp: datetime
    kind: str
    severity: str
    message: str
    details: str
