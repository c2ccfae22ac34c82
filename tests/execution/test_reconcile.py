"""Reconciliation of the ledger with the simulated venue at the start of a cycle."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, reconcile_book, submit_intents
from qbtc.execution.ledger import OrderEvent
from qbtc.execution.reconcile import BALANCE_ID, Tolerance
from qbtc.lake import write_dataset
from qbtc.market.sim import SimExchange
from qbtc.risk.killswitch import KillSwitch
from qbtc.schemas import FUNDING_RATES
from tests.execution.conftest import AS_OF, BAR, make_intent, open_venue


def reconcile(broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, run: str = "rc"):  # type: ignore[no-untyped-def]
    return reconcile_book(broker, config, run_id=run, kill_switch=kill_switch)


def store_funding(venue: SimExchange, config: ExecutionConfig, symbol: str) -> None:
    rows = venue.fetch_funding_rate_history(
        symbol, since=int((AS_OF - timedelta(days=1)).timestamp() * 1000)
    )
    frame = pl.DataFrame(
        [
            {
                "symbol": symbol,
                "timestamp": pl.Series([r["timestamp"]])
                .cast(pl.Datetime("ms", "UTC"))
                .cast(pl.Datetime("us", "UTC"))[0],
                "funding_rate": r["fundingRate"],
                "mark_price": float(r["info"]["markPrice"]),
                "index_price": float(r["info"]["indexPrice"]),
                "source": "sim",
            }
            for r in rows
        ],
        schema=FUNDING_RATES.schema,
    )
    write_dataset(config.lake_dir, FUNDING_RATES, frame)


def test_the_first_reconciliation_records_the_starting_balance(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    report = reconcile(broker, config, kill_switch)
    assert not report.tripped
    assert report.repairs == ()
    events = config.ledger().events().filter(pl.col("client_order_id") == BALANCE_ID)
    assert events["reason"][0].startswith("starting balance")


def test_fills_the_venue_made_later_are_recorded(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    result = submit_intents(
        broker, config, [make_intent(quantity=60.0)], run_id="r1", kill_switch=kill_switch
    )[0]
    assert result.status == "open"
    unchanged = reconcile(broker, config, kill_switch, run="same-minute")
    assert unchanged.orders_checked == 1
    assert unchanged.repairs == ()
    later = Broker(open_venue(data_dir, AS_OF + timedelta(minutes=30)), paper=True)
    report = reconcile(later, config, kill_switch)
    state = config.ledger().order_state(result.client_order_id)
    assert state is not None
    assert state.status == "filled"
    assert state.filled_quantity == pytest.approx(60.0)
    assert report.orders_checked == 1
    assert not report.tripped
    assert config.ledger().fills()["quantity"].sum() == pytest.approx(60.0)


def test_an_acknowledged_order_the_ledger_never_heard_of_is_recovered(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    intent = make_intent()
    common = {"client_order_id": intent.client_order_id, "run_id": "r1", "symbol": intent.symbol}
    config.ledger().record(
        [
            OrderEvent(event="intent", side="buy", quantity=0.5, **common),  # type: ignore[arg-type]
            OrderEvent(event="submitted", side="buy", quantity=0.5, **common),  # type: ignore[arg-type]
        ]
    )
    venue.create_order(
        intent.symbol, "market", "buy", 0.5, None, {"clientOrderId": intent.client_order_id}
    )
    report = reconcile(broker, config, kill_switch)
    state = config.ledger().order_state(intent.client_order_id)
    assert state is not None
    assert state.status == "filled"
    assert not report.tripped  # the fill explains the venue's position
    assert any(intent.client_order_id in repair for repair in report.repairs)


def test_an_order_that_never_reached_the_venue_stays_pending_for_a_rerun(
    broker: Broker, config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    intent = make_intent()
    common = {"client_order_id": intent.client_order_id, "run_id": "r1", "symbol": intent.symbol}
    config.ledger().record([OrderEvent(event="submitted", side="buy", quantity=0.5, **common)])  # type: ignore[arg-type]
    report = reconcile(broker, config, kill_switch)
    assert "not on the venue" in report.repairs[0]
    assert config.ledger().order_state(intent.client_order_id).status == "submitted"  # type: ignore[union-attr]
    rerun = submit_intents(broker, config, [intent], run_id="r2", kill_switch=kill_switch)
    assert rerun[0].action == "submitted"
    assert rerun[0].status == "filled"


def test_an_unknown_open_order_on_the_venue_is_adopted(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    bid = venue.fetch_ticker("ETH/USDT:USDT")["bid"]
    venue.create_order(
        "ETH/USDT:USDT", "limit", "buy", 1.0, round(bid * 0.9, 2), {"clientOrderId": "manual-1"}
    )
    reconcile(broker, config, kill_switch)
    state = config.ledger().order_state("manual-1")
    assert state is not None
    assert state.status == "open"
    assert state.filled_quantity == 0.0


def test_a_position_the_ledger_misses_is_repaired_and_trips_the_kill_switch(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue.create_order("BTC/USDT:USDT", "market", "sell", 0.3, None, {"clientOrderId": "by-hand"})
    report = reconcile(broker, config, kill_switch)
    assert report.tripped
    assert kill_switch.status().on
    assert "reconciliation mismatch" in (kill_switch.status().reason or "")
    fills = config.ledger().fills()
    assert fills.filter(pl.col("liquidity") == "reconciled")["quantity"].sum() == pytest.approx(0.3)
    venue_position = venue.fetch_positions()[0]
    assert fills["side"][0] == "sell"
    assert fills["price"][0] == pytest.approx(venue_position["entryPrice"])
    again = reconcile(broker, config, kill_switch, run="rc2")
    assert again.repairs == ()
    assert not again.mismatches


def test_a_difference_within_tolerance_is_repaired_without_tripping(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue.create_order("BTC/USDT:USDT", "market", "buy", 0.002, None, {"clientOrderId": "tiny"})
    loose = ExecutionConfig(
        config.lake_dir, config.state_dir, tolerance=Tolerance(position_usd=1_000.0)
    )
    report = reconcile(broker, loose, kill_switch)
    assert len(report.repairs) == 1
    assert not report.tripped
    assert not kill_switch.status().on


def test_balance_fees_and_funding_of_the_ledger_match_the_venue(
    config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    first = Broker(open_venue(data_dir), paper=True)
    reconcile(first, config, kill_switch, run="r0")
    submit_intents(first, config, [make_intent(quantity=2.0)], run_id="r1", kill_switch=kill_switch)
    submit_intents(
        first,
        config,
        [make_intent("ETH/USDT:USDT", "sell", 10.0, leg="eth")],
        run_id="r1",
        kill_switch=kill_switch,
    )
    # A day later: three funding settlements, then part of the BTC position is sold.
    later_venue = open_venue(data_dir, AS_OF + timedelta(days=1))
    later = Broker(later_venue, paper=True)
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
        store_funding(later_venue, config, symbol)
    bar = AS_OF + timedelta(days=1)
    submit_intents(
        later,
        config,
        [make_intent(side="sell", quantity=1.5, bar=bar)],
        run_id="r2",
        kill_switch=kill_switch,
    )
    report = reconcile(later, config, kill_switch, run="r3")
    assert report.mismatches == ()
    assert report.repairs == ()
    account = json.loads((data_dir / "venue" / "account.json").read_text())
    assert account["positions"]["BTC/USDT:USDT"]["funding"] != 0.0
    # Someone moves money out of the account: the ledger notices and stops trading.
    account["balance"] -= 500.0
    (data_dir / "venue" / "account.json").write_text(json.dumps(account))
    report = reconcile(later, config, kill_switch, run="r4")
    assert report.tripped
    assert "balance" in report.mismatches[0]
    assert not reconcile(later, config, kill_switch, run="r5").mismatches


def test_a_repair_fill_carries_the_venue_clock_not_the_wall_clock(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue.create_order("BTC/USDT:USDT", "market", "buy", 0.2, None, {"clientOrderId": "by-hand"})
    reconcile(broker, config, kill_switch)
    repair = config.ledger().fills().filter(pl.col("liquidity") == "reconciled")
    assert repair["timestamp"].to_list() == [AS_OF]


def test_fills_of_the_same_millisecond_in_either_order_do_not_trip_the_balance(
    config: ExecutionConfig, kill_switch: KillSwitch, data_dir: Path
) -> None:
    """A resting order's fill and a new order's fill share the venue's millisecond; the ledger
    may apply them in the other order, which moves PnL between realised and unrealised (average
    cost) but not their sum: the balance check must not see a difference."""
    eth = "ETH/USDT:USDT"
    buy = make_intent(eth, "buy", 100.0, leg="reduce", bar=BAR + timedelta(minutes=2))
    sell_leg = next(
        leg
        for leg in (f"open-{k}" for k in range(50))
        if make_intent(eth, "sell", 1.0, leg=leg).client_order_id > buy.client_order_id
    )
    sell = make_intent(eth, "sell", 400.0, leg=sell_leg)  # more than a minute's liquidity
    first = Broker(open_venue(data_dir), paper=True)
    reconcile(first, config, kill_switch, run="r0")
    (opened,) = submit_intents(first, config, [sell], run_id="r1", kill_switch=kill_switch)
    assert opened.status == "open"
    later = Broker(open_venue(data_dir, AS_OF + timedelta(minutes=2)), paper=True)
    submit_intents(later, config, [buy], run_id="r2", kill_switch=kill_switch)
    report = reconcile(later, config, kill_switch, run="r3")
    assert not report.tripped, report.mismatches
