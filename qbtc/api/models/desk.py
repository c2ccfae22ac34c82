"""Answers behind the dashboard: equity and PnL over time, exposures, stress, desk settings.

Money is USDT; Greeks follow :mod:`qbtc.risk.exposure` (gamma per 1% move, vega per vol
point, theta per calendar day); fractions are fractions (0.15 = 15%).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from qbtc.api.models.base import ApiModel


class PnlSeries(ApiModel):
    """Equity and PnL of one portfolio over a window, as columns (oldest first).

    PnL at a time sums the latest snapshot of every position at or before it; equity and
    drawdown come from the risk rows of phase 'book' (null at times without one).
    """

    portfolio_id: str
    capital: float = Field(description="Starting equity, USDT (QBTC_CAPITAL).")
    max_drawdown: float = Field(
        description="Drawdown at which the kill switch trips, fraction (QBTC_MAX_DRAWDOWN)."
    )
    total_points: int = Field(description="Points in the window before thinning.")
    timestamp: list[datetime] = Field(description="Oldest first; at most max_points.")
    equity: list[float | None] = Field(description="Equity of the book, USDT.")
    drawdown: list[float | None] = Field(description="Drawdown from peak equity, fraction.")
    realized_pnl: list[float] = Field(description="Realised PnL so far, USDT.")
    unrealized_pnl: list[float] = Field(description="Unrealised PnL at the marks, USDT.")
    fees: list[float] = Field(description="Fees paid so far, USDT (positive = paid).")
    funding: list[float] = Field(description="Funding received so far, USDT (negative = paid).")
    total_pnl: list[float] = Field(description="realized + unrealized - fees + funding, USDT.")


class RiskSeries(ApiModel):
    """VaR and CVaR of one VaR method over a window, as columns (oldest first).

    Losses are positive USDT at the method's confidence and horizon; `pre_trade` is the book a
    cycle's checks saw before its orders, `book` the book as held (null where no such row).
    """

    portfolio_id: str
    method: str
    var_limit: float = Field(description="99% 1-day VaR limit, USDT (QBTC_MAX_VAR_99).")
    total_points: int = Field(description="Points in the window before thinning.")
    timestamp: list[datetime]
    var_book: list[float | None] = Field(description="VaR after the cycle's orders, USDT.")
    cvar_book: list[float | None] = Field(description="CVaR after the cycle's orders, USDT.")
    var_pre_trade: list[float | None] = Field(description="VaR before the orders, USDT.")
    cvar_pre_trade: list[float | None] = Field(description="CVaR before the orders, USDT.")


class UnderlyingExposure(ApiModel):
    """Greeks of every position on one underlying, and the perp hedge of its options."""

    underlying: str
    spot: float = Field(description="Spot used (perp mark, else median option forward), USDT.")
    delta_coin: float = Field(description="Net delta, coins (perps plus option deltas).")
    delta_usd: float = Field(description="Net delta, USDT (delta_coin x spot).")
    gamma_usd: float = Field(description="Change of delta_usd for a 1% move up, USDT.")
    vega_usd: float = Field(description="PnL for one vol point rise of implied vol, USDT.")
    theta_usd: float = Field(description="PnL of one calendar day passing, USDT.")
    options_delta_coin: float = Field(description="Delta of the option legs alone, coins.")
    perp_delta_coin: float = Field(description="Delta of the perps (the hedge), coins.")


class SymbolNotional(ApiModel):
    symbol: str
    notional: float = Field(description="Signed notional, USDT (options at delta-equivalent).")


class Exposures(ApiModel):
    """The book on the latest marks: exposure per underlying and per symbol, and the hedge."""

    portfolio_id: str
    as_of: datetime | None = Field(description="Time of the marks used; null with no data.")
    gross_notional: float = Field(description="Sum of absolute notionals, USDT.")
    net_notional: float = Field(description="Signed sum of notionals, USDT.")
    delta_usd: float = Field(description="USDT.")
    gamma_usd: float = Field(description="USDT per 1% move.")
    vega_usd: float = Field(description="USDT per vol point.")
    theta_usd: float = Field(description="USDT per day.")
    hedge_band_usd: float = Field(description="No-trade band of the delta hedge, USDT.")
    by_underlying: list[UnderlyingExposure]
    by_symbol: list[SymbolNotional]
    note: str | None = Field(description="Why the book could not be valued, when it could not.")


class StressRow(ApiModel):
    name: str
    spot_shift: float = Field(description="Spot move, simple return (-0.2 = down 20%).")
    vol_shift: float = Field(description="Implied vol move, vol units (0.2 = up 20 points).")
    pnl: float = Field(description="Instant PnL of the book, USDT (gains positive).")


class Stress(ApiModel):
    """The book revalued in full under standard spot and volatility shocks."""

    portfolio_id: str
    as_of: datetime | None
    scenarios: list[StressRow]
    note: str | None = Field(description="Why the book could not be valued, when it could not.")


class LimitsRow(ApiModel):
    """Risk limits of the desk (settings), USDT unless stated."""

    max_var_99: float = Field(description="99% 1-day VaR limit, USDT.")
    max_drawdown: float = Field(description="Kill switch trips beyond this drawdown, fraction.")
    max_gross_notional: float
    max_net_notional: float
    max_symbol_notional: float
    max_leverage: float = Field(description="Gross notional / equity.")
    max_delta_usd: float
    max_gamma_usd: float = Field(description="USDT per 1% move.")
    max_vega_usd: float = Field(description="USDT per vol point.")
    delta_hedge_band_usd: float


class CircuitStatus(ApiModel):
    """The venue circuit breaker (``<data_dir>/state/circuit.json``)."""

    open: bool = Field(description="True while nothing is submitted to the venue.")
    consecutive_errors: int
    opened_at: datetime | None
    open_until: datetime | None
    reason: str | None
    threshold: int = Field(description="Consecutive venue errors that open it.")
    cooldown_s: int = Field(description="Seconds it stays open.")


class DeskInfo(ApiModel):
    """What the desk is set up to trade, its limits and where its runs are seen."""

    portfolio_id: str
    capital: float = Field(description="Starting equity, USDT.")
    exchange: str
    options_exchange: str
    symbols: list[str]
    option_underlyings: list[str]
    timeframe: str
    signal_provider: str
    live: bool
    prefect_ui_url: str = Field(description="Prefect UI; a run's page is <url>/runs/flow-run/<id>.")
    limits: LimitsRow
    circuit: CircuitStatus


class MarketUniverse(ApiModel):
    """What has market data now (configured symbols may have none yet)."""

    perps: list[str] = Field(description="Symbols with bars or tickers.")
    option_underlyings: list[str] = Field(description="Underlyings with option quotes.")
