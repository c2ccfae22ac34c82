"""Processes used by the lake concurrency and atomicity tests (``python -m tests.lake.workers``)."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from qbtc.lake import LakeReader, compact_dataset, write_dataset
from qbtc.schemas import OHLCV
from tests.factories import T0, ohlcv_frame


def write_loop(root: Path, seconds: float, bars: int, compact: bool) -> int:
    """Write fresh batches (and, with ``compact``, compact often) until ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        frame = ohlcv_frame(n=bars, start=T0 + timedelta(minutes=bars * i), seed=i)
        write_dataset(root, OHLCV, frame)
        if compact and i % 5 == 4:
            compact_dataset(root, OHLCV)
        i += 1
    print(i, flush=True)
    return 0


def query_loop(root: Path, seconds: float) -> int:
    reader = LakeReader(root)
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        frame = reader.query(
            "SELECT count(*) AS n, count(DISTINCT (symbol, timestamp)) AS t FROM market_data"
        )
        assert frame["n"][0] == frame["t"][0], frame  # no duplicates, ever
        n += 1
    print(n, flush=True)
    return 0


def catalog_loop(catalog: Path, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        con = duckdb.connect(str(catalog), read_only=True)
        try:
            con.execute("SELECT count(*) FROM ohlcv").fetchall()
        finally:
            con.close()
        n += 1
    print(n, flush=True)
    return 0


if __name__ == "__main__":
    command, path, seconds, *rest = sys.argv[1:]
    if command == "write":
        sys.exit(write_loop(Path(path), float(seconds), int(rest[0]), rest[1:] == ["compact"]))
    if command == "query":
        sys.exit(query_loop(Path(path), float(seconds)))
    sys.exit(catalog_loop(Path(path), float(seconds)))
