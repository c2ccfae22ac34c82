"""Flows ``backtest`` and ``backtest_sweep`` end to end on a small simulated lake."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtc.lake import read_dataset
from qbtc.schemas import BACKTEST_SWEEPS, BACKTESTS
from tests.backtest.lake import backtest_parameters, sim_frames, write_frames


@pytest.fixture
def lake(lake_dir: Path) -> Path:
    write_frames(lake_dir, sim_frames())
    return lake_dir


def test_the_backtest_flow_stores_results_and_its_tear_sheet(prefect_harness, lake, data_dir):
    from flows.backtest import backtest

    result = backtest(backtest_parameters())
    assert result["decisions"] == 6
    assert Path(result["tear_sheet"]).parent == data_dir / "reports" / "backtests"
    row = read_dataset(lake, BACKTESTS).row(0, named=True)
    assert row["backtest_id"] == result["backtest_id"]
    assert row["final_equity"] == pytest.approx(result["final_equity"])


def test_a_sweep_runs_each_set_as_it_runs_alone(prefect_harness, lake):
    from flows.backtest import backtest
    from flows.backtest_sweep import backtest_sweep

    swept = backtest_sweep(backtest_parameters(), {"fee_rate": [0.0002, 0.001]})
    rows = read_dataset(lake, BACKTEST_SWEEPS).sort("set_index")
    assert rows["parameters"].to_list() == ['{"fee_rate": 0.0002}', '{"fee_rate": 0.001}']
    assert len(set(rows["backtest_id"])) == 2
    alone = backtest(backtest_parameters(fee_rate=0.001))
    second = swept["sets"][1]
    assert second["backtest_id"] == alone["backtest_id"]
    assert second["final_equity"] == alone["final_equity"]
    assert second["total_return"] == alone["metrics"]["total_return"]
    assert rows["fees"][0] < rows["fees"][1]
