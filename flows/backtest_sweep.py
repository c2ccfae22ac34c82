"""Flow ``backtest_sweep``: one backtest per set of a parameter grid, as mapped task runs.

Each set is run exactly as the ``backtest`` flow runs it alone (same parameters, same data,
same id); the comparison table (metrics per set) is a Prefect table artifact and rows of the
``backtest_sweeps`` dataset. With a Dask cluster configured (``QBTC_DASK_ADDRESS`` or
``QBTC_DASK_LOCAL_WORKERS``, see :mod:`flows.cluster`) the sets' task runs go to its
workers through prefect-dask's ``DaskTaskRunner``; each set's result is the same.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import polars as pl
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.backtest import (
    BacktestParameters,
    backtest_config,
    backtest_provider,
    simulate_task,
    window_task,
)
from flows.cluster import heavy_mapper
from flows.common import current_run_id, flow_settings, publish_table
from qbtc.backtest.config import BacktestInputError
from qbtc.backtest.runner import BacktestOutcome
from qbtc.config import Settings
from qbtc.lake import write_dataset
from qbtc.parallel import Mapper
from qbtc.schemas import BACKTEST_SWEEPS

SWEEP_METRICS = ("total_return", "annual_return", "sharpe", "max_drawdown", "turnover", "fees")


def grid_sets(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values (keys in the given order)."""
    unknown = sorted(set(grid) - set(BacktestParameters.model_fields))
    if unknown:
        raise BacktestInputError(
            f"unknown sweep parameter(s) {', '.join(unknown)}: use fields of the backtest form"
        )
    if not grid or any(not values for values in grid.values()):
        raise BacktestInputError("a sweep needs at least one value for each swept parameter")
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def with_changes(base: BacktestParameters, changes: dict[str, Any]) -> BacktestParameters:
    """``base`` with ``changes`` applied and validated as the form validates them."""
    return BacktestParameters.model_validate({**base.model_dump(), **changes})


@task(cache_policy=NO_CACHE)
def sweep_set_task(
    settings: Settings, base: BacktestParameters, changes: dict[str, Any], sweep_id: str
) -> BacktestOutcome:
    """One parameter set of a sweep, run exactly as a backtest of that set alone."""
    config = backtest_config(with_changes(base, changes), settings, sweep_id=sweep_id)
    window = window_task.fn(settings, config, False)  # back-filled by the sweep flow
    return simulate_task.fn(settings, config, window)


def run_sets(
    settings: Settings,
    base: BacktestParameters,
    sets: list[dict[str, Any]],
    sweep_id: str,
    mapper: Mapper | None,
) -> list[BacktestOutcome]:
    """Each set as a task run: mapped on the flow's own runner, or on the Dask cluster of
    ``mapper``; the outcomes in the order of ``sets``."""
    if mapper is None:
        futures = sweep_set_task.map(unmapped(settings), unmapped(base), sets, unmapped(sweep_id))
        return [f.result() for f in futures]
    return mapper(sweep_set_task, [(settings, base, changes, sweep_id) for changes in sets])


def sweep_frame(
    sweep_id: str, sets: list[dict[str, Any]], outcomes: list[BacktestOutcome]
) -> pl.DataFrame:
    rows = []
    for index, (changes, outcome) in enumerate(zip(sets, outcomes, strict=True)):
        rows.append(
            {
                "sweep_id": sweep_id,
                "set_index": index,
                "backtest_id": outcome.run.backtest_id,
                "timestamp": outcome.stored_at,
                "parameters": json.dumps(changes, sort_keys=True, default=str),
                **{name: outcome.metric(name) for name in SWEEP_METRICS},
                "final_equity": outcome.run.final_equity,
            }
        )
    return pl.DataFrame(rows, schema=BACKTEST_SWEEPS.schema)


@flow(name="backtest_sweep")
def backtest_sweep(base: BacktestParameters, grid: dict[str, list[Any]]) -> dict[str, Any]:
    """One backtest per combination of ``grid`` values over ``base``, fanned out as task runs.

    Args:
        base: The backtest every combination starts from (see the backtest deployment).
        grid: Parameter name to the values to try, e.g. {"target_vol": [0.1, 0.2]}.
    """
    settings = flow_settings(seed=base.seed)
    sets = grid_sets(grid)
    sweep_id = "sw" + current_run_id().replace("-", "")[:24]
    configs = [backtest_config(with_changes(base, c), settings, sweep_id) for c in sets]
    for config in configs:  # refuse a bad set before any of them runs
        backtest_provider(config, settings)
    for config in {(c.start, c.end, c.interval, c.symbols, c.seed): c for c in configs}.values():
        window_task.fn(settings, config, base.backfill)  # back-fill once, before fanning out
    with heavy_mapper(settings) as mapper:
        outcomes = run_sets(settings, base, sets, sweep_id, mapper)
    frame = sweep_frame(sweep_id, sets, outcomes)
    write_dataset(settings.lake_dir, BACKTEST_SWEEPS, frame)
    publish_table(
        f"backtest-sweep-{sweep_id}",
        frame.drop("sweep_id", "timestamp").to_dicts(),
        f"Sweep {sweep_id}: metrics per parameter set",
    )
    return {"sweep_id": sweep_id, "sets": frame.drop("timestamp").to_dicts()}
