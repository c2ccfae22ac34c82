"""A full cycle for 20 perps plus the BTC and ETH option chains against a running local server.

Reports wall time per stage (steady state: the cycle after the back-fill), task runs and flow
runs per cycle, and Prefect's share of the wall time: the number of task and flow runs times
their measured overhead on the same server (a no-op task and a no-op subflow, timed in bulk),
over the cycle's wall time. Targets: share <= 5%, task runs per flow run <= 200.

The cycle runs as ``qbtc run`` runs it: inside ``engine_heartbeats_off`` (the pipeline sends
its own heartbeats), and the no-op flows are timed the same way. For reference the figures
also give a flow run's fixed cost with Prefect 3.8.8's own heartbeat thread, which is joined at
exit and sleeps in one-second steps (how a served deployment runs).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from collections import Counter
from datetime import UTC, datetime, timedelta
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter, FlowRunFilterStartTime, TaskRunFilter, TaskRunFilterStartTime,
)
from flows.heartbeat import engine_heartbeats_off
from flows.pipeline import PipelineParameters, pipeline
from qbtc.config import DEFAULT_SYMBOLS
from qbtc.lake import read_dataset
from qbtc.market.sim.universe import listed_symbols

symbols = list(listed_symbols(int(os.environ["BENCH_PERPS"])))
backfill_days = int(os.environ["BENCH_BACKFILL_DAYS"])
as_of = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
params = PipelineParameters(symbols=symbols, seed=7, as_of=as_of, backfill_days=backfill_days)

started = time.perf_counter()
with engine_heartbeats_off():
    pipeline(params)
backfill_s = time.perf_counter() - started

@task
def noop_task() -> None:
    return None

@flow
def noop_subflow() -> None:
    return None

@flow
def many_tasks(n: int) -> None:
    for _ in range(n):
        noop_task()

@flow
def many_subflows(n: int) -> None:
    for _ in range(n):
        noop_subflow()

@flow
def empty() -> None:
    return None

def timed(call):
    t = time.perf_counter(); call(); return time.perf_counter() - t

engine_flow_base = min(timed(empty) for _ in range(3))
with engine_heartbeats_off():
    flow_base = min(timed(empty) for _ in range(3))
    task_s = (timed(lambda: many_tasks(200)) - flow_base) / 200
    subflow_s = (timed(lambda: many_subflows(40)) - flow_base) / 40

    t0 = datetime.now(UTC)
    started = time.perf_counter()
    summary = pipeline(params.model_copy(update={"as_of": as_of + timedelta(minutes=5)}))
    cycle_s = time.perf_counter() - started
time.sleep(2.0)  # let the last task-run states reach the server
with get_client(sync_client=True) as client:
    tasks = client.read_task_runs(
        task_run_filter=TaskRunFilter(start_time=TaskRunFilterStartTime(after_=t0)), limit=200)
    flows = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=t0)), limit=200)
runs = read_dataset(Path(sys.argv[1]), "runs").sort("timestamp")
stages = json.loads(runs["stage_durations"][-1])
n_tasks, n_flows = len(tasks), len(flows)
# The cycle is one flow run (flow_base) plus its task runs (and any subflow runs).
overhead = n_tasks * task_s + (n_flows - 1) * subflow_s + flow_base
print(json.dumps({
    "symbols": len(symbols),
    f"first_cycle_with_{backfill_days}day_backfill_s": round(backfill_s, 2),
    "cycle_wall_s": round(cycle_s, 2),
    "stage_s": {k: round(v, 2) for k, v in stages.items()},
    "task_runs_per_cycle": n_tasks,
    "flow_runs_per_cycle": n_flows,
    "task_runs_per_flow_run_max": max(Counter(t.flow_run_id for t in tasks).values()),
    "task_run_overhead_ms": round(task_s * 1000, 1),
    "subflow_run_overhead_ms": round(subflow_s * 1000, 1),
    "flow_run_overhead_s": round(flow_base, 3),
    "flow_run_overhead_with_engine_heartbeat_s": round(engine_flow_base, 3),
    "prefect_share_pct": round(100 * overhead / cycle_s, 2),
    "prefect_task_runs_share_pct": round(100 * n_tasks * task_s / cycle_s, 2),
    "option_quotes_rows": read_dataset(Path(sys.argv[1]), "option_quotes").height,
    "signals": len(summary["signals"]),
}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run() -> dict[str, object]:
    figures = measure_cycle(perps=20, chain="standard", backfill_days=3)
    figures["target_prefect_share_pct"] = 5.0
    figures["target_task_runs_per_flow_run"] = 200
    return figures


def measure_cycle(
    *, perps: int, chain: str, backfill_days: int, extra: str = ""
) -> dict[str, object]:
    """A back-fill cycle then a steady-state one for ``perps`` perps with ``chain`` option
    chains, against a fresh local server; ``extra`` is Python run after it in the same
    process (its last output line, a JSON object, is merged into the figures)."""
    work = Path(tempfile.mkdtemp(prefix="qbtc-bench-pipeline-"))
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "QBTC_DATA_DIR": str(work / "data"),
        "QBTC_SIM_OPTION_CHAIN": chain,
        "BENCH_PERPS": str(perps),
        "BENCH_BACKFILL_DAYS": str(backfill_days),
        "PYTHONPATH": str(REPO),
    }
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        out = subprocess.run(
            [sys.executable, "-c", CHILD + extra, str(work / "data" / "lake")],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        lines = [line for line in out.stdout.strip().splitlines() if line.startswith("{")]
        figures: dict[str, object] = {}
        for line in lines:
            figures.update(json.loads(line))
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    return figures
