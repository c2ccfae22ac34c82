"""A local Bybit v5 stub on 127.0.0.1 for the real ccxt ``bybit`` client: USDC options.

Bybit's options are linear: premium, fees and PnL in USDC, sizes in coins of the underlying
(https://bybit-exchange.github.io/docs/v5/enum, "option": USDC-settled). Shapes come from
ccxt's recorded responses (``ts/src/test/static/response/bybit.json``: fetchCurrencies) and its example responses in ``ccxt/python/ccxt/bybit.py`` (``ts/src/bybit.ts`` of
github.com/ccxt/ccxt): ``fetch_option_markets`` (``/v5/market/instruments-info``, category
option), ``parse_ticker``'s option ticker (``/v5/market/tickers``: ``markIv`` a fraction,
``underlyingPrice``), ``create_order`` (``/v5/order/create``: ``orderId``, ``orderLinkId``),
``parse_order``'s v5 order (``/v5/order/realtime``: ``orderStatus``, ``cumExecQty``,
``avgPrice``, ``cumExecFee``), ``parse_position`` (``/v5/position/list``) and
``fetch_my_settlement_history`` (``/v5/asset/delivery-record``: the account's option
deliveries, scripted by a test in ``deliveries``). Prices are moved to one consistent moment;
the structure is Bybit's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from qbtc.market.ccxt_adapter import CcxtExchange
from tests.localserver import serving

NOW_MS = 1_767_600_000_000  # 2026-01-05T08:00Z
OPTION_ID = "BTC-27MAR26-90000-C"
OPTION_SYMBOL = "BTC/USD:USDC-260327-90000-C"
UNDERLYING = 91_250.5
ASK, BID, MARK = 6_105.0, 6_080.0, 6_092.4


def envelope(result: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": NOW_MS}


INSTRUMENT = {
    "symbol": OPTION_ID,
    "status": "Trading",
    "baseCoin": "BTC",
    "quoteCoin": "USD",
    "settleCoin": "USDC",
    "optionsType": "Call",
    "launchTime": "1764316800000",
    "deliveryTime": "1774598400000",
    "deliveryFeeRate": "0.00015",
    "priceFilter": {"minPrice": "5", "maxPrice": "10000000", "tickSize": "5"},
    "lotSizeFilter": {"maxOrderQty": "500", "minOrderQty": "0.01", "qtyStep": "0.01"},
}
TICKER = {
    "symbol": OPTION_ID,
    "bid1Price": f"{BID:.0f}",
    "bid1Size": "2.5",
    "bid1Iv": "0.5121",
    "ask1Price": f"{ASK:.0f}",
    "ask1Size": "1.8",
    "ask1Iv": "0.5189",
    "lastPrice": "6090",
    "highPrice24h": "6400",
    "lowPrice24h": "5800",
    "markPrice": f"{MARK}",
    "indexPrice": "91190.12",
    "markIv": "0.5153",
    "underlyingPrice": f"{UNDERLYING}",
    "openInterest": "152.3",
    "turnover24h": "1482731.2",
    "volume24h": "16.2",
    "totalVolume": "2104",
    "totalTurnover": "181967653",
    "delta": "0.5542",
    "gamma": "0.00002113",
    "vega": "162.2041",
    "theta": "-58.1025",
    "predictedDeliveryPrice": "0",
    "change24h": "0.0213",
}


def COIN(code: str) -> dict[str, Any]:  # noqa: N802 - a row factory, named as Bybit's field
    chain = {
        "chainType": "Ethereum",
        "confirmation": "6",
        "withdrawFee": "8",
        "depositMin": "0",
        "withdrawMin": "10",
        "chain": "ETH",
        "chainDeposit": "1",
        "chainWithdraw": "1",
        "minAccuracy": "8",
        "withdrawPercentageFee": "0",
    }
    return {"name": code, "coin": code, "remainAmount": "50000000000", "chains": [chain]}


@dataclass
class BybitVenue:
    """Orders by ``orderLinkId``; ``requests`` records ``(method, path, params)``."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1
    usdc: float = 1_000_000.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [params for _, seen, params in self.requests if seen == path]

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        order_id = f"b2c1f7e4-5a3e-4c1d-9f6e-{self.next_id:012d}"
        self.next_id += 1
        qty, price = float(body["qty"]), float(body.get("price") or ASK)
        fee = min(0.0003 * UNDERLYING, 0.07 * price) * qty  # Bybit: 0.03% of index, capped
        self.orders[body["orderLinkId"]] = {
            "symbol": body["symbol"],
            "orderType": body["orderType"],
            "orderLinkId": body["orderLinkId"],
            "orderId": order_id,
            "cancelType": "UNKNOWN",
            "avgPrice": f"{ASK:.0f}",
            "orderStatus": "Filled",
            "createType": "CreateByUser",
            "cumExecValue": f"{qty * ASK:.4f}",
            "rejectReason": "EC_NoError",
            "price": f"{price:.0f}",
            "orderIv": "",
            "createdTime": str(NOW_MS),
            "positionIdx": 0,
            "timeInForce": "GTC",
            "leavesValue": "0",
            "updatedTime": str(NOW_MS + 4),
            "side": body["side"],
            "cumExecFee": f"{fee:.8f}",
            "cumFeeDetail": {"USDC": f"{fee:.8f}"},
            "leavesQty": "0",
            "cumExecQty": body["qty"],
            "reduceOnly": bool(body.get("reduceOnly")),
            "qty": body["qty"],
        }
        return envelope({"orderId": order_id, "orderLinkId": body["orderLinkId"]})

    def realtime(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.orders.get(str(params.get("orderLinkId")))
        rows = [found] if found and found["symbol"] == params.get("symbol") else []
        return envelope({"list": rows, "nextPageCursor": "", "category": "option"})

    def positions(self) -> dict[str, Any]:
        rows = []
        for order in self.orders.values():
            size = float(order["cumExecQty"]) * (1 if order["side"] == "Buy" else -1)
            rows.append(
                {
                    "positionIdx": 0,
                    "riskId": 0,
                    "symbol": order["symbol"],
                    "side": "Buy" if size > 0 else "Sell",
                    "size": f"{abs(size)}",
                    "avgPrice": order["avgPrice"],
                    "positionValue": f"{abs(size) * MARK:.4f}",
                    "tradeMode": 0,
                    "autoAddMargin": 0,
                    "positionStatus": "Normal",
                    "leverage": "",
                    "markPrice": f"{MARK}",
                    "liqPrice": "",
                    "bustPrice": "",
                    "positionIM": "",
                    "positionMM": "",
                    "tpslMode": "Full",
                    "takeProfit": "",
                    "stopLoss": "",
                    "trailingStop": "",
                    "unrealisedPnl": f"{size * (MARK - ASK):.4f}",
                    "cumRealisedPnl": "0",
                    "createdTime": str(NOW_MS),
                    "updatedTime": str(NOW_MS + 4),
                }
            )
        return envelope({"list": rows, "nextPageCursor": "", "category": "option"})

    def wallet(self) -> dict[str, Any]:
        """``/v5/account/wallet-balance`` of a unified account (ccxt ``parse_balance``'s
        example): USDC only, the option's premium and fee already paid from it."""
        paid = sum(float(o["cumExecValue"]) + float(o["cumExecFee"]) for o in self.orders.values())
        usdc = self.usdc - paid
        coin = {
            "availableToBorrow": "0",
            "bonus": "0",
            "accruedInterest": "0",
            "availableToWithdraw": f"{usdc:.6f}",
            "totalOrderIM": "0",
            "equity": f"{usdc:.6f}",
            "totalPositionMM": "0",
            "usdValue": f"{usdc:.6f}",
            "unrealisedPnl": "0",
            "borrowAmount": "0",
            "totalPositionIM": "0",
            "walletBalance": f"{usdc:.6f}",
            "cumRealisedPnl": "0",
            "coin": "USDC",
        }
        account = {
            "totalEquity": f"{usdc:.6f}",
            "accountIMRate": "0",
            "totalMarginBalance": f"{usdc:.6f}",
            "totalInitialMargin": "0",
            "accountType": "UNIFIED",
            "totalAvailableBalance": f"{usdc:.6f}",
            "accountMMRate": "0",
            "totalPerpUPL": "0",
            "totalWalletBalance": f"{usdc:.6f}",
            "accountLTV": "0",
            "totalMaintenanceMargin": "0",
            "coin": [coin],
        }
        return envelope({"list": [account]})

    def answer(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.requests.append((method, path, params))
            if path == "/v5/asset/coin/query-info":  # ccxt's recorded fetchCurrencies, trimmed
                return envelope({"rows": [COIN("USDC"), COIN("BTC")]})
            if path == "/v5/market/instruments-info":
                return envelope({"category": "option", "nextPageCursor": "", "list": [INSTRUMENT]})
            if path == "/v5/market/tickers":
                return envelope({"category": "option", "list": [TICKER]})
            if path == "/v5/order/create":
                return self.create(params)
            if path == "/v5/order/realtime":
                return self.realtime(params)
            if path == "/v5/account/wallet-balance":
                return self.wallet()
            if path == "/v5/position/list":
                return self.positions()
            if path == "/v5/asset/delivery-record":
                rows = [r for r in self.deliveries if params.get("category") == "option"]
                limit = int(params.get("limit") or 20)
                return envelope({"category": "option", "nextPageCursor": "", "list": rows[:limit]})
            return {
                "retCode": 10001,
                "retMsg": f"unknown path {path}",
                "result": {},
                "time": NOW_MS,
            }


@contextmanager
def running_bybit() -> Iterator[tuple[BybitVenue, str]]:
    state = BybitVenue()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str, params: dict[str, Any]) -> None:
            body = json.dumps(state.answer(method, urlparse(self.path).path, params)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            self._reply("GET", {k: v[-1] for k, v in query.items()})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._reply("POST", json.loads(self.rfile.read(length) or b"{}"))

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serving(Handler) as url:
        yield state, url


# Bybit clients ask the account type before private calls (user/query-api, account/info);
# the stub's account is a unified trading account, set here as ccxt caches it.
UNIFIED = {"enableUnifiedAccount": True, "enableUnifiedMargin": False}


def bybit_exchange(base_url: str) -> CcxtExchange:
    """qbtc's adapter around the real ccxt Bybit client (its option markets), at the stub."""
    exchange = CcxtExchange.create(
        "bybit",
        api_key="key",
        secret="secret",
        base_url=base_url,
        timeout_ms=2_000,
        max_retries=0,
        options={"fetchMarkets": {"types": ["option"], "options": ["BTC"]}, **UNIFIED},
    )
    exchange.client.rateLimit = 1
    return exchange
