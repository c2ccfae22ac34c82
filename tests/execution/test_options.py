"""Option orders on the simulated venue: limit prices from the chain, fills against its quote
and size, Deribit-style fees, idempotence, and settlement at expiry into the ledger."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import (
    ExecutionConfig,
    reconcile_book,
    run_execution,
    snapshot_positions,
    submit_intents,
)
from qbtc.execution.intents import OrderIntent, intents_frame, load_intents
from qbtc.execution.limit_prices import option_limit_price
from qbtc.execution.ruled_intents import rule_intent
from qbtc.execution.venue_rules import VenueRules
from qbtc.lake import read_dataset, write_dataset
from qbtc.market.contracts import parse_option_symbol
from qbtc.market.sim import SimExchange
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import AS_OF, BAR, SYMBOLS, open_venue
from tests.execution.test_crash import run_worker

EXPIRY = datetime(2026, 1, 6, 8, tzinfo=UTC)
AFTER_EXPIRY = EXPIRY + timedelta(minutes=5)


def atm_call(venue: SimExchange) -> str:
    """The listed call of the 2026-01-06 expiry closest to the forward."""
    chain = venue.fetch_option_chain("BTC")
    calls = [s for s in chain if "-260106-" in s and s.endswith("-C")]
    forward = float(chain[calls[0]]["underlyingPrice"])
    return min(calls, key=lambda s: abs(parse_option_symbol(s).strike - forward))


def option_intent(venue: SimExchange, symbol: str, side: str, quantity: float) -> OrderIntent:
    """A limit intent priced by the policy and put on the venue's grid, as the planner does."""
    ticker = venue.fetch_ticker(symbol)
    rules = VenueRules.from_market(venue.market(symbol))
    limit = option_limit_price(
        side,  # type: ignore[arg-type]
        ticker["bid"],
        ticker["ask"],
        inside=0.0,
        max_slippage=0.2,
        tick=rules.price_step,
    )
    assert limit.price is not None
    intent = OrderIntent(
        run_id="risk-run-1",
        portfolio_id="main",
        strategy="vol",
        symbol=symbol,
        leg=f"straddle-1:{side}",
        decision_bar=BAR,
        side=side,  # type: ignore[arg-type]
        quantity=quantity,
        notional=quantity * limit.price,
        order_type="limit",
        limit_price=limit.price,
        status="accepted",
    )
    return rule_intent(intent, rules, reference_price=limit.price)


def submit(broker: Broker, config: ExecutionConfig, intents: list[OrderIntent], run: str) -> list:
    return submit_intents(
        broker, config, intents, run_id=run, kill_switch=KillSwitch(config.state_dir)
    )


def test_a_limit_buy_fills_at_the_ask_with_the_deribit_fee(
    broker: Broker, venue: SimExchange, config: ExecutionConfig
) -> None:
    symbol = atm_call(venue)
    ticker = venue.fetch_ticker(symbol)
    quantity = min(0.5, ticker["askVolume"])
    (result,) = submit(broker, config, [option_intent(venue, symbol, "buy", quantity)], "r1")
    assert (result.action, result.status) == ("submitted", "filled")
    fill = config.ledger().fills().row(0, named=True)
    assert fill["price"] == ticker["ask"]
    expected_fee = min(0.0003 * ticker["indexPrice"], 0.125 * ticker["ask"]) * quantity
    assert fill["fee"] == pytest.approx(expected_fee)


def test_an_order_larger_than_the_quoted_size_fills_partially_then_rests(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, data_dir: Path
) -> None:
    symbol = atm_call(venue)
    ticker = venue.fetch_ticker(symbol)
    quantity = round(ticker["askVolume"] * 3, 2)
    (result,) = submit(broker, config, [option_intent(venue, symbol, "buy", quantity)], "r1")
    assert result.status == "open"
    assert result.filled_quantity == pytest.approx(ticker["askVolume"])
    # later the quote has refreshed: reconciliation records what the resting order got
    later = Broker(open_venue(data_dir, AS_OF + timedelta(minutes=3)), paper=True)
    reconcile_book(later, config, run_id="r2", kill_switch=KillSwitch(config.state_dir))
    state = config.ledger().order_state(result.client_order_id)
    assert state is not None
    assert state.filled_quantity > result.filled_quantity


def test_an_option_order_is_never_sent_twice(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, data_dir: Path
) -> None:
    symbol = atm_call(venue)
    intent = option_intent(venue, symbol, "buy", 0.2)
    first = submit(broker, config, [intent], "r1")
    again = submit(Broker(open_venue(data_dir), paper=True), config, [intent], "r1-retry")
    rerun = submit(broker, config, [dataclasses.replace(intent, run_id="r2")], "r2")
    assert [r.action for r in (*first, *again, *rerun)] == ["submitted", "none", "none"]
    venue.trading.publish()  # type: ignore[union-attr]
    venue_book = read_dataset(config.lake_dir, "sim_venue_orders")
    assert venue_book.filter(pl.col("client_order_id") == intent.client_order_id).height == 1


def test_an_option_order_the_venue_has_but_the_ledger_lost_is_found_not_resent(
    broker: Broker, venue: SimExchange, config: ExecutionConfig
) -> None:
    """A kill -9 after the venue's acknowledgement: the next submission finds the order."""
    symbol = atm_call(venue)
    intent = option_intent(venue, symbol, "sell", 0.2)
    broker.place(intent)  # the venue has it; the ledger never heard
    (result,) = submit(broker, config, [intent], "r1")
    assert result.action == "found"
    assert config.ledger().fills()["quantity"].sum() == pytest.approx(0.2)


def test_a_leg_the_venue_refuses_is_recorded_with_its_reason(
    broker: Broker, venue: SimExchange, config: ExecutionConfig
) -> None:
    symbol = atm_call(venue)
    off_lot = dataclasses.replace(option_intent(venue, symbol, "buy", 0.2), quantity=0.015)
    (result,) = submit(broker, config, [off_lot], "r1")
    assert result.action == "rejected"
    assert result.reason is not None
    assert "-1111" in result.reason


def test_expiry_settles_in_the_ledger_and_realises_the_pnl(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, data_dir: Path
) -> None:
    symbol = atm_call(venue)
    ticker = venue.fetch_ticker(symbol)
    quantity = min(0.4, ticker["askVolume"])
    submit(broker, config, [option_intent(venue, symbol, "buy", quantity)], "r1")
    entry = config.ledger().fills()["price"][0]
    trading_fee = config.ledger().fills()["fee"][0]

    after = open_venue(data_dir, AFTER_EXPIRY)
    kill_switch = KillSwitch(config.state_dir)
    report = reconcile_book(Broker(after, paper=True), config, run_id="r2", kill_switch=kill_switch)
    assert not report.tripped, report.mismatches
    assert any("settled at expiry" in r for r in report.repairs)

    delivery = after.delivery_price("BTC", int(EXPIRY.timestamp() * 1000))
    strike = parse_option_symbol(symbol).strike
    value = max(delivery - strike, 0.0)
    settled = config.ledger().settlements().row(0, named=True)
    assert settled["quantity"] == pytest.approx(quantity)
    assert settled["delivery_price"] == pytest.approx(delivery)
    assert settled["settlement_price"] == pytest.approx(value)
    assert config.ledger().fills().height == 1  # a settlement is not a fill

    book = snapshot_positions(Broker(after, paper=True), config).row(0, named=True)
    assert book["quantity"] == 0.0
    assert book["realized_pnl"] == pytest.approx(quantity * (value - entry))
    delivery_fee = min(0.00015 * delivery, 0.125 * value) * quantity if value > 0 else 0.0
    assert book["fees"] == pytest.approx(trading_fee + delivery_fee)
    # a second look records nothing new
    reconcile_book(Broker(after, paper=True), config, run_id="r3", kill_switch=kill_switch)
    assert config.ledger().settlements().height == 1
    assert not kill_switch.status().on


def test_open_orders_on_an_expired_option_expire_with_it(
    broker: Broker, venue: SimExchange, config: ExecutionConfig, data_dir: Path
) -> None:
    symbol = atm_call(venue)
    ticker = venue.fetch_ticker(symbol)
    resting = dataclasses.replace(
        option_intent(venue, symbol, "buy", 0.2), limit_price=ticker["bid"] - 100.0
    )
    (result,) = submit(broker, config, [resting], "r1")
    assert (result.status, result.filled_quantity) == ("open", 0.0)
    after = Broker(open_venue(data_dir, AFTER_EXPIRY), paper=True)
    reconcile_book(after, config, run_id="r2", kill_switch=KillSwitch(config.state_dir))
    state = config.ledger().order_state(result.client_order_id)
    assert state is not None
    assert state.status == "cancelled"


def test_a_kill_9_after_an_option_ack_and_a_rerun_leave_exactly_one_order(
    venue: SimExchange, data_dir: Path
) -> None:
    """The process dies after the venue acknowledged the option order, before the ledger
    heard: the re-run finds it by client order id and sends nothing."""
    symbol = atm_call(venue)
    intent = option_intent(venue, symbol, "buy", 0.2)
    write_dataset(data_dir / "lake", "order_intents", intents_frame([intent]))
    crashed = run_worker(data_dir, "risk-run-1", "after_ack")
    assert crashed.returncode == 9, crashed.stderr[-2000:]

    config = ExecutionConfig(data_dir / "lake", data_dir / "state", symbols=SYMBOLS)
    report = run_execution(
        Broker(open_venue(data_dir), paper=True),
        config,
        load_intents(data_dir / "lake", "risk-run-1"),
        run_id="rerun",
        kill_switch=KillSwitch(data_dir / "state"),
    )
    assert [r.action for r in report.results] == ["none"]
    assert not report.reconciliation.tripped
    venue_book = read_dataset(data_dir / "lake", "sim_venue_orders")
    assert venue_book["client_order_id"].to_list() == [intent.client_order_id]
    assert config.ledger().fills()["quantity"].sum() == pytest.approx(0.2)
