"""``qbtc orders`` and ``qbtc positions`` over a book traded on the simulated venue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qbtc.cli import app
from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, snapshot_positions, submit_intents
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import make_intent, open_venue

runner = CliRunner()


@pytest.fixture
def book(data_dir: Path) -> list[str]:
    broker = Broker(open_venue(data_dir), paper=True)
    config = ExecutionConfig(data_dir / "lake", data_dir / "state")
    switch = KillSwitch(data_dir / "state")
    intents = [
        make_intent(quantity=0.2),
        make_intent("ETH/USDT:USDT", "sell", 3.0, leg="eth"),
        make_intent(side="sell", quantity=1.0, reduce_only=True, leg="too-much"),
    ]
    submit_intents(broker, config, intents, run_id="cli", kill_switch=switch)
    snapshot_positions(broker, config)
    return [i.client_order_id for i in intents]


def test_orders_lists_each_order_with_its_latest_state(book: list[str]) -> None:
    result = runner.invoke(app, ["orders", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["client_order_id"]: row for row in json.loads(result.output)}
    assert set(rows) == set(book)
    assert [rows[cid]["status"] for cid in book] == ["filled", "filled", "rejected"]
    assert rows[book[0]]["filled"] == 0.2
    assert "-2022" in rows[book[2]]["reason"]


def test_orders_filters_by_status_and_shows_events(book: list[str]) -> None:
    rejected = runner.invoke(app, ["orders", "--status", "rejected", "-f", "csv"])
    assert rejected.exit_code == 0, rejected.output
    assert rejected.output.count("\n") == 2  # header + one order
    events = runner.invoke(app, ["orders", "--events", book[0], "-f", "json"])
    assert [e["event"] for e in json.loads(events.output)] == [
        "intent",
        "submitted",
        "acknowledged",
        "filled",
    ]


def test_orders_refuses_an_unknown_status_or_order(book: list[str]) -> None:
    bad = runner.invoke(app, ["orders", "--status", "done"])
    assert bad.exit_code == 2
    assert "not one of pending, submitted, open" in bad.output
    missing = runner.invoke(app, ["orders", "--events", "qbnope"])
    assert missing.exit_code == 2
    assert "no ledger events" in missing.output


def test_positions_shows_the_latest_snapshot(book: list[str]) -> None:
    result = runner.invoke(app, ["positions", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["symbol"]: row for row in json.loads(result.output)}
    assert (rows["BTC/USDT:USDT"]["quantity"], rows["BTC/USDT:USDT"]["side"]) == (0.2, "long")
    assert rows["ETH/USDT:USDT"]["quantity"] == -3.0
    assert rows["ETH/USDT:USDT"]["fees"] > 0


def test_an_empty_book_prints_empty_tables(data_dir: Path) -> None:
    assert runner.invoke(app, ["orders"]).exit_code == 0
    empty = runner.invoke(app, ["positions"])
    assert empty.exit_code == 0, empty.output
    assert "(0 rows)" in empty.output
