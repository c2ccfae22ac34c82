from __future__ import annotations

import json
import os
import subprocess

from fastapi.testclient import TestClient

from qbtc.api import create_app
from qbtc.schemas import DATASETS
from tests.api.conftest import make_settings
from tests.api.lakedata import FixtureLake, write_kill_switch, write_runs


def test_health_reports_freshness_run_gate_and_kill_switch(client, shared_lake):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["problems"] == []
    by_name = {item["dataset"]: item for item in body["datasets"]}
    assert set(by_name) == set(DATASETS)
    assert by_name["ohlcv"]["newest"] == shared_lake.last_bar.isoformat().replace("+00:00", "Z")
    assert by_name["ohlcv"]["files"] == len(shared_lake.symbols) * 2  # one file per day
    assert by_name["ohlcv"]["lag_seconds"] > 0
    assert by_name["quarantine"] == {
        "dataset": "quarantine",
        "files": 0,
        "newest": None,
        "lag_seconds": None,
        "error": None,
    }
    assert body["last_run"]["run_id"] == "run-2"
    assert body["last_run"]["status"] == "completed"
    assert body["quality_gate"]["passed"] is True
    assert body["quality_gate"]["run_id"] == "run-2"
    assert body["kill_switch"] == {
        "on": False,
        "reason": None,
        "since": "2026-01-07T00:00:00Z",
        "readable": True,
    }


def test_health_is_degraded_when_gate_failed_and_kill_switch_on(own_lake: FixtureLake, data_dir):
    write_runs(own_lake.root, own_lake.last_bar.replace(minute=59, second=30), gate_passed=False)
    write_kill_switch(data_dir, on=True, reason="drawdown beyond limit")
    with TestClient(create_app(make_settings(data_dir))) as client:
        body = client.get("/api/health").json()
    assert body["status"] == "degraded"
    assert body["quality_gate"]["passed"] is False
    assert body["quality_gate"]["reasons"] == ["ohlcv: stale"]
    assert body["kill_switch"]["on"] is True
    assert body["kill_switch"]["reason"] == "drawdown beyond limit"
    assert "kill switch is on: drawdown beyond limit" in body["problems"]
    assert "quality gate failed: ohlcv: stale" in body["problems"]


def test_unreadable_kill_switch_reads_as_on(own_lake: FixtureLake, data_dir):
    (data_dir / "state" / "kill_switch.json").write_text("{not json")
    with TestClient(create_app(make_settings(data_dir))) as client:
        switch = client.get("/api/health").json()["kill_switch"]
    assert switch["on"] is True
    assert switch["readable"] is False
    assert "kill_switch.json" not in json.dumps(switch)


def test_empty_lake_is_degraded_with_the_reason(data_dir):
    with TestClient(create_app(make_settings(data_dir))) as client:
        body = client.get("/api/health").json()
    assert body["status"] == "degraded"
    assert body["last_run"] is None
    assert body["quality_gate"]["passed"] is False
    assert body["quality_gate"]["reasons"] == [
        "no quality gate has run yet: run `qbtc ingest` first"
    ]
    assert body["kill_switch"]["on"] is False
    assert all(item["files"] == 0 for item in body["datasets"])


def test_no_gate_yet_is_reported_as_such(data_dir):
    with TestClient(create_app(make_settings(data_dir))) as client:
        problems = client.get("/api/health").json()["problems"]
    assert problems == ["no quality gate has run yet: run `qbtc ingest` first"]


def test_health_is_degraded_when_market_data_lags_beyond_the_setting(shared_lake, shared_data_dir):
    # The fixture's bars are from January 2026: far older than an hour.
    settings = make_settings(shared_data_dir, health_max_data_lag_s=3600)
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/health").json()
        metrics = client.get("/metrics").text
    assert body["status"] == "degraded"
    (problem,) = body["problems"]
    assert problem.startswith("market data is ")
    assert "(limit 1 h 0 min, QBTC_HEALTH_MAX_DATA_LAG_S)" in problem
    assert "qbtc_health_degraded 1.0" in metrics
    assert 'qbtc_health_problems{kind="market_lag"} 1.0' in metrics


def test_health_is_degraded_when_the_scheduler_stops_completing_runs(
    shared_lake, shared_data_dir, data_dir
):
    from datetime import UTC, datetime, timedelta

    from qbtc.serving import ServingState, write_serving_state

    settings = make_settings(shared_data_dir)
    started = datetime.now(UTC) - timedelta(minutes=20)
    # This test process stands in for a live `qbtc up`: its pid is alive.
    write_serving_state(settings.state_dir, ServingState(os.getpid(), started, 300))
    try:
        with TestClient(create_app(settings)) as client:
            body = client.get("/api/health").json()
            metrics = client.get("/metrics").text
    finally:
        (settings.state_dir / "serving.json").unlink()
    assert body["status"] == "degraded"
    (problem,) = body["problems"]
    assert problem.startswith("no pipeline run completed for ")
    assert "while `qbtc up` is serving (scheduled every 5 min 0 s)" in problem
    assert 'qbtc_health_problems{kind="scheduler"} 1.0' in metrics


def test_a_dead_scheduler_state_is_not_serving(data_dir):
    from datetime import UTC, datetime

    from qbtc.serving import ServingState, read_serving_state, write_serving_state

    state_dir = data_dir / "state"
    assert read_serving_state(state_dir) is None
    write_serving_state(state_dir, ServingState(os.getpid(), datetime.now(UTC), 300))
    assert read_serving_state(state_dir) is not None
    dead = subprocess.Popen(["true"])
    dead.wait()
    write_serving_state(state_dir, ServingState(dead.pid, datetime.now(UTC), 300))
    assert read_serving_state(state_dir) is None
    (state_dir / "serving.json").write_text("[]")
    assert read_serving_state(state_dir) is None


def test_health_names_a_corrupt_lake_file_and_keeps_serving(own_lake: FixtureLake, data_dir):
    victim = sorted((own_lake.root / "ohlcv").rglob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:100])  # truncated, as by a crash or a full disk
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get("/api/health")
        positions = client.get("/api/positions")
        metrics = client.get("/metrics").text
    assert response.status_code == 200
    assert positions.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    (problem,) = [p for p in body["problems"] if "corrupt lake file" in p]
    assert problem.startswith("1 corrupt lake file(s) moved aside (_corrupt/ohlcv/")
    assert 'qbtc_health_problems{kind="unreadable"} 1.0' in metrics
