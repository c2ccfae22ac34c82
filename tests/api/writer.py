"""A process writing the lake in a loop, as a flow would (``python -m tests.api.writer``).

Each round appends a bar and a ticker per symbol, a positions snapshot and an alert; every
fifth round compacts ohlcv and positions; rounds are ``pause`` seconds apart (a flow writes
far less often). Stops after ``seconds`` or when ``stop`` exists.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import polars as pl

from qbtc.lake import compact_dataset, write_dataset
from tests.api import lakedata
from tests.factories import ohlcv_frame


def write_round(root: Path, symbols: tuple[str, ...], index: int) -> None:
    stamp = lakedata.END + timedelta(minutes=index)
    write_dataset(root, "ohlcv", ohlcv_frame(symbols, n=1, start=stamp, seed=index))
    tickers = [
        dict(
            zip(
                lakedata.TICKER_COLUMNS,
                (s, stamp, 99.0, 101.0, 100.0 + index, 100.0, 100.0, 1.0, 1.0, 1.0, "w"),
                strict=True,
            )
        )
        for s in symbols
    ]
    write_dataset(root, "tickers", lakedata.frame(tickers, "tickers"))
    positions = [lakedata.position(s, 1.0 + index, 100.0, stamp) for s in symbols]
    write_dataset(root, "positions", lakedata.frame(positions, "positions"))
    write_dataset(root, "alerts", lakedata.frame([lakedata.alert(f"w{index}", stamp)], "alerts"))
    if index % 5 == 4:
        compact_dataset(root, "ohlcv")
        compact_dataset(root, "positions")


def main(root: Path, seconds: float, stop: Path, pause: float = 0.2) -> int:
    deadline = time.monotonic() + seconds
    index = 0
    while time.monotonic() < deadline and not stop.exists():
        write_round(root, lakedata.PERPS, index)
        index += 1
        time.sleep(pause)
    print(index, flush=True)
    return 0


if __name__ == "__main__":
    pl.Config.set_verbose(False)
    sys.exit(main(Path(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])))
