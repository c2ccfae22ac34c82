"""Option chains through the real ccxt Deribit client against a local stub (inverse options)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlparse

import pytest

from qbtc.lake.validate import check_frame
from qbtc.market import normalize
from qbtc.market.ccxt_adapter import CcxtExchange
from qbtc.pricing import black76_price
from qbtc.schemas import OPTION_QUOTES
from tests.localserver import serving
from tests.market.binance_stub import point_client_at

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
EXPIRY = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
FORWARD = 68_250.0
STRIKES = (65_000.0, 70_000.0)


def _instrument(strike: float, kind: str) -> dict[str, Any]:
    name = f"BTC-27MAR26-{int(strike)}-{kind[0].upper()}"
    return {
        "tick_size": 0.0001,
        "tick_size_steps": [{"above_price": 0.005, "tick_size": 0.0005}],
        "taker_commission": 0.0003,
        "strike": strike,
        "settlement_period": "month",
        "settlement_currency": "BTC",
        "quote_currency": "BTC",
        "option_type": kind,
        "min_trade_amount": 0.1,
        "maker_commission": 0.0003,
        "kind": "option",
        "is_active": True,
        "instrument_name": name,
        "instrument_id": 400_000 + int(strike) // 1000 + (0 if kind == "call" else 1000),
        "expiration_timestamp": int(EXPIRY.timestamp() * 1000),
        "creation_timestamp": 1_764_000_000_000,
        "counter_currency": "USD",
        "contract_size": 1.0,
        "block_trade_commission": 0.0003,
        "block_trade_min_trade_amount": 25,
        "block_trade_tick_size": 0.0001,
        "base_currency": "BTC",
        "price_index": "btc_usd",
        "rfq": False,
    }


def _summary(strike: float, kind: str) -> dict[str, Any]:
    years = (EXPIRY - NOW).total_seconds() / (365 * 86_400)
    iv = 0.52 + 0.1 * (65_000 / strike - 0.95)
    mark_usd = float(black76_price(FORWARD, strike, years, iv, kind == "call"))
    mark = round(mark_usd / FORWARD, 8)
    return {
        "volume_usd": 12_045.3,
        "volume": 4.2,
        "quote_currency": "BTC",
        "price_change": -3.1,
        "open_interest": 310.4,
        "mid_price": round(mark, 4),
        "mark_price": mark,
        "mark_iv": round(iv * 100, 2),
        "low": round(mark * 0.9, 4),
        "last": round(mark, 4),
        "interest_rate": 0.0,
        "instrument_name": _instrument(strike, kind)["instrument_name"],
        "high": round(mark * 1.1, 4),
        "estimated_delivery_price": 68_101.2,
        "creation_timestamp": int(NOW.timestamp() * 1000),
        "bid_price": round(mark - 0.0005, 4),
        "base_currency": "BTC",
        "ask_price": round(mark + 0.0005, 4),
        "underlying_price": FORWARD,
        "underlying_index": "BTC-27MAR26",
    }


def _rpc(result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "usIn": 1, "usOut": 2, "usDiff": 1, "testnet": True}


ROUTES = {
    "/api/v2/public/get_currencies": lambda: _rpc(
        [
            {
                "currency": "BTC",
                "currency_long": "Bitcoin",
                "coin_type": "BITCOIN",
                "fee_precision": 4,
                "min_confirmations": 1,
                "min_withdrawal_fee": 0.0001,
                "withdrawal_fee": 0.0001,
                "withdrawal_priorities": [],
            }
        ]
    ),
    "/api/v2/public/get_instruments": lambda: _rpc(
        [_instrument(k, t) for k in STRIKES for t in ("call", "put")]
    ),
    "/api/v2/public/get_book_summary_by_currency": lambda: _rpc(
        [_summary(k, t) for k in STRIKES for t in ("call", "put")]
    ),
}


@pytest.fixture
def deribit() -> Iterator[CcxtExchange]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = ROUTES.get(urlparse(self.path).path)
            body = json.dumps(
                route() if route else {"error": {"code": 10000, "message": "not found"}}
            ).encode()
            self.send_response(200 if route else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serving(Handler) as url:
        venue = CcxtExchange.create("deribit", timeout_ms=2000, max_retries=1)
        point_client_at(venue.client, url)
        venue.client.rateLimit = 1
        yield venue


def test_a_deribit_chain_becomes_inverse_option_quotes(deribit: CcxtExchange) -> None:
    assert deribit.sandbox
    frame = normalize.fetch_option_chain_frame(deribit, "BTC", now=NOW)
    check_frame(OPTION_QUOTES, frame)
    assert frame.height == 4
    assert frame["symbol"].to_list()[0] == "BTC/USD:BTC-260327-65000-C"
    assert frame["settlement"].unique().to_list() == ["inverse"]
    assert frame["source"].unique().to_list() == ["deribit-testnet"]
    assert frame["expiry"].unique().to_list() == [EXPIRY]
    assert frame["underlying_price"].unique().to_list() == [FORWARD]
    call = frame.row(0, named=True)
    assert call["mark_iv"] == pytest.approx(0.52 + 0.1 * 0.05)
    assert call["bid_iv"] < call["mark_iv"] < call["ask_iv"]
    assert call["mark"] < 1.0  # premium in BTC
