from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from qbtc.backtest.runner import execute_backtest
from qbtc.backtest.window import load_window
from qbtc.lake import read_dataset
from qbtc.lake.catalog import build_views
from qbtc.schemas import BACKTEST_EQUITY, BACKTEST_METRICS, BACKTEST_TRADES, BACKTESTS
from qbtc.signals import RulesProvider
from tests.backtest.helpers import MAX_GAP, config, risk


def _execute(lake: Path, reports: Path):
    cfg = config()
    window = load_window(lake, cfg, max_gap=MAX_GAP)
    return execute_backtest(
        cfg,
        window,
        RulesProvider(symbols=cfg.symbols),
        risk(lake),
        lake_dir=lake,
        reports_dir=reports,
    )


def test_results_land_in_the_lake_and_the_views_once_complete(sim_lake: Path, tmp_path: Path):
    outcome = _execute(sim_lake, tmp_path / "reports")
    bid = outcome.run.backtest_id
    row = read_dataset(sim_lake, BACKTESTS).row(0, named=True)
    assert row["backtest_id"] == bid
    assert row["status"] == "completed"
    assert json.loads(row["parameters"])["interval"] == "1h"
    assert len(row["data_snapshot"]) == 64
    assert row["code_version"]
    assert read_dataset(sim_lake, BACKTEST_EQUITY).height == len(outcome.run.decisions)
    assert read_dataset(sim_lake, BACKTEST_TRADES).height == len(outcome.run.fills)
    metrics = dict(read_dataset(sim_lake, BACKTEST_METRICS).select("metric", "value").rows())
    assert metrics["final_equity"] == pytest.approx(outcome.run.final_equity)
    for name in (
        "total_return",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "turnover",
        "hit_rate",
        "fees",
        "funding",
    ):
        assert name in metrics
    page = Path(row["tear_sheet"]).read_text()
    assert "<svg" in page
    assert "Monthly returns" in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")
    con = duckdb.connect()
    build_views(con, sim_lake)
    assert con.execute("SELECT count(*) FROM backtests").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM backtest_trades").fetchone() == (
        len(outcome.run.fills),
    )


def test_a_backtest_stored_twice_is_stored_once(sim_lake: Path, tmp_path: Path):
    first = _execute(sim_lake, tmp_path / "reports")
    second = _execute(sim_lake, tmp_path / "reports")
    assert first.run.backtest_id == second.run.backtest_id
    assert read_dataset(sim_lake, BACKTESTS).height == 1
    assert read_dataset(sim_lake, BACKTEST_TRADES).height == len(first.run.fills)


def test_rows_of_an_unfinished_backtest_stay_out_of_the_views(sim_lake: Path):
    from datetime import UTC, datetime

    import polars as pl

    from qbtc.lake import write_dataset
    from qbtc.schemas import BACKTEST_EQUITY as EQ

    orphan = pl.DataFrame(
        [
            {
                "backtest_id": "btorphan",
                "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
                "equity": 1.0,
                "drawdown": 0.0,
                "gross_notional": 0.0,
                "net_notional": 0.0,
                "fees": 0.0,
                "funding": 0.0,
                "var": 0.0,
            }
        ],
        schema=EQ.schema,
    )
    write_dataset(sim_lake, EQ, orphan)
    con = duckdb.connect()
    build_views(con, sim_lake)
    assert con.execute("SELECT count(*) FROM backtest_equity").fetchone() == (0,)
