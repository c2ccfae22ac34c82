"""Flow ``features``: task logic through ``.fn()`` and one end-to-end run under the harness."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import read_dataset, write_dataset
from qbtc.schemas import FEATURES, FUNDING_RATES, OHLCV, OPTION_FEATURES, OPTION_QUOTES, TICKERS
from tests.features.fixtures import MINUTE, T0, bars, funding, tickers
from tests.features.test_options import chain, skewed

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
N = 1500
AS_OF = T0 + N * MINUTE + timedelta(seconds=5)  # every bar has closed
CHAIN_AT = T0 + (N - 10) * MINUTE


@pytest.fixture
def lake(lake_dir: Path) -> Path:
    ohlcv = bars(SYMBOLS, n=N, seed=9)
    write_dataset(lake_dir, OHLCV, ohlcv)
    write_dataset(lake_dir, TICKERS, tickers(ohlcv))
    write_dataset(lake_dir, FUNDING_RATES, funding(SYMBOLS))
    quotes = pl.concat([chain(skewed, 7, at=CHAIN_AT), chain(skewed, 30, at=CHAIN_AT)])
    write_dataset(lake_dir, OPTION_QUOTES, quotes)
    return lake_dir


def test_perp_task_stores_new_bars_once(lake: Path):
    from flows.features import perp_features_task

    first = perp_features_task.fn(lake, SYMBOLS, AS_OF)
    assert first["rows"] == first["rows_written"] == N * len(SYMBOLS)
    assert first["keys"] == SYMBOLS
    assert first["until"] == (T0 + (N - 1) * MINUTE).isoformat()
    again = perp_features_task.fn(lake, SYMBOLS, AS_OF)
    assert again["rows"] == again["rows_written"] == 0
    assert again["start"] is None


def test_option_task_uses_the_stored_realised_vol(lake: Path):
    from flows.features import option_features_task, perp_features_task

    perp_features_task.fn(lake, SYMBOLS, AS_OF)
    out = option_features_task.fn(lake, ["BTC", "ETH"], AS_OF)
    assert (out["rows"], out["rows_written"], out["keys"]) == (2, 2, ["BTC"])
    stored = read_dataset(lake, OPTION_FEATURES)
    assert stored.get_column("iv_minus_rv").null_count() == 0
    assert stored.get_column("term_slope").null_count() == 0


def test_flow_end_to_end(prefect_harness: None, lake: Path, data_dir: Path):
    from flows.features import features

    out = features(as_of=AS_OF, symbols=SYMBOLS, underlyings=["BTC"], data_dir=str(data_dir))
    assert out["features"]["rows_written"] == N * len(SYMBOLS)
    assert out["option_features"]["rows_written"] == 2
    stored = read_dataset(lake, FEATURES)
    assert stored.height == N * len(SYMBOLS)
    assert stored.schema == FEATURES.schema
    rerun = features(as_of=AS_OF, symbols=SYMBOLS, underlyings=["BTC"], data_dir=str(data_dir))
    assert rerun["features"]["rows_written"] == 0
    assert rerun["option_features"]["rows_written"] == 0
