"""A local Deribit stub on 127.0.0.1 that answers the real ccxt ``deribit`` client.

JSON-RPC over HTTP GET, as Deribit's v2 REST API (``/api/v2/public/*``, ``/api/v2/private/*``).
Payload shapes come from ccxt's own example responses, quoted in ``ccxt/python/ccxt/deribit.py``
(the TypeScript source ``ts/src/deribit.ts`` of github.com/ccxt/ccxt):

- ``public/get_currencies`` and ``public/get_instruments``: ``fetch_markets`` (its BTC
  currency, a BTC option, ``BTC-PERPETUAL``);
- ``public/ticker`` of an option: ``fetch_greeks`` (``BTC-27SEP24-40000-C``, mark 0.2168 BTC,
  ``mark_iv`` 61.27, ``underlying_price`` 38992.71, ``greeks``); of the perpetual:
  ``parse_ticker`` (prices moved to the option example's index, 36552.72);
- ``private/buy`` / ``private/sell``: ``create_order`` (``trades`` + ``order`` with ``label``);
  option trades also carry ``underlying_price`` and ``iv`` as Deribit documents for options
  (https://docs.deribit.com/#private-buy);
- ``private/get_order_state``: ``fetch_order``; ``private/get_order_state_by_label``: a list
  of the same order objects (https://docs.deribit.com/#private-get_order_state_by_label);
- ``private/get_positions``: ``parse_position`` (signed ``size``: USD for futures, coins
  for options; ``size_currency`` in coins), https://docs.deribit.com/#private-get_positions;
- ``private/get_account_summaries``: one summary per currency (``equity``,
  ``available_funds``, ``maintenance_margin``), https://docs.deribit.com/#private-get_account_summaries;
- ``private/get_settlement_history_by_currency``: the account's ``settlements`` (a test
  scripts them; Deribit's own example records are in tests/execution/test_venue_settlements.py),
  filtered by ``type`` and the instrument's currency, newest first, ``count`` per page and a
  ``continuation`` token (``none`` on the last page),
  https://docs.deribit.com/#private-get_settlement_history_by_currency.

Errors are Deribit's JSON-RPC errors (HTTP 400 with ``error.code``), e.g. 10009
``not_enough_funds`` or 10040 ``retry``. Deribit does not refuse a reused label.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from qbtc.market.ccxt_adapter import CcxtExchange
from qbtc.market.retry import VenueRetryPolicy
from tests.localserver import serving

NOW_MS = 1_699_578_548_021  # the option ticker example's timestamp
OPTION = "BTC-27SEP24-40000-C"
OPTION_SYMBOL = "BTC/USD:BTC-240927-40000-C"
PERP = "BTC-PERPETUAL"
PERP_SYMBOL = "BTC/USD:BTC"
INDEX = 36_552.72
FORWARD = 38_992.71
OPTION_MARK = 0.2168
PERP_MARK = 36_560.5

OPTION_INSTRUMENT = {
    "tick_size": 0.0005,
    "taker_commission": 0.0003,
    "strike": 40000.0,
    "settlement_period": "month",
    "settlement_currency": "BTC",
    "quote_currency": "BTC",
    "option_type": "call",
    "min_trade_amount": 0.1,
    "maker_commission": 0.0003,
    "kind": "option",
    "is_active": True,
    "instrument_name": OPTION,
    "expiration_timestamp": 1_727_424_000_000,
    "creation_timestamp": 1_648_199_543_000,
    "counter_currency": "USD",
    "contract_size": 1.0,
    "block_trade_commission": 0.0003,
    "base_currency": "BTC",
}
PERP_INSTRUMENT = {
    "tick_size": 0.5,
    "taker_commission": 0.0005,
    "settlement_period": "perpetual",
    "settlement_currency": "BTC",
    "quote_currency": "USD",
    "min_trade_amount": 10.0,
    "max_liquidation_commission": 0.0075,
    "max_leverage": 50,
    "maker_commission": 0.0,
    "kind": "future",
    "is_active": True,
    "instrument_name": PERP,
    "future_type": "reversed",
    "expiration_timestamp": 32_503_708_800_000,
    "creation_timestamp": 1_534_242_287_000,
    "counter_currency": "USD",
    "contract_size": 10.0,
    "block_trade_commission": 0.0001,
    "base_currency": "BTC",
}
CURRENCIES = [
    {
        "withdrawal_priorities": [
            {"value": 0.15, "name": "very_low"},
            {"value": 1.5, "name": "very_high"},
        ],
        "withdrawal_fee": 0.0005,
        "min_withdrawal_fee": 0.0005,
        "min_confirmations": 1,
        "fee_precision": 4,
        "currency_long": name,
        "currency": code,
        "coin_type": kind,
    }
    for code, name, kind in (
        ("BTC", "Bitcoin", "BITCOIN"),
        ("ETH", "Ethereum", "ETH"),
        ("USDC", "USD Coin", "ETH"),
    )
]
OPTION_TICKER = {
    "estimated_delivery_price": INDEX,
    "best_bid_amount": 0.2,
    "best_ask_amount": 9.1,
    "interest_rate": 0.0,
    "best_bid_price": 0.214,
    "best_ask_price": 0.219,
    "open_interest": 368.8,
    "settlement_price": 0.22103022,
    "last_price": 0.215,
    "bid_iv": 60.51,
    "ask_iv": 61.88,
    "mark_iv": 61.27,
    "underlying_index": "BTC-27SEP24",
    "underlying_price": FORWARD,
    "min_price": 0.1515,
    "max_price": 0.326,
    "mark_price": OPTION_MARK,
    "instrument_name": OPTION,
    "index_price": INDEX,
    "greeks": {
        "rho": 130.63998,
        "theta": -13.48784,
        "vega": 141.90146,
        "gamma": 0.00002,
        "delta": 0.59621,
    },
    "stats": {
        "volume_usd": 100453.9,
        "volume": 12.0,
        "price_change": -2.2727,
        "low": 0.2065,
        "high": 0.238,
    },
    "state": "open",
    "timestamp": NOW_MS,
}
PERP_TICKER = {
    "timestamp": NOW_MS,
    "stats": {"volume": 60627.57263769, "low": 36101.5, "high": 36911.5},
    "state": "open",
    "settlement_price": 36490.21,
    "open_interest": 111_543_850,
    "min_price": 36012.0,
    "max_price": 37110.51,
    "mark_price": PERP_MARK,
    "last_price": 36561.0,
    "instrument_name": PERP,
    "index_price": INDEX,
    "funding_8h": 0.0000026,
    "current_funding": 0,
    "best_bid_price": 36560.5,
    "best_bid_amount": 19470,
    "best_ask_price": 36561.0,
    "best_ask_amount": 343280,
}


def book_summaries(kind: str | None) -> list[dict[str, Any]]:
    """``public/get_book_summary_by_currency`` rows (ccxt ``parse_ticker``'s second example,
    with ``mark_iv`` as Deribit sends it for options), at the tickers' prices."""
    option = {
        "volume": 12.0,
        "underlying_price": FORWARD,
        "underlying_index": "BTC-27SEP24",
        "quote_currency": "BTC",
        "open_interest": 368.8,
        "mid_price": 0.2165,
        "mark_price": OPTION_MARK,
        "mark_iv": 61.27,
        "low": 0.2065,
        "last": 0.215,
        "interest_rate": 0,
        "instrument_name": OPTION,
        "high": 0.238,
        "estimated_delivery_price": INDEX,
        "creation_timestamp": NOW_MS,
        "bid_price": 0.214,
        "base_currency": "BTC",
        "ask_price": 0.219,
    }
    perp = {
        "volume": 60627.57263769,
        "quote_currency": "USD",
        "open_interest": 111_543_850,
        "mid_price": 36560.75,
        "mark_price": PERP_MARK,
        "low": 36101.5,
        "last": 36561.0,
        "instrument_name": PERP,
        "high": 36911.5,
        "estimated_delivery_price": INDEX,
        "creation_timestamp": NOW_MS,
        "bid_price": 36560.5,
        "base_currency": "BTC",
        "ask_price": 36561.0,
        "funding_8h": 0.0000026,
        "current_funding": 0,
    }
    rows = {"option": [option], "future": [perp]}
    return rows.get(kind or "", [option, perp])


def rpc(result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "usIn": 1, "usOut": 2, "usDiff": 1, "testnet": True}


def rpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"message": message, "code": code}, "testnet": True}


@dataclass
class DeribitVenue:
    """The stub's account: orders by id, positions, balances, and scripted answers.

    ``script`` holds what the next ``buy``/``sell`` does: ``fill`` (default), ``open``
    (resting, nothing filled) or an error ``(code, message)``; ``lookup_errors`` answers the
    next label look-ups with an error; ``requests`` records ``(path, params)``.
    """

    script: deque[Any] = field(default_factory=deque)
    lookup_errors: deque[tuple[int, str]] = field(default_factory=deque)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    balances: dict[str, float] = field(
        default_factory=lambda: {"BTC": 2.5, "ETH": 0.0, "USDC": 1_500.0}
    )
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 349_249
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, path: str) -> list[dict[str, str]]:
        return [params for seen, params in self.requests if seen == path]

    # -- trading ------------------------------------------------------------------------------
    def trade(self, direction: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        behaviour = self.script.popleft() if self.script else "fill"
        if isinstance(behaviour, tuple):
            return 400, rpc_error(*behaviour)
        name = params["instrument_name"]
        amount = float(params["amount"])
        option = name == OPTION
        price = float(params.get("price") or (0.217 if option else PERP_MARK))
        filled = amount if behaviour == "fill" else 0.0
        # Deribit fees: options 0.03% of the underlying per contract in BTC, capped at 12.5%
        # of the premium; inverse perpetual 0.05% of the USD amount, in BTC.
        fee = min(0.0003 * filled, 0.125 * price * filled) if option else 0.0005 * filled / price
        self.next_id += 1
        order = {
            "time_in_force": "good_til_cancelled",
            "reduce_only": params.get("reduce_only") == "true",
            "profit_loss": 0,
            "price": price,
            "post_only": False,
            "order_type": params.get("type", "limit"),
            "order_state": "filled" if filled else "open",
            "order_id": f"BTC-{self.next_id}",
            "max_show": amount,
            "last_update_timestamp": NOW_MS,
            "label": params.get("label", ""),
            "is_liquidation": False,
            "instrument_name": name,
            "filled_amount": filled,
            "direction": direction,
            "creation_timestamp": NOW_MS,
            "commission": round(fee, 8),
            "average_price": price if filled else 0,
            "api": True,
            "amount": amount,
        }
        trades = []
        if filled:
            trade = {
                "trade_seq": 14151,
                "trade_id": f"BTC-{self.next_id}-t",
                "timestamp": NOW_MS,
                "tick_direction": 2,
                "state": "filled",
                "price": price,
                "order_type": order["order_type"],
                "order_id": order["order_id"],
                "matching_id": None,
                "liquidity": "T",
                "label": order["label"],
                "instrument_name": name,
                "index_price": INDEX,
                "mark_price": OPTION_MARK if option else PERP_MARK,
                "fee_currency": "BTC",
                "fee": round(fee, 8),
                "direction": direction,
                "amount": amount,
            }
            if option:
                trade |= {"underlying_price": FORWARD, "iv": 61.27}
            trades.append(trade)
            self.sizes[name] += filled if direction == "buy" else -filled
        self.orders[order["order_id"]] = order
        return 200, rpc({"trades": trades, "order": order})

    def by_label(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.lookup_errors:
            return 400, rpc_error(*self.lookup_errors.popleft())
        label = params.get("label")
        return 200, rpc([o for o in self.orders.values() if o["label"] == label])

    def order_state(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        order = self.orders.get(params.get("order_id", ""))
        if order is None:
            return 400, rpc_error(10004, "order_not_found")
        return 200, rpc(order)

    def open_orders(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        name = params.get("instrument_name")
        return 200, rpc(
            [
                o
                for o in self.orders.values()
                if o["order_state"] == "open" and name in (None, o["instrument_name"])
            ]
        )

    # -- account ------------------------------------------------------------------------------
    def positions(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        rows = []
        for name, size in sorted(self.sizes.items()):
            if not size:
                continue
            option = name == OPTION
            mark = OPTION_MARK if option else PERP_MARK
            rows.append(
                {
                    "average_price": 0.217 if option else PERP_MARK,
                    "delta": round(0.59621 * size, 5) if option else round(size / mark, 6),
                    "direction": "buy" if size > 0 else "sell",
                    "estimated_liquidation_price": None if option else 12_000.0,
                    "floating_profit_loss": round((OPTION_MARK - 0.217) * size, 8)
                    if option
                    else 0.0,
                    "index_price": INDEX,
                    "initial_margin": 0,
                    "instrument_name": name,
                    "kind": "option" if option else "future",
                    "leverage": None if option else 50,
                    "maintenance_margin": 0,
                    "mark_price": mark,
                    "open_orders_margin": 0.0,
                    "realized_profit_loss": 0,
                    "settlement_price": 0.22103022 if option else 36490.21,
                    "size": size,
                    "size_currency": size if option else round(size / mark, 8),
                    "total_profit_loss": 0.0,
                }
            )
        return 200, rpc(rows)

    def account_summaries(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        summaries = [
            {
                "currency": currency,
                "equity": amount,
                "balance": amount,
                "available_funds": amount,
                "margin_balance": amount,
                "maintenance_margin": 0.0,
                "initial_margin": 0.0,
                "session_upl": 0.0,
                "session_rpl": 0.0,
                "total_pl": 0.0,
                "options_value": 0.0,
                "futures_pl": 0.0,
                "delta_total": 0.0,
            }
            for currency, amount in self.balances.items()
        ]
        return 200, rpc({"id": 9_123, "email": "desk@example.com", "summaries": summaries})

    def settlement_history(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        currency, kind = params["currency"], params.get("type")
        rows = [
            r
            for r in sorted(self.settlements, key=lambda r: -int(r["timestamp"]))
            if kind in (None, r["type"])
            and str(r.get("instrument_name", "")).split("-")[0].split("_")[0] == currency
        ]
        start = int(params.get("continuation", "0"))
        count = int(params.get("count", "20"))
        page = rows[start : start + count]
        more = start + count < len(rows)
        return 200, rpc(
            {"settlements": page, "continuation": str(start + count) if more else "none"}
        )

    # -- routing ------------------------------------------------------------------------------
    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append((path, params))
            routes = {
                "/api/v2/public/get_instruments": lambda: (
                    200,
                    rpc([OPTION_INSTRUMENT, PERP_INSTRUMENT]),
                ),
                "/api/v2/public/get_time": lambda: (200, rpc(NOW_MS)),
                "/api/v2/public/get_currencies": lambda: (200, rpc(CURRENCIES)),
                # https://docs.deribit.com/#public-get_delivery_prices (its example's shape)
                "/api/v2/public/get_delivery_prices": lambda: (
                    200,
                    rpc(
                        {
                            "data": [
                                {"date": "2024-09-27", "delivery_price": 65_702.36},
                                {"date": "2024-09-26", "delivery_price": 64_115.81},
                            ],
                            "records_total": 2,
                        }
                    ),
                ),
                "/api/v2/public/ticker": lambda: (
                    200,
                    rpc(OPTION_TICKER if params.get("instrument_name") == OPTION else PERP_TICKER),
                ),
                "/api/v2/public/get_book_summary_by_currency": lambda: (
                    200,
                    rpc(book_summaries(params.get("kind"))),
                ),
                "/api/v2/private/buy": lambda: self.trade("buy", params),
                "/api/v2/private/sell": lambda: self.trade("sell", params),
                "/api/v2/private/get_order_state": lambda: self.order_state(params),
                "/api/v2/private/get_order_state_by_label": lambda: self.by_label(params),
                "/api/v2/private/get_open_orders_by_instrument": lambda: self.open_orders(params),
                "/api/v2/private/get_positions": lambda: self.positions(params),
                "/api/v2/private/get_account_summaries": lambda: self.account_summaries(params),
                "/api/v2/private/get_settlement_history_by_currency": lambda: (
                    self.settlement_history(params)
                ),
            }
            route = routes.get(path)
            if route is None:
                return 400, rpc_error(-32601, "Method not found")
            return route()


@contextmanager
def running_deribit(venue: DeribitVenue | None = None) -> Iterator[tuple[DeribitVenue, str]]:
    """Serve ``venue`` on an ephemeral port of 127.0.0.1; yields it and the base URL."""
    state = venue or DeribitVenue()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            status, body = state.answer(url.path, params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serving(Handler) as url:
        yield state, url


def deribit_exchange(base_url: str, *, keys: bool = True) -> CcxtExchange:
    """qbtc's adapter around the real ccxt Deribit client, pointed at the stub (testnet)."""
    from tests.market.binance_stub import point_client_at

    venue = CcxtExchange.create(
        "deribit",
        api_key="key" if keys else None,
        secret="secret" if keys else None,
        timeout_ms=2_000,
        max_retries=0,
    )
    point_client_at(venue.client, base_url)
    venue.client.rateLimit = 1
    venue.caller.policy = VenueRetryPolicy(max_retries=0, backoff_base_s=0.0)
    venue.caller.sleep = lambda seconds: None
    return venue
