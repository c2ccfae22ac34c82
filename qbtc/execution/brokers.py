"""Brokers: the venue qbtc trades on, and how an intent becomes a venue order.

- paper: the simulated venue (:class:`qbtc.market.sim.SimExchange` with the trading side
  :class:`qbtc.market.sim.trading.SimTrading`), which keeps its own book and balances;
- dry-run: a real venue's public data with the same paper trading side filling at its live
  quotes (:class:`qbtc.market.dryrun.DryRunExchange`), no keys, no order sent;
- live (``--live``): a ccxt venue through :func:`qbtc.market.venue.open_exchange`, on the
  venue's testnet unless ``QBTC_EXCHANGE_TESTNET=false``, and always with API keys.

Both speak ccxt's unified API, so the submission path is the same. Orders carry the
intent's client order id (``clientOrderId``, sent to Binance as ``newClientOrderId``; Deribit's
``label``) and ``reduceOnly`` where the venue supports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.execution.circuit import Fault, classify
from qbtc.execution.equity import Equity, balance_totals, collateral_equity
from qbtc.execution.intents import OrderIntent
from qbtc.execution.modes import TradingMode
from qbtc.execution.positions import option_mark_from_ticker
from qbtc.execution.venue_units import (
    client_id_of,
    order_in_book_units,
    position_in_book_units,
    underlying_price_of,
)
from qbtc.market.contract_spec import ContractSpec, is_stablecoin
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


class UnreadableAnswerError(TimeoutError):
    """The venue took an order but its answer could not be used: like a timeout, the order
    is resolved by looking it up by client id, never taken for a refusal."""


class BrokerConfigError(ValueError):
    """The broker cannot be opened as configured; the message says what to set."""


@dataclass(frozen=True)
class BrokerSettings:
    """What is needed to open a broker (built from :class:`qbtc.config.Settings` by callers)."""

    exchange: str = "sim"
    live: bool = False
    testnet: bool = True
    base_url: str | None = None
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


#: The order parameter that carries qbtc's client order id where it is not ccxt's unified
#: ``clientOrderId`` (which ccxt sends as Binance's ``newClientOrderId``, Bybit's
#: ``orderLinkId``, OKX's ``clOrdId``). Deribit keeps the client's id in ``label``
#: (https://docs.deribit.com/#private-buy: "label: user defined label for the order").
CLIENT_ID_PARAMS = {"deribit": "label"}


class Broker:
    """A venue to trade on (any :class:`~qbtc.market.protocol.Exchange`), in the book's units.

    Orders go out in the venue's units (a Deribit perpetual in USD) and everything read back
    (orders, positions, equity) comes in coins and USD (:mod:`qbtc.execution.venue_units`).
    ``taker_fee`` (a fraction of notional) estimates fees when the venue's order structure
    does not report them (Binance's order endpoint does not).
    """

    def __init__(
        self,
        exchange: Exchange,
        *,
        paper: bool,
        taker_fee: float = 0.0005,
        mode: TradingMode | None = None,
    ) -> None:
        self.exchange = exchange
        self.paper = paper
        self.taker_fee = taker_fee
        self.supports_reduce_only = paper or exchange.id in REDUCE_ONLY_VENUES
        sandbox = bool(getattr(exchange, "sandbox", False))
        self.mode: TradingMode = mode or ("paper" if paper else "testnet" if sandbox else "live")
        self._specs: dict[str, ContractSpec] = {}

    @property
    def name(self) -> str:
        kind = "dry-run" if self.mode == "dry-run" else "paper" if self.paper else "ccxt"
        return f"{kind}:{self.exchange.id}"

    # -- units ----------------------------------------------------------------------------------
    def spec(self, symbol: str) -> ContractSpec:
        """How the venue counts ``symbol`` (from its market; one coin per contract if unknown)."""
        if symbol not in self._specs:
            market = self.exchange.load_markets().get(symbol)
            if market is None and hasattr(self.exchange, "market"):
                try:
                    market = self.exchange.market(symbol)
                except Exception:
                    market = None
            self._specs[symbol] = (
                ContractSpec.from_market(market, exchange_id=self.exchange.id)
                if market
                else ContractSpec.linear(symbol)
            )
        return self._specs[symbol]

    def underlying_price(self, symbol: str) -> float | None:
        """The forward (USD) the venue quotes with an option, from its ticker."""
        mark = option_mark_from_ticker(self.exchange.fetch_ticker(symbol))
        return None if mark is None else mark.forward

    def _book_order(self, order: dict[str, Any], reference: float | None = None) -> dict[str, Any]:
        spec = self.spec(str(order["symbol"]))
        underlying = None
        if spec.premium_in_coin and underlying_price_of(order) is None:
            underlying = self.underlying_price(spec.symbol)
        return order_in_book_units(
            order, spec, underlying_price=underlying, reference_price=reference
        )

    # -- orders ---------------------------------------------------------------------------------
    def order_params(self, intent: OrderIntent) -> dict[str, Any]:
        key = CLIENT_ID_PARAMS.get(self.exchange.id, "clientOrderId")
        params: dict[str, Any] = {key: intent.client_order_id}
        if intent.reduce_only and self.supports_reduce_only:
            params["reduceOnly"] = True
        return params

    def place(self, intent: OrderIntent) -> dict[str, Any]:
        """Send the intent as a new order; returns the venue's order in the book's units.

        The quantity (coins) becomes the venue's amount at the intent's price (its limit
        price, else its notional per coin); a limit price goes out as the venue quotes it.
        """
        spec = self.spec(intent.symbol)
        price = intent.limit_price if intent.order_type == "limit" else None
        reference = intent.notional / intent.quantity
        amount = spec.amount(intent.quantity, reference)
        order = self.exchange.create_order(
            intent.symbol, intent.order_type, intent.side, amount, price, self.order_params(intent)
        )
        if not client_id_of(order):
            order["clientOrderId"] = intent.client_order_id
        try:
            return self._book_order(order, reference)
        except Exception as exc:  # the venue has the order: never let this read as a refusal
            raise UnreadableAnswerError(
                f"{self.exchange.id} took order {intent.client_order_id} but its answer could "
                f"not be read in the book's units ({exc}); it is looked up by client id"
            ) from exc

    def fetch_by_client_id(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        """The venue's order with this client id, or None when the venue has none.

        A ccxt venue is asked where it keeps the id (Deribit's label, Bybit's
        ``orderLinkId``: :meth:`~qbtc.market.ccxt_adapter.CcxtExchange.fetch_orders_by_client_id`);
        the simulated venue by ccxt's ``clientOrderId``. A look-up the venue answers with an error raises (the
        caller treats that as "unknown, look again"), never as "no such order".
        """
        lookup = getattr(self.exchange, "fetch_orders_by_client_id", None)
        if lookup is not None:  # a ccxt venue: asked where it keeps the id
            orders = lookup(symbol, client_order_id)
            return self._book_order(orders[-1]) if orders else None
        try:
            order = self.exchange.fetch_order("", symbol, {"clientOrderId": client_order_id})
        except Exception as exc:
            if classify(exc) is Fault.NOT_FOUND:
                return None
            raise
        return self._book_order(order)

    def fetch_open_orders(self, symbols: Iterable[str]) -> list[dict[str, Any]]:
        """Open orders of ``symbols`` (one call per symbol: Binance rate-limits the global call)."""
        orders: list[dict[str, Any]] = []
        for symbol in sorted(set(symbols)):
            orders.extend(self._book_order(o) for o in self.exchange.fetch_open_orders(symbol))
        return orders

    # -- account --------------------------------------------------------------------------------
    def fetch_positions(self) -> list[dict[str, Any]]:
        """The venue's open positions, ``contracts`` in coins, prices and PnL in USD."""
        out = []
        for position in self.exchange.fetch_positions():
            if not position.get("contracts"):
                continue
            spec = self.spec(str(position["symbol"]))
            underlying = self.underlying_price(spec.symbol) if spec.premium_in_coin else None
            out.append(position_in_book_units(position, spec, underlying_price=underlying))
        return out

    def coin_price(self, currency: str) -> float | None:
        """USD per coin of ``currency``: the mark (else index, else last) of its perpetual."""
        markets = self.exchange.load_markets()
        perps = sorted(
            symbol
            for symbol, market in markets.items()
            if market.get("swap")
            and market.get("base") == currency
            and is_stablecoin(str(market.get("quote")))
        )
        for symbol in perps[:1]:
            ticker = self.exchange.fetch_ticker(symbol)
            for key in ("markPrice", "indexPrice", "last"):
                if ticker.get(key):
                    return float(ticker[key])
        return None

    def equity(self) -> Equity:
        """The account's equity in USD over every collateral currency, at the venue's marks."""
        totals = balance_totals(self.exchange.fetch_balance())
        prices = {c: self.coin_price(c) for c in totals if not is_stablecoin(c)}
        return collateral_equity(totals, {c: p for c, p in prices.items() if p is not None})


def open_broker(settings: BrokerSettings) -> Broker:
    """The broker of the settings' mode (:mod:`qbtc.execution.modes`): the simulated venue,
    a dry-run paper book on a real venue's quotes, or (``live``) its testnet or the venue."""
    if settings.exchange == "sim":
        if settings.live:
            raise BrokerConfigError(
                "--live sends real orders, but the exchange is the simulator: set "
                "QBTC_EXCHANGE to a ccxt venue id (e.g. binanceusdm) with its API keys"
            )
        return open_paper_broker(settings)
    if not settings.live:
        return open_dry_run_broker(settings)
    return open_live_broker(settings)


def open_dry_run_broker(settings: BrokerSettings) -> Broker:
    """Paper fills at a real venue's live quotes (its public data, no keys), with the fees
    of its markets and its lots; the paper account lives under ``<data_dir>/venue``."""
    from qbtc.market.ccxt_adapter import CcxtExchange
    from qbtc.market.dryrun import DryRunExchange
    from qbtc.market.sim.trading import SimTrading, VenueConfig

    venue = CcxtExchange.create(
        settings.exchange,
        testnet=False,
        timeout_ms=settings.timeout_ms,
        max_retries=settings.max_retries,
        symbols=settings.symbols,
        base_url=settings.base_url,
    )
    markets = venue.load_markets()
    traded = [markets[s] for s in settings.symbols if s in markets]
    taker = max((float(m.get("taker") or 0.0) for m in traded), default=settings.taker_fee)
    maker = max((float(m.get("maker") or 0.0) for m in traded), default=0.0002)
    config = VenueConfig(starting_balance=settings.capital, taker_fee=taker, maker_fee=maker)
    trading = SimTrading(settings.data_dir, config=config)
    return Broker(DryRunExchange(venue, trading), paper=True, taker_fee=taker, mode="dry-run")


def open_paper_broker(settings: BrokerSettings) -> Broker:
    """The simulated venue with its own trading side under ``<data_dir>``."""
    from qbtc.market.sim.trading import SimTrading, VenueConfig
    from qbtc.market.sim.universe import SPECS
    from qbtc.market.venue import check_sim_seed, open_exchange

    check_sim_seed(settings.data_dir / "state", settings.seed, lake_dir=settings.data_dir / "lake")
    # The venue lists its whole universe, as a real venue does: a run on a subset of symbols
    # still reconciles and values the positions it holds in the others.
    listed = tuple(
        dict.fromkeys([*(settings.symbols or DEFAULT_SYMBOLS), *(s.symbol for s in SPECS)])
    )
    trading = SimTrading(settings.data_dir, config=VenueConfig(starting_balance=settings.capital))
    exchange = open_exchange(
        "sim",
        seed=settings.seed,
        as_of=settings.as_of,
        symbols=listed,
        trading=trading,
    )
    return Broker(exchange, paper=True, taker_fee=trading.config.taker_fee)


def open_live_broker(settings: BrokerSettings) -> Broker:
    """A ccxt venue: its testnet unless ``testnet`` is off (real money); keys required."""
    if not settings.api_key or not settings.api_secret:
        where = "the venue's testnet" if settings.testnet else "the real venue"
        raise BrokerConfigError(
            f"trading on {settings.exchange} ({where}) needs API keys: set "
            "QBTC_EXCHANGE_API_KEY and QBTC_EXCHANGE_API_SECRET"
            + (
                " (testnet keys; real trading also needs QBTC_EXCHANGE_TESTNET=false)"
                if settings.testnet
                else ""
            )
            + "; without --live a run is a dry-run and needs no keys"
        )
    from qbtc.market.venue import open_exchange

    exchange = open_exchange(
        settings.exchange,
        seed=settings.seed,
        as_of=None,
        symbols=settings.symbols,
        api_key=settings.api_key,
        secret=settings.api_secret,
        testnet=settings.testnet,
        timeout_ms=settings.timeout_ms,
        max_retries=settings.max_retries,
        base_url=settings.base_url,
    )
    return Broker(exchange, paper=False, taker_fee=settings.taker_fee)
