"""Lake write/read throughput: 10 symbols x 7 days of 1m bars, written day by day."""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

from qbtc.lake import LakeReader, compact_dataset, read_dataset, write_dataset
from qbtc.schemas import OHLCV
from tests.factories import T0, ohlcv_frame

SYMBOLS = tuple(f"S{i}/USDT:USDT" for i in range(10))


def run() -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="qbtc-bench-lake-"))
    days = [ohlcv_frame(SYMBOLS, n=1440, start=T0 + timedelta(days=d), seed=d) for d in range(7)]
    rows = sum(f.height for f in days)
    started = time.perf_counter()
    for frame in days:
        write_dataset(root, OHLCV, frame)
    write_s = time.perf_counter() - started
    started = time.perf_counter()
    for frame in days:
        write_dataset(root, OHLCV, frame)
    rewrite_s = time.perf_counter() - started
    started = time.perf_counter()
    stored = read_dataset(root, OHLCV)
    read_s = time.perf_counter() - started
    reader = LakeReader(root)
    started = time.perf_counter()
    latest = reader.query(
        "SELECT symbol, max(timestamp) AS t, count(*) AS n FROM ohlcv GROUP BY symbol"
    )
    sql_s = time.perf_counter() - started
    started = time.perf_counter()
    compact = compact_dataset(root, OHLCV)
    compact_s = time.perf_counter() - started
    assert stored.height == rows
    assert int(latest["n"].sum()) == rows
    assert compact.rows_after == rows
    return {
        "rows": rows,
        "write_rows_per_s": round(rows / write_s),
        "idempotent_rewrite_s (nothing new)": round(rewrite_s, 3),
        "polars_read_all_s": round(read_s, 3),
        "duckdb_group_by_s": round(sql_s, 3),
        "compact_s": round(compact_s, 3),
        "files_after_compaction": compact.files_after,
        "bytes_per_row": round(sum(p.stat().st_size for p in root.rglob("*.parquet")) / rows, 1),
        "polars": pl.__version__,
    }
