"""Idempotent submission against the simulated venue, with injected venue faults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import ccxt
import polars as pl
import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, submit_intents
from qbtc.execution.ledger import Ledger
from qbtc.execution.submit import Submitter
from qbtc.lake import read_dataset
from qbtc.market.errors import VenueBannedError
from qbtc.market.sim import SimExchange
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import AS_OF, make_intent, open_venue


class FaultyVenue:
    """Delegates to a real venue, raising scripted errors before or after the call."""

    def __init__(self, venue: SimExchange) -> None:
        self.venue = venue
        self.id = venue.id
        self.before: dict[str, list[Exception]] = {}
        self.after: dict[str, list[Exception]] = {}
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.venue, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.before.get(name):
                raise self.before[name].pop(0)
            result = target(*args, **kwargs)
            if self.after.get(name):
                raise self.after[name].pop(0)
            return result

        return call


def venue_orders(data_dir: Path) -> pl.DataFrame:
    """The venue's published book (published first: placements publish lazily)."""
    open_venue(data_dir).trading.publish()  # type: ignore[union-attr]
    return read_dataset(data_dir / "lake", "sim_venue_orders")


def events_of(config: ExecutionConfig, cid: str) -> list[str]:
    events = config.ledger().events().filter(pl.col("client_order_id") == cid)
    return events["event"].to_list()


def submitter(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, run: str
) -> Submitter:
    return Submitter(broker, config.ledger(), config.circuit(), kill_switch, run_id=run)


def test_an_intent_becomes_one_acknowledged_filled_order(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    intent = make_intent()
    result = submitter(broker, config, kill_switch, "run-1").submit(intent)
    assert (result.action, result.status, result.filled_quantity) == ("submitted", "filled", 0.5)
    assert events_of(config, intent.client_order_id) == [
        "intent",
        "submitted",
        "acknowledged",
        "filled",
    ]
    book = venue_orders(data_dir)
    assert book["client_order_id"].to_list() == [intent.client_order_id]
    fills = config.ledger().fills()
    assert fills["quantity"].sum() == pytest.approx(0.5)
    assert fills["price"][0] == pytest.approx(book["average"][0])
    assert fills["fee"][0] == pytest.approx(book["fee"][0])


def test_submitting_the_same_decision_again_sends_nothing(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    intent = make_intent()
    submit_intents(broker, config, [intent], run_id="run-1", kill_switch=kill_switch)
    before = config.ledger().events().height
    again = submit_intents(broker, config, [intent], run_id="run-2", kill_switch=kill_switch)
    assert again[0].action == "none"
    assert venue_orders(data_dir).height == 1
    assert config.ledger().events().height == before


def test_an_order_the_venue_has_but_the_ledger_lost_is_recorded_not_resent(
    venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    intent = make_intent()
    venue.create_order(
        intent.symbol, "market", "buy", 0.5, None, {"clientOrderId": intent.client_order_id}
    )
    faulty = FaultyVenue(venue)
    result = submitter(Broker(faulty, paper=True), config, kill_switch, "run-1").submit(intent)  # type: ignore[arg-type]
    assert result.action == "found"
    assert result.status == "filled"
    assert faulty.calls.get("create_order", 0) == 0
    assert venue_orders(data_dir).height == 1
    assert "reconciled" in events_of(config, intent.client_order_id)


def test_a_duplicate_id_rejection_means_already_submitted(
    venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    intent = make_intent()
    venue.create_order(
        intent.symbol, "market", "buy", 0.5, None, {"clientOrderId": intent.client_order_id}
    )
    faulty = FaultyVenue(venue)
    # The pre-check misses the order (a lagging replica): the venue then refuses the resend.
    faulty.before["fetch_order"] = [ccxt.OrderNotFound('sim {"code":-2013}')]
    result = submitter(Broker(faulty, paper=True), config, kill_switch, "run-1").submit(intent)  # type: ignore[arg-type]
    assert result.action == "found"
    assert result.status == "filled"
    assert "duplicate client order id" in (result.reason or "")
    assert venue_orders(data_dir).height == 1
    assert config.circuit().state().consecutive_errors == 0


def test_a_timeout_after_the_venue_accepted_is_resolved_by_fetching(
    venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    intent = make_intent()
    faulty = FaultyVenue(venue)
    faulty.after["create_order"] = [ccxt.RequestTimeout("sim POST /fapi/v1/order timed out")]
    result = submitter(Broker(faulty, paper=True), config, kill_switch, "run-1").submit(intent)  # type: ignore[arg-type]
    assert faulty.calls["create_order"] == 1
    assert (result.action, result.status) == ("found", "filled")
    assert venue_orders(data_dir).height == 1
    assert config.ledger().fills().height == 1


def test_a_venue_refusal_is_recorded_with_its_reason(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    intent = make_intent(side="sell", reduce_only=True)
    result = submitter(broker, config, kill_switch, "run-1").submit(intent)
    assert result.status == "rejected"
    assert "-2022" in (result.reason or "")
    assert events_of(config, intent.client_order_id)[-1] == "rejected"
    assert config.circuit().state().consecutive_errors == 0


def test_repeated_venue_errors_open_the_circuit_and_trip_the_kill_switch(
    venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    faulty = FaultyVenue(venue)
    faulty.before["fetch_order"] = [ccxt.ExchangeNotAvailable("sim 503") for _ in range(3)]
    intents = [make_intent(leg=f"leg-{i}") for i in range(4)]
    results = submit_intents(
        Broker(faulty, paper=True), config, intents, run_id="r", kill_switch=kill_switch
    )  # type: ignore[arg-type]
    assert [r.action for r in results] == ["deferred", "deferred", "deferred", "blocked"]
    assert kill_switch.status().on
    assert "circuit" in (kill_switch.status().reason or "")
    assert config.circuit().state().open_until is not None
    assert faulty.calls.get("create_order", 0) == 0
    assert (results[3].reason or "").startswith("kill switch on")
    # A reduce-only order passes the kill switch but not the open circuit.
    closing = submit_intents(
        Broker(faulty, paper=True),  # type: ignore[arg-type]
        config,
        [make_intent(side="sell", reduce_only=True, leg="close")],
        run_id="r",
        kill_switch=kill_switch,
    )
    assert closing[0].action == "blocked"
    assert "circuit open" in (closing[0].reason or "")
    assert venue_orders(data_dir).height == 0


def test_a_418_opens_the_circuit_at_once(
    venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    faulty = FaultyVenue(venue)
    faulty.before["create_order"] = [VenueBannedError("sim", "IP banned until 1767618000000")]
    results = submit_intents(
        Broker(faulty, paper=True),  # type: ignore[arg-type]
        config,
        [make_intent(leg="a"), make_intent(leg="b")],
        run_id="r",
        kill_switch=kill_switch,
    )
    assert [r.action for r in results] == ["unknown", "blocked"]
    assert "418" in (config.circuit().state().reason or "")
    assert not kill_switch.status().on


def test_while_the_kill_switch_is_on_only_reduce_only_orders_pass(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    submit_intents(broker, config, [make_intent(leg="open")], run_id="r1", kill_switch=kill_switch)
    kill_switch.trip("drawdown beyond limit")
    results = submit_intents(
        broker,
        config,
        [
            make_intent(leg="more"),
            make_intent(side="sell", quantity=0.2, reduce_only=True, leg="cut"),
        ],
        run_id="r2",
        kill_switch=kill_switch,
    )
    assert [r.action for r in results] == ["blocked", "submitted"]
    assert results[1].status == "filled"
    # Blocked is not final: once the switch is off, a re-run submits the order.
    kill_switch.reset()
    rerun = submit_intents(
        broker, config, [make_intent(leg="more")], run_id="r3", kill_switch=kill_switch
    )
    assert rerun[0].action == "submitted"


def test_a_partially_filled_large_order_is_open_and_recorded_as_such(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    result = submit_intents(
        broker, config, [make_intent(quantity=60.0)], run_id="r", kill_switch=kill_switch
    )[0]
    assert result.status == "open"
    assert 0 < result.filled_quantity < 60.0
    assert events_of(config, result.client_order_id)[-1] == "partially_filled"
    ledger = Ledger(config.lake_dir, "main")
    assert ledger.fills()["quantity"].sum() == pytest.approx(result.filled_quantity)


def test_a_stale_decision_is_never_sent(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    strict = ExecutionConfig(config.lake_dir, config.state_dir, max_decision_age_s=60)
    old = make_intent(bar=AS_OF - timedelta(minutes=2))
    fresh = make_intent(leg="fresh", bar=AS_OF - timedelta(seconds=30))
    results = submit_intents(broker, strict, [old, fresh], run_id="late", kill_switch=kill_switch)
    assert [r.action for r in results] == ["blocked", "submitted"]
    assert "stale decision" in (results[0].reason or "")
    assert venue_orders(data_dir)["client_order_id"].to_list() == [fresh.client_order_id]


def test_a_hold_blocks_new_risk_but_lets_reduce_only_orders_close_it(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    submit_intents(broker, config, [make_intent(leg="open")], run_id="r1", kill_switch=kill_switch)
    held = Submitter(
        broker,
        config.ledger(),
        config.circuit(),
        kill_switch,
        run_id="r2",
        hold="quality gate failed: ohlcv is stale",
    )
    results = held.submit_all(
        [
            make_intent(leg="more"),
            make_intent(side="sell", quantity=0.5, reduce_only=True, leg="close"),
        ]
    )
    assert [r.action for r in results] == ["blocked", "submitted"]
    assert "quality gate failed" in (results[0].reason or "")
