"""The API answers correctly over HTTP while another process writes and compacts the lake."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from qbtc.api import create_app
from tests.api.conftest import make_settings
from tests.api.lakedata import FixtureLake
from tests.api.server import serve_in_thread

REQUESTS = 1000
PATHS = (
    "/api/positions",
    "/api/market/BTC/USDT:USDT",
    "/api/market/ETH/USDT:USDT/ohlcv?limit=50",
    "/api/health",
    "/api/orders",
    "/metrics",
)
ROOT = Path(__file__).resolve().parents[2]


def _first_quantity(client: httpx.Client) -> float:
    return client.get("/api/positions").json()["items"][0]["quantity"]


def test_thousand_requests_while_a_writer_runs_have_no_error(own_lake: FixtureLake, data_dir):
    stop = data_dir / "stop-writer"
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.api.writer", str(own_lake.root), "60", str(stop)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        app = create_app(make_settings(data_dir))
        with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            # Start once the writer has written, so that reads overlap its writes.
            while _first_quantity(client) == 1.0:
                assert writer.poll() is None, writer.communicate()
                time.sleep(0.05)
            paths = (PATHS[i % len(PATHS)] for i in range(REQUESTS))
            with ThreadPoolExecutor(max_workers=4) as pool:
                responses = list(pool.map(client.get, paths))
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * REQUESTS, {s: statuses.count(s) for s in set(statuses)}
    positions = [r.json() for r in responses[:: len(PATHS)]]
    # Every positions answer is one consistent snapshot: a row per symbol, one timestamp.
    for body in positions:
        assert [item["symbol"] for item in body["items"]] == sorted(own_lake.symbols)
        assert len({item["timestamp"] for item in body["items"]}) == 1
    assert int(out.strip()) >= 2  # the writer really wrote during the requests
    assert len({body["items"][0]["quantity"] for body in positions}) >= 2
