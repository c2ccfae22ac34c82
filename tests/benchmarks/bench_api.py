"""API throughput and latency on loopback: /api/positions and /api/market/{symbol} next to a
bare FastAPI JSON endpoint, each served by uvicorn (one worker, same options) in its own
subprocess on an ephemeral port, over a lake of 10 perps x 5 days of 1m bars.

Load comes from wrk when installed (``apt-get install -y wrk``), else from a bounded Python
generator (threads with keep-alive httpx clients). Rounds are interleaved (bare, positions,
market) and repeated, so machine noise hits all three alike; figures are medians over rounds,
and the ratio to bare is the median of per-round ratios. Targets: >= 0.8x the bare
endpoint's requests/s and p99 <= 30 ms.
"""

from __future__ import annotations

import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = tuple(
    f"{base}/USDT:USDT"
    for base in ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "ADA", "AVAX", "LINK", "LTC")
)
DAYS = 5
DURATION_S = 3
CONNECTIONS = 8
ROUNDS = 5
SERVER_LIFETIME_S = 300
TARGETS = {"/api/positions": "positions", "/api/market/BTC/USDT:USDT": "market"}


# --- servers (run as subprocesses of this module) ----------------------------------------------


def _bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _serve(kind: str, data_dir: str) -> None:
    """Serve on an ephemeral port, print it, and exit after SERVER_LIFETIME_S at the latest."""
    import uvicorn

    from qbtc.api import create_app
    from qbtc.config import Settings

    if kind == "bare":
        app = _bare_app()
    else:
        settings = Settings(
            _env_file=None, data_dir=Path(data_dir), api_rate_limit="10000000/minute"
        )  # type: ignore[call-arg]
        app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="websockets-sansio")
    server = uvicorn.Server(config)
    threading.Timer(SERVER_LIFETIME_S, lambda: setattr(server, "should_exit", True)).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])
    sys.exit(0)  # the lifetime timer thread must not keep the process alive


def _start(kind: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    code = f"from tests.benchmarks.bench_api import _serve; _serve({kind!r}, {str(data_dir)!r})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"{kind} server did not start: {line!r}")
    url = f"http://127.0.0.1:{int(line.split()[1])}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/openapi.json", timeout=2)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)


# --- load generators -----------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        return float(match.group(1)) * _UNITS[match.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert rps, out
    assert total, out
    return {
        "rps": float(rps.group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": float(total.group(1)),
        "errors": float(bad.group(1)) if bad else 0.0,
    }


def _python_load(url: str) -> dict[str, float]:
    """CONNECTIONS threads, each a keep-alive client, for DURATION_S (at most 50k requests)."""
    deadline = time.monotonic() + DURATION_S
    budget = 50_000 // CONNECTIONS

    def worker(_: int) -> tuple[list[float], int]:
        latencies, errors = [], 0
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline and len(latencies) < budget:
                started = time.perf_counter()
                status = client.get(url).status_code
                latencies.append((time.perf_counter() - started) * 1e3)
                errors += status != 200
        return latencies, errors

    started = time.monotonic()
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        results = list(pool.map(worker, range(CONNECTIONS)))
    elapsed = time.monotonic() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "requests": float(len(latencies)),
        "errors": float(sum(e for _, e in results)),
    }


# --- benchmark -------------------------------------------------------------------------------------


def _summary(rounds: list[dict[str, float]]) -> dict[str, float]:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    return {
        "rps": median("rps"),
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "worst_p99_ms": max(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
    }


def run() -> dict[str, object]:
    from tests.api.lakedata import build_lake

    data_dir = Path(tempfile.mkdtemp(prefix="qbtc-bench-api-")) / "data"
    build_lake(data_dir, symbols=SYMBOLS, days=DAYS)
    load = _wrk if shutil.which("wrk") else _python_load
    servers = [_start("bare", data_dir), _start("qbtc", data_dir)]
    (_, bare_url), (_, api_url) = servers
    try:
        urls = {"bare": bare_url + "/bare", **{n: api_url + p for p, n in TARGETS.items()}}
        cold_ms = {}
        for name, url in urls.items():  # the first request computes (cache miss)
            started = time.perf_counter()
            assert httpx.get(url, timeout=30).status_code == 200, url
            cold_ms[name] = round((time.perf_counter() - started) * 1e3, 1)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
        for _ in range(ROUNDS):
            for name, url in urls.items():
                rounds[name].append(load(url))
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)
    figures: dict[str, object] = {
        "load_generator": load.__name__.strip("_"),
        "connections": CONNECTIONS,
        "seconds_per_round": DURATION_S,
        "rounds": ROUNDS,
        "lake": f"{len(SYMBOLS)} perps x {DAYS} days of 1m bars",
    }
    for name in urls:
        result = _summary(rounds[name])
        figures[f"{name}_rps"] = round(result["rps"])
        figures[f"{name}_p50_ms"] = round(result["p50_ms"], 2)
        figures[f"{name}_p99_ms"] = round(result["p99_ms"], 2)
        figures[f"{name}_worst_round_p99_ms"] = round(result["worst_p99_ms"], 2)
        figures[f"{name}_errors"] = int(result["errors"])
        if name != "bare":
            figures[f"{name}_first_request_ms (cache miss)"] = cold_ms[name]
            pairs = zip(rounds[name], rounds["bare"], strict=True)
            ratio = statistics.median(mine["rps"] / bare["rps"] for mine, bare in pairs)
            figures[f"{name}_vs_bare_rps"] = round(ratio, 2)
            figures[f"{name}_meets_targets"] = ratio >= 0.8 and result["p99_ms"] <= 30.0
    figures["rps_by_round"] = {n: [round(r["rps"]) for r in rs] for n, rs in rounds.items()}
    return figures
