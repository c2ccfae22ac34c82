from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbtc.execution.intents import client_order_id
from qbtc.portfolio import intents_from_targets

BAR = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PRICES = {"BTC/USDT:USDT": 50_000.0, "ETH/USDT:USDT": 3_000.0, "SOL/USDT:USDT": 100.0}
KW = {"run_id": "r1", "portfolio_id": "main", "strategy": "qbtc", "decision_bar": BAR}


def summary(intents):
    return [(i.symbol, i.leg, i.side, i.quantity, i.reduce_only) for i in intents]


def test_increase_reduce_and_flip():
    intents = intents_from_targets(
        {"BTC/USDT:USDT": 2.0, "ETH/USDT:USDT": -5.0, "SOL/USDT:USDT": 10.0},
        {"BTC/USDT:USDT": 0.5, "ETH/USDT:USDT": 10.0, "SOL/USDT:USDT": 30.0},
        PRICES,
        **KW,
    )
    assert summary(intents) == [
        ("ETH/USDT:USDT", "close", "sell", 10.0, True),
        ("SOL/USDT:USDT", "reduce", "sell", 20.0, True),
        ("BTC/USDT:USDT", "increase", "buy", 1.5, False),
        ("ETH/USDT:USDT", "open", "sell", 5.0, False),
    ]
    btc = intents[2]
    assert btc.notional == pytest.approx(75_000.0)
    assert btc.client_order_id == client_order_id("qbtc", "BTC/USDT:USDT", BAR, "increase")


def test_dust_changes_are_not_traded():
    assert (
        intents_from_targets({"SOL/USDT:USDT": 10.05}, {"SOL/USDT:USDT": 10.0}, PRICES, **KW) == []
    )


def test_same_decision_gives_the_same_client_order_ids():
    args = ({"BTC/USDT:USDT": 1.0}, {}, PRICES)
    first = intents_from_targets(*args, **KW)
    again = intents_from_targets(*args, **{**KW, "run_id": "r2"})
    assert [i.client_order_id for i in first] == [i.client_order_id for i in again]


def test_legs_above_the_order_size_limit_are_sliced():
    intents = intents_from_targets(
        {"BTC/USDT:USDT": 5.0}, {}, PRICES, **KW, max_order_notional=100_000.0
    )
    # 250,000 USDT in three equal child orders of 83,333.33
    assert [(i.leg, i.quantity) for i in intents] == [
        ("increase-1", pytest.approx(5 / 3)),
        ("increase-2", pytest.approx(5 / 3)),
        ("increase-3", pytest.approx(5 / 3)),
    ]
    assert len({i.client_order_id for i in intents}) == 3
    assert all(i.notional <= 100_000.0 for i in intents)
