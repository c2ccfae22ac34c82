"""Execution cycles on the simulated venue: reconcile + submit 10 intents + snapshot.

Runs 50 cycles of 10 intents (one per perp) one simulated minute apart, on one data
directory, and reports the wall time of the first and the last cycles, per order, and how
many ledger and venue files the cycles left (the lake writes one file per batch: a cycle
writes the ledger in two or three batches, and the venue publishes its book once).
"""

from __future__ import annotations

import importlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, run_execution
from qbtc.execution.intents import OrderIntent
from qbtc.market.sim import SimExchange
from qbtc.market.sim.trading import SimTrading
from qbtc.risk.killswitch import KillSwitch

START = datetime(2026, 1, 5, 12, tzinfo=UTC)
CYCLES = 50


def intents(bar: datetime, cycle: int) -> list[OrderIntent]:
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
            quantity=0.01 if symbol.startswith(("BTC", "ETH")) else 1.0,
            notional=1_000.0,
            status="accepted",
        )
        for symbol in DEFAULT_SYMBOLS
    ]


def run() -> dict[str, object]:
    started = time.perf_counter()
    importlib.import_module("ccxt")  # the first venue error imports it: keep it out of cycle 1
    ccxt_import_s = time.perf_counter() - started
    data_dir = Path(tempfile.mkdtemp(prefix="qbtc-bench-execution-"))
    config = ExecutionConfig(data_dir / "lake", data_dir / "state", symbols=DEFAULT_SYMBOLS)
    kill_switch = KillSwitch(config.state_dir)
    durations = []
    for cycle in range(CYCLES):
        as_of = START + timedelta(minutes=cycle)
        venue = SimExchange(seed=7, as_of=as_of, trading=SimTrading(data_dir))
        started = time.perf_counter()
        report = run_execution(
            Broker(venue, paper=True),
            config,
            intents(as_of - timedelta(minutes=1), cycle),
            run_id=f"cycle-{cycle}",
            kill_switch=kill_switch,
        )
        durations.append(time.perf_counter() - started)
        assert all(r.status == "filled" for r in report.results), report.results
        assert not report.reconciliation.tripped, report.reconciliation
    files = {
        name: len(list((config.lake_dir / name).rglob("*.parquet")))
        for name in ("order_events", "fills", "positions", "sim_venue_orders")
    }
    return {
        "ccxt_import_s": round(ccxt_import_s, 2),
        "cycles": CYCLES,
        "orders": CYCLES * len(DEFAULT_SYMBOLS),
        "first_cycle_s": round(durations[0], 3),
        "median_cycle_s": round(sorted(durations)[CYCLES // 2], 3),
        "last_cycle_s": round(durations[-1], 3),
        "per_order_ms_last_cycle": round(1000 * durations[-1] / len(DEFAULT_SYMBOLS), 1),
        **{f"files_{name}": count for name, count in files.items()},
    }
