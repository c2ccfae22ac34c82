"""Ingest 10 perps x 30 days of 1m bars from the simulated venue, gate included (no Prefect).

The run happens in a fresh interpreter so its peak RSS is its own. Phases are timed one by
one (the same steps :func:`qbtc.market.ingest.ingest_standalone` runs), the Great Expectations import
apart (paid once per process). Then the two runs a 60 s schedule actually does: the same
window again (nothing new) and one minute later (one new bar per symbol).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap

DAYS = 30
SYMBOLS = 10

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    started = time.perf_counter()
    from qbtc.config import DEFAULT_SYMBOLS
    from qbtc.market import ingest as m
    from qbtc.market.gaps import plan_ingest
    from qbtc.market.sim import SimExchange
    from qbtc.quality import GatePolicy, store_gate

    lake, days, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    symbols = list(DEFAULT_SYMBOLS[:count])
    as_of = datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC)
    policy = GatePolicy()
    out = {"import_qbtc_s": time.perf_counter() - started}
    t = time.perf_counter()
    import great_expectations  # noqa: F401
    out["import_great_expectations_s"] = time.perf_counter() - t

    def timed(name, call):
        t = time.perf_counter()
        value = call()
        out[name] = time.perf_counter() - t
        return value

    venue = SimExchange(seed=7, as_of=as_of)
    wall = time.perf_counter()
    timed("check_symbols_s", lambda: m.check_symbols(venue, symbols))
    plan = timed("plan_s", lambda: plan_ingest(lake, symbols, timeframe="1m", days=days, as_of=as_of))
    ohlcv = timed("fetch_ohlcv_s", lambda: m.fetch_ohlcv(venue, plan))
    tickers = timed("fetch_tickers_s", lambda: m.fetch_tickers(venue, symbols, as_of=as_of))
    funding = timed("fetch_funding_s", lambda: m.fetch_funding(venue, plan))
    options = timed("fetch_options_s", lambda: m.fetch_option_chains(venue, ["BTC", "ETH"], as_of=as_of))
    report = timed("gate_s", lambda: m.gate_batches(
        plan, ohlcv=ohlcv, tickers=tickers, funding=funding, options=options,
        underlyings=["BTC", "ETH"], run_id="bench", policy=policy))
    stored = timed("store_s", lambda: store_gate(lake, report))
    out["backfill_wall_s"] = time.perf_counter() - wall
    out["bars"] = ohlcv.height
    out["bars_stored"] = stored.written["ohlcv"]
    out["quarantined"] = stored.quarantined
    out["gate_passed"] = report.passed
    out["peak_rss_mb_after_backfill"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def run(at, run_id):
        t = time.perf_counter()
        summary = m.ingest_standalone(SimExchange(seed=7, as_of=at), lake, symbols, run_id=run_id,
                           policy=policy, days=days, as_of=at)
        return time.perf_counter() - t, summary

    out["rerun_same_window_s"], again = run(as_of, "again")
    out["rerun_new_rows"] = sum(again.written.values())
    out["next_minute_run_s"], later = run(as_of + timedelta(minutes=1), "later")
    out["next_minute_new_bars"] = later.written["ohlcv"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    """
)


def run() -> dict[str, object]:
    lake = tempfile.mkdtemp(prefix="qbtc-bench-ingest-")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, lake, str(DAYS), str(SYMBOLS)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bars"] == SYMBOLS * DAYS * 1440
    assert figures["rerun_new_rows"] == 0
    assert figures["next_minute_new_bars"] == SYMBOLS
    out: dict[str, object] = {"perps x days x 1m bars": f"{SYMBOLS} x {DAYS} = {figures['bars']}"}
    for key, value in figures.items():
        out[key] = round(value, 3) if isinstance(value, float) else value
    wall = figures["backfill_wall_s"]
    out["backfill_bars_per_s"] = round(figures["bars"] / wall)
    out["gate_us_per_bar"] = round(figures["gate_s"] / figures["bars"] * 1e6, 2)
    return out
