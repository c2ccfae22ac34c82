"""Market answers: summaries, bars, option chains and price rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from qbtc.api.models.base import ApiModel
from qbtc.units import GREEK_UNITS


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
    """Latest quote of one option; IVs annualised fractions; Black-76 Greeks on the mark IV.

    Greeks are derivatives of the premium in its currency (USDT when `settlement` is
    linear, coin when inverse), undiscounted; null when an input is missing.
    """

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
    bid_size: float | None = Field(
        None, description="Contracts quoted at the bid (null when the venue does not say)."
    )
    ask_size: float | None = Field(
        None, description="Contracts quoted at the ask (null when the venue does not say)."
    )
    expiry_years: float = Field(description="ACT/365 from the quote to expiry.")
    delta: float | None = Field(description=GREEK_UNITS["delta"])
    gamma: float | None = Field(description=GREEK_UNITS["gamma"])
    vega: float | None = Field(description=GREEK_UNITS["vega"])
    theta: float | None = Field(description=GREEK_UNITS["theta"])


class OptionChain(ApiModel):
    underlying: str
    timestamp: datetime | None = Field(description="Newest quote of the chain.")
    greeks: str = Field(description="Where the Greeks come from.")
    quotes: list[OptionQuote]


class PriceRow(ApiModel):
    symbol: str
    ticker_timestamp: datetime | None
    bid: float | None
    ask: float | None
    last: float | None
    mark: float | None
    bar_timestamp: datetime | None
    close: float | None
