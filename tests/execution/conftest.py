"""Fixtures of the execution tests: the simulated venue, a paper broker, intents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig
from qbtc.execution.intents import OrderIntent
from qbtc.market.sim import SimExchange
from qbtc.market.sim.trading import SimTrading
from qbtc.risk.killswitch import KillSwitch

AS_OF = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BAR = datetime(2026, 1, 5, 11, 59, tzinfo=UTC)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


def make_intent(
    symbol: str = "BTC/USDT:USDT",
    side: str = "buy",
    quantity: float = 0.5,
    *,
    leg: str = "perp",
    bar: datetime = BAR,
    reduce_only: bool = False,
    run_id: str = "risk-run-1",
) -> OrderIntent:
    return OrderIntent(
        run_id=run_id,
        portfolio_id="main",
        strategy="trend",
        symbol=symbol,
        leg=leg,
        decision_bar=bar,
        side=side,  # type: ignore[arg-type]
        quantity=quantity,
        notional=quantity * 90_000.0,
        reduce_only=reduce_only,
        status="accepted",
    )


def open_venue(data_dir: Path, as_of: datetime = AS_OF) -> SimExchange:
    """A fresh handle on the simulated venue of ``data_dir`` (its state is on disk)."""
    return SimExchange(seed=7, as_of=as_of, symbols=SYMBOLS, trading=SimTrading(data_dir))


@pytest.fixture
def venue(data_dir: Path) -> SimExchange:
    return open_venue(data_dir)


@pytest.fixture
def broker(venue: SimExchange) -> Broker:
    return Broker(venue, paper=True)


@pytest.fixture
def config(data_dir: Path) -> ExecutionConfig:
    return ExecutionConfig(
        lake_dir=data_dir / "lake",
        state_dir=data_dir / "state",
        symbols=SYMBOLS,
        venue_error_threshold=3,
        circuit_cooldown_s=60,
    )


@pytest.fixture
def kill_switch(data_dir: Path) -> KillSwitch:
    return KillSwitch(data_dir / "state")
