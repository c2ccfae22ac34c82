"""The quality gate's cost in a cycle, 20 perps plus the BTC and ETH option chains.

Runs the gate as the ingest flow does (``gate_batches`` over what the venue returned), on the
simulated venue: a first back-fill (not timed: it pays Great Expectations' import, once per
process, reported apart), then a cycle with no new bars (tickers and chains only) and a
cycle of new bars (five minutes of 1-minute bars per perp). Targets: at most 1 s with no new
bars, at most 2 s for a cycle's new bars. The Data Docs of each cycle (GX's pages of its
validations, built after the gate and outside its time) are timed apart: ``*_docs_s``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qbtc.market import ingest as market
from qbtc.market.gaps import plan_ingest
from qbtc.market.sim import SimExchange
from qbtc.market.sim.universe import SPECS
from qbtc.quality import GatePolicy, store_gate
from qbtc.quality.datadocs import build_gate_docs

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
UNDERLYINGS = ["BTC", "ETH"]


def gate_once(lake: Path, symbols: list[str], as_of: datetime, run_id: str) -> dict[str, float]:
    """Fetch what is missing at ``as_of``, then time the gate over it (and its store)."""
    venue = SimExchange(seed=7, as_of=as_of, symbols=tuple(symbols))
    plan = plan_ingest(lake, symbols, timeframe="1m", days=1, as_of=as_of)
    frames = {
        "ohlcv": market.fetch_ohlcv(venue, plan, max_workers=2),
        "tickers": market.fetch_tickers(venue, symbols, as_of=as_of),
        "funding": market.fetch_funding(venue, plan, max_workers=2),
        "options": market.fetch_option_chains(venue, UNDERLYINGS, as_of=as_of),
    }
    started = time.perf_counter()
    report = market.gate_batches(
        plan,
        ohlcv=frames["ohlcv"],
        tickers=frames["tickers"],
        funding=frames["funding"],
        options=frames["options"],
        underlyings=UNDERLYINGS,
        run_id=run_id,
        policy=GatePolicy(),
    )
    gate_s = time.perf_counter() - started
    store_gate(lake, report)
    if not report.passed:
        raise RuntimeError(f"the gate failed: {report.reasons}")
    started = time.perf_counter()
    build_gate_docs(lake.parent, report)
    docs_s = time.perf_counter() - started
    return {
        "gate_s": round(gate_s, 3),
        "docs_s": round(docs_s, 3),
        "new_bars": frames["ohlcv"].height,
        "rows_checked": sum(d.rows for d in report.datasets),
    }


def run() -> dict[str, object]:
    lake = Path(tempfile.mkdtemp(prefix="qbtc-bench-gate-")) / "lake"
    symbols = [spec.symbol for spec in SPECS][:20]
    started = time.perf_counter()
    import great_expectations  # noqa: F401 - paid once per process, reported apart

    gx_import_s = time.perf_counter() - started
    backfill = gate_once(lake, symbols, AS_OF, "backfill")
    same_bar = gate_once(lake, symbols, AS_OF + timedelta(seconds=20), "no-new-bars")
    cycle = gate_once(lake, symbols, AS_OF + timedelta(minutes=5), "new-bars")
    return {
        "symbols": len(symbols),
        "gx_import_s": round(gx_import_s, 2),
        "backfill_gate_s": backfill["gate_s"],
        "backfill_rows": backfill["rows_checked"],
        "no_new_bars_gate_s": same_bar["gate_s"],
        "no_new_bars_rows": same_bar["rows_checked"],
        "no_new_bars_docs_s": same_bar["docs_s"],
        "cycle_gate_s": cycle["gate_s"],
        "cycle_new_bars": cycle["new_bars"],
        "cycle_rows": cycle["rows_checked"],
        "cycle_docs_s": cycle["docs_s"],
        "target_no_new_bars_s": 1.0,
        "target_cycle_s": 2.0,
        "within_targets": same_bar["gate_s"] <= 1.0 and cycle["gate_s"] <= 2.0,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<28} {value}")
    sys.exit(0)
