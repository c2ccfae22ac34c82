"""Backtest: one year of 1-minute bars x 20 perps, hourly decisions, the ``rules`` provider.

1. **qbtc**: ``qbtc.backtest`` end to end (read and featurise the window, then every
   decision through the live cycle's risk, planning, venue rules and checks, fills at the
   last close with a 5 bps fee) on synthetic bars (seeded geometric random walks) in a real
   lake. Wall time and bars per second; target <= 60 s on 2 cores. The Monte Carlo VaR of
   the checks runs ``QBTC_BENCH_BACKTEST_SCENARIOS`` scenarios per decision (reported).
2. **Simulation against vectorbt**: the target positions the backtest held after each
   decision, the same closes and fee, through qbtc's vectorised book
   (:func:`qbtc.backtest.book.simulate_targets`) and vectorbt 1.2.0's
   ``Portfolio.from_orders`` (in its own venv, like the other peers): final equity equal to
   a relative 1e-9 (and to the backtest's own), and qbtc's time against vectorbt's warm time.
3. **Replaying the live cycle**: the ``pipeline`` flow for the same 20 perps on the simulated
   venue, ``QBTC_BENCH_BACKTEST_LIVE_CYCLES`` steady-state cycles timed (after a first cycle
   that back-fills); the live replay of the year is that time per cycle x the decisions, and
   the speed-up is that over the backtest's wall time.

Size: ``QBTC_BENCH_BACKTEST_DAYS`` (365) x 20 perps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
WARMUP = timedelta(days=2)
FEE_RATE = 0.0005
BUFFER = 1e8

LIVE_CHILD = r"""
import json, sys, time
from datetime import UTC, datetime, timedelta
from flows.heartbeat import engine_heartbeats_off
from flows.pipeline import PipelineParameters, pipeline
from qbtc.market.sim.universe import SPECS

symbols = [spec.symbol for spec in SPECS][:20]
start = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
cycles = int(sys.argv[1])
with engine_heartbeats_off():
    pipeline(PipelineParameters(symbols=symbols, seed=7, as_of=start, backfill_days=3))
    times = []
    for k in range(1, cycles + 1):
        began = time.perf_counter()
        pipeline(PipelineParameters(symbols=symbols, seed=7, as_of=start + timedelta(hours=k)))
        times.append(time.perf_counter() - began)
print(json.dumps({"cycle_s": times}))
"""


def symbols() -> list[str]:
    from qbtc.market.sim.universe import SPECS

    return [spec.symbol for spec in SPECS][:20]


def write_bars(lake: Path, names: list[str], days: int, seed: int = 11) -> int:
    """Seeded 1-minute random walks (60% annualised vol) for ``days`` days; rows written."""
    from qbtc.lake import write_dataset
    from qbtc.schemas import OHLCV

    rng = np.random.default_rng(seed)
    n = days * 1440
    stamps = pl.Series(
        "timestamp", int(T0.timestamp() * 1e6) + np.arange(n, dtype=np.int64) * 60_000_000
    ).cast(pl.Datetime("us", "UTC"))
    sigma = 0.6 / np.sqrt(525_600.0)
    for j, symbol in enumerate(names):
        close = (10.0 + 50.0 * j) * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
        open_ = np.concatenate([[close[0]], close[:-1]])
        spread = np.abs(rng.normal(0.0, sigma, n))
        frame = pl.DataFrame(
            {
                "symbol": symbol,
                "timeframe": "1m",
                "timestamp": stamps,
                "open": open_,
                "high": np.maximum(open_, close) * (1 + spread),
                "low": np.minimum(open_, close) * (1 - spread),
                "close": close,
                "volume": rng.uniform(10.0, 1000.0, n),
                "source": "bench",
            },
            schema=OHLCV.schema,
        )
        write_dataset(lake, OHLCV, frame)
    return n * len(names)


def run_qbtc(lake: Path, names: list[str], days: int, scenarios: int) -> dict[str, object]:
    from qbtc.backtest.config import BacktestConfig
    from qbtc.backtest.runner import simulate
    from qbtc.backtest.window import load_window
    from qbtc.config import load_settings
    from qbtc.risk.cycle_inputs import RiskConfig
    from qbtc.signals import RulesProvider

    start = T0 + WARMUP
    config = BacktestConfig(
        start=start,
        end=start + timedelta(days=days) - timedelta(hours=1),
        interval="1h",
        symbols=tuple(names),
        fee_rate=FEE_RATE,
        var_scenarios=scenarios,
    )
    settings = load_settings(data_dir=lake.parent, symbols=names)
    began = time.perf_counter()
    window = load_window(lake, config, max_gap=timedelta(minutes=15))
    loaded = time.perf_counter() - began
    run = simulate(
        config, window, RulesProvider(symbols=config.symbols), RiskConfig.from_settings(settings)
    )
    wall = time.perf_counter() - began
    bars = int(np.count_nonzero(window.times >= int(start.timestamp() * 1e6))) * len(names)
    return {
        "run": run,
        "window": window,
        "wall_s": wall,
        "load_s": loaded,
        "decisions_s": wall - loaded,
        "bars": bars,
    }


def kernel_inputs(result: dict[str, object]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    run, window = result["run"], result["window"]
    stamps = [int((d.at - timedelta(minutes=1)).timestamp() * 1e6) for d in run.decisions]  # type: ignore[attr-defined]
    rows = np.searchsorted(window.times, stamps)  # type: ignore[attr-defined]
    return window.closes, rows, np.array(run.holdings)  # type: ignore[attr-defined]


def time_kernel(
    closes: np.ndarray, rows: np.ndarray, targets: np.ndarray, capital: float
) -> tuple[float, float]:
    from qbtc.backtest.book import simulate_targets

    best, equity = float("inf"), np.zeros(1)
    for _ in range(3):
        began = time.perf_counter()
        equity = simulate_targets(closes, rows, targets, fee_rate=FEE_RATE, capital=capital)
        best = min(best, time.perf_counter() - began)
    return best, float(equity[rows[-1]])


def run_vectorbt(
    folder: Path, closes: np.ndarray, rows: np.ndarray, targets: np.ndarray, capital: float
) -> dict[str, object]:
    from tests.benchmarks.peers.build_env import (
        VECTORBT,
        ensure_peer_environment,
        single_thread_env,
    )

    environment = ensure_peer_environment(VECTORBT.venv, spec=VECTORBT)
    if environment.python is None:
        return {"error": environment.error}
    # vectorbt marks at the last bar: trim the closes after the last decision's bar range
    path = folder / "vectorbt.npz"
    np.savez(
        path,
        closes=closes,
        rows=rows,
        targets=targets,
        fee_rate=FEE_RATE,
        capital=capital,
        buffer=BUFFER,
    )
    done = subprocess.run(
        [str(environment.python), str(REPO / "tests/benchmarks/peers/peer_vectorbt.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=1800,
        env=single_thread_env(),
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_live(cycles: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="qbtc-bench-live-") as folder:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QBTC_"))},
            "QBTC_DATA_DIR": str(Path(folder) / "data"),
            "PREFECT_HOME": str(Path(folder) / "prefect"),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "PYTHONPATH": str(REPO),
        }
        done = subprocess.run(
            [sys.executable, "-c", LIVE_CHILD, str(cycles)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["failed"]
        errors = [line for line in lines if "Error" in line or "error" in line]
        return {"error": (errors or lines)[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> dict[str, object]:
    days = int(os.environ.get("QBTC_BENCH_BACKTEST_DAYS", "365"))
    scenarios = int(os.environ.get("QBTC_BENCH_BACKTEST_SCENARIOS", "200"))
    cycles = int(os.environ.get("QBTC_BENCH_BACKTEST_LIVE_CYCLES", "2"))
    names = symbols()
    figures: dict[str, object] = {"perps": len(names), "days": days, "interval": "1h"}
    with tempfile.TemporaryDirectory(prefix="qbtc-bench-backtest-") as folder:
        lake = Path(folder) / "data" / "lake"
        began = time.perf_counter()
        figures["lake_rows"] = write_bars(lake, names, days + WARMUP.days + 1)
        figures["lake_write_s"] = round(time.perf_counter() - began, 1)
        result = run_qbtc(lake, names, days, scenarios)
        backtest = result["run"]
        figures |= {
            "decisions": len(backtest.decisions),  # type: ignore[attr-defined]
            "fills": len(backtest.fills),  # type: ignore[attr-defined]
            "var_scenarios_per_decision": scenarios,
            "qbtc_wall_s": round(result["wall_s"], 2),  # type: ignore[arg-type]
            "qbtc_read_and_features_s": round(result["load_s"], 2),  # type: ignore[arg-type]
            "qbtc_decisions_s": round(result["decisions_s"], 2),  # type: ignore[arg-type]
            "qbtc_bars": result["bars"],
            "qbtc_bars_per_s": round(result["bars"] / result["wall_s"]),  # type: ignore[operator]
            "qbtc_target_60s_met": result["wall_s"] <= 60.0,  # type: ignore[operator]
        }
        closes, rows, targets = kernel_inputs(result)
        capital = backtest.config.initial_equity  # type: ignore[attr-defined]
        kernel_s, kernel_equity = time_kernel(closes, rows, targets, capital)
        final = backtest.final_equity  # type: ignore[attr-defined]
        figures |= {
            "qbtc_final_equity": final,
            "qbtc_simulation_s": round(kernel_s, 4),
            "qbtc_simulation_final_equity": kernel_equity,
            "simulation_equals_backtest_rel": abs(kernel_equity - final) / abs(final),
        }
        peer = run_vectorbt(Path(folder), closes[: rows[-1] + 1], rows, targets, capital)
        if "error" in peer:
            figures["vectorbt_error"] = peer["error"]
        else:
            vbt_equity = float(peer["final_equity"])  # type: ignore[arg-type]
            figures |= {
                "vectorbt_final_equity": vbt_equity,
                "vectorbt_first_call_s": round(float(peer["first_call_s"]), 3),  # type: ignore[arg-type]
                "vectorbt_warm_s": round(float(peer["warm_s"]), 3),  # type: ignore[arg-type]
                "equity_rel_difference": abs(vbt_equity - kernel_equity) / abs(kernel_equity),
                "equity_equal_1e-9": abs(vbt_equity - kernel_equity) <= 1e-9 * abs(kernel_equity),
                "qbtc_simulation_at_least_as_fast": kernel_s <= float(peer["warm_s"]),  # type: ignore[arg-type]
            }
    if cycles > 0:
        live = run_live(cycles)
        if "error" in live:
            figures["live_cycle_error"] = live["error"]
        else:
            per_cycle = float(np.mean(live["cycle_s"]))  # type: ignore[arg-type]
            replay = per_cycle * int(figures["decisions"])  # type: ignore[call-overload]
            figures |= {
                "live_cycle_s": round(per_cycle, 2),
                "live_replay_of_window_s": round(replay),
                "speedup_vs_live_replay": round(replay / float(figures["qbtc_wall_s"])),  # type: ignore[arg-type]
            }
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value}")
