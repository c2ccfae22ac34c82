"""The options leg's cost: a full cycle (20 perps, BTC and ETH chains) with it on and off,
and the planner's time per option structure.

Two data dirs share one back-fill (the ``ingest`` flow, copied); each then runs the same
cycles with ``QBTC_OPTIONS_ENABLED`` true or false, interleaved. The first cycle of each
(features from scratch) is not counted; the figure is the median wall time of the steady
cycles after it (hedge: the ``hedge`` and ``hedge_orders`` stages together). Target: the
options leg adds at most 20% to the cycle.

Planner time: :func:`qbtc.portfolio.options.plan_option_intents` choosing and sizing a
straddle on each of the BTC and ETH chains of the simulated venue (one structure each),
repeated; reported per structure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGET_OVERHEAD_PCT = 20.0
#: Cycles per mode; the first (features from scratch) is not timed.
CYCLES = 7

CHILD = r"""
import json, os, shutil, statistics, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flows.heartbeat import engine_heartbeats_off
from flows.ingest import ingest
from flows.pipeline import PipelineParameters, pipeline
from qbtc.lake import read_dataset
from qbtc.market.sim.universe import SPECS

work = Path(sys.argv[1])
CYCLES = int(sys.argv[2])
symbols = [spec.symbol for spec in SPECS][:20]
t0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
os.environ["QBTC_DATA_DIR"] = str(work / "on")
with engine_heartbeats_off():
    ingest(symbols=symbols, days=2, as_of=t0, seed=7)
shutil.copytree(work / "on", work / "off")

times = {"on": [], "off": []}
stages = {"on": [], "off": []}
for k in range(CYCLES):
    at = t0 + timedelta(minutes=10 * k)
    for mode in ("on", "off"):
        os.environ["QBTC_DATA_DIR"] = str(work / mode)
        os.environ["QBTC_OPTIONS_ENABLED"] = "true" if mode == "on" else "false"
        params = PipelineParameters(symbols=symbols, seed=7, as_of=at, backfill_days=2)
        started = time.perf_counter()
        with engine_heartbeats_off():
            pipeline(params)
        if k:
            times[mode].append(time.perf_counter() - started)
            runs = read_dataset(work / mode / "lake", "runs").sort("timestamp")
            stages[mode].append(json.loads(runs["stage_durations"][-1]))

intents = read_dataset(work / "on" / "lake", "order_intents")
options = intents.filter(intents["structure_id"].is_not_null())
on, off = statistics.median(times["on"]), statistics.median(times["off"])
risk_on = statistics.median(s["risk"] for s in stages["on"])
risk_off = statistics.median(s["risk"] for s in stages["off"])
hedge_on = [s.get("hedge", 0.0) + s.get("hedge_orders", 0.0) for s in stages["on"]]
print(json.dumps({
    "perps": len(symbols),
    "cycles_timed_per_mode": len(times["on"]),
    "cycle_s_options_on_median": round(on, 2),
    "cycle_s_options_off_median": round(off, 2),
    "options_overhead_pct": round(100 * (on - off) / off, 1),
    "risk_stage_s_on_median": round(risk_on, 3),
    "risk_stage_s_off_median": round(risk_off, 3),
    "hedge_stages_s_on_median": round(statistics.median(hedge_on), 3),
    "hedge_stages_s_on_max": round(max(hedge_on), 3),
    "option_intents_in_the_on_book": options.height,
}))
"""


def planner_per_structure(repeats: int = 20) -> dict[str, float]:
    """Median milliseconds of planning one straddle (BTC and ETH, ``repeats`` times)."""
    import statistics
    from datetime import UTC, datetime

    from qbtc.market.options_frame import option_chain_to_frame
    from qbtc.market.sim.chain import option_chain
    from qbtc.portfolio.chain import chain_quotes
    from qbtc.portfolio.option_plan import DecisionStamp, OptionBook
    from qbtc.portfolio.options import plan_option_intents
    from qbtc.portfolio.structures import StructureConfig

    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    ms = int(now.timestamp() * 1000)
    frames = [
        option_chain_to_frame(option_chain(7, u, ms), underlying=u, now=now, source="sim")
        for u in ("BTC", "ETH")
    ]
    import polars as pl

    chain = chain_quotes(pl.concat(frames))
    views = {u: {"vol_view": 0.5, "view_id": "v", "feature_snapshot": "f"} for u in chain}
    book = OptionBook(views, chain, {}, {}, 1_000_000.0)
    decision = DecisionStamp("bench", "main", "qbtc", now, now)
    per_structure = []
    for _ in range(repeats):
        started = time.perf_counter()
        plan = plan_option_intents(book, StructureConfig(), decision)
        elapsed = time.perf_counter() - started
        per_structure.append(1000 * elapsed / max(len(plan.structures), 1))
    return {
        "chain_quotes": sum(len(q) for q in chain.values()),
        "planner_ms_per_structure_median": round(statistics.median(per_structure), 2),
    }


def run() -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="qbtc-bench-options-"))
    env = {
        **os.environ,
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), str(CYCLES)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    figures.update(planner_per_structure())
    figures["target_options_overhead_pct"] = TARGET_OVERHEAD_PCT
    return figures
