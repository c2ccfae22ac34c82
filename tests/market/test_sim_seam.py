"""The simulated venue's trading calls go through the TradingBackend seam."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from qbtc.market.errors import UnknownSymbolError
from qbtc.market.sim import MarketView, SimExchange, TradingBackend
from tests.market.conftest import AS_OF


class RecordingBackend:
    """A minimal backend: fills market orders at the venue's touch, remembers every call."""

    def __init__(self) -> None:
        self.market: MarketView | None = None
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def attach(self, market: MarketView) -> None:
        self.market = market

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        assert self.market is not None
        ticker = self.market.fetch_ticker(symbol)
        self.calls.append(("create_order", (symbol, type, side, amount, price, params)))
        fill = ticker["ask"] if side == "buy" else ticker["bid"]
        return {"id": "1", "symbol": symbol, "price": fill, "timestamp": self.market.milliseconds()}

    def cancel_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.calls.append(("cancel_order", (id, symbol, params)))
        return {"id": id, "status": "canceled"}

    def fetch_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.calls.append(("fetch_order", (id, symbol, params)))
        return {"id": id}

    def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        self.calls.append(("fetch_open_orders", (symbol, since, limit, params)))
        return []

    def fetch_balance(self) -> dict[str, Any]:
        self.calls.append(("fetch_balance", ()))
        return {"USDT": {"free": 1.0}}

    def fetch_positions(self, symbols: list[str] | None = None) -> list[dict[str, Any]]:
        self.calls.append(("fetch_positions", (symbols,)))
        return []


def test_without_a_backend_trading_is_not_supported_with_a_hint() -> None:
    venue = SimExchange(as_of=AS_OF)
    with pytest.raises(ccxt.NotSupported, match="no trading backend attached"):
        venue.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
    with pytest.raises(ccxt.NotSupported):
        venue.fetch_balance()


def test_the_backend_is_attached_and_reads_prices_from_the_venue() -> None:
    backend = RecordingBackend()
    assert isinstance(backend, TradingBackend)
    venue = SimExchange(seed=7, as_of=AS_OF, trading=backend)
    assert backend.market is venue
    order = venue.create_order("BTC/USDT:USDT", "market", "buy", 0.01, None, {"clientOrderId": "x"})
    assert order["price"] == venue.fetch_ticker("BTC/USDT:USDT")["ask"]
    assert order["timestamp"] == venue.milliseconds()
    venue.cancel_order("1", "BTC/USDT:USDT")
    venue.fetch_order("1")
    venue.fetch_open_orders("BTC/USDT:USDT", 5, 10)
    venue.fetch_balance()
    venue.fetch_positions(["BTC/USDT:USDT"])
    assert [name for name, _ in backend.calls] == [
        "create_order",
        "cancel_order",
        "fetch_order",
        "fetch_open_orders",
        "fetch_balance",
        "fetch_positions",
    ]
    assert backend.calls[3][1] == ("BTC/USDT:USDT", 5, 10, None)


def test_orders_on_unlisted_symbols_never_reach_the_backend() -> None:
    backend = RecordingBackend()
    venue = SimExchange(as_of=AS_OF, symbols=("BTC/USDT:USDT",), trading=backend)
    with pytest.raises(UnknownSymbolError):
        venue.create_order("ETH/USDT:USDT", "market", "buy", 1.0)
    assert backend.calls == []
