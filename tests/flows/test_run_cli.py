"""``qbtc run``, the main job, as a user runs it: one cycle, its summary, its heartbeats."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import flows.heartbeat as heartbeat
from flows.cli import app
from qbtc.lake import read_dataset


@pytest.fixture
def isolated(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir, and a Prefect port nobody listens on (never a colleague's `make up`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("QBTC_PREFECT_PORT", str(probe.getsockname()[1]))
    return data_dir


def test_run_completes_a_cycle_prints_the_summary_and_sends_heartbeats(
    prefect_harness, isolated: Path, monkeypatch: pytest.MonkeyPatch
):
    from prefect.settings import PREFECT_API_URL

    # The run reports to the session's test server (checked to be a Prefect server).
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(heartbeat, "emit_event", lambda **kw: sent.append(kw))
    args = ["run", "--symbols", "BTC/USDT:USDT,ETH/USDT:USDT", "--days", "1"]
    result = CliRunner().invoke(app, [*args, "--as-of", "2026-11-20T12:00:00Z", "--seed", "3"])
    assert result.exit_code == 0, result.output
    runs = read_dataset(isolated / "lake", "runs")
    assert runs["status"].to_list() == ["completed"]
    run_id = runs["run_id"][0]
    assert run_id in result.output
    assert "the Prefect 3.8.8 server of PREFECT_API_URL" in result.output
    for stage in ("ingest", "features", "signals", "risk", "orders", "book", "catalog"):
        assert f"  {stage:<9} ..." in result.output  # each stage as it starts
        assert re.search(rf"  {stage:<9} done in \d+\.\d s", result.output), stage
    assert f"/runs/flow-run/{run_id}" in result.output
    assert re.search(r"quality gate: pass in \d+\.\d\d s", result.output)  # the gate's time
    assert 'qbtc sql "SELECT * FROM positions"' in result.output
    # Prefect's own heartbeat is off for the call; the pipeline sent the run's heartbeat.
    assert [e["resource"]["prefect.resource.id"] for e in sent] == [f"prefect.flow-run.{run_id}"]
    signals = read_dataset(isolated / "lake", "signals")
    assert signals.filter(pl.col("run_id") == run_id).height == 2


def test_run_refuses_an_unknown_symbol_before_starting_anything(isolated: Path):
    result = CliRunner().invoke(app, ["run", "--symbols", "BTC/USDT:USDT,ETHUSD"])
    assert result.exit_code == 2
    assert "unknown symbol 'ETHUSD' on sim: did you mean ETH/USDT:USDT" in result.output
    assert not (isolated / "lake").exists()  # nothing ran, nothing was written


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("QBTC_TIMEFRAME", "99999999999d", "invalid setting timeframe (QBTC_TIMEFRAME)"),
        ("QBTC_DATA_DIR", "/dev/null", "invalid setting data_dir (QBTC_DATA_DIR)"),
        ("QBTC_EXCHANGE", "binanceusdx", "invalid setting exchange (QBTC_EXCHANGE)"),
        ("QBTC_CAPITAL", "inf", "invalid setting capital (QBTC_CAPITAL)"),
    ],
)
def test_run_refuses_a_bad_setting_in_one_line_before_prefect_starts(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
):
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not (isolated / "lake").exists()


def test_run_refuses_another_seed_on_a_data_dir_in_one_line(isolated: Path):
    from qbtc.market.venue import check_sim_seed

    check_sim_seed(isolated / "state", 3)  # the data dir's market is seed 3
    result = CliRunner().invoke(app, ["run", "--seed", "5", "--symbols", "BTC/USDT:USDT"])
    assert result.exit_code == 2
    assert "holds the simulated market of seed 3; seed 5 would mix two price paths" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (isolated / "lake").exists()


def test_run_refuses_to_start_on_a_full_disk_in_one_line(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("QBTC_MIN_FREE_MB", "1000000")
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: disk full: ")
    assert lines[-1].endswith("free space and re-run; no order was sent")
    assert "Traceback" not in result.output
    assert not (isolated / "lake").exists()


def test_next_commands_are_typed_as_they_work_in_the_users_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PATH in the user's shell: ``qbtc``; under ``uv run`` (``make run``) the venv is on
    PATH only for that process, so the summary names the venv's path."""
    import sys

    from flows.cli import invoked_as

    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "qbtc"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("UV_RUN_RECURSION_DEPTH", raising=False)
    assert invoked_as() == "qbtc"
    monkeypatch.setenv("UV_RUN_RECURSION_DEPTH", "1")
    assert invoked_as() == ".venv/bin/qbtc"
