"""Cycle cost against history: an execution cycle after 2,000 cycles against the 10th.

A desk on a 5-minute schedule runs 100,000 cycles a year, so no per-cycle cost may grow with
history. Two data directories run the same execution cycles (reconcile, submit 10 intents,
snapshot) on the simulated venue: one fresh, one holding 2,000 earlier cycles of 10 filled
orders each (ledger events and fills, the venue's own book and client id index), laid out
as the daily compaction leaves them. Reported: the 10th cycle of the fresh directory, the
10th cycle on top of the history, their ratio (target: at most 1.2), and the size of the
venue's account file and of the ledger's book checkpoint in both.
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
from qbtc.execution.intents import client_order_id
from qbtc.execution.ledger import Fill, OrderEvent, events_frame, fills_frame
from qbtc.idindex import bucket_of
from qbtc.lake import compact_dataset, write_dataset
from qbtc.schemas import FILLS, ORDER_EVENTS, SIM_VENUE_ORDERS
from tests.benchmarks.execution_cycles import CycleRunner

HISTORY_CYCLES = 2_000
MEASURED = 10
START = datetime(2026, 1, 5, 12, tzinfo=UTC)
STEP = timedelta(minutes=5)
PRICE = 100.0


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
    write_id_index(venue / "client_ids", ids)
    account = {
        "balance": 1_000_000.0,
        "positions": {},
        "orders": {},
        "order_counter": cycles * len(DEFAULT_SYMBOLS),
        "last_funding_ms": None,
        "pending_sync": [],
    }
    (venue / "account.json").write_text(json.dumps(account))


def write_id_index(directory: Path, ids: list[str]) -> None:
    """The venue's client id index as :class:`~qbtc.idindex.IdIndex` lays it out (written in
    bulk: the set-up need not fsync each bucket)."""
    directory.mkdir(parents=True)
    buckets: dict[str, list[str]] = {}
    for cid in ids:
        buckets.setdefault(bucket_of(cid), []).append(cid)
    for bucket, members in buckets.items():
        (directory / f"{bucket}.txt").write_text("".join(f"{m}\n" for m in members))


def run() -> dict[str, object]:
    importlib.import_module("ccxt")  # imported by the first venue error: not in a cycle
    fresh = Path(tempfile.mkdtemp(prefix="qbtc-bench-history-fresh-"))
    old = Path(tempfile.mkdtemp(prefix="qbtc-bench-history-old-"))
    started = time.perf_counter()
    write_history(old, HISTORY_CYCLES)
    history_s = time.perf_counter() - started
    # Cycles of the two directories alternate, so a burst of load on the shared machine hits
    # both alike; the 10th cycle of each is the median of the last five (cycles 6 to 10),
    # against scheduler noise.
    on_fresh = CycleRunner(fresh, start=START, step=STEP)
    on_old = CycleRunner(old, start=START, step=STEP)
    fresh_times, old_times = [], []
    for cycle in range(MEASURED):
        fresh_times.append(on_fresh(cycle))
        old_times.append(on_old(cycle))
    tenth_fresh = statistics.median(fresh_times[-5:])
    tenth_old = statistics.median(old_times[-5:])
    account = "venue/account.json"
    checkpoint = "state/ledger/book-main.json"
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
        "book_checkpoint_bytes_fresh": (fresh / checkpoint).stat().st_size,
        "book_checkpoint_bytes_after_history": (old / checkpoint).stat().st_size,
    }
