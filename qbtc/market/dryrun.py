"""Dry-run: a real venue's live market data with a paper trading side (freqtrade's dry-run).

:class:`DryRunExchange` reads everything public from the real venue (candles, tickers,
funding, option chains: no keys needed) and sends every order to a paper trading backend
(:class:`qbtc.market.sim.trading.SimTrading`) that fills it against the venue's live quotes:
a buy at the ask, a sell at the bid, with fees and the venue's lots and minimums, and keeps
its own account (balance, positions, orders) in the data directory. Nothing reaches the
venue's order endpoints.

The paper side counts in the book's units (coins and USD, see
:mod:`qbtc.market.contract_spec`), so the venue is shown to it, and to the broker, that way:
an inverse option's coin prices become USD at the forward the venue quotes with it (a limit
price sent in coin, as the chain quotes it, is converted the same way), and a USD-sized
inverse perpetual's minimum becomes a minimum notional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbtc.market.ccxt_adapter import CcxtExchange
from qbtc.market.contract_spec import (
    ContractSpec,
    market_in_coins,
    underlying_price_from_ticker,
)
from qbtc.market.protocol import OHLCV
from qbtc.market.sim.seam import TradingBackend, TradingDelegate

_PRICE_KEYS = ("bid", "ask", "last", "close", "open", "high", "low", "markPrice", "vwap")


def book_market(market: Mapping[str, Any], *, exchange_id: str) -> dict[str, Any]:
    """A ccxt market as the book counts it: USD prices, amounts in coins of the underlying
    (:func:`~qbtc.market.contract_spec.market_in_coins`; an inverse option's coin tick
    is no grid in USD)."""
    spec = ContractSpec.from_market(market, exchange_id=exchange_id)
    out = market_in_coins(market, exchange_id=exchange_id)
    if spec.premium_in_coin:
        precision = {**(out.get("precision") or {}), "price": None}
        limits = {**(out.get("limits") or {}), "price": {"min": None, "max": None}}
        out.update(precision=precision, limits=limits, contractSize=1.0)
    if spec.inverse:
        out.update(linear=True, inverse=False, settle="USD")
    return out


class BookView:
    """The :class:`~qbtc.market.sim.seam.MarketView` of a real venue in the book's units."""

    def __init__(self, venue: CcxtExchange) -> None:
        self.venue = venue
        self._markets: dict[str, dict[str, Any]] = {}

    @property
    def id(self) -> str:
        return self.venue.id

    def milliseconds(self) -> int:
        return self.venue.milliseconds()

    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]:
        if reload or not self._markets:
            self._markets = {
                symbol: book_market(market, exchange_id=self.id)
                for symbol, market in self.venue.load_markets(reload).items()
            }
        return self._markets

    def market(self, symbol: str) -> dict[str, Any]:
        markets = self.load_markets()
        if symbol not in markets:
            self.venue.fetch_ticker(symbol)  # raises the venue's unknown-symbol error
        return markets[symbol]

    def spec(self, symbol: str) -> ContractSpec:
        return ContractSpec.from_market(self.venue.load_markets()[symbol], exchange_id=self.id)

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        return self._in_usd(symbol, self.venue.fetch_ticker(symbol))

    def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]:
        tickers = self.venue.fetch_tickers(symbols)
        return {s: self._in_usd(s, t) for s, t in tickers.items()}

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return self.venue.fetch_funding_rate_history(symbol, since, limit)

    def _in_usd(self, symbol: str, ticker: dict[str, Any]) -> dict[str, Any]:
        spec = self.spec(symbol)
        if not spec.premium_in_coin:
            return ticker
        forward = underlying_price_from_ticker(ticker)
        out = dict(ticker)
        for key in _PRICE_KEYS:
            if out.get(key) is not None:
                out[key] = spec.usd_price(float(out[key]), forward)
        return out

    def delivery_price(self, underlying: str, expiry_ms: int) -> float:
        """The venue's delivery price (USD) of ``underlying`` options expiring at ``expiry_ms``
        (Deribit: ``public/get_delivery_prices``; other venues do not publish it in ccxt)."""
        return self.venue.fetch_delivery_price(underlying, expiry_ms)

    def usd_price(self, symbol: str, price: float) -> float:
        """A price as the venue quotes ``symbol`` (coin for inverse options) in USD."""
        spec = self.spec(symbol)
        if not spec.premium_in_coin:
            return price
        return spec.usd_price(price, underlying_price_from_ticker(self.venue.fetch_ticker(symbol)))


class DryRunExchange(TradingDelegate):
    """A real venue's public data and a paper trading side (see the module docstring)."""

    def __init__(self, venue: CcxtExchange, trading: TradingBackend) -> None:
        self.venue = venue
        self.view = BookView(venue)
        self.trading = trading
        trading.attach(self.view)

    @property
    def id(self) -> str:
        return self.venue.id

    @property
    def source(self) -> str:
        return self.venue.source

    def milliseconds(self) -> int:
        return self.venue.milliseconds()

    # -- market data: the real venue, in the book's units --------------------------------------
    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]:
        return self.view.load_markets(reload)

    def market(self, symbol: str) -> dict[str, Any]:
        return self.view.market(symbol)

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ) -> OHLCV:
        return self.venue.fetch_ohlcv(symbol, timeframe, since, limit)

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        return self.view.fetch_ticker(symbol)

    def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]:
        return self.view.fetch_tickers(symbols)

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return self.venue.fetch_funding_rate_history(symbol, since, limit)

    def fetch_option_chain(self, code: str) -> dict[str, dict[str, Any]]:
        return self.venue.fetch_option_chain(code)

    # -- trading: the paper side ---------------------------------------------------------------
    def _backend(self, method: str) -> TradingBackend:
        return self.trading

    def _order_price(self, symbol: str, price: float | None) -> float | None:
        """A limit price comes as the venue quotes it (coin for an inverse option) and is
        filled against the live quotes in USD."""
        return None if price is None else self.view.usd_price(symbol, price)

    def _order_seen(self, order: dict[str, Any]) -> dict[str, Any]:
        """A paper fill of a coin-premium option, with ``underlyingPrice``: the forward its
        USD fill is worth in coin at (the venue's, now: the paper book fills at the live
        quotes when it is asked), so the book can follow the option in coin."""
        symbol = str(order.get("symbol") or "")
        if not order.get("filled") or not self.view.spec(symbol).premium_in_coin:
            return order
        ticker = self.venue.fetch_ticker(symbol)
        return order | {"underlyingPrice": underlying_price_from_ticker(ticker)}
