"""The seam between the simulated venue's market side and its trading side.

:class:`qbtc.market.sim.SimExchange` owns prices; a :class:`TradingBackend` owns the venue's
own book (orders, fills, balances, positions), kept apart from qbtc's ledger the way a real
venue's is. The exchange hands itself to the backend once, through :meth:`TradingBackend.attach`,
as a :class:`MarketView`: the backend reads prices and the venue clock from it and never
generates prices of its own. Every trading method keeps ccxt's signature and return shapes.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from qbtc.market.protocol import SettlementHistory, Trading


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


class TradingDelegate:
    """The trading methods of an exchange whose trading side is a :class:`TradingBackend`.

    Each forwards to ``self._backend(method)``; :meth:`_order_price` runs before an order is
    placed (to check the symbol, or to express a limit price in the backend's units). Used by
    the simulated venue and by the dry-run exchange (:mod:`qbtc.market.dryrun`).
    """

    def _backend(self, method: str) -> TradingBackend:
        raise NotImplementedError

    def _order_price(self, symbol: str, price: float | None) -> float | None:
        return price

    def _order_seen(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order the backend answers with, as this venue shows it (as is, by default)."""
        return order

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        price = self._order_price(symbol, price)
        backend = self._backend("create_order")
        return self._order_seen(backend.create_order(symbol, type, side, amount, price, params))

    def cancel_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._backend("cancel_order").cancel_order(id, symbol, params)

    def fetch_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._order_seen(self._backend("fetch_order").fetch_order(id, symbol, params))

    def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return self._backend("fetch_open_orders").fetch_open_orders(symbol, since, limit, params)

    def fetch_balance(self) -> dict[str, Any]:
        return self._backend("fetch_balance").fetch_balance()

    def fetch_positions(self, symbols: list[str] | None = None) -> list[dict[str, Any]]:
        return self._backend("fetch_positions").fetch_positions(symbols)

    def fetch_my_settlement_history(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The account's option settlements at expiry (ccxt ``fetchMySettlementHistory``)."""
        backend = self._backend("fetch_my_settlement_history")
        if not isinstance(backend, SettlementHistory):
            import ccxt  # only on this error path: importing ccxt takes seconds

            raise ccxt.NotSupported("this trading backend does not settle options")
        return backend.fetch_my_settlement_history(symbol, since, limit, params)
