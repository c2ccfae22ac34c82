from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbtc.lake import (
    SchemaMismatchError,
    compact_dataset,
    read_dataset,
    scan_dataset,
    write_dataset,
)
from qbtc.lake.layout import data_files
from qbtc.schemas import OHLCV, RUNS
from tests.factories import T0, ohlcv_frame


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(["symbol", "timeframe", "timestamp"])


@given(k=st.integers(min_value=1, max_value=4), n=st.integers(min_value=1, max_value=40))
def test_writing_a_batch_k_times_equals_writing_it_once(tmp_path_factory, k: int, n: int):
    root = tmp_path_factory.mktemp("lake")
    batch = ohlcv_frame(n=n)
    first = write_dataset(root, OHLCV, batch)
    for _ in range(k - 1):
        again = write_dataset(root, OHLCV, batch)
        assert again.rows_written == 0
    stored = read_dataset(root, OHLCV)
    assert first.rows_written == batch.height
    assert _sorted(stored).equals(_sorted(batch))


def test_overlapping_batches_store_each_row_once(lake_dir: Path):
    bars = ohlcv_frame(n=60)
    write_dataset(lake_dir, OHLCV, bars.head(80))
    result = write_dataset(lake_dir, OHLCV, bars.tail(70))
    assert result.rows_written == 120 - 80
    assert read_dataset(lake_dir, OHLCV).height == 120


def _run(run_id: str, status: str, minute: int = 0) -> pl.DataFrame:
    ts = T0 + timedelta(minutes=minute)
    return pl.DataFrame(
        {
            "run_id": [run_id],
            "flow": ["pipeline"],
            "status": [status],
            "timestamp": [ts],
            "finished_at": [None],
            "parameters": ["{}"],
            "seed": [1],
            "as_of": [None],
            "code_version": ["abc"],
            "package_versions": ["{}"],
            "snapshots": ["{}"],
            "llm_model": [None],
            "stage_durations": ["{}"],
            "message": [None],
        },
        schema=RUNS.schema,
    )


@given(statuses=st.lists(st.sampled_from(["running", "completed", "failed"]), min_size=1))
def test_upsert_keeps_the_latest_version(tmp_path_factory, statuses: list[str]):
    root = tmp_path_factory.mktemp("lake")
    for status in statuses:
        write_dataset(root, RUNS, _run("r1", status))
    stored = read_dataset(root, RUNS)
    assert stored.height == 1
    assert stored["status"][0] == statuses[-1]


def test_upsert_of_an_unchanged_row_writes_nothing(lake_dir: Path):
    write_dataset(lake_dir, RUNS, _run("r1", "completed"))
    assert write_dataset(lake_dir, RUNS, _run("r1", "completed")).rows_written == 0
    assert len(data_files(lake_dir / "runs")) == 1


def test_missing_column_is_refused_and_nothing_written(lake_dir: Path):
    with pytest.raises(SchemaMismatchError, match=r"missing column\(s\) volume \(Float64\)"):
        write_dataset(lake_dir, OHLCV, ohlcv_frame().drop("volume"))
    assert not (lake_dir / "ohlcv").exists()


def test_wrong_type_is_refused_naming_column_and_expected_type(lake_dir: Path):
    bad = ohlcv_frame().with_columns(pl.col("volume").cast(pl.Int64))
    with pytest.raises(SchemaMismatchError, match=r"'volume' has type Int64, expected Float64"):
        write_dataset(lake_dir, OHLCV, bad)
    naive = ohlcv_frame().with_columns(pl.col("timestamp").dt.replace_time_zone(None))
    with pytest.raises(SchemaMismatchError, match="timestamp"):
        write_dataset(lake_dir, OHLCV, naive)
    assert not (lake_dir / "ohlcv").exists()


def test_nulls_in_required_columns_are_refused(lake_dir: Path):
    bad = ohlcv_frame().with_columns(pl.when(pl.col("close") > 0).then(None).alias("close"))
    bad = bad.with_columns(pl.col("close").cast(pl.Float64))
    with pytest.raises(SchemaMismatchError, match="null values in required column"):
        write_dataset(lake_dir, OHLCV, bad)


def test_partitions_are_slash_free_and_pruned(lake_dir: Path):
    write_dataset(lake_dir, OHLCV, ohlcv_frame(n=10))
    dirs = sorted(p.relative_to(lake_dir).as_posix() for p in (lake_dir / "ohlcv").glob("*/*"))
    assert dirs == [
        "ohlcv/sym=BTC-USDT-USDT/date=2026-01-05",
        "ohlcv/sym=ETH-USDT-USDT/date=2026-01-05",
    ]
    only_eth = read_dataset(lake_dir, OHLCV, symbols=["ETH/USDT:USDT"])
    assert set(only_eth["symbol"]) == {"ETH/USDT:USDT"}
    window = read_dataset(
        lake_dir, OHLCV, start=T0 + timedelta(minutes=3), end=T0 + timedelta(minutes=5)
    )
    assert window.height == 6


def test_empty_dataset_reads_as_empty_frame_with_schema(lake_dir: Path):
    frame = scan_dataset(lake_dir, OHLCV).collect()
    assert frame.height == 0
    assert frame.schema == OHLCV.schema


def test_compaction_keeps_every_row_once(lake_dir: Path):
    bars = ohlcv_frame(n=50)
    for i in range(5):
        write_dataset(lake_dir, OHLCV, bars.filter(pl.int_range(pl.len()) % 5 == i))
    for status in ("running", "completed"):
        write_dataset(lake_dir, RUNS, _run("r1", status))
    before = _sorted(read_dataset(lake_dir, OHLCV))
    result = compact_dataset(lake_dir, OHLCV)
    assert result.files_before == 10
    assert result.files_after == 2
    assert result.rows_before == result.rows_after == 100
    assert _sorted(read_dataset(lake_dir, OHLCV)).equals(before)
    runs = compact_dataset(lake_dir, RUNS)
    assert (runs.rows_before, runs.rows_after) == (2, 1)
    assert read_dataset(lake_dir, RUNS)["status"].to_list() == ["completed"]


def test_many_small_writes_keep_a_partition_to_a_bounded_number_of_files(lake_dir: Path):
    bars = ohlcv_frame(symbols=("BTC/USDT:USDT",), n=20)
    for i in range(bars.height):
        write_dataset(lake_dir, OHLCV, bars.slice(i, 1), auto_compact_files=8)
    files = data_files(lake_dir / "ohlcv")
    assert len(files) <= 8
    assert _sorted(read_dataset(lake_dir, OHLCV)).equals(_sorted(bars))


def test_an_upsert_over_a_file_written_before_a_column_existed(lake_dir: Path):
    write_dataset(lake_dir, RUNS, _run("r1", "running"))
    old = data_files(lake_dir / "runs")[0]
    pl.read_parquet(old).drop("message").write_parquet(old)  # as an earlier version stored it
    assert write_dataset(lake_dir, RUNS, _run("r1", "running")).rows_written == 0  # null = null
    assert write_dataset(lake_dir, RUNS, _run("r1", "completed")).rows_written == 1
    assert read_dataset(lake_dir, RUNS)["status"].to_list() == ["completed"]


def test_a_write_reads_only_the_stored_rows_of_its_keys(
    lake_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    for n in range(5):
        write_dataset(lake_dir, RUNS, _run(f"r{n}", "completed"))
    collected: list[int] = []
    original = pl.LazyFrame.collect

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        frame = original(self, *args, **kwargs)
        collected.append(frame.height)
        return frame

    monkeypatch.setattr(pl.LazyFrame, "collect", spy)
    write_dataset(lake_dir, RUNS, _run("r2", "failed"))
    assert collected == [1]  # the stored version of r2, not the partition's five rows
