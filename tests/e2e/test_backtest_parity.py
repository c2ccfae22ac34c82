"""The backtest's contract: its decisions and fills are those of the live cycle.

``qbtc run --as-of t`` for each decision time t on one fresh data dir, ``qbtc backtest
--fills venue --options`` over the same hours on another fresh data dir, same seed and
universe: every order intent, perp or option (client order id, side, quantity, accepted or
refused with the same reason) and every fill (quantity, price, fee, time) is equal,
including those of the hedge stage's top-up after the orders (strategy ``<strategy>:hedge``;
the window's last cycle tops two hedges up).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import read_dataset
from qbtc.risk.decision import HEDGE_SUFFIX
from tests.e2e.helpers import clean_env, free_port, run_qbtc

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TIMES = [START + timedelta(hours=h) for h in range(3)]
INTENT = ["client_order_id", "timestamp", "symbol", "side", "quantity", "status", "reason"]
FILL = ["client_order_id", "timestamp", "quantity", "price", "fee"]


def _qbtc(data_dir: Path, *args: str) -> str:
    env = clean_env(
        QBTC_DATA_DIR=str(data_dir),
        QBTC_PREFECT_PORT=str(free_port()),
        QBTC_SYMBOLS="BTC/USDT:USDT,ETH/USDT:USDT,SOL/USDT:USDT",
        QBTC_SEED="7",
        QBTC_MC_SCENARIOS="2000",
    )
    return run_qbtc(*args, env=env)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def test_backtest_intents_and_fills_equal_those_of_qbtc_run_at_each_time(tmp_path: Path):
    live, replay = tmp_path / "live", tmp_path / "backtest"
    for moment in TIMES:
        _qbtc(live, "run", "--as-of", _iso(moment))
    out = _qbtc(
        replay,
        "backtest",
        "--start",
        _iso(TIMES[0]),
        "--end",
        _iso(TIMES[-1]),
        "--interval",
        "1h",
        "--fills",
        "venue",
        "--options",
    )
    assert "3 decisions" in out
    stored = read_dataset(live / "lake", "order_intents")
    hedges = stored.filter(pl.col("strategy").str.ends_with(HEDGE_SUFFIX))
    intents = stored.select(INTENT).sort(INTENT[:2])
    decided = read_dataset(replay / "lake", "backtest_intents").select(INTENT).sort(INTENT[:2])
    fills = read_dataset(live / "lake", "fills").select(FILL).sort(FILL[:2])
    traded = read_dataset(replay / "lake", "backtest_trades").select(FILL).sort(FILL[:2])
    assert intents.height >= 3, "the window must trade for the comparison to mean something"
    assert fills.height >= 3
    assert hedges.filter(pl.col("status") == "accepted").height, "the hedge stage must trade"
    assert decided.equals(intents), pl.concat([intents, decided], how="vertical")
    assert traded.equals(fills), pl.concat([fills, traded], how="vertical")
