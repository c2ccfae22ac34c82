"""A local Binance USD-M stub on 127.0.0.1 that answers the real ccxt client.

Payloads follow Binance's documented shapes (strings for decimals, as the venue sends them),
with values taken from the simulated venue so results can be compared exactly. Failures are
scripted per path: ``stub.fail("/fapi/v1/klines", Reply(429, {"Retry-After": "1"}))``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from qbtc.market.ccxt_adapter import rebase_urls
from qbtc.market.sim import SimExchange
from qbtc.market.sim.universe import BY_SYMBOL

BAN_BODY = {
    "code": -1003,
    "msg": "Way too many requests; IP(127.0.0.1) banned until 1772640000000. "
    "Please use the websocket for live updates to avoid bans.",
}
RATE_LIMIT_BODY = {
    "code": -1003,
    "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. "
    "Please use the websocket for live updates to avoid polling the API.",
}
SERVER_ERROR_BODY = {
    "code": -1001,
    "msg": "Internal error; unable to process your request. Please try again.",
}


@dataclass(frozen=True)
class Reply:
    """A scripted answer: HTTP status, headers, JSON body, and a delay before answering."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay_s: float = 0.0


def _text(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".")


def _symbol_info(symbol: str) -> dict[str, Any]:
    spec = BY_SYMBOL[symbol]
    tick = _text(10.0**-spec.price_decimals)
    step = _text(10.0**-spec.amount_decimals)
    return {
        "symbol": spec.market_id,
        "pair": spec.market_id,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": spec.price_decimals,
        "quantityPrecision": spec.amount_decimals,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": ["Layer-1"],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "maxPrice": "4529764",
                "minPrice": tick,
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "maxQty": "1000", "minQty": step, "stepSize": step},
            {"filterType": "MARKET_LOT_SIZE", "maxQty": "120", "minQty": step, "stepSize": step},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": [
            "LIMIT",
            "MARKET",
            "STOP",
            "STOP_MARKET",
            "TAKE_PROFIT",
            "TAKE_PROFIT_MARKET",
        ],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSet": ["GRID", "COPY"],
    }


class BinanceStub:
    """Binance USD-M public endpoints backed by a simulated venue; start/stop as a context."""

    def __init__(self, venue: SimExchange) -> None:
        self.venue = venue
        self.by_id = {BY_SYMBOL[s].market_id: s for s in venue.symbols}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.arrivals: list[tuple[str, float]] = []  # (path, time.monotonic() on arrival)
        self._script: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> BinanceStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``path`` with ``replies``, in order, then normally."""
        with self._lock:
            self._script[path].extend(replies)

    def calls(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [query for seen, query in self.requests if seen == path]

    # -- routing -------------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append((path, query))
            self.arrivals.append((path, time.monotonic()))
            if self._script[path]:
                return self._script[path].popleft()
        routes = {
            "/fapi/v1/exchangeInfo": self.exchange_info,
            "/fapi/v1/klines": self.klines,
            "/fapi/v1/ticker/24hr": self.ticker_24hr,
            "/fapi/v1/ticker/bookTicker": self.book_ticker,
            "/fapi/v1/premiumIndex": self.premium_index,
            "/fapi/v1/fundingRate": self.funding_rate,
            "/fapi/v1/order": self.new_order,
        }
        route = routes.get(path)
        if route is None:
            return Reply(404, body={"code": -5000, "msg": f"Path {path}, Method GET is invalid"})
        return Reply(200, body=route(query))

    def _symbols(self, query: dict[str, str]) -> list[str]:
        return [self.by_id[query["symbol"]]] if "symbol" in query else list(self.venue.symbols)

    def exchange_info(self, query: dict[str, str]) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": self.venue.milliseconds(),
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 2400,
                },
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [_symbol_info(s) for s in self.venue.symbols],
        }

    def klines(self, query: dict[str, str]) -> list[list[Any]]:
        symbol, interval = self.by_id[query["symbol"]], query.get("interval", "1m")
        limit = min(int(query.get("limit", 500)), 1500)
        since = int(query["startTime"]) if "startTime" in query else None
        candles = self.venue.fetch_ohlcv(symbol, interval, since, limit)
        end = int(query.get("endTime", 1 << 62))
        step = 60_000
        return [
            [
                int(t),
                _text(o),
                _text(h),
                _text(lo),
                _text(c),
                _text(v),
                int(t) + step - 1,
                _text(v * c),
                1000,
                _text(v / 2),
                _text(v * c / 2),
                "0",
            ]
            for t, o, h, lo, c, v in candles
            if t <= end
        ]

    def ticker_24hr(self, query: dict[str, str]) -> Any:
        rows = []
        for symbol in self._symbols(query):
            t = self.venue.fetch_ticker(symbol)
            rows.append(
                {
                    "symbol": BY_SYMBOL[symbol].market_id,
                    "priceChange": _text(t["change"]),
                    "priceChangePercent": f"{t['percentage']:.3f}",
                    "weightedAvgPrice": _text(t["vwap"]),
                    "lastPrice": _text(t["last"]),
                    "lastQty": "0.010",
                    "openPrice": _text(t["open"]),
                    "highPrice": _text(t["high"]),
                    "lowPrice": _text(t["low"]),
                    "volume": _text(t["baseVolume"]),
                    "quoteVolume": _text(t["quoteVolume"]),
                    "openTime": t["timestamp"] - 86_400_000,
                    "closeTime": t["timestamp"],
                    "firstId": 5_000_000_000,
                    "lastId": 5_003_000_000,
                    "count": 3_000_000,
                }
            )
        return rows[0] if "symbol" in query else rows

    def book_ticker(self, query: dict[str, str]) -> Any:
        rows = []
        for symbol in self._symbols(query):
            t = self.venue.fetch_ticker(symbol)
            rows.append(
                {
                    "symbol": BY_SYMBOL[symbol].market_id,
                    "bidPrice": _text(t["bid"]),
                    "bidQty": _text(t["bidVolume"]),
                    "askPrice": _text(t["ask"]),
                    "askQty": _text(t["askVolume"]),
                    "time": t["timestamp"],
                    "lastUpdateId": 1027024,
                }
            )
        return rows[0] if "symbol" in query else rows

    def premium_index(self, query: dict[str, str]) -> Any:
        rows = []
        for symbol in self._symbols(query):
            t = self.venue.fetch_ticker(symbol)
            rows.append(
                {
                    "symbol": BY_SYMBOL[symbol].market_id,
                    "markPrice": _text(t["markPrice"]),
                    "indexPrice": _text(t["indexPrice"]),
                    "estimatedSettlePrice": _text(t["indexPrice"]),
                    "lastFundingRate": t["info"]["lastFundingRate"],
                    "interestRate": "0.00010000",
                    "nextFundingTime": t["info"]["nextFundingTime"],
                    "time": t["timestamp"],
                }
            )
        return rows[0] if "symbol" in query else rows

    def funding_rate(self, query: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self.by_id[query["symbol"]]
        since = int(query["startTime"]) if "startTime" in query else None
        history = self.venue.fetch_funding_rate_history(symbol, since, int(query.get("limit", 100)))
        end = int(query.get("endTime", 1 << 62))
        return [
            {
                "symbol": BY_SYMBOL[symbol].market_id,
                "fundingTime": entry["timestamp"],
                "fundingRate": entry["info"]["fundingRate"],
                "markPrice": entry["info"]["markPrice"],
            }
            for entry in history
            if entry["timestamp"] <= end
        ]

    def new_order(self, query: dict[str, str]) -> dict[str, Any]:
        """The acknowledgement of ``POST /fapi/v1/order`` (a new, unfilled order)."""
        return {
            "clientOrderId": query.get("newClientOrderId", "x-qbtc"),
            "cumQty": "0",
            "cumQuote": "0.00000",
            "executedQty": "0.000",
            "orderId": 4_061_287_745,
            "avgPrice": "0.00",
            "origQty": query.get("quantity", "0"),
            "price": query.get("price", "0.00"),
            "reduceOnly": query.get("reduceOnly") == "true",
            "side": query.get("side", "BUY"),
            "positionSide": "BOTH",
            "status": "NEW",
            "stopPrice": "0.00",
            "closePosition": False,
            "symbol": query.get("symbol", "BTCUSDT"),
            "timeInForce": query.get("timeInForce", "GTC"),
            "type": query.get("type", "MARKET"),
            "origType": query.get("type", "MARKET"),
            "updateTime": self.venue.milliseconds(),
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length).decode() if length else ""
                query = {k: v[-1] for k, v in parse_qs(url.query + "&" + form).items()}
                reply = stub.answer(url.path, query)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = json.dumps(reply.body).encode() if reply.body is not None else b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

            def do_POST(self) -> None:
                self.do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def point_client_at(client: Any, base_url: str) -> None:
    """Rewrite every ``urls['api']`` entry of a ccxt client to ``base_url`` + the same path."""
    rebase_urls(client, base_url)
