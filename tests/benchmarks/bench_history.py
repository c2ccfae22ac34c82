"""Cycle cost against history: an execution cycle after 2,000 cycles against the 10th.

A desk on a 5-minute schedule runs 100,000 cycles a year, so no per-cycle cost may grow with
history. Two data directories run the same execution cycles (reconcile, submit 10 intents,
snapshot) on the simulated venue: one fresh, one holding 2,000 earlier cycles of 10 filled
orders each (ledger events and fills, the venue's own book and client id index), laid out
as the daily compaction leaves them. Reported: the 10th cycle of the fresh directory, the
10th cycle on top of the history, their ratio (target: at most 1.2), and the account file's
size in both.
"""

from __future__ import annotations

import importlib
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.execution.brokers import Broker
from qbtc.execution.cycle import ExecutionConfig, run_execution
from qbtc.execution.intents import OrderIntent, client_order_id
from qbtc.execution.ledger import Fill, OrderEvent, events_frame, fills_frame
from qbtc.lake import compact_dataset, write_dataset
from qbtc.market.sim import SimExchange
from qbtc.market.sim.trading import SimTrading
from qbtc.risk.killswitch import KillSwitch
from qbtc.schemas import FILLS, ORDER_EVENTS, SIM_VENUE_ORDERS

HISTORY_CYCLES = 2_000
MEASURED = 10
START = datetime(2026, 1, 5, 12, tzinfo=UTC)
STEP = timedelta(minutes=5)
PRICE = 100.0
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


def write_history(data_dir: Path, cycles: int) -> None:
    """``cycles`` earlier cycles of 10 filled orders that net to flat (buy, then sell)."""
    lake = data_dir / "lake"
    events, fills, book, ids = [], [], [], []
    for cycle in range(cycles):
        at = START - (cycles - cycle) * STEP
        for k, symbol in enumerate(DEFAULT_SYMBOLS):
            side = "buy" if cycle % 2 == 0 else "sell"
            cid = client_order_id("history", symbol, at, "perp")
            vid = str(10_000_000 + cycle * 10 + k)
            for name in ("intent", "submitted", "acknowledged", "filled"):
                events.append(
                    OrderEvent(
                        cid,
                        f"h{cycle}",
                        name,
                        symbol,
                        side,
                        1.0,
                        filled_quantity=1.0 if name == "filled" else 0.0,
                        price=PRICE,
                        venue_order_id=vid,
                        timestamp=at,
                    )
                )
            fills.append(
                Fill(cid, vid, "main", symbol, at, side, 1.0, PRICE, 0.0, fill_id=f"{cid}:1")
            )
            book.append(
                {
                    "order_id": vid,
                    "client_order_id": cid,
                    "symbol": symbol,
                    "timestamp": at,
                    "updated_at": at,
                    "side": side,
                    "type": "market",
                    "status": "closed",
                    "amount": 1.0,
                    "filled": 1.0,
                    "price": None,
                    "average": PRICE,
                    "fee": 0.0,
                    "fee_currency": "USDT",
                    "reduce_only": False,
                }
            )
            ids.append(cid)
    write_dataset(lake, ORDER_EVENTS, events_frame(events))
    write_dataset(lake, FILLS, fills_frame(fills))
    write_dataset(lake, SIM_VENUE_ORDERS, pl.DataFrame(book, schema=SIM_VENUE_ORDERS.schema))
    for dataset in (ORDER_EVENTS, FILLS, SIM_VENUE_ORDERS):
        compact_dataset(lake, dataset)
    venue = data_dir / "venue"
    venue.mkdir(parents=True, exist_ok=True)
    (venue / "client_ids.txt").write_text("\n".join(ids) + "\n")
    account = {
        "balance": 1_000_000.0,
        "positions": {},
        "orders": {},
        "order_counter": cycles * len(DEFAULT_SYMBOLS),
        "last_funding_ms": None,
        "pending_sync": [],
    }
    (venue / "account.json").write_text(json.dumps(account))


def cycle_times(data_dir: Path, count: int) -> list[float]:
    config = ExecutionConfig(data_dir / "lake", data_dir / "state", symbols=DEFAULT_SYMBOLS)
    kill_switch = KillSwitch(config.state_dir)
    durations = []
    for cycle in range(count):
        as_of = START + cycle * STEP
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
    return durations


def run() -> dict[str, object]:
    importlib.import_module("ccxt")  # imported by the first venue error: not in a cycle
    fresh = Path(tempfile.mkdtemp(prefix="qbtc-bench-history-fresh-"))
    old = Path(tempfile.mkdtemp(prefix="qbtc-bench-history-old-"))
    started = time.perf_counter()
    write_history(old, HISTORY_CYCLES)
    history_s = time.perf_counter() - started
    fresh_times = cycle_times(fresh, MEASURED)
    old_times = cycle_times(old, MEASURED)
    # The 10th cycle of each (the median of the last three, against scheduler noise).
    tenth_fresh = statistics.median(fresh_times[-3:])
    tenth_old = statistics.median(old_times[-3:])
    account = "venue/account.json"
    return {
        "history_cycles": HISTORY_CYCLES,
        "history_orders": HISTORY_CYCLES * len(DEFAULT_SYMBOLS),
        "history_written_s": round(history_s, 2),
        "cycle_10_fresh_s": round(tenth_fresh, 3),
        "cycle_10_after_2000_cycles_s": round(tenth_old, 3),
        "ratio_after_history": round(tenth_old / tenth_fresh, 2),
        "target_ratio": 1.2,
        "account_file_bytes_fresh": (fresh / account).stat().st_size,
        "account_file_bytes_after_history": (old / account).stat().st_size,
    }
