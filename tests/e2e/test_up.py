"""`make up` smoke test: start, UI and API healthy, a scheduled run created, clean stop."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import Command, clean_env, free_port, listening, wait_for

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_up_serves_ui_api_and_schedules_then_stops_cleanly(tmp_path: Path):
    prefect_port, api_port = free_port(), free_port()
    env = clean_env(
        QBTC_DATA_DIR=str(tmp_path / "data"),
        QBTC_PREFECT_PORT=str(prefect_port),
        QBTC_API_PORT=str(api_port),
        QBTC_BACKFILL_DAYS="1",
        QBTC_SYMBOLS="BTC/USDT:USDT,ETH/USDT:USDT",
    )
    up = Command(["up"], env)
    try:
        up.wait_for_line("qbtc is up", 300)
        ui = httpx.get(f"http://127.0.0.1:{prefect_port}/", timeout=10)
        assert ui.status_code == 200
        assert "<html" in ui.text.lower()
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/health", timeout=10).status_code == 200
        page = httpx.get(f"http://127.0.0.1:{api_port}/", timeout=10)
        assert page.status_code == 200
        assert "<title>qbtc desk</title>" in page.text
        assert any("dashboard" in line for line in up.lines)
        api = f"http://127.0.0.1:{prefect_port}/api"
        names = {d["name"] for d in httpx.post(f"{api}/deployments/filter", json={}).json()}
        assert {"pipeline", "ingest", "risk-monitor", "compaction", "kill-switch"} <= names

        def scheduled_runs() -> int:
            body = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
            return len(httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json())

        assert wait_for(scheduled_runs, 150, "a scheduled run") >= 1
    finally:
        code = up.interrupt(timeout=90)
    assert code == 0, up.output[-3000:]
    assert "stopped." in up.output
    assert not listening(prefect_port), "server still listening"
