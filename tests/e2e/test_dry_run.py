"""``qbtc run`` in dry-run, as a user runs it: ``QBTC_EXCHANGE=binanceusdm`` and no keys.

The real ccxt client reads a local Binance USD-M stub (tests/market/binance_stub.py, the
venue's documented payloads, served at the wall clock) through ``QBTC_EXCHANGE_BASE_URL``;
the paper book fills at the stub's quotes and no order endpoint is ever called.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import read_dataset
from qbtc.market.sim import SimExchange
from tests.e2e.helpers import clean_env, free_port, run_qbtc
from tests.market.binance_stub import BinanceStub

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")


@pytest.mark.slow
def test_a_dry_run_cycle_reads_the_venue_and_trades_on_paper(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with BinanceStub(SimExchange(seed=7, symbols=SYMBOLS)) as stub:
        env = clean_env(
            QBTC_DATA_DIR=str(data),
            QBTC_EXCHANGE="binanceusdm",
            QBTC_EXCHANGE_BASE_URL=stub.base_url,
            QBTC_SYMBOLS=",".join(SYMBOLS),
            QBTC_BACKFILL_DAYS="1",
            QBTC_PREFECT_PORT=str(free_port()),  # nobody's make up: a temporary server
            PREFECT_HOME=str(tmp_path / "prefect"),
        )
        out = run_qbtc("run", env=env)
        order_calls = stub.calls("/fapi/v1/order")
        klines = stub.calls("/fapi/v1/klines")
    assert "mode: dry-run: real binanceusdm market data, paper fills at its live quotes" in out
    assert klines  # the venue's public data was read
    assert order_calls == []  # and nothing was sent to it
    lake = data / "lake"
    assert read_dataset(lake, "ohlcv")["source"].unique().to_list() == ["binanceusdm"]
    runs = read_dataset(lake, "runs").filter(pl.col("flow") == "pipeline")
    assert [json.loads(p)["mode"] for p in runs["parameters"]] == ["dry-run"]
    reasons = read_dataset(lake, "order_intents")["reason"].drop_nulls().to_list()
    assert not [r for r in reasons if "could not be loaded" in r]  # lots read from the venue
    fills = read_dataset(lake, "fills")
    assert (fills["fee"] > 0).all()  # paper fills pay the venue's fee, when there are any
