"""The hedge top-up after the orders: perp orders only for hedges outside their band, found
on the book's valuation alone (no risk assessment when every hedge is inside its band)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtc.risk.cycle_inputs import load_cycle_inputs
from qbtc.risk.cycle_report import assess_cycle
from qbtc.risk.decision import HedgeTarget, hedge_topup, hedge_trades, plan_config
from qbtc.risk.exposure import options_delta_coin
from qbtc.risk.valuation import value_book
from tests.risk import lake
from tests.risk.lake import AS_OF, BTC
from tests.risk.test_stage import config_for


@pytest.fixture
def book_lake(lake_dir: Path) -> Path:
    lake.write_lake(lake_dir)  # +2 BTC perp, 10 BTC calls
    return lake_dir


def hedge(calls_delta: float, off_by: float) -> dict[str, HedgeTarget]:
    """A BTC hedge whose target is the held 2 BTC plus ``off_by`` coins."""
    return {"BTC": HedgeTarget("BTC", BTC, 2.0 + calls_delta + off_by, calls_delta, 5_000.0)}


def test_a_hedge_inside_its_band_trades_nothing(book_lake, data_dir):
    config = config_for(data_dir)
    inputs = load_cycle_inputs(config, AS_OF)
    valued = value_book(inputs.positions, inputs.marks, list(config.symbols))
    calls = options_delta_coin(valued.book, expired=False)["BTC"]
    assert calls > 1.0
    # 0.05 BTC (about 2,500 USDT) off target: inside the 5,000 USDT band
    assert hedge_trades(valued, hedge(calls, 0.05), 1e9) == ({}, {})
    report = assess_cycle(inputs, config)
    assert hedge_topup(inputs, report, config, plan_config(config), "r", hedge(calls, 0.05)) == ()


def test_a_hedge_outside_its_band_buys_the_gap_as_a_checked_hedge_order(book_lake, data_dir):
    config = config_for(data_dir)
    inputs = load_cycle_inputs(config, AS_OF)
    valued = value_book(inputs.positions, inputs.marks, list(config.symbols))
    calls = options_delta_coin(valued.book, expired=False)["BTC"]
    wanted, current = hedge_trades(valued, hedge(calls, 1.0), 1e9)
    assert wanted == {BTC: pytest.approx(3.0)}
    assert current == {BTC: 2.0}
    # capped at the symbol's notional limit (USDT)
    assert hedge_trades(valued, hedge(calls, 1.0), 125_000.0)[0][BTC] < 2.6
    report = assess_cycle(inputs, config)
    (order,) = hedge_topup(inputs, report, config, plan_config(config), "r", hedge(calls, 1.0))
    assert (order.symbol, order.side, order.strategy) == (BTC, "buy", "qbtc:hedge")
    assert order.quantity == pytest.approx(1.0, abs=1e-3)
    assert order.status == "accepted", order.reason
