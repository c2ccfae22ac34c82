from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.backtest.lake import sim_frames, write_frames


@pytest.fixture(scope="session")
def sim_data() -> dict[str, pl.DataFrame]:
    """Simulated-venue data of the test window (generated once per session)."""
    return sim_frames()


@pytest.fixture
def sim_lake(lake_dir: Path, sim_data: dict[str, pl.DataFrame]) -> Path:
    write_frames(lake_dir, sim_data)
    return lake_dir
