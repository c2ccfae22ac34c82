"""The seam between the simulated venue's market side and its trading side.

:class:`qbtc.market.sim.SimExchange` owns prices; a :class:`TradingBackend` owns the venue's
own book (orders, fills, balances, positions), kept apart from qbtc's ledger the way a real
venue's is. The exchange hands itself to the backend once, through :meth:`TradingBackend.attach`,
as a :class:`MarketView`: the backend reads prices and the venue clock from it and never
generates prices of its own. Every trading method keeps ccxt's signature and return shapes.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class MarketView(Protocol):
    """What a trading backend may read from the exchange it is attached to."""

    @property
    def id(self) -> str: ...

    def milliseconds(self) -> int:
        """The venue clock, Unix milliseconds (the fixed ``as_of`` or the wall clock)."""
        ...

    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]: ...

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        """ccxt ticker of a perp or option symbol at the venue clock (bid, ask, last, mark)."""
        ...


@runtime_checkable
class TradingBackend(Protocol):
    """The trading side of the simulated venue (implemented in ``qbtc/market/sim/trading.py``)."""

    def attach(self, market: MarketView) -> None:
        """Called once by the exchange's constructor with the exchange itself."""
        ...

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
