"""Answers behind the dashboard: equity and PnL over time, exposures, stress, desk settings.

Money is USDT; Greeks follow :mod:`qbtc.risk.exposure` (gamma per 1% move, vega per vol
point, theta per calendar day); fractions are fractions (0.15 = 15%).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from qbtc.api.models.base import ApiModel


class PnlPoint(ApiModel):
    """The book at one time: equity from the risk rows, PnL summed over its positions."""

    timestamp: datetime
    equity: float | None = Field(
        description="Equity of the book, USDT (risk row of phase 'book'); null between risk runs."
    )
    drawdown: float | None = Field(description="Drawdown from peak equity, fraction.")
    realized_pnl: float = Field(description="Realised PnL of every position so far, USDT.")
    unrealized_pnl: float = Field(description="Unrealised PnL at the snapshot's marks, USDT.")
    fees: float = Field(description="Fees paid so far, USDT (positive = paid).")
    funding: float = Field(description="Funding received so far, USDT (negative = paid).")
    total_pnl: float = Field(description="realized + unrealized - fees + funding, USDT.")


class PnlSeries(ApiModel):
    """Equity and PnL of one portfolio over a window, oldest first."""

    portfolio_id: str
    capital: float = Field(description="Starting equity, USDT (QBTC_CAPITAL).")
    max_drawdown: float = Field(
        description="Drawdown at which the kill switch trips, fraction (QBTC_MAX_DRAWDOWN)."
    )
    points: list[PnlPoint] = Field(description="Oldest first; thinned to at most max_points.")
    total_points: int = Field(description="Points in the window before thinning.")


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


class Limits(ApiModel):
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
    limits: Limits
    circuit: CircuitStatus
