"""A local stub of Binance USD-M futures' trading endpoints for the real ccxt client.

Serves on 127.0.0.1 (ephemeral port) from a daemon thread and stops itself after
``lifetime_s``. It keeps its own orders, answers with Binance's payloads and error codes, and
follows a script for the next order requests: ``ack`` (NEW), ``fill`` (FILLED), ``partial``
(PARTIALLY_FILLED, half executed), ``reject`` (-2019 margin insufficient), ``5xx`` (503, the
order not taken), ``418`` (IP ban) and ``timeout`` (the order is taken, the answer comes too late).
A reused ``newClientOrderId`` is refused with -4116 like Binance; ``lagging_lookups`` makes
the next order look-ups miss (a replica behind the matching engine).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import ccxt

from tests.localserver import serving

PRICE = 50_000.0
SYMBOL_ID = "BTCUSDT"

EXCHANGE_INFO = {
    "timezone": "UTC",
    "serverTime": 1_767_614_400_000,
    "rateLimits": [],
    "exchangeFilters": [],
    "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
    "symbols": [
        {
            "symbol": SYMBOL_ID,
            "pair": SYMBOL_ID,
            "contractType": "PERPETUAL",
            "deliveryDate": 4_133_404_800_000,
            "onboardDate": 1_569_398_400_000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
            "marginAsset": "USDT",
            "pricePrecision": 2,
            "quantityPrecision": 3,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": ["PoW"],
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "maxPrice": "4529764",
                    "minPrice": "556.80",
                    "tickSize": "0.10",
                },
                {
                    "filterType": "LOT_SIZE",
                    "maxQty": "1000",
                    "minQty": "0.001",
                    "stepSize": "0.001",
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "maxQty": "120",
                    "minQty": "0.001",
                    "stepSize": "0.001",
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
            ],
            "orderTypes": ["LIMIT", "MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }
    ],
}


@dataclass
class StubVenue:
    """State and script of the stub (inspect ``orders`` and ``requests`` in tests)."""

    script: deque[str] = field(default_factory=deque)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    lagging_lookups: int = 0
    usdc: float = 0.0
    position: float = 0.0
    next_id: int = 8_000_000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_order(self, query: dict[str, str], behaviour: str) -> dict[str, Any]:
        self.next_id += 1
        amount = float(query["quantity"])
        executed = {"ack": 0.0, "fill": amount, "partial": round(amount / 2, 3)}.get(
            behaviour, amount
        )
        status = {"ack": "NEW", "partial": "PARTIALLY_FILLED"}.get(behaviour, "FILLED")
        signed = executed if query["side"] == "BUY" else -executed
        self.position += signed
        return {
            "orderId": self.next_id,
            "symbol": query["symbol"],
            "status": status,
            "clientOrderId": query["newClientOrderId"],
            "price": query.get("price", "0.00"),
            "avgPrice": f"{PRICE:.2f}" if executed else "0.00",
            "origQty": f"{amount:.3f}",
            "executedQty": f"{executed:.3f}",
            "cumQty": f"{executed:.3f}",
            "cumQuote": f"{executed * PRICE:.5f}",
            "timeInForce": "GTC",
            "type": query["type"],
            "reduceOnly": query.get("reduceOnly", "false") == "true",
            "closePosition": False,
            "side": query["side"],
            "positionSide": "BOTH",
            "stopPrice": "0.00",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": query["type"],
            "time": 1_767_614_400_000,
            "updateTime": 1_767_614_400_000,
        }


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "msg": message}


class _Handler(BaseHTTPRequestHandler):
    venue: StubVenue

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _query(self) -> dict[str, str]:
        parsed = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length).decode()
            query |= {k: v[0] for k, v in parse_qs(body).items()}
        return query

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        venue = self.venue
        venue.requests.append(("GET", path))
        query = self._query()
        if path == "/fapi/v1/exchangeInfo":
            return self._send(200, EXCHANGE_INFO)
        if path == "/fapi/v1/order":
            order = venue.orders.get(query.get("origClientOrderId", ""))
            if venue.lagging_lookups > 0:
                venue.lagging_lookups -= 1
                order = None
            if order is None:
                return self._send(400, _error(-2013, "Order does not exist."))
            return self._send(200, order)
        if path == "/fapi/v1/openOrders":
            live = ("NEW", "PARTIALLY_FILLED")
            return self._send(200, [o for o in venue.orders.values() if o["status"] in live])
        if path == "/fapi/v1/leverageBracket":
            bracket = {
                "bracket": 1,
                "initialLeverage": 125,
                "notionalCap": 50_000,
                "notionalFloor": 0,
                "maintMarginRatio": 0.004,
                "cum": 0.0,
            }
            return self._send(
                200, [{"symbol": SYMBOL_ID, "notionalCoef": 1.0, "brackets": [bracket]}]
            )
        if path == "/fapi/v3/positionRisk":
            return self._send(200, [self._position()] if venue.position else [])
        if path == "/fapi/v3/account":
            return self._send(200, self._account())
        return self._send(404, _error(-1000, f"stub has no {path}"))

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        venue = self.venue
        venue.requests.append(("POST", path))
        if path != "/fapi/v1/order":
            return self._send(404, _error(-1000, f"stub has no {path}"))
        query = self._query()
        with venue.lock:
            behaviour = venue.script.popleft() if venue.script else "fill"
            cid = query.get("newClientOrderId", "")
            if cid in venue.orders:
                return self._send(400, _error(-4116, "ClientOrderId is duplicated."))
            if behaviour == "reject":
                return self._send(400, _error(-2019, "Margin is insufficient."))
            if behaviour == "418":
                ban = "Way too many requests; IP banned until 1767618000000."
                return self._send(418, _error(-1003, ban))
            if behaviour == "5xx":
                return self._send(
                    503, _error(-1001, "Internal error; unable to process your request.")
                )
            order = venue.new_order(query, "fill" if behaviour == "timeout" else behaviour)
            venue.orders[cid] = order
        if behaviour == "timeout":
            time.sleep(venue.delay_s)
        return self._send(200, order)

    def _position(self) -> dict[str, Any]:
        amount = self.venue.position
        return {
            "symbol": SYMBOL_ID,
            "positionSide": "BOTH",
            "positionAmt": f"{amount:.3f}",
            "entryPrice": f"{PRICE:.2f}",
            "breakEvenPrice": f"{PRICE:.2f}",
            "markPrice": f"{PRICE:.2f}",
            "unRealizedProfit": "0.00000000",
            "liquidationPrice": "0",
            "isolatedMargin": "0",
            "notional": f"{amount * PRICE:.8f}",
            "marginAsset": "USDT",
            "isolatedWallet": "0",
            "initialMargin": "0",
            "maintMargin": "0",
            "positionInitialMargin": "0",
            "openOrderInitialMargin": "0",
            "adl": 0,
            "bidNotional": "0",
            "askNotional": "0",
            "updateTime": 1_767_614_400_000,
        }

    def _account(self) -> dict[str, Any]:
        """``GET /fapi/v3/account``: one entry per margin asset (USDC too in Multi-Assets mode)."""
        balances = {"USDT": 10_000.0} | ({"USDC": self.venue.usdc} if self.venue.usdc else {})
        assets = [
            {
                "asset": code,
                "walletBalance": f"{amount:.8f}",
                "unrealizedProfit": "0.00000000",
                "marginBalance": f"{amount:.8f}",
                "maintMargin": "0",
                "initialMargin": "0",
                "positionInitialMargin": "0",
                "openOrderInitialMargin": "0",
                "crossWalletBalance": f"{amount:.8f}",
                "crossUnPnl": "0",
                "availableBalance": f"{amount:.8f}",
                "maxWithdrawAmount": f"{amount:.8f}",
                "updateTime": 1_767_614_400_000,
            }
            for code, amount in balances.items()
        ]
        total = sum(balances.values())
        return {"totalWalletBalance": f"{total:.8f}", "assets": assets, "positions": []}


@contextmanager
def running_stub(lifetime_s: float = 60.0) -> Iterator[tuple[StubVenue, str]]:
    """Start the stub; yields (venue state, base URL). It stops on exit or after lifetime_s."""
    venue = StubVenue()
    handler = type("Handler", (_Handler,), {"venue": venue})
    with serving(handler, lifetime_s=lifetime_s) as url:
        yield venue, url


def binance_client(base_url: str, *, timeout_ms: int = 2_000) -> ccxt.binanceusdm:
    """The real ccxt binanceusdm client pointed at the stub (keys are dummies)."""
    client = ccxt.binanceusdm(
        {
            "apiKey": "stub-key",
            "secret": "stub-secret",
            "timeout": timeout_ms,
            "enableRateLimit": False,
            "options": {"fetchCurrencies": False},
        }
    )
    # Every endpoint goes to the stub: nothing may leave 127.0.0.1.
    for name, url in list(client.urls["api"].items()):
        if isinstance(url, str):
            client.urls["api"][name] = base_url + urlparse(url).path
    client.load_markets()
    return client
