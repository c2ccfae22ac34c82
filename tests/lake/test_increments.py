"""What a dataset gained since a reader's last look, through writes, compaction and loss."""

from __future__ import annotations

from pathlib import Path

from qbtc.lake import compact_dataset, write_dataset
from qbtc.lake.increments import read_increment
from qbtc.lake.layout import data_files
from qbtc.schemas import OHLCV
from tests.factories import ohlcv_frame


def test_rows_written_since_come_back_once_through_a_compaction(lake_dir: Path) -> None:
    bars = ohlcv_frame(n=30)
    for part in (bars[:10], bars[10:20]):
        write_dataset(lake_dir, OHLCV, part)
    seen = read_increment(lake_dir, OHLCV, None)
    assert seen.rows is not None
    assert seen.rows.height == 20
    write_dataset(lake_dir, OHLCV, bars[20:])
    compact_dataset(lake_dir, OHLCV)  # the files seen are merged away with the new one
    later = read_increment(lake_dir, OHLCV, seen.now)
    assert later.rows is not None
    assert sorted(later.rows["timestamp"].to_list()) == sorted(bars[20:]["timestamp"].to_list())
    assert read_increment(lake_dir, OHLCV, later.now).rows.height == 0  # type: ignore[union-attr]


def test_a_file_gone_without_its_rows_reappearing_loses_the_base(lake_dir: Path) -> None:
    bars = ohlcv_frame(n=20)
    write_dataset(lake_dir, OHLCV, bars[:10])
    write_dataset(lake_dir, OHLCV, bars[10:])
    seen = read_increment(lake_dir, OHLCV, None)
    data_files(lake_dir / "ohlcv")[0].unlink()  # quarantined, or deleted by hand
    assert read_increment(lake_dir, OHLCV, seen.now).rows is None
