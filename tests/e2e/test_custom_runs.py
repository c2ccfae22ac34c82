"""Custom runs from Prefect's REST API, as a trader starts them from the UI.

``qbtc up`` serves the deployments; runs of the ``pipeline`` deployment are created through
``POST /api/deployments/{id}/create_flow_run`` with custom parameters: a first cycle, a
cycle on a subset of symbols, a cycle with another seed (refused), and a cycle that fails.
Afterwards the book, the market data and the lineage are intact.

The schedules are paused first (``POST /api/deployments/{id}/pause_deployment``, the UI's
toggle): served runs are subprocesses that each import the stack, and on a 2-core machine
the minute-by-minute ``ingest`` and ``risk-monitor`` runs would otherwise compete with the
custom runs for the whole test. Runs created by hand still run while a deployment is paused.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from qbtc.lake import read_dataset
from qbtc.portfolio.flatten import open_positions
from tests.e2e.helpers import Command, clean_env, free_port, wait_for

pytestmark = pytest.mark.slow
SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


class Desk:
    """The REST API of the local Prefect server of ``qbtc up``."""

    def __init__(self, port: int) -> None:
        self.api = f"http://127.0.0.1:{port}/api"

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        """POST, retried while the server answers 5xx (SQLite busy under load)."""

        def attempt() -> httpx.Response | None:
            answer = httpx.post(f"{self.api}{path}", json=body, timeout=30)
            return None if answer.status_code >= 500 else answer

        answer = wait_for(attempt, 60, f"POST {path}")
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def deployments(self) -> dict[str, str]:
        return {d["name"]: d["id"] for d in self._post("/deployments/filter", {})}

    def pause_schedules(self) -> None:
        for deployment in self.deployments().values():
            self._post(f"/deployments/{deployment}/pause_deployment", {})

    def artifact(self, flow_run_id: str, key: str) -> dict[str, Any]:
        body = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}, "key": {"any_": [key]}}}
        found = self._post("/artifacts/filter", body)
        assert found, f"no artifact {key} on run {flow_run_id}"
        return dict(found[0])

    def run(self, parameters: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
        """Create a pipeline run with ``parameters``; its flow run once in a final state."""
        deployment = self.deployments()["pipeline"]
        created = self._post(
            f"/deployments/{deployment}/create_flow_run", {"parameters": {"params": parameters}}
        )

        def final() -> dict[str, Any] | None:
            answer = httpx.get(f"{self.api}/flow_runs/{created['id']}", timeout=30)
            if answer.status_code != 200:
                return None
            run = answer.json()
            return run if run["state"]["type"] in FINAL else None

        started = time.monotonic()
        run = wait_for(final, timeout, f"pipeline run {parameters}")
        print(f"run {parameters}: {run['state']['type']} in {time.monotonic() - started:.0f} s")
        return dict(run)


@pytest.mark.timeout(600)  # about 3 minutes on an idle 2-core machine
def test_custom_runs_from_the_rest_api_leave_book_data_and_lineage_intact(tmp_path: Path):
    data = tmp_path / "data"
    prefect_port, api_port = free_port(), free_port()
    env = clean_env(
        QBTC_DATA_DIR=str(data),
        QBTC_PREFECT_PORT=str(prefect_port),
        QBTC_API_PORT=str(api_port),
        QBTC_BACKFILL_DAYS="1",
        QBTC_SYMBOLS=",".join(SYMBOLS),
        QBTC_SEED="5",
    )
    up = Command(["up", "--no-first-run"], env)
    lake = data / "lake"
    try:
        up.wait_for_line("qbtc is up", 240)
        desk = Desk(prefect_port)
        desk.pause_schedules()
        first = desk.run({})
        assert first["state"]["type"] == "COMPLETED", first["state"]
        # The cycle's gate links its Data Docs from the run's artifact and the API.
        docs = desk.artifact(first["id"], "ingest-quality-docs")
        assert f"/quality/docs/runs/{first['id']}.html" in docs["data"]
        gate = httpx.get(f"http://127.0.0.1:{api_port}/api/health", timeout=30).json()
        page = httpx.get(f"http://127.0.0.1:{api_port}{gate['quality_gate']['docs_url']}")
        assert page.status_code == 200
        assert "Great Expectations validations" in page.text
        book = open_positions(lake, "main").select("symbol", "quantity")
        bars = read_dataset(lake, "ohlcv").height
        intents = read_dataset(lake, "order_intents").select("client_order_id", "run_id")

        # A subset of symbols: completes, trades only BTC, leaves the other positions alone.
        subset = desk.run({"symbols": ["BTC/USDT:USDT"]})
        assert subset["state"]["type"] == "COMPLETED", subset["state"]
        after = open_positions(lake, "main").select("symbol", "quantity")
        others = pl.col("symbol") != "BTC/USDT:USDT"
        assert after.filter(others).sort("symbol").equals(book.filter(others).sort("symbol"))
        sent = read_dataset(lake, "order_events").filter(pl.col("run_id") == subset["id"])
        assert set(sent["symbol"]) <= {"BTC/USDT:USDT"}

        # Another seed on this data dir: refused before any stage; nothing stored.
        stored = {name: read_dataset(lake, name).height for name in ("ohlcv", "tickers")}
        other_seed = desk.run({"seed": 99})
        assert other_seed["state"]["type"] == "FAILED"
        assert "holds the simulated market of seed 5" in other_seed["state"]["message"]
        assert {name: read_dataset(lake, name).height for name in stored} == stored

        # A run that fails (an unknown symbol): the lineage of earlier orders stays as it was.
        failed = desk.run({"symbols": ["NOPE/USDT:USDT"]})
        assert failed["state"]["type"] == "FAILED"
        now = read_dataset(lake, "order_intents").select("client_order_id", "run_id")
        kept = now.join(intents, on="client_order_id", suffix="_before")
        assert kept.height == intents.height
        assert (kept["run_id"] == kept["run_id_before"]).all()
        signals = read_dataset(lake, "signals")
        assert set(now["run_id"]) <= set(signals["run_id"])  # every intent traces to its signals
        assert read_dataset(lake, "ohlcv").height >= bars
    finally:
        code = up.interrupt(timeout=90)
    assert code == 0, up.output[-3000:]
