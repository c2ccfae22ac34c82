"""Brokers: the venue qbtc trades on, and how an intent becomes a venue order.

- paper: the simulated venue (:class:`qbtc.market.sim.SimExchange` with the trading side
  :class:`qbtc.market.sim.trading.SimTrading`), which keeps its own book and balances;
- live: a ccxt venue through :func:`qbtc.market.venue.open_exchange`, on the venue's testnet
  unless ``live`` is set explicitly, and always with API keys.

Both speak ccxt's unified API, so the submission path is the same. Orders carry the
intent's client order id (``clientOrderId``, sent to Binance as ``newClientOrderId``) and
``reduceOnly`` where the venue supports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.execution.circuit import Fault, classify
from qbtc.execution.intents import OrderIntent
from qbtc.market.protocol import Exchange

#: Venues whose perps accept ``reduceOnly`` on new orders (ccxt ids).
REDUCE_ONLY_VENUES = frozenset(
    {
        "sim",
        "binanceusdm",
        "binance",
        "bybit",
        "okx",
        "deribit",
        "bitget",
        "gateio",
        "kucoinfutures",
    }
)


class BrokerConfigError(ValueError):
    """The broker cannot be opened as configured; the message says what to set."""


@dataclass(frozen=True)
class BrokerSettings:
    """What is needed to open a broker (built from :class:`qbtc.config.Settings` by callers)."""

    exchange: str = "sim"
    live: bool = False
    data_dir: Path = Path("./data")
    seed: int = 7
    as_of: datetime | None = None
    symbols: tuple[str, ...] = ()
    capital: float = 1_000_000.0
    api_key: str | None = field(default=None, repr=False)
    api_secret: str | None = field(default=None, repr=False)
    timeout_ms: int = 10_000
    max_retries: int = 4
    taker_fee: float = 0.0005


class Broker:
    """A venue to trade on (any :class:`~qbtc.market.protocol.Exchange`).

    ``taker_fee`` (a fraction of notional) estimates fees when the venue's order structure
    does not report them (Binance's order endpoint does not).
    """

    def __init__(self, exchange: Exchange, *, paper: bool, taker_fee: float = 0.0005) -> None:
        self.exchange = exchange
        self.paper = paper
        self.taker_fee = taker_fee
        self.supports_reduce_only = paper or exchange.id in REDUCE_ONLY_VENUES

    @property
    def name(self) -> str:
        return f"{'paper' if self.paper else 'ccxt'}:{self.exchange.id}"

    def order_params(self, intent: OrderIntent) -> dict[str, Any]:
        params: dict[str, Any] = {"clientOrderId": intent.client_order_id}
        if intent.reduce_only and self.supports_reduce_only:
            params["reduceOnly"] = True
        return params

    def place(self, intent: OrderIntent) -> dict[str, Any]:
        """Send the intent as a new order; returns the venue's ccxt order structure."""
        price = intent.limit_price if intent.order_type == "limit" else None
        return self.exchange.create_order(
            intent.symbol,
            intent.order_type,
            intent.side,
            intent.quantity,
            price,
            self.order_params(intent),
        )

    def fetch_by_client_id(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """The venue's order with this client id, or None when the venue has none."""
        try:
            return self.exchange.fetch_order("", symbol, {"clientOrderId": client_order_id})
        except Exception as exc:
            if classify(exc) is Fault.NOT_FOUND:
                return None
            raise

    def fetch_open_orders(self, symbols: Iterable[str]) -> list[dict[str, Any]]:
        """Open orders of ``symbols`` (one call per symbol: Binance rate-limits the global call)."""
        orders: list[dict[str, Any]] = []
        for symbol in sorted(set(symbols)):
            orders.extend(self.exchange.fetch_open_orders(symbol))
        return orders


def open_broker(settings: BrokerSettings) -> Broker:
    """The paper broker for ``exchange='sim'``, else a ccxt broker (testnet unless ``live``)."""
    if settings.exchange == "sim":
        if settings.live:
            raise BrokerConfigError(
                "--live sends real orders, but the exchange is the simulator: set "
                "QBTC_EXCHANGE to a ccxt venue id (e.g. binanceusdm) with its API keys"
            )
        return open_paper_broker(settings)
    return open_live_broker(settings)


def open_paper_broker(settings: BrokerSettings) -> Broker:
    """The simulated venue with its own trading side under ``<data_dir>``."""
    from qbtc.market.sim.trading import SimTrading, VenueConfig
    from qbtc.market.venue import open_exchange

    trading = SimTrading(settings.data_dir, config=VenueConfig(starting_balance=settings.capital))
    exchange = open_exchange(
        "sim",
        seed=settings.seed,
        as_of=settings.as_of,
        symbols=settings.symbols or DEFAULT_SYMBOLS,
        trading=trading,
    )
    return Broker(exchange, paper=True, taker_fee=trading.config.taker_fee)


def open_live_broker(settings: BrokerSettings) -> Broker:
    """A ccxt venue: its testnet by default; real money only with ``live`` and keys."""
    if not settings.api_key or not settings.api_secret:
        where = "the real venue" if settings.live else "the venue's testnet"
        raise BrokerConfigError(
            f"trading on {settings.exchange} ({where}) needs API keys: set "
            "QBTC_EXCHANGE_API_KEY and QBTC_EXCHANGE_API_SECRET"
            + ("" if settings.live else " (testnet keys; real trading also needs --live)")
        )
    from qbtc.market.venue import open_exchange

    exchange = open_exchange(
        settings.exchange,
        seed=settings.seed,
        as_of=None,
        symbols=settings.symbols,
        api_key=settings.api_key,
        secret=settings.api_secret,
        testnet=not settings.live,
        timeout_ms=settings.timeout_ms,
        max_retries=settings.max_retries,
    )
    return Broker(exchange, paper=False, taker_fee=settings.taker_fee)
