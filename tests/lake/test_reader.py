"""The reader's latest-version dedup, and its skip when no key can span two files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtc.lake import compact_dataset, scan_dataset, write_dataset
from qbtc.lake.integrity import sound_files
from qbtc.lake.layout import prune_files, scan_files
from qbtc.lake.reader import keys_within_files
from qbtc.schemas import BACKTEST_EQUITY, OHLCV, RUNS, WRITTEN_AT, Dataset
from tests.factories import T0, ohlcv_frame


def _general(root: Path, dataset: Dataset) -> pl.DataFrame:
    """Every file's rows, latest version of each key, in written order (the dedup always)."""
    files = sound_files(root, prune_files(root, dataset))
    return (
        scan_files(dataset, files)
        .sort(WRITTEN_AT, maintain_order=True)
        .unique(subset=list(dataset.primary_key), keep="last", maintain_order=True)
        .select(list(dataset.columns))
        .collect()
    )


def _equity(rows: list[tuple[str, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "backtest_id": [b for b, _, _ in rows],
            "timestamp": [T0 + timedelta(hours=h) for _, h, _ in rows],
            **{
                c: [float(v) for _, _, v in rows]
                for c in ("equity", "drawdown", "gross_notional", "net_notional")
            },
            **{c: [0.0] * len(rows) for c in ("fees", "funding", "var")},
        }
    )


_ROW = st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 5), st.integers(0, 3))
_STEP = st.one_of(st.lists(_ROW, min_size=1, max_size=8), st.just("compact"))


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(_STEP, min_size=1, max_size=6))
def test_a_read_equals_the_general_dedup_with_and_without_several_files(
    tmp_path_factory, steps: list[list[tuple[str, int, int]] | str]
):
    """Upserts rewrite rows (several files in a partition), compaction merges them back into
    one: after every step the read is the general dedup, same rows in the same order."""
    root = tmp_path_factory.mktemp("lake")
    for step in steps:
        if step == "compact":
            compact_dataset(root, BACKTEST_EQUITY)
        else:
            write_dataset(root, BACKTEST_EQUITY, _equity(step))  # type: ignore[arg-type]
        read = scan_dataset(root, BACKTEST_EQUITY).collect()
        assert read.equals(_general(root, BACKTEST_EQUITY))
        assert read.select(BACKTEST_EQUITY.primary_key).is_unique().all()
        unordered = scan_dataset(root, BACKTEST_EQUITY, written_order=False).collect()
        key = list(BACKTEST_EQUITY.primary_key)
        assert unordered.sort(key).equals(read.sort(key))


def test_the_dedup_is_skipped_only_when_every_partition_holds_one_file(lake_dir: Path):
    write_dataset(lake_dir, BACKTEST_EQUITY, _equity([("a", 0, 1), ("a", 1, 1), ("b", 0, 1)]))
    files = prune_files(lake_dir, BACKTEST_EQUITY)
    assert len(files) == 2
    assert keys_within_files(BACKTEST_EQUITY, files)
    write_dataset(lake_dir, BACKTEST_EQUITY, _equity([("a", 1, 2)]))  # rewrites a row of "a"
    files = prune_files(lake_dir, BACKTEST_EQUITY)
    assert len(files) == 3
    assert not keys_within_files(BACKTEST_EQUITY, files)
    read = scan_dataset(lake_dir, BACKTEST_EQUITY).collect()
    assert read.equals(_general(lake_dir, BACKTEST_EQUITY))
    assert read.filter(pl.col("backtest_id") == "a")["equity"].to_list() == [1.0, 2.0]
    compact_dataset(lake_dir, BACKTEST_EQUITY)
    files = prune_files(lake_dir, BACKTEST_EQUITY)
    assert keys_within_files(BACKTEST_EQUITY, files)
    compacted = scan_dataset(lake_dir, BACKTEST_EQUITY).collect()
    assert compacted.equals(_general(lake_dir, BACKTEST_EQUITY))
    assert compacted.sort(BACKTEST_EQUITY.primary_key).equals(
        read.sort(BACKTEST_EQUITY.primary_key)
    )


def test_a_dataset_partitioned_off_its_key_is_always_deduplicated(lake_dir: Path):
    """``runs`` is keyed by run id but partitioned by month of its timestamp: a rewritten run
    with another month lands in another partition, so one file per partition proves nothing."""
    assert not keys_within_files(RUNS, [lake_dir / "runs" / "month=2026-01" / "x.parquet"])
    bars = ohlcv_frame(n=30)
    write_dataset(lake_dir, OHLCV, bars)
    files = prune_files(lake_dir, OHLCV)
    assert keys_within_files(OHLCV, files)
    assert scan_dataset(lake_dir, OHLCV).collect().equals(_general(lake_dir, OHLCV))
