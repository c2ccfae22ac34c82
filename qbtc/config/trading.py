"""Settings of the trading side: signals, the book's risk limits, options and execution."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from qbtc.config.fields import MAX_USD
from qbtc.urls import secure_or_loopback

SignalProviderName = Literal["rules", "gemini", "replay", "strategy"]


class SignalSettings(BaseModel):
    """Which provider turns features into signals, and the Gemini client's knobs."""

    llm_provider: SignalProviderName = Field(
        "rules", description="rules | gemini | replay | strategy (the QBTC_STRATEGY plugin)"
    )
    strategy: str | None = Field(
        None,
        description="User strategy: module:Class or a qbtc.strategies entry point name.",
    )
    strategy_fallback: Literal["rules", "flat"] = Field(
        "rules", description="Answer used when the user strategy's answer is rejected."
    )
    gemini_api_key: SecretStr | None = None
    gemini_model: str = Field("gemini-3-flash-preview", description="Gemini model name.")
    gemini_base_url: str | None = Field(None, description="Gateway/proxy base URL for Gemini.")
    gemini_timeout_s: float = Field(30.0, gt=0, le=600, description="Per-request timeout, seconds.")
    gemini_max_retries: int = Field(3, ge=0, le=10)
    llm_token_budget: int = Field(200_000, ge=0, le=10**9, description="Max tokens spent per run.")

    @field_validator("gemini_base_url")
    @classmethod
    def _check_gemini_base_url(cls, value: str | None) -> str | None:
        if value is not None and not secure_or_loopback(value):
            raise ValueError(
                f"QBTC_GEMINI_BASE_URL {value!r} would send the API key in clear text: "
                "use https://, or http:// only to a loopback address (127.0.0.1, localhost, ::1)"
            )
        return value


class RiskSettings(BaseModel):
    """The book, its capital and every risk limit (USDT unless stated)."""

    portfolio_id: str = Field("main", description="Identifier of the book.")
    capital: float = Field(1_000_000.0, gt=0, le=MAX_USD, description="Starting equity, USDT.")
    target_vol: float = Field(
        0.20, gt=0, le=10, description="Annualised volatility target of the book."
    )
    max_gross_notional: float = Field(3_000_000.0, gt=0, le=MAX_USD, description="USDT.")
    max_net_notional: float = Field(1_500_000.0, gt=0, le=MAX_USD, description="USDT.")
    max_symbol_notional: float = Field(500_000.0, gt=0, le=MAX_USD, description="USDT, per symbol.")
    max_leverage: float = Field(3.0, gt=0, le=125, description="Gross notional / equity.")
    max_delta_usd: float = Field(1_000_000.0, gt=0, le=MAX_USD, description="Net delta, USDT.")
    max_gamma_usd: float = Field(
        250_000.0, gt=0, le=MAX_USD, description="Dollar gamma per 1% move."
    )
    max_vega_usd: float = Field(50_000.0, gt=0, le=MAX_USD, description="USDT per vol point.")
    max_var_99: float = Field(100_000.0, gt=0, le=MAX_USD, description="99% 1-day VaR limit, USDT.")
    max_order_notional: float = Field(250_000.0, gt=0, le=MAX_USD, description="USDT per order.")
    max_orders_per_cycle: int = Field(40, ge=1, le=10_000)
    max_drawdown: float = Field(0.15, gt=0, le=1, description="Kill switch trips beyond this.")
    max_data_age_s: int = Field(
        900, ge=1, le=30 * 86_400, description="Refuse to trade on older marks."
    )
    delta_hedge_band_usd: float = Field(
        5_000.0,
        ge=0,
        le=MAX_USD,
        description="No-trade band of a perp target (options delta hedge), USDT.",
    )
    mc_scenarios: int = Field(
        10_000, ge=100, le=10_000_000, description="Monte Carlo VaR scenarios."
    )
    max_gamma_usd_underlying: float = Field(
        100_000.0, gt=0, le=MAX_USD, description="Dollar gamma per 1% move, per underlying, USDT."
    )
    max_vega_usd_underlying: float = Field(
        2_500.0, gt=0, le=MAX_USD, description="Vega per underlying, USDT per vol point."
    )
    max_theta_usd: float = Field(
        10_000.0,
        gt=0,
        le=MAX_USD,
        description="Book theta (time decay paid or earned), USDT per day.",
    )
    max_theta_usd_underlying: float = Field(
        5_000.0, gt=0, le=MAX_USD, description="Theta per underlying, USDT per day."
    )
    max_premium_at_risk: float = Field(
        250_000.0,
        gt=0,
        le=MAX_USD,
        description="Premium of the long options held (at marks), USDT.",
    )
    max_short_option_margin: float = Field(
        500_000.0,
        gt=0,
        le=MAX_USD,
        description="Margin of the short options held, USDT (see limits).",
    )


class OptionsSettings(BaseModel):
    """The options leg: which structures are traded on vol views, and where on the chain."""

    options_enabled: bool = Field(True, description="Trade option structures on vol views.")
    option_structure: Literal["straddle", "strangle"] = Field(
        "straddle", description="straddle (ATM call + put) or strangle (call and put at a delta)."
    )
    option_target_delta: float = Field(
        0.25, gt=0, lt=0.5, description="Strangle legs: |forward delta| of the call and put."
    )
    option_min_expiry_days: float = Field(7.0, ge=0, description="Shortest expiry traded, days.")
    option_max_expiry_days: float = Field(
        45.0, gt=0, le=MAX_USD, description="Longest expiry traded, days."
    )
    option_target_expiry_days: float = Field(
        30.0, gt=0, le=MAX_USD, description="Preferred expiry inside the window, days."
    )
    option_vega_budget: float = Field(
        0.001,
        ge=0,
        le=0.05,
        description="Vega per underlying as a fraction of equity (USDT per vol point per USDT).",
    )
    option_vol_threshold: float = Field(
        0.1, ge=0, le=1, description="Smallest |vol_view| that opens a structure."
    )
    option_roll_hours: float = Field(
        48.0, ge=0, description="Roll or close a structure this many hours before expiry."
    )
    option_max_spread: float = Field(
        0.25,
        gt=0,
        le=MAX_USD,
        description="Skip a quote whose bid-ask spread exceeds this fraction of mid.",
    )
    option_min_quote_size: float = Field(
        0.0, ge=0, description="Skip a quote showing fewer contracts on the traded side."
    )


class ExecutionSettings(BaseModel):
    """How orders reach the venue: paper or live, the circuit breaker, option limit prices."""

    live: bool = Field(False, description="Send orders to a real venue (needs keys).")
    venue_error_threshold: int = Field(
        5, ge=1, le=1_000, description="Consecutive errors open the circuit."
    )
    circuit_cooldown_s: int = Field(300, ge=1, le=86_400)
    option_limit_inside: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Option limit price: fraction of the bid-ask spread a buy bids below the ask (a "
            "sell above the bid); 0 takes the touch, 0.5 is the mid."
        ),
    )
    option_max_slippage: float = Field(
        0.05,
        ge=0,
        le=1,
        description=(
            "Option limit price: never worse than this fraction of the mid away from the mid."
        ),
    )
