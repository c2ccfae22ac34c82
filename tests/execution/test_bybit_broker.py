"""The linear option venue: Bybit's USDC options through the real ccxt ``bybit`` client
against a local stub (tests/market/bybit_stub.py).

Why Bybit: in ccxt 4.5 it has option chains (``fetchOptionChain``), Greeks, option orders
and option positions, and a testnet with options; its options are linear (premium, fees and
PnL in USDC, sizes in coins). OKX's options are coin-margined (inverse, like Deribit's) and
Binance has no option-chain call in ccxt and no options on its testnet.

Facts relied on (Bybit v5 docs, https://bybit-exchange.github.io/docs/v5/order/create-order):
the client's id travels in ``orderLinkId`` (ccxt maps ``clientOrderId`` to it) and an order
is queried by it on ``/v5/order/realtime``; options are ``category=option``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, reconcile_book, submit_intents, venue_marks
from qbtc.execution.intents import OrderIntent
from qbtc.market import normalize
from qbtc.risk.killswitch import KillSwitch
from tests.execution.conftest import make_intent
from tests.market.bybit_stub import (
    ASK,
    MARK,
    OPTION_ID,
    OPTION_SYMBOL,
    UNDERLYING,
    BybitVenue,
    bybit_exchange,
    running_bybit,
)


@pytest.fixture
def bybit() -> Iterator[tuple[BybitVenue, Broker]]:
    with running_bybit() as (venue, url):
        yield venue, Broker(bybit_exchange(url), paper=False)


@pytest.fixture
def config(config: ExecutionConfig) -> ExecutionConfig:
    return dataclasses.replace(config, symbols=())


def option_intent(quantity: float = 0.5) -> OrderIntent:
    intent = make_intent(OPTION_SYMBOL, quantity=quantity, leg="straddle-call")
    return dataclasses.replace(
        intent, order_type="limit", limit_price=ASK, notional=quantity * UNDERLYING
    )


def test_a_bybit_chain_becomes_linear_option_quotes(bybit: tuple[BybitVenue, Broker]) -> None:
    _, broker = bybit
    from datetime import UTC, datetime

    frame = normalize.fetch_option_chain_frame(
        broker.exchange, "BTC", now=datetime(2026, 1, 5, 8, tzinfo=UTC)
    )
    row = frame.row(0, named=True)
    assert (row["symbol"], row["settlement"], row["source"]) == (
        OPTION_SYMBOL,
        "linear",
        "bybit-testnet",
    )
    assert (row["bid"], row["ask"], row["underlying_price"]) == (6_080.0, ASK, UNDERLYING)


def test_an_option_order_goes_out_with_its_order_link_id_and_is_found_by_it(
    bybit: tuple[BybitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    venue, broker = bybit
    intent = option_intent()
    [result] = submit_intents(broker, config, [intent], run_id="a", kill_switch=kill_switch)
    assert result.action == "submitted", result.reason
    [sent] = venue.calls("/v5/order/create")
    assert (sent["category"], sent["symbol"], sent["orderLinkId"]) == (
        "option",
        OPTION_ID,
        intent.client_order_id,
    )
    assert (sent["qty"], sent["price"]) == ("0.5", "6105")
    lookups = venue.calls("/v5/order/realtime")
    assert {q["orderLinkId"] for q in lookups} == {intent.client_order_id}
    again = submit_intents(broker, config, [intent], run_id="b", kill_switch=kill_switch)[0]
    assert again.action in ("none", "found")
    assert len(venue.calls("/v5/order/create")) == 1  # never sent twice
    reconcile_book(broker, config, run_id="c", kill_switch=kill_switch)
    fill = config.ledger().fills().row(0, named=True)
    assert (fill["quantity"], fill["price"]) == (0.5, ASK)  # coins, USDC per coin
    assert fill["fee"] == pytest.approx(min(0.0003 * UNDERLYING, 0.07 * ASK) * 0.5)
    assert fill["fee_currency"] == "USDC"


def test_option_positions_and_marks_are_linear_and_carry_greeks(
    bybit: tuple[BybitVenue, Broker], config: ExecutionConfig, kill_switch: KillSwitch
) -> None:
    _, broker = bybit
    submit_intents(broker, config, [option_intent()], run_id="a", kill_switch=kill_switch)
    [position] = broker.fetch_positions()
    assert (position["symbol"], position["contracts"], position["side"]) == (
        OPTION_SYMBOL,
        0.5,
        "long",
    )
    assert position["markPrice"] == MARK  # USDC: no conversion for a linear option
    marks, option_marks = venue_marks(broker, [OPTION_SYMBOL])
    assert marks[OPTION_SYMBOL] == MARK
    assert option_marks[OPTION_SYMBOL].mark_iv == pytest.approx(0.5153)  # markIv, a fraction
    assert option_marks[OPTION_SYMBOL].forward == UNDERLYING
