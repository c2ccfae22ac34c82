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

from tests.benchmarks.execution_cycles import QUANTITY, timed_cycles

START = datetime(2026, 1, 5, 12, tzinfo=UTC)
CYCLES = 50


def run() -> dict[str, object]:
    started = time.perf_counter()
    importlib.import_module("ccxt")  # the first venue error imports it: keep it out of cycle 1
    ccxt_import_s = time.perf_counter() - started
    data_dir = Path(tempfile.mkdtemp(prefix="qbtc-bench-execution-"))
    durations = timed_cycles(data_dir, CYCLES, start=START, step=timedelta(minutes=1))
    files = {
        name: len(list((data_dir / "lake" / name).rglob("*.parquet")))
        for name in ("order_events", "fills", "positions", "sim_venue_orders")
    }
    return {
        "ccxt_import_s": round(ccxt_import_s, 2),
        "cycles": CYCLES,
        "orders": CYCLES * len(QUANTITY),
        "first_cycle_s": round(durations[0], 3),
        "median_cycle_s": round(sorted(durations)[CYCLES // 2], 3),
        "last_cycle_s": round(durations[-1], 3),
        "per_order_ms_last_cycle": round(1000 * durations[-1] / len(QUANTITY), 1),
        **{f"files_{name}": count for name, count in files.items()},
    }
