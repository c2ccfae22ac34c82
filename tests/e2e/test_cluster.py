"""Heavy chunks on a local Dask cluster (prefect-dask) give the in-process results, bit for bit.

Slow (a Prefect test server and a cluster of two worker processes start): `make test-e2e`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.cluster import DaskMapper, active_mapper, dask_task_runner, heavy_mapper
from qbtc.config import Settings
from qbtc.features.update import FEATURE_CHUNK_SYMBOLS, compute_perp_update, feature_chunks
from qbtc.lake import write_dataset
from qbtc.risk import monte_carlo_var
from qbtc.risk.montecarlo import MAPPED_CHUNK_SCENARIOS
from qbtc.schemas import FUNDING_RATES, OHLCV, TICKERS
from tests.features.fixtures import MINUTE, T0, bars, funding, tickers
from tests.risk.books import model, option_book

SYMBOLS = tuple(f"S{i:03d}/USDT:USDT" for i in range(FEATURE_CHUNK_SYMBOLS + 12))
BARS = 400
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def dask_mapper(prefect_harness: None) -> Iterator[DaskMapper]:
    """A local cluster of two worker processes reporting to the test server."""
    import os

    from prefect.settings import PREFECT_API_URL

    os.environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())  # the workers' Prefect API
    runner = dask_task_runner(Settings(dask_local_workers=2))
    assert runner is not None
    try:
        with runner:
            yield DaskMapper(runner)
    finally:
        os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster") / "lake"
    ohlcv = bars(SYMBOLS, n=BARS, seed=9)
    write_dataset(root, OHLCV, ohlcv)
    write_dataset(root, TICKERS, tickers(ohlcv))
    write_dataset(root, FUNDING_RATES, funding(SYMBOLS))
    return root


def test_the_universe_is_cut_into_fixed_sorted_chunks() -> None:
    chunks = feature_chunks(list(reversed(SYMBOLS)))
    assert [len(c) for c in chunks] == [FEATURE_CHUNK_SYMBOLS, 12]
    assert [s for c in chunks for s in c] == sorted(SYMBOLS)


def test_features_on_a_local_dask_cluster_equal_the_in_process_rows(
    dask_mapper: DaskMapper, lake: Path
) -> None:
    as_of = T0 + BARS * MINUTE
    here = compute_perp_update(lake, SYMBOLS, as_of=as_of)
    there = compute_perp_update(lake, SYMBOLS, as_of=as_of, mapper=dask_mapper)
    assert here.frame.height == len(SYMBOLS) * BARS
    assert here.frame.get_column("rank_momentum_240").drop_nulls().len() > 0
    assert_frame_equal(here.frame, there.frame, check_exact=True)
    assert (here.start, here.until) == (there.start, there.until)


def test_monte_carlo_var_on_a_local_dask_cluster_is_bit_identical(
    dask_mapper: DaskMapper,
) -> None:
    book, factors = option_book(n=200, seed=3), model()
    scenarios = 2 * MAPPED_CHUNK_SCENARIOS
    here = monte_carlo_var(book, factors, scenarios=scenarios, seed=17, threads=2)
    there = monte_carlo_var(book, factors, scenarios=scenarios, seed=17, mapper=dask_mapper)
    assert np.array_equal(here.pnl, there.pnl)
    assert (here.var, here.cvar) == (there.var, there.cvar)
    assert here.var > 0


def test_without_a_cluster_the_heavy_stages_run_in_process() -> None:
    with heavy_mapper(Settings()) as mapper:
        assert mapper is None
    assert dask_task_runner(Settings(dask_address="tcp://10.0.0.1:8786")) is not None


def test_a_cycle_opens_one_cluster_that_its_stages_reuse(dask_mapper: DaskMapper) -> None:
    with (
        active_mapper(dask_mapper),
        heavy_mapper(Settings(dask_local_workers=2)) as inner,
    ):
        assert inner is dask_mapper


def test_a_sweep_on_dask_gives_each_set_its_in_process_result(
    dask_mapper: DaskMapper, lake_dir: Path
) -> None:
    """The sweep's sets run as Prefect task runs on the cluster's workers, and each set's
    result (id, metrics, final equity) is the one it gets in process. A tiny window: six
    hourly decisions of three perps, two sets."""
    from flows.backtest_sweep import backtest_sweep
    from tests.backtest.lake import backtest_parameters, sim_frames, write_frames

    write_frames(lake_dir, sim_frames())
    base = backtest_parameters()
    grid = {"fee_rate": [0.0002, 0.001]}
    here = backtest_sweep(base, grid)
    sent: list[int] = []

    def on_dask(fn: Any, calls: Any) -> list[Any]:
        sent.append(len(calls))
        return dask_mapper(fn, calls)

    with active_mapper(on_dask):
        there = backtest_sweep(base, grid)
    assert sent == [2]  # both sets went to the cluster, in one batch
    assert here["sweep_id"] != there["sweep_id"]

    def results(sweep: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k != "sweep_id"} for row in sweep["sets"]]

    assert results(there) == results(here)
    assert len({row["backtest_id"] for row in here["sets"]}) == 2


def square_frame(k: int) -> pl.DataFrame:
    return pl.DataFrame({"k": [k * k]})


def test_chunk_results_keep_their_order(dask_mapper: DaskMapper) -> None:
    frames = dask_mapper(square_frame, [(k,) for k in range(5)])
    assert [f.item() for f in frames] == [k * k for k in range(5)]
