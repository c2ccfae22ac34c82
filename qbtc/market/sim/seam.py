"""The seam between the simulated venue's market side and its trading side.

:class:`qbtc.market.sim.SimExchange` owns prices; a :class:`TradingBackend` owns the venue's
own book (orders, fills, balances, positions), kept apart from qbtc's ledger the way a real
venue's is. The exchange hands itself to the backend once, through :meth:`TradingBackend.attach`,
as a :class:`MarketView`: the backend reads prices and the venue clock from it and never
generates prices of its own. Every trading method keeps ccxt's signature and return shapes.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from qbtc.market.protocol import Trading


@runtime_checkable
class MarketView(Protocol):
    """What a trading backend may read from the exchange it is attached to."""

    @property
    def id(self) -> str: ...

    def milliseconds(self) -> int:
        """The venue clock, Unix milliseconds (the fixed ``as_of`` or the wall clock)."""
        ...

    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]: ...

    def market(self, symbol: str) -> dict[str, Any]:
        """The ccxt market of a listed perp or of any live option (its lots, ticks, limits)."""
        ...

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        """ccxt ticker of a perp or option symbol at the venue clock (bid, ask, last, mark)."""
        ...

    def delivery_price(self, underlying: str, expiry_ms: int) -> float:
        """The price options on ``underlying`` expiring at ``expiry_ms`` settle at (USDT)."""
        ...


@runtime_checkable
class TradingBackend(Trading, Protocol):
    """The trading side of the simulated venue (implemented in ``qbtc/market/sim/trading.py``)."""

    def attach(self, market: MarketView) -> None:
        """Called once by the exchange's constructor with the exchange itself.

        The trading methods (``create_order`` ... ``fetch_positions``) are those of
        :class:`qbtc.market.protocol.Trading`.
        """
        ...
