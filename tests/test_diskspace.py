"""A full disk: refused before a run, said in one line during one, never a flood of tracebacks."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import polars as pl
import pytest

import qbtc.lake.writer as writer
from qbtc.diskspace import (
    DiskFullError,
    check_free_space,
    disk_full_message,
    is_disk_full,
)
from qbtc.lake import write_dataset
from qbtc.logs import QuietRotatingFileHandler, RotatingLog
from qbtc.schemas import ALERTS


def test_a_full_disk_is_recognised_through_wrapped_errors():
    full = OSError(errno.ENOSPC, "No space left on device", "/data/lake/x.parquet")
    wrapped = RuntimeError("stage failed")
    wrapped.__cause__ = full
    assert is_disk_full(wrapped)
    line = disk_full_message(wrapped, data_dir=Path("/data"), orders_sent=False)
    assert line == (
        "disk full writing /data/lake/x.parquet: free space and re-run; no order was sent"
    )
    assert not is_disk_full(RuntimeError("something else"))
    assert is_disk_full(RuntimeError("sqlite3.OperationalError: database or disk is full"))


def test_a_run_is_refused_below_the_free_space_floor(tmp_path: Path):
    check_free_space(tmp_path, min_free_mb=0)
    with pytest.raises(DiskFullError, match="free space and re-run; no order was sent"):
        check_free_space(tmp_path / "not" / "yet", min_free_mb=10**9)


def alert_frame() -> pl.DataFrame:
    from datetime import UTC, datetime

    row = {
        "alert_id": "a",
        "run_id": "r",
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "kind": "k",
        "severity": "warning",
        "message": "m",
        "details": "{}",
    }
    return pl.DataFrame([row], schema=ALERTS.schema)


def test_a_lake_write_on_a_full_disk_names_the_file_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def no_space(self: pl.DataFrame, path: Path, **_: object) -> None:
        Path(path).write_bytes(b"PAR1 partial")
        raise pl.exceptions.ComputeError("parquet: Invalid thrift: transport error")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", no_space)
    monkeypatch.setattr(writer, "free_mb", lambda path: 0.0)
    with pytest.raises(DiskFullError) as error:
        write_dataset(tmp_path, ALERTS, alert_frame())
    assert error.value.errno == errno.ENOSPC
    assert str(error.value.filename).startswith(str(tmp_path / "alerts"))
    assert not list(tmp_path.rglob("*.parquet*"))  # no temp file, no partial file


def test_a_log_file_that_cannot_be_written_stops_without_a_word(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    handler = QuietRotatingFileHandler(tmp_path / "qbtc.log")
    logger = logging.getLogger("test.quiet")
    logger.addHandler(handler)
    try:
        handler.stream.close()  # every write now fails, as on a full disk
        for n in range(100):
            logger.error("record %d", n)
    finally:
        logger.removeHandler(handler)
    assert capsys.readouterr().err == ""


def test_logs_rotate_by_size(tmp_path: Path):
    with RotatingLog(tmp_path / "serve.log", max_mb=0.01, backups=2) as log:
        for n in range(2_000):
            log.write_line(f"line {n} " + "x" * 40)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["serve.log", "serve.log.1", "serve.log.2"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 4 * 0.01 * 2**20
