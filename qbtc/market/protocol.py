"""The exchange protocol: the subset of ccxt's unified API the pipeline uses.

Names, arguments and return shapes are ccxt's, so a ``ccxt.Exchange`` wrapped by
:class:`qbtc.market.ccxt_adapter.CcxtExchange` and the simulated venue
:class:`qbtc.market.sim.SimExchange` are interchangeable. Timestamps are integer milliseconds
since the Unix epoch (UTC), prices and volumes floats, as ccxt returns them:

- OHLCV: ``[[timestamp_ms, open, high, low, close, volume_base], ...]`` ascending, bar open time;
- ticker: dict with ``symbol, timestamp, bid, ask, last, markPrice, indexPrice, baseVolume,
  quoteVolume, info``;
- funding rate history: dicts with ``symbol, timestamp, fundingRate, info`` (a fraction per
  funding interval, settled at ``timestamp``);
- option chain: dict symbol -> ccxt option structure (``symbol, timestamp, impliedVolatility,
  markPrice, bidPrice, askPrice, underlyingPrice, openInterest, info``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

#: Suffix of the ``source`` of rows read from a venue's testnet or demo environment.
TESTNET_SUFFIX = "-testnet"

OHLCV = list[list[float]]


@runtime_checkable
class Trading(Protocol):
    """The order side of a venue (ccxt signatures and return shapes)."""

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...

    def cancel_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]: ...

    def fetch_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]: ...

    def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]: ...

    def fetch_balance(self) -> dict[str, Any]: ...

    def fetch_positions(self, symbols: list[str] | None = None) -> list[dict[str, Any]]: ...


@runtime_checkable
class SettlementHistory(Protocol):
    """A venue (or the simulator's trading side) that reports its option settlements."""

    def fetch_my_settlement_history(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """ccxt settlement structures: ``symbol, price`` (delivery), ``timestamp, info``."""
        ...


@runtime_checkable
class Exchange(Trading, Protocol):
    """A venue as the pipeline sees it (ccxt unified subset)."""

    @property
    def id(self) -> str:
        """The venue's id (``sim``, ``binanceusdm``): the ``source`` of stored rows."""
        ...

    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]: ...

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
    ) -> OHLCV: ...

    def fetch_ticker(self, symbol: str) -> dict[str, Any]: ...

    def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]: ...

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]: ...

    def fetch_option_chain(self, code: str) -> dict[str, dict[str, Any]]: ...

    def milliseconds(self) -> int: ...
