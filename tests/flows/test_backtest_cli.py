"""``qbtc backtest``: one clear line and exit 2 for every mistake, nothing stored."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.backtest.lake import sim_frames, write_frames

RUNNER = CliRunner()
WINDOW = ["--start", "2026-11-20T00:00Z", "--end", "2026-11-20T05:00Z"]
SYMBOLS = ["--symbols", "BTC/USDT:USDT,ETH/USDT:USDT,SOL/USDT:USDT"]


@pytest.fixture(autouse=True)
def _isolated(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("QBTC_PREFECT_PORT", str(free))


def _backtest_files(lake_dir: Path) -> list[Path]:
    return sorted(p for p in lake_dir.rglob("*.parquet") if "backtest" in str(p))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-11-20T05:00Z", "--end", "2026-11-20T00:00Z"], "is before start"),
        ([*WINDOW, "--interval", "90s"], "such as 5m, 1h or 1d"),
        (["--start", "tomorrow", "--end", "2026-11-20T00:00Z"], "is not ISO 8601"),
        ([*WINDOW, "--symbols", "BTCUSDT"], "unknown symbol 'BTCUSDT' on sim"),
        ([*WINDOW, "--provider", "nowhere.strategy:Mine"], "cannot import module 'nowhere"),
        ([*WINDOW, "--provider", "oracle"], "neither module:Class nor an installed"),
        ([*WINDOW, "--options"], "the options leg fills against the simulated venue"),
        ([*WINDOW, "--fills", "mid"], "invalid --fills"),
        ([*WINDOW, *SYMBOLS, "--no-backfill"], "BTC/USDT:USDT has no 1m bars"),
        ([*WINDOW, "--sweep", "fee_rate"], "must look like name=value1,value2"),
        ([*WINDOW, "--sweep", "colour=red,blue"], "unknown sweep parameter(s) colour"),
        ([*WINDOW, "--seed", "8"], "this data dir holds the simulated market of seed 7"),
    ],
)
def test_user_mistakes_end_in_one_line_and_exit_2(args, message, lake_dir: Path):
    from qbtc.market.venue import check_sim_seed

    check_sim_seed(lake_dir.parent / "state", 7)  # the data dir belongs to seed 7
    result = RUNNER.invoke(app, ["backtest", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert message in lines[0]
    assert lines[0].startswith("error: ")
    assert _backtest_files(lake_dir) == []


def test_a_window_with_a_gap_is_refused_before_anything_runs(lake_dir: Path):
    import polars as pl

    sim_data = sim_frames()
    holed = sim_data["ohlcv"].filter(pl.col("timestamp").dt.hour() != 2)
    write_frames(lake_dir, {**sim_data, "ohlcv": holed})
    result = RUNNER.invoke(app, ["backtest", *WINDOW, *SYMBOLS, "--no-backfill"])
    assert result.exit_code == 2
    assert "has a gap in its bars from 2026-11-20 01:59" in result.output
    assert _backtest_files(lake_dir) == []
