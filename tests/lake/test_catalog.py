from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

import qbtc.lake.reader as reader_module
from qbtc.lake import (
    CatalogBusyError,
    LakeReader,
    compact_dataset,
    read_dataset,
    sync_catalog,
    write_dataset,
)
from qbtc.lake.catalog import build_views, retry_catalog_action
from qbtc.lake.layout import VANISHED_FILE_ATTEMPTS, prune_files
from qbtc.schemas import DATASETS, OHLCV
from tests.factories import T0, ohlcv_frame

REPO = Path(__file__).resolve().parents[2]

REQUIRED = {
    "market_data": ["symbol", "price", "volume", "volatility", "timestamp"],
    "positions": ["id", "symbol", "type", "quantity", "entry_price", "timestamp"],
    "risk_metrics": ["portfolio_id", "var", "sharpe", "drawdown", "timestamp"],
}


HOLD_READ_ONLY = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM ohlcv").fetchone()[0], flush=True)
time.sleep(60)
"""


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()]


def test_promised_views_exist_with_required_columns_and_zero_rows(lake_dir: Path):
    reader = LakeReader(lake_dir)
    for view, columns in REQUIRED.items():
        frame = reader.query(f"SELECT * FROM {view}")
        assert frame.height == 0
        assert frame.columns[: len(columns)] == columns
    for name in DATASETS:
        assert reader.query(f"SELECT count(*) AS n FROM lake.{name}")["n"][0] == 0


def test_base_views_match_the_schemas_once_data_exists(lake_dir: Path):
    reader = LakeReader(lake_dir)
    empty = reader.query("SELECT * FROM ohlcv")
    write_dataset(lake_dir, OHLCV, ohlcv_frame(n=20))
    full = reader.query("SELECT * FROM ohlcv")
    assert full.schema == empty.schema == OHLCV.schema
    assert full.height == 40


def test_market_data_reports_price_volume_and_annualised_volatility(lake_dir: Path):
    bars = ohlcv_frame(n=30)
    write_dataset(lake_dir, OHLCV, bars)
    md = LakeReader(lake_dir).query(
        "SELECT * FROM market_data WHERE symbol = 'BTC/USDT:USDT' ORDER BY timestamp"
    )
    btc = bars.filter(pl.col("symbol") == "BTC/USDT:USDT")
    assert md["price"].to_list() == btc["close"].to_list()
    returns = btc["close"].log().diff().drop_nulls()
    expected = returns.std() * (365 * 1440) ** 0.5
    assert md["volatility"][-1] == pytest.approx(expected, rel=1e-9)
    assert md["volatility"][5] is None


def test_sync_catalog_writes_once_and_is_readable_read_only(data_dir: Path):
    lake, catalog = data_dir / "lake", data_dir / "qbtc.duckdb"
    assert sync_catalog(lake, catalog).changed
    assert not sync_catalog(lake, catalog).changed
    write_dataset(lake, OHLCV, ohlcv_frame(n=5))
    # Data arrived: the view definition of ohlcv changes from empty to the files.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_ONLY, str(catalog)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "0"
        with pytest.raises(CatalogBusyError, match="open in another process"):
            sync_catalog(lake, catalog)
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    assert sync_catalog(lake, catalog).changed
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM ohlcv").fetchone() == (10,)
        assert set(REQUIRED) <= {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    finally:
        con.close()


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.lake.workers", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_reader_and_read_only_catalog_work_while_a_process_writes(data_dir: Path):
    lake, catalog = data_dir / "lake", data_dir / "qbtc.duckdb"
    write_dataset(lake, OHLCV, ohlcv_frame(n=30))
    sync_catalog(lake, catalog)
    procs = [
        _spawn("write", str(lake), "6", "30"),
        _spawn("query", str(lake), "5"),
        _spawn("catalog", str(catalog), "5"),
    ]
    _check_all_succeed(procs)
    frame = read_dataset(lake, OHLCV)
    assert frame.height == frame.unique(subset=list(OHLCV.primary_key)).height


def test_in_memory_reader_survives_constant_compaction(data_dir: Path):
    lake = data_dir / "lake"
    write_dataset(lake, OHLCV, ohlcv_frame(n=30))
    _check_all_succeed(
        [_spawn("write", str(lake), "6", "30", "compact"), _spawn("query", str(lake), "5")]
    )


def _check_all_succeed(procs: list[subprocess.Popen[str]]) -> None:
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert int(out.strip()) > 0


def test_writer_killed_mid_write_leaves_previous_data_readable(lake_dir: Path):
    write_dataset(lake_dir, OHLCV, ohlcv_frame(n=30))
    proc = _spawn("write", str(lake_dir), "30", "20000", "no-compact")
    time.sleep(4.0)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    visible = list((lake_dir / "ohlcv").rglob("*"))
    assert not [p for p in visible if p.is_file() and p.suffix != ".parquet"]
    for path in (lake_dir / "ohlcv").rglob("*.parquet"):
        pl.read_parquet(path)  # every visible file is complete
    frame = LakeReader(lake_dir).query("SELECT * FROM ohlcv")
    assert frame.height >= 60
    assert frame.height == frame.unique(subset=list(OHLCV.primary_key)).height


def _two_batches(lake: Path) -> int:
    """Two writes (two files per partition); returns the number of distinct rows."""
    write_dataset(lake, OHLCV, ohlcv_frame(n=30))
    write_dataset(lake, OHLCV, ohlcv_frame(n=30, start=T0 + timedelta(minutes=30), seed=1))
    return read_dataset(lake, OHLCV).height


def test_reader_built_while_a_compaction_removes_listed_files(lake_dir: Path):
    """A view bound just as compaction merged its files away is bound again, not an error."""
    rows = _two_batches(lake_dir)
    compacted = []

    class CompactingOnce:
        """A connection on which compaction lands between the first glob and its read."""

        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self._con = con

        def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
            if "read_parquet" in sql and not compacted:
                compacted.append(compact_dataset(lake_dir, OHLCV))
                raise duckdb.IOException('IO Error: Cannot open file "part-x.parquet"')
            return self._con.execute(sql)

    con = duckdb.connect(":memory:")
    present = build_views(CompactingOnce(con), lake_dir)  # type: ignore[arg-type]
    assert present["ohlcv"]
    assert compacted[0].files_after < compacted[0].files_before
    assert con.execute("SELECT count(*) FROM market_data").fetchone() == (rows,)


def test_retry_gives_up_after_bounded_attempts_with_the_original_error():
    calls = []

    def always_missing() -> None:
        calls.append(1)
        raise duckdb.IOException("IO Error: Cannot open file")

    with pytest.raises(duckdb.IOException, match="Cannot open file"):
        retry_catalog_action(always_missing)
    assert len(calls) == VANISHED_FILE_ATTEMPTS


def test_polars_read_lists_files_again_after_a_compaction(
    lake_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    rows = _two_batches(lake_dir)
    stale = prune_files(lake_dir, OHLCV)
    assert len(stale) >= 2
    compact_dataset(lake_dir, OHLCV)  # the listed files are gone now
    listings = iter([stale])

    def stale_then_fresh(*args: object, **kwargs: object) -> list[Path]:
        return next(listings, None) or prune_files(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader_module, "prune_files", stale_then_fresh)
    assert read_dataset(lake_dir, OHLCV).height == rows
