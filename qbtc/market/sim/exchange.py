"""The simulated venue: ccxt-shaped market data, deterministic and offline.

``SimExchange(seed, as_of)`` answers like a ccxt exchange (``binanceusdm``-style perps and
Binance-style USDT options) from the counter-based model of :mod:`qbtc.market.sim.daily` and
:mod:`qbtc.market.sim.intraday`: any window regenerates identically, in any request order.
The venue clock is the fixed ``as_of`` or the wall clock; only bars closed at that clock are
ever returned. Trading calls go to the attached :class:`~qbtc.market.sim.seam.TradingBackend`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.market.contracts import is_option_symbol, parse_option_symbol
from qbtc.market.errors import UnknownSymbolError
from qbtc.market.sim import tickers
from qbtc.market.sim.chain import option_chain
from qbtc.market.sim.markets import all_markets, option_market, perp_market
from qbtc.market.sim.option_trading import SETTLEMENT_WINDOW_MS
from qbtc.market.sim.options import ChainDepth
from qbtc.market.sim.seam import TradingBackend, TradingDelegate
from qbtc.market.sim.snapshot import last_closed_bar_ms, minute_window
from qbtc.market.sim.universe import BY_SYMBOL, EPOCH_MS, MINUTE_MS, OPTION_UNDERLYINGS

TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
DEFAULT_OHLCV_LIMIT = 500
MAX_OHLCV_LIMIT = 1500
DEFAULT_FUNDING_LIMIT = 100
MAX_FUNDING_LIMIT = 1000


_UNIT_MS = {"m": MINUTE_MS, "h": 60 * MINUTE_MS, "d": 1440 * MINUTE_MS}


def _ccxt_error(name: str, message: str) -> Exception:
    """A ccxt exception, importing ccxt (seconds) only when an error is actually raised."""
    import ccxt

    error: type[Exception] = getattr(ccxt, name)
    return error(message)


def sim_timeframe_ms(timeframe: str) -> int:
    """Length of a simulated timeframe in milliseconds; a clear error for unsupported ones."""
    if timeframe not in TIMEFRAMES:
        raise _ccxt_error(
            "BadRequest",
            f"sim does not offer timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}",
        )
    return int(timeframe[:-1]) * _UNIT_MS[timeframe[-1]]


def _to_ms(as_of: datetime | None) -> int | None:
    if as_of is None:
        return None
    moment = as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class SimExchange(TradingDelegate):
    """Deterministic simulated venue (perps and BTC/ETH options), ccxt unified subset.

    Parameters
    ----------
    seed : int
        Seed of every random stream; the same seed gives the same market.
    as_of : datetime, optional
        Fixed venue clock (naive means UTC); None follows the wall clock.
    symbols : tuple of str
        Perpetuals listed (ccxt symbols); an unknown one raises :class:`UnknownSymbolError`.
    trading : TradingBackend, optional
        The venue's trading side; without it, trading calls raise ``ccxt.NotSupported``.
    chain_depth : {"standard", "full"}
        Strike range of the listed option chains (``full``: Deribit-sized).
    """

    id = "sim"
    name = "qbtc simulated venue"
    timeframes: ClassVar[dict[str, str]] = {tf: tf for tf in TIMEFRAMES}
    has: ClassVar[dict[str, bool]] = {
        "fetchOHLCV": True,
        "fetchTicker": True,
        "fetchTickers": True,
        "fetchFundingRateHistory": True,
        "fetchOptionChain": True,
        "fetchMySettlementHistory": True,
    }

    def __init__(
        self,
        seed: int = 7,
        as_of: datetime | None = None,
        symbols: tuple[str, ...] | list[str] = DEFAULT_SYMBOLS,
        trading: TradingBackend | None = None,
        chain_depth: ChainDepth = "standard",
    ) -> None:
        for symbol in symbols:
            if symbol not in BY_SYMBOL:
                raise UnknownSymbolError(symbol, tuple(BY_SYMBOL), self.id)
        self.seed = int(seed)
        self.symbols: tuple[str, ...] = tuple(symbols)
        self._as_of_ms = _to_ms(as_of)
        self.markets: dict[str, dict[str, Any]] | None = None
        self._markets_minute: int | None = None
        self.trading = trading
        self.chain_depth: ChainDepth = chain_depth
        if trading is not None:
            trading.attach(self)

    # -- clock --------------------------------------------------------------------------------
    def milliseconds(self) -> int:
        """Venue clock in Unix milliseconds (the fixed ``as_of`` or the wall clock)."""
        if self._as_of_ms is not None:
            return self._as_of_ms
        return int(time.time() * 1000)

    def set_clock(self, as_of: datetime | None) -> None:
        """Move the venue clock to ``as_of`` (None: follow the wall clock)."""
        self._as_of_ms = _to_ms(as_of)

    # -- markets ------------------------------------------------------------------------------
    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]:
        """Perps plus the options listed at the venue clock (re-listed each new minute)."""
        minute = self.milliseconds() // MINUTE_MS
        if reload or self.markets is None or minute != self._markets_minute:
            self.markets = all_markets(
                self.seed, self.symbols, minute * MINUTE_MS, self.chain_depth
            )
            self._markets_minute = minute
        return self.markets

    def market(self, symbol: str) -> dict[str, Any]:
        """The ccxt market of a listed perp, or of any live BTC/ETH option contract."""
        if symbol in self.symbols:
            return perp_market(symbol)
        if is_option_symbol(symbol):
            contract = parse_option_symbol(symbol)
            live = contract.expiry.timestamp() * 1000 > self.milliseconds()
            if contract.base in OPTION_UNDERLYINGS and contract.settle == "USDT" and live:
                market_id = f"{contract.base}-{symbol.split('-', 1)[1]}"
                return option_market(symbol, market_id)
        raise UnknownSymbolError(symbol, self.symbols, self.id)

    # -- market data --------------------------------------------------------------------------
    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
    ) -> list[list[float]]:
        """Closed candles ``[ms, open, high, low, close, volume]``, ascending, at most 1500.

        Without ``since``, the last ``limit`` (default 500) closed bars; with it, bars opening
        at or after ``since``. Volume in base currency.
        """
        if self.market(symbol)["type"] != "swap":
            raise _ccxt_error("NotSupported", "sim offers candles for perpetuals only")
        step = sim_timeframe_ms(timeframe)
        count = DEFAULT_OHLCV_LIMIT if limit is None else min(max(int(limit), 1), MAX_OHLCV_LIMIT)
        end = last_closed_bar_ms(self.milliseconds(), step) + step
        if since is None:
            start = max(end - count * step, EPOCH_MS)
        else:
            start = max(-(-int(since) // step) * step, EPOCH_MS)
        stop = min(start + count * step, end)
        if start >= stop:
            return []
        bars = minute_window(self.seed, symbol, start, stop)
        if step != MINUTE_MS:
            bars = _aggregate(bars, step // MINUTE_MS)
        columns = (
            bars[name].tolist() for name in ("timestamp", "open", "high", "low", "close", "volume")
        )
        return [list(row) for row in zip(*columns, strict=True)]

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        """ccxt ticker of a perp (24h stats, top of book, mark and index) or of an option."""
        market = self.market(symbol)
        now = self.milliseconds()
        if market["option"]:
            return tickers.option_ticker(self.seed, parse_option_symbol(symbol), now)
        return tickers.perp_ticker(self.seed, symbol, now)

    def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Tickers of ``symbols`` (default: every listed perp), keyed by symbol."""
        return {symbol: self.fetch_ticker(symbol) for symbol in symbols or self.symbols}

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Funding settlements (every 8 hours: 00:00, 08:00, 16:00 UTC) up to the clock."""
        if self.market(symbol)["type"] != "swap":
            raise _ccxt_error("BadSymbol", f"{symbol} is not a perpetual: it has no funding")
        count = (
            DEFAULT_FUNDING_LIMIT if limit is None else min(max(int(limit), 1), MAX_FUNDING_LIMIT)
        )
        return tickers.funding_history(self.seed, symbol, self.milliseconds(), since, count)

    def fetch_option_chain(self, code: str) -> dict[str, dict[str, Any]]:
        """Every listed option on ``code`` (BTC or ETH): symbol -> ccxt option structure."""
        if code not in OPTION_UNDERLYINGS:
            raise UnknownSymbolError(code, OPTION_UNDERLYINGS, self.id)
        return option_chain(self.seed, code, self.milliseconds(), self.chain_depth)

    def delivery_price(self, underlying: str, expiry_ms: int) -> float:
        """Delivery price (USDT) of options on ``underlying`` expiring at ``expiry_ms``.

        As on Deribit: the average of the underlying's index over the 30 minutes before
        expiry (the index of the 30 one-minute bars opening 07:30 to 07:59 UTC). Known only
        once the venue clock has reached expiry.
        """
        if underlying not in OPTION_UNDERLYINGS:
            raise UnknownSymbolError(underlying, OPTION_UNDERLYINGS, self.id)
        if expiry_ms > self.milliseconds():
            raise _ccxt_error("BadRequest", f"sim: no delivery price before expiry {expiry_ms}")
        start = expiry_ms - SETTLEMENT_WINDOW_MS
        bars = minute_window(self.seed, f"{underlying}/USDT:USDT", start, expiry_ms)
        return float(np.mean(bars["index"]))

    # -- trading (delegated) ------------------------------------------------------------------
    def _backend(self, method: str) -> TradingBackend:
        if self.trading is None:
            raise _ccxt_error(
                "NotSupported",
                f"sim {method}: this simulated venue has no trading backend attached; "
                "open it with trading=<a TradingBackend> (see qbtc.market.sim.seam)",
            )
        return self.trading

    def _order_price(self, symbol: str, price: float | None) -> float | None:
        self.market(symbol)  # an unknown or expired symbol is refused before the backend
        return price


def _aggregate(bars: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Aggregate one-minute bars (aligned, a multiple of ``size``) into ``size``-minute bars."""
    shaped = {name: values.reshape(-1, size) for name, values in bars.items()}
    return {
        "timestamp": shaped["timestamp"][:, 0],
        "open": shaped["open"][:, 0],
        "high": shaped["high"].max(axis=1),
        "low": shaped["low"].min(axis=1),
        "close": shaped["close"][:, -1],
        "volume": np.round(shaped["volume"].sum(axis=1), 8),
    }
