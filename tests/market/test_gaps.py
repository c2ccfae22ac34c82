"""Gap planning: the windows to fetch and the stored bars tile the run's window exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from qbtc.market.gaps import missing_windows

STEP = timedelta(minutes=5)
START = datetime(2026, 1, 1, tzinfo=UTC)
BARS = 60


@given(
    stored=st.dictionaries(
        st.sampled_from(["A", "B", "C"]), st.sets(st.integers(-10, BARS + 10), max_size=BARS)
    )
)
def test_windows_and_stored_bars_tile_the_window(stored: dict[str, set[int]]) -> None:
    symbols = ["A", "B", "C"]
    rows = [(s, START + i * STEP) for s, bars in stored.items() for i in bars]
    known = pl.DataFrame(
        rows, schema={"symbol": pl.String, "timestamp": pl.Datetime("us", "UTC")}, orient="row"
    )
    end = START + BARS * STEP
    windows = missing_windows(known, symbols, start=START, end=end, step=STEP)
    for symbol in symbols:
        mine = [w for w in windows if w.symbol == symbol]
        fetched = [w.start + k * STEP for w in mine for k in range(w.bars(STEP))]
        present = [START + i * STEP for i in stored.get(symbol, set()) if 0 <= i < BARS]
        assert sorted(fetched + present) == [START + i * STEP for i in range(BARS)]
        assert all(w.start < w.end and w.start >= START and w.end <= end for w in mine)
        kinds = [w.kind for w in mine]
        assert kinds.count("incremental") <= 1
        assert ("backfill" in kinds) == (not present)
