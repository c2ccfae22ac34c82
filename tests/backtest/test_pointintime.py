"""PointInTime: the views a backtest decision gets are the live cycle's reads cut at its time.

The window's features are written to the lake so that the live reads
(:func:`qbtc.features.latest_snapshot`, :func:`qbtc.risk.inputs.load_marks`) and the
backtest's in-memory cuts work on the same rows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from qbtc.backtest.pointintime import PointInTime
from qbtc.backtest.window import load_window
from qbtc.features import latest_snapshot
from qbtc.features.bars import BAR
from qbtc.lake import write_dataset
from qbtc.risk.inputs import load_marks
from qbtc.schemas import FEATURES, OPTION_FEATURES, TICKERS
from tests.backtest.helpers import MAX_GAP, config
from tests.backtest.lake import START, SYMBOLS, sim_frames, write_frames

#: Decision times on the hour (a ticker each), between them, and off the minute.
TIMES = [
    START,
    START + timedelta(minutes=30),
    START + timedelta(hours=1),
    START + timedelta(hours=2, minutes=7, seconds=30),
    START + timedelta(hours=3),
    START + timedelta(hours=5),
]


def _point(lake: Path, frames: dict[str, pl.DataFrame], **kwargs) -> PointInTime:
    write_frames(lake, frames)
    window = load_window(lake, config(), max_gap=MAX_GAP)
    write_dataset(lake, FEATURES, window.features)
    if window.option_features.height:
        write_dataset(lake, OPTION_FEATURES, window.option_features)
    return PointInTime(window, TIMES, **kwargs)


@pytest.mark.parametrize("chains", [False, True], ids=["perps", "with-option-chains"])
def test_each_snapshot_is_the_live_snapshot_at_its_time(lake_dir: Path, chains: bool):
    point = _point(lake_dir, sim_frames(chains=chains))
    for symbols in (list(SYMBOLS), ["ETH/USDT:USDT", "BTC/USDT:USDT"]):
        for t in TIMES:
            live = latest_snapshot(lake_dir, sorted(symbols), t)
            got = point.snapshot(t, symbols)
            assert got is not None
            assert got.perps.equals(live.perps), t
            assert got.options.equals(live.options), t
            assert (got.snapshot_id, got.timestamp) == (live.snapshot_id, live.timestamp), t
    if chains:
        assert point.snapshot(TIMES[-1], SYMBOLS).options.height  # type: ignore[union-attr]
    assert point.snapshot(START + timedelta(minutes=1), SYMBOLS) is None  # not a decision time
    assert point.snapshot(START, ["XRP/USDT:USDT"]) is None


def test_marks_are_the_newest_ticker_unless_a_bar_closed_after_it(lake_dir: Path, sim_data):
    point = _point(lake_dir, sim_data)
    closes = sim_data["ohlcv"]
    for t in TIMES:
        marks = point.marks(t)
        assert marks.as_of == t
        assert marks.perps.schema == TICKERS.schema
        assert marks.perps["symbol"].to_list() == sorted(SYMBOLS)
        if t.minute == 0:  # a ticker snapped at t: exactly the live read
            assert marks.perps.equals(load_marks(lake_dir, t).perps), t
            continue
        bar = closes.filter(pl.col("timestamp") == (t - BAR).replace(second=0)).sort("symbol")
        expected = pl.DataFrame(
            {
                "symbol": bar["symbol"],
                "timestamp": [(t - BAR).replace(second=0) + BAR] * bar.height,
                **{c: bar["close"] for c in ("bid", "ask", "last", "mark", "index")},
                "volume_24h": [0.0] * bar.height,
                "quote_volume_24h": [None] * bar.height,
                "open_interest": [None] * bar.height,
                "source": ["bars"] * bar.height,
            },
            schema=TICKERS.schema,
        )
        assert marks.perps.equals(expected), t


def test_without_tickers_every_mark_is_the_last_close(lake_dir: Path):
    frames = sim_frames(tickers_every=None)
    point = _point(lake_dir, frames)
    marks = point.marks(TIMES[2]).perps
    assert marks["source"].to_list() == ["bars"] * len(SYMBOLS)
    assert np.array_equal(
        marks["mark"].to_numpy(), point.last_closes(TIMES[2])[np.argsort(SYMBOLS)]
    )
    assert marks["timestamp"].to_list() == [TIMES[2]] * len(SYMBOLS)


def test_a_time_asked_after_construction_gets_the_same_views(lake_dir: Path, sim_data):
    point = _point(lake_dir, sim_data)
    other = PointInTime(point.window, TIMES[1:2])
    t = TIMES[1]
    assert other.marks(t).perps.equals(point.marks(t).perps)
    later = TIMES[2] + timedelta(minutes=3)
    assert other.marks(later).perps.equals(point.marks(later).perps)
    assert other.prices(later).closes.tolist() == point.prices(later).closes.tolist()
