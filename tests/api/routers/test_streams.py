from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from qbtc.api import create_app
from qbtc.lake import write_dataset
from tests.api.conftest import make_settings
from tests.api.lakedata import (
    TICKER_COLUMNS,
    FixtureLake,
    alert,
    frame,
    option_leg,
    position,
    structure_intent,
)

TIMEOUT_S = 10.0


def receive(websocket: Any, pool: ThreadPoolExecutor) -> dict[str, Any]:
    """Next message, failing the test instead of hanging when none comes."""
    return json.loads(pool.submit(websocket.receive_text).result(timeout=TIMEOUT_S))


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


def _ticker(symbol: str, stamp, last: float) -> dict[str, Any]:
    values = (symbol, stamp, last - 1, last + 1, last, last, last, 1.0, 1.0, 1.0, "ws")
    return dict(zip(TICKER_COLUMNS, values, strict=True))


def test_prices_stream_pushes_a_new_ticker(own_lake: FixtureLake, data_dir, pool):
    with (
        TestClient(create_app(make_settings(data_dir))) as client,
        client.websocket_connect("/ws/prices") as websocket,
    ):
        first = receive(websocket, pool)
        assert first["channel"] == "prices"
        assert first["sequence"] == 1
        assert {row["symbol"] for row in first["data"]} == set(own_lake.symbols)
        later = own_lake.last_bar + timedelta(minutes=1)
        tick = _ticker("BTC/USDT:USDT", later, 123.0)
        write_dataset(own_lake.root, "tickers", frame([tick], "tickers"))
        update = receive(websocket, pool)
    assert update["sequence"] == 2
    btc = next(row for row in update["data"] if row["symbol"] == "BTC/USDT:USDT")
    assert btc["last"] == 123.0
    assert btc["ticker_timestamp"] == "2026-01-07T00:00:00Z"


def test_positions_stream_pushes_a_new_snapshot(own_lake: FixtureLake, data_dir, pool):
    with (
        TestClient(create_app(make_settings(data_dir))) as client,
        client.websocket_connect("/ws/positions") as websocket,
    ):
        assert len(receive(websocket, pool)["data"]) == 3
        later = own_lake.last_bar + timedelta(minutes=1)
        row = position("BTC/USDT:USDT", 7.0, 100.0, later)
        write_dataset(own_lake.root, "positions", frame([row], "positions"))
        update = receive(websocket, pool)
    btc = next(row for row in update["data"] if row["symbol"] == "BTC/USDT:USDT")
    assert btc["quantity"] == 7.0


def test_positions_stream_flags_a_one_legged_structure_until_its_other_leg_fills(
    own_lake: FixtureLake, data_dir, pool
):
    call, put = "ETH/USDT:USDT-260206-3000-C", "ETH/USDT:USDT-260206-3000-P"
    stamp = own_lake.last_bar
    intents = [structure_intent("main", leg, "os-eth", stamp) for leg in (call, put)]
    write_dataset(own_lake.root, "order_intents", frame(intents, "order_intents"))
    write_dataset(
        own_lake.root, "positions", frame([option_leg("main", call, -5.0, stamp)], "positions")
    )
    with (
        TestClient(create_app(make_settings(data_dir))) as client,
        client.websocket_connect("/ws/positions") as websocket,
    ):
        first = {row["symbol"]: row["structure_state"] for row in receive(websocket, pool)["data"]}
        filled = option_leg("main", put, -5.0, stamp + timedelta(minutes=1))
        write_dataset(own_lake.root, "positions", frame([filled], "positions"))
        update = receive(websocket, pool)
    assert first[call] == f"incomplete: {put} held 0, -5 to the structure's size"
    assert first["BTC/USDT:USDT"] is None
    legs = {row["symbol"]: row["structure_state"] for row in update["data"] if row["structure_id"]}
    assert legs == {call: "complete", put: "complete"}


def test_alerts_stream_sends_each_alert_once(own_lake: FixtureLake, data_dir, pool):
    with (
        TestClient(create_app(make_settings(data_dir))) as client,
        client.websocket_connect("/ws/alerts") as websocket,
    ):
        assert [a["alert_id"] for a in receive(websocket, pool)["data"]] == ["a1"]
        later = own_lake.last_bar + timedelta(minutes=1)
        write_dataset(own_lake.root, "alerts", frame([alert("a2", later)], "alerts"))
        update = receive(websocket, pool)
    assert [a["alert_id"] for a in update["data"]] == ["a2"]
    assert update["sequence"] == 2


def test_stream_needs_the_token_when_one_is_set(own_lake: FixtureLake, data_dir, pool):
    settings = make_settings(data_dir, api_token="s3cret")
    with TestClient(create_app(settings)) as client:
        denied = pytest.raises((WebSocketDisconnect, WebSocketDenialResponse))
        with denied, client.websocket_connect("/ws/prices") as websocket:
            websocket.receive_text()
        headers = {"Authorization": "Bearer s3cret"}
        with client.websocket_connect("/ws/prices", headers=headers) as websocket:
            assert receive(websocket, pool)["channel"] == "prices"
        # A browser sends it as subprotocols: new WebSocket(url, ["bearer", token]).
        offer = ["bearer", "s3cret"]
        with client.websocket_connect("/ws/alerts", subprotocols=offer) as websocket:
            assert websocket.accepted_subprotocol == "bearer"
            assert receive(websocket, pool)["channel"] == "alerts"
        wrong = pytest.raises((WebSocketDisconnect, WebSocketDenialResponse))
        with wrong, client.websocket_connect("/ws/alerts", subprotocols=["bearer", "nope"]) as ws:
            ws.receive_text()
