from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.lake import write_dataset
from tests.api.conftest import make_settings
from tests.api.lakedata import FixtureLake, frame, position


def test_positions_are_the_latest_snapshot_by_symbol(client, shared_lake):
    body = client.get("/api/positions").json()
    assert body["total"] == 3
    assert body["next_offset"] is None
    symbols = [item["symbol"] for item in body["items"]]
    assert symbols == sorted(shared_lake.symbols)
    stamp = shared_lake.last_bar.isoformat().replace("+00:00", "Z")
    assert {item["timestamp"] for item in body["items"]} == {stamp}
    by_symbol = {item["symbol"]: item for item in body["items"]}
    assert by_symbol["ETH/USDT:USDT"]["quantity"] == -2.0
    assert by_symbol["ETH/USDT:USDT"]["side"] == "short"
    assert by_symbol["BTC/USDT:USDT"]["id"] == "main:BTC/USDT:USDT"


def test_positions_pages_do_not_overlap(client):
    first = client.get("/api/positions", params={"limit": 2}).json()
    second = client.get("/api/positions", params={"limit": 2, "offset": 2}).json()
    assert [len(first["items"]), first["next_offset"]] == [2, 2]
    assert [len(second["items"]), second["next_offset"]] == [1, None]
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"portfolio_id": "other"}, 0), ({"type": "option"}, 0), ({"type": "perp"}, 3)],
)
def test_positions_filters(client, params, expected):
    assert client.get("/api/positions", params=params).json()["total"] == expected


def test_flat_positions_are_hidden_unless_asked(own_lake: FixtureLake, data_dir):
    later = own_lake.last_bar + timedelta(minutes=1)
    flat = position("BTC/USDT:USDT", 0.0, 100.0, later)
    write_dataset(own_lake.root, "positions", frame([flat], "positions"))
    with TestClient(create_app(make_settings(data_dir))) as client:
        shown = client.get("/api/positions").json()
        everything = client.get("/api/positions", params={"include_flat": True}).json()
    assert "BTC/USDT:USDT" not in [item["symbol"] for item in shown["items"]]
    assert shown["total"] == 2
    assert everything["total"] == 3


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"type": "future"}, {"portfolio_id": "a b"}],
)
def test_bad_position_parameters_are_422_with_the_field(client, params):
    response = client.get("/api/positions", params=params)
    assert response.status_code == 422
    body = response.json()
    name = next(iter(params))
    assert body["errors"][0]["location"] == f"query.{name}"
    assert body["detail"].startswith("invalid request: query.")
