"""Set-up shared by the execution benchmarks: ten perp intents a cycle, timed cycles."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, run_execution
from qbtc.execution.intents import OrderIntent
from qbtc.market.sim import SimExchange
from qbtc.market.sim.trading import SimTrading
from qbtc.risk.killswitch import KillSwitch

#: About 100-1,000 USDT an order: above the venue's minimum notional, on its lots.
QUANTITY = {
    "BTC": 0.01,
    "ETH": 0.1,
    "SOL": 1.0,
    "BNB": 0.2,
    "XRP": 100.0,
    "DOGE": 1000.0,
    "ADA": 200.0,
    "AVAX": 5.0,
    "LINK": 10.0,
    "LTC": 2.0,
}


def intents(bar: datetime, cycle: int) -> list[OrderIntent]:
    """One market intent per default perp, buying on even cycles and selling on odd ones."""
    side = "buy" if cycle % 2 == 0 else "sell"
    return [
        OrderIntent(
            run_id=f"risk-{cycle}",
            portfolio_id="main",
            strategy="bench",
            symbol=symbol,
            leg="perp",
            decision_bar=bar,
            side=side,
            quantity=QUANTITY[symbol.split("/")[0]],
            notional=1_000.0,
            status="accepted",
        )
        for symbol in DEFAULT_SYMBOLS
    ]


class CycleRunner:
    """Execution cycles (reconcile, submit, snapshot) on the simulated venue of ``data_dir``,
    ``step`` apart from ``start``, one call each; every order must fill and no
    reconciliation may trip."""

    def __init__(self, data_dir: Path, *, start: datetime, step: timedelta) -> None:
        self.data_dir, self.start, self.step = data_dir, start, step
        self.config = ExecutionConfig(
            data_dir / "lake", data_dir / "state", symbols=DEFAULT_SYMBOLS
        )
        self.kill_switch = KillSwitch(self.config.state_dir)

    def __call__(self, cycle: int) -> float:
        """Run cycle number ``cycle``; its wall time (s)."""
        as_of = self.start + cycle * self.step
        venue = SimExchange(seed=7, as_of=as_of, trading=SimTrading(self.data_dir))
        started = time.perf_counter()
        report = run_execution(
            Broker(venue, paper=True),
            self.config,
            intents(as_of - timedelta(minutes=1), cycle),
            run_id=f"cycle-{cycle}",
            kill_switch=self.kill_switch,
        )
        elapsed = time.perf_counter() - started
        assert all(r.status == "filled" for r in report.results), report.results
        assert not report.reconciliation.tripped, report.reconciliation
        return elapsed


def timed_cycles(data_dir: Path, count: int, *, start: datetime, step: timedelta) -> list[float]:
    """Wall time (s) of ``count`` consecutive cycles of a :class:`CycleRunner`."""
    runner = CycleRunner(data_dir, start=start, step=step)
    return [runner(cycle) for cycle in range(count)]
