"""A real venue through ccxt, behind the :class:`~qbtc.market.protocol.Exchange` protocol.

:class:`CcxtExchange` wraps one ccxt client (``binanceusdm`` first; any id ccxt knows, e.g.
``deribit`` for option chains) with: ccxt's rate limiter on, a client timeout, bounded retries
(:mod:`qbtc.market.retry`), the venue's testnet or demo environment by default, symbol checks
with close matches, and tickers completed with top of book, mark and index where the venue
splits them over several endpoints (Binance USD-M: ``ticker/24hr``, ``ticker/bookTicker`` and
``premiumIndex``).

ccxt's throttle is not thread-safe: threads sharing one client read the same "last request"
time and go out together (about 1 ms apart where the venue's ``rateLimit`` asks for 250 ms).
So every request to a venue holds that venue's lock (:func:`venue_lock`) while it runs, and
ccxt's limiter spaces the requests one after the other; retry waits happen outside the lock.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import ccxt
import numpy as np

from qbtc.market.contracts import is_option_symbol
from qbtc.market.errors import UnknownSymbolError, VenueError
from qbtc.market.protocol import TESTNET_SUFFIX
from qbtc.market.retry import ResponseRecorder, RetryingCaller, VenueRetryPolicy
from qbtc.market.venue_lookups import VenueLookups

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def venue_lock(exchange_id: str) -> threading.Lock:
    """The one lock serialising requests to ``exchange_id`` within this process."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(exchange_id, threading.Lock())


def enable_test_environment(client: ccxt.Exchange) -> bool:
    """Point ``client`` at the venue's test environment; False when the venue has none.

    Binance retired its futures testnet for private calls in ccxt (``NotSupported``); its
    demo-trading environment replaces it, so Binance clients use ``enable_demo_trading``.
    Other venues use ccxt's sandbox URLs (``set_sandbox_mode``) when they have them.
    """
    if isinstance(client, ccxt.binance):
        client.enable_demo_trading(True)
        return True
    if "test" in client.urls:
        client.set_sandbox_mode(True)
        return True
    return False


def check_exchange_id(exchange_id: str) -> str:
    """``exchange_id`` when ccxt knows it, else :class:`VenueError` naming the near matches."""
    if exchange_id not in ccxt.exchanges:
        matches = difflib.get_close_matches(exchange_id.lower(), list(ccxt.exchanges), n=3)
        hint = f"did you mean {', '.join(matches)}?" if matches else "see ccxt.exchanges"
        raise VenueError(f"unknown exchange id {exchange_id!r}: {hint} (or use 'sim', offline)")
    return exchange_id


def create_client(
    exchange_id: str,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    timeout_ms: int = 10_000,
    options: dict[str, Any] | None = None,
) -> ccxt.Exchange:
    """A ccxt client with rate limiting on and a timeout; a clear error for an unknown id."""
    check_exchange_id(exchange_id)
    config: dict[str, Any] = {"enableRateLimit": True, "timeout": int(timeout_ms)}
    if api_key:
        config["apiKey"] = api_key
    if secret:
        config["secret"] = secret
    if options:
        config["options"] = options
    client: ccxt.Exchange = getattr(ccxt, exchange_id)(config)
    return client


def rebase_urls(client: ccxt.Exchange, base_url: str) -> None:
    """Send every API request of ``client`` to ``base_url`` + the same path (in place)."""
    base = base_url.rstrip("/")

    def rebase(url: Any) -> Any:
        if isinstance(url, dict):
            return {name: rebase(value) for name, value in url.items()}
        return base + urlparse(url).path if isinstance(url, str) else url

    client.urls["api"] = rebase(client.urls["api"])


class CcxtExchange(VenueLookups):
    """A ccxt venue with retries, test environment and symbol checks (ccxt unified subset).

    Parameters
    ----------
    client : ccxt.Exchange
        The ccxt client (see :func:`create_client`); its ``urls`` may point anywhere.
    symbols : tuple of str, optional
        Symbols the pipeline uses; checked against the venue's markets on first load.
    policy : VenueRetryPolicy
        Retry counts and backoff delays (seconds).
    sandbox : bool
        Whether ``client`` points at a test environment. Trading calls are refused on a live
        environment unless ``live=True``.
    live : bool
        Explicit opt-in to trade on the live venue (real money).
    sleep, rng
        Injectable wait and jitter source (tests keep retries instant).
    """

    def __init__(
        self,
        client: ccxt.Exchange,
        *,
        symbols: tuple[str, ...] | None = None,
        policy: VenueRetryPolicy | None = None,
        sandbox: bool = False,
        live: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.client = client
        self.symbols = tuple(symbols or ())
        self.sandbox = sandbox
        self.live = live
        self.recorder = ResponseRecorder()
        self.recorder.install(client)
        self.caller = RetryingCaller(
            client.id,
            policy or VenueRetryPolicy(),
            self.recorder,
            sleep,
            rng or np.random.default_rng(),
        )

    @classmethod
    def create(
        cls,
        exchange_id: str,
        *,
        api_key: str | None = None,
        secret: str | None = None,
        testnet: bool = True,
        timeout_ms: int = 10_000,
        max_retries: int = 4,
        symbols: tuple[str, ...] | None = None,
        options: dict[str, Any] | None = None,
        base_url: str | None = None,
    ) -> CcxtExchange:
        """Open ``exchange_id`` on its test environment (default) or, with ``testnet=False``,
        live; ``base_url`` sends every request there instead (a gateway, or a local stub)."""
        client = create_client(
            exchange_id, api_key=api_key, secret=secret, timeout_ms=timeout_ms, options=options
        )
        sandbox = enable_test_environment(client) if testnet else False
        if base_url:
            rebase_urls(client, base_url)
        policy = VenueRetryPolicy(max_retries=max_retries)
        return cls(client, symbols=symbols, policy=policy, sandbox=sandbox, live=not testnet)

    @property
    def id(self) -> str:
        return str(self.client.id)

    def milliseconds(self) -> int:
        return int(self.client.milliseconds())

    @property
    def source(self) -> str:
        """The ``source`` of rows fetched here: the id, ``-testnet`` on a test environment."""
        return f"{self.id}{TESTNET_SUFFIX}" if self.sandbox else self.id

    def _call(self, operation: str, function: Callable[[], Any], *, idempotent: bool = True) -> Any:
        lock = venue_lock(self.id)

        def serialised() -> Any:
            with lock:
                return function()

        return self.caller.call(operation, serialised, idempotent=idempotent)

    # -- markets --------------------------------------------------------------------------------
    def load_markets(self, reload: bool = False) -> dict[str, dict[str, Any]]:
        """The venue's markets (retried); the configured symbols must all be listed."""
        markets: dict[str, dict[str, Any]] = self._call(
            "load_markets", lambda: self.client.load_markets(reload)
        )
        for symbol in self.symbols:
            if symbol not in markets:
                raise UnknownSymbolError(symbol, list(markets), self.id)
        return markets

    def _check_symbol(self, symbol: str) -> None:
        markets = self.client.markets or self.load_markets()
        if symbol not in markets:
            raise UnknownSymbolError(symbol, list(markets), self.id)

    # -- market data ----------------------------------------------------------------------------
    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ) -> list[list[float]]:
        """Candles ``[ms, o, h, l, c, v]`` from ``since`` (at most the venue's page size)."""
        self._check_symbol(symbol)
        return list(
            self._call(
                "fetch_ohlcv", lambda: self.client.fetch_ohlcv(symbol, timeframe, since, limit)
            )
        )

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        """One ticker, completed with bid/ask and mark/index like :meth:`fetch_tickers`.

        A Deribit option's comes from ``public/ticker``, which quotes the sizes at the touch
        (``best_bid_amount``, ``best_ask_amount``); the book summaries behind ccxt's
        ``fetch_tickers`` have none, and a fill against the touch needs them.
        """
        if self.id == "deribit" and is_option_symbol(symbol):
            self._check_symbol(symbol)
            return dict(self._call("fetch_ticker", lambda: self.client.fetch_ticker(symbol)))
        return self.fetch_tickers([symbol])[symbol]

    def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Tickers keyed by symbol, with ``bid``/``ask`` and ``markPrice``/``indexPrice`` filled
        from the venue's book-ticker and mark-price endpoints when its 24h ticker lacks them."""
        wanted = list(symbols or self.symbols) or None
        for symbol in wanted or ():
            self._check_symbol(symbol)
        client = self.client
        if client.has.get("fetchTickers"):
            tickers = dict(self._call("fetch_tickers", lambda: client.fetch_tickers(wanted)))
        else:
            tickers = {s: self._fetch_one_ticker(s) for s in wanted or ()}
        if any(
            t.get("bid") is None or t.get("ask") is None for t in tickers.values()
        ) and client.has.get("fetchBidsAsks"):
            books = self._call("fetch_bids_asks", lambda: client.fetch_bids_asks(wanted))
            _merge(tickers, books, ("bid", "bidVolume", "ask", "askVolume"))
        if any(t.get("markPrice") is None for t in tickers.values()) and client.has.get(
            "fetchMarkPrices"
        ):
            marks = self._call("fetch_mark_prices", lambda: client.fetch_mark_prices(wanted))
            _merge(tickers, marks, ("markPrice", "indexPrice"))
        return tickers

    def _fetch_one_ticker(self, symbol: str) -> dict[str, Any]:
        return dict(self._call("fetch_ticker", lambda: self.client.fetch_ticker(symbol)))

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Funding settlements from ``since`` (rate per interval, a fraction)."""
        self._check_symbol(symbol)
        return list(
            self._call(
                "fetch_funding_rate_history",
                lambda: self.client.fetch_funding_rate_history(symbol, since, limit),
            )
        )

    def fetch_option_chain(self, code: str) -> dict[str, dict[str, Any]]:
        """Every listed option on ``code`` (``BTC``); venues without the call say which have it."""
        if not self.client.has.get("fetchOptionChain"):
            raise ccxt.NotSupported(
                f"{self.id} has no option-chain call in ccxt; set QBTC_OPTIONS_EXCHANGE to "
                "deribit (or okx, bybit), or to sim for offline runs"
            )
        return dict(self._call("fetch_option_chain", lambda: self.client.fetch_option_chain(code)))

    # -- trading --------------------------------------------------------------------------------
    def _trading_client(self) -> ccxt.Exchange:
        if not (self.sandbox or self.live):
            raise VenueError(
                f"{self.id} has no test environment in ccxt, so qbtc will not trade on it unless "
                "live trading is enabled explicitly (QBTC_EXCHANGE_TESTNET=false, QBTC_LIVE=true)"
            )
        return self.client

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Place an order; retried only when the venue refused it (429), never after a timeout."""
        client = self._trading_client()
        self._check_symbol(symbol)
        return dict(
            self._call(
                "create_order",
                lambda: client.create_order(symbol, type, side, amount, price, params or {}),
                idempotent=False,
            )
        )

    def cancel_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        client = self._trading_client()
        return dict(
            self._call("cancel_order", lambda: client.cancel_order(id, symbol, params or {}))
        )

    def fetch_order(
        self, id: str, symbol: str | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        client = self._trading_client()
        return dict(self._call("fetch_order", lambda: client.fetch_order(id, symbol, params or {})))

    def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        client = self._trading_client()
        return list(
            self._call(
                "fetch_open_orders",
                lambda: client.fetch_open_orders(symbol, since, limit, params or {}),
            )
        )

    def fetch_balance(self) -> dict[str, Any]:
        client = self._trading_client()
        return dict(self._call("fetch_balance", lambda: client.fetch_balance()))

    def fetch_positions(self, symbols: list[str] | None = None) -> list[dict[str, Any]]:
        client = self._trading_client()
        return list(self._call("fetch_positions", lambda: client.fetch_positions(symbols)))


def _merge(
    tickers: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """Fill missing ``keys`` of each ticker from ``extra`` (same symbol), in place."""
    for symbol, ticker in tickers.items():
        source = extra.get(symbol) or {}
        for key in keys:
            if ticker.get(key) is None and source.get(key) is not None:
                ticker[key] = source[key]
