"""Signals, orders and runs lists."""

from __future__ import annotations

import pytest


def test_signals_list_newest_first(client, shared_lake):
    body = client.get("/api/signals").json()
    assert body["total"] == len(shared_lake.symbols)
    first = body["items"][0]
    assert first["direction"] == "long"
    assert first["strength"] == 0.5
    assert first["fallback_reason"] is None
    only_btc = client.get("/api/signals", params={"symbol": "BTC/USDT:USDT"}).json()
    assert [s["symbol"] for s in only_btc["items"]] == ["BTC/USDT:USDT"]
    assert client.get("/api/signals", params={"direction": "short"}).json()["total"] == 0


def test_orders_join_the_ledger(client):
    body = client.get("/api/orders").json()
    assert body["total"] == 3
    by_status = {order["status"]: order for order in body["items"]}
    accepted, refused = by_status["accepted"], by_status["refused"]
    assert accepted["last_event"] == "filled"
    assert accepted["filled_quantity"] == 1.0
    assert accepted["venue_order_id"].startswith("v-")
    assert refused["reason"] == "symbol notional limit"
    assert refused["last_event"] is None
    refused_only = client.get("/api/orders", params={"status": "refused"}).json()
    assert [order["status"] for order in refused_only["items"]] == ["refused"]


def test_runs_newest_first_with_parsed_json(client):
    body = client.get("/api/runs").json()
    assert [run["run_id"] for run in body["items"]] == ["run-2", "run-1"]
    assert body["items"][0]["parameters"] == {}
    assert client.get("/api/runs", params={"status": "failed"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/signals", {"symbol": "btc"}),
        ("/api/signals", {"direction": "up"}),
        ("/api/orders", {"status": "pending"}),
        ("/api/orders", {"run_id": "a/b"}),
        ("/api/runs", {"since": "not a time"}),
        ("/api/runs", {"limit": 5000}),
    ],
)
def test_bad_list_parameters_are_422(client, path, params):
    assert client.get(path, params=params).status_code == 422
