from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qbtc.api import create_app
from qbtc.cli import app as cli
from qbtc.lake import write_dataset
from tests.api.conftest import make_settings
from tests.api.lakedata import FixtureLake, frame, option_leg, position, structure_intent

CALL, PUT = "ETH/USDT:USDT-260206-3000-C", "ETH/USDT:USDT-260206-3000-P"
LOW_PUT, HIGH_CALL = "BTC/USDT:USDT-260206-90000-P", "BTC/USDT:USDT-260206-110000-C"


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


@pytest.fixture
def structures(own_lake: FixtureLake) -> FixtureLake:
    """Two short structures in ``main``: an ETH straddle of which only the call filled (the
    put is not held at all) and a complete BTC strangle; in ``other``, the same straddle held
    whole (its put must not complete ``main``'s)."""
    stamp = own_lake.last_bar
    intents = [
        structure_intent("main", CALL, "os-eth", stamp),
        structure_intent("main", PUT, "os-eth", stamp),
        structure_intent("main", LOW_PUT, "os-btc", stamp),
        structure_intent("main", HIGH_CALL, "os-btc", stamp),
        structure_intent("other", CALL, "os-other", stamp),
        structure_intent("other", PUT, "os-other", stamp),
    ]
    legs = [
        option_leg("main", CALL, -5.0, stamp),
        option_leg("main", LOW_PUT, -5.0, stamp),
        option_leg("main", HIGH_CALL, -5.0, stamp),
        option_leg("other", CALL, -5.0, stamp),
        option_leg("other", PUT, -5.0, stamp),
    ]
    write_dataset(own_lake.root, "order_intents", frame(intents, "order_intents"))
    write_dataset(own_lake.root, "positions", frame(legs, "positions"))
    return own_lake


def states(items: list[dict[str, Any]]) -> dict[tuple[str, str], str | None]:
    return {(item["portfolio_id"], item["symbol"]): item["structure_state"] for item in items}


ONE_LEGGED = f"incomplete: {PUT} held 0, -5 to the structure's size"


def test_a_one_legged_structure_is_flagged_as_qbtc_positions_flags_it(
    structures: FixtureLake, data_dir
):
    with TestClient(create_app(make_settings(data_dir))) as client:
        body = client.get("/api/positions", params={"portfolio_id": "main"}).json()
    served = states(body["items"])
    assert served[("main", CALL)] == ONE_LEGGED
    assert served[("main", LOW_PUT)] == served[("main", HIGH_CALL)] == "complete"
    assert served[("main", "BTC/USDT:USDT")] is None  # a perp belongs to no structure
    shown = CliRunner().invoke(cli, ["positions", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert served == {
        ("main", row["symbol"]): row["structure_state"] for row in json.loads(shown.output)
    }


def test_each_leg_is_judged_on_the_whole_book_whatever_the_page_or_filter(
    structures: FixtureLake, data_dir
):
    flat_put = option_leg("main", PUT, 0.0, structures.last_bar)  # shown with include_flat
    write_dataset(structures.root, "positions", frame([flat_put], "positions"))
    with TestClient(create_app(make_settings(data_dir))) as client:
        whole = client.get("/api/positions").json()
        pages = [
            client.get("/api/positions", params={"type": "option", "limit": 1, "offset": n})
            for n in range(5)
        ]
        with_flat = client.get("/api/positions", params={"include_flat": True}).json()
    one_per_page = [item for page in pages for item in page.json()["items"]]
    assert [page.json()["total"] for page in pages] == [5] * 5
    assert states(one_per_page) == {k: v for k, v in states(whole["items"]).items() if v}
    assert states(one_per_page) == {
        ("main", CALL): ONE_LEGGED,
        ("main", LOW_PUT): "complete",
        ("main", HIGH_CALL): "complete",
        ("other", CALL): "complete",
        ("other", PUT): "complete",
    }
    assert states(with_flat["items"]) == {**states(whole["items"]), ("main", PUT): ONE_LEGGED}
