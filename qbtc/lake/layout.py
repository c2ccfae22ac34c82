"""Where a dataset's files live: hive partition paths, file listing and pruning."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import polars as pl

from qbtc.schemas import WRITTEN_AT, Dataset, Partition
from qbtc.symbols import symbol_key

TMP_DIR = ".tmp"
LOCK_DIR = ".locks"

_T = TypeVar("_T")

#: Attempts for a read that lost a Parquet file to a concurrent compaction. Compaction
#: renames the merged file into place before it deletes the inputs, so a fresh listing
#: always finds the rows.
VANISHED_FILE_ATTEMPTS = 6


def retry_vanished_files(
    action: Callable[[], _T], errors: tuple[type[BaseException], ...] = (FileNotFoundError,)
) -> _T:
    """Run ``action``, again after a short pause when a file it listed was compacted away.

    A read lists the files, then opens them; a compaction in between removes a listed file
    (``errors``: what the reading library raises then). Re-running lists afresh. Any other
    error, or the last failed attempt, propagates.
    """
    for attempt in range(VANISHED_FILE_ATTEMPTS):
        try:
            return action()
        except errors:
            if attempt == VANISHED_FILE_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def dataset_dir(root: Path, dataset: Dataset) -> Path:
    return root / dataset.name


def partition_expr(partition: Partition) -> pl.Expr:
    """Polars expression computing a partition's value from its source column."""
    col = pl.col(partition.source)
    if partition.kind == "symbol":
        # Same mapping as qbtc.symbols.symbol_key, vectorised.
        key = col.str.replace_all(r"[^A-Za-z0-9]+", "-").str.strip_chars("-")
        return key.alias(partition.name)
    if partition.kind == "date":
        return col.dt.strftime("%Y-%m-%d").alias(partition.name)
    if partition.kind == "month":
        return col.dt.strftime("%Y-%m").alias(partition.name)
    return col.cast(pl.String).alias(partition.name)


def partition_path(values: Iterable[tuple[str, str]]) -> Path:
    """``[("sym", "BTC-USDT-USDT"), ("date", "2026-01-02")]`` -> ``sym=BTC-USDT-USDT/date=...``."""
    parts = []
    for name, value in values:
        if not value or "/" in value or value in {".", ".."}:
            raise ValueError(f"invalid partition value {value!r} for {name}")
        parts.append(f"{name}={value}")
    return Path(*parts) if parts else Path()


def data_files(path: Path) -> list[Path]:
    """Parquet files below ``path``, sorted (oldest write first: names start with a stamp)."""
    if not path.is_dir():
        return []
    return sorted(path.rglob("*.parquet"), key=lambda p: (p.parent.as_posix(), p.name))


def has_files(root: Path, dataset: Dataset) -> bool:
    directory = dataset_dir(root, dataset)
    if not directory.is_dir():
        return False
    return next(directory.rglob("*.parquet"), None) is not None


def partition_dirs(root: Path, dataset: Dataset) -> Iterator[Path]:
    """Leaf partition directories of a dataset that hold at least one file."""
    base = dataset_dir(root, dataset)
    depth = len(dataset.partition_by)
    if not base.is_dir():
        return
    pattern = "/".join(["*"] * depth) if depth else "."
    for directory in sorted(base.glob(pattern)):
        if directory.is_dir() and any(directory.glob("*.parquet")):
            yield directory


def _time_bounds(start: datetime | None, end: datetime | None, kind: str) -> tuple[str, str]:
    fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m"
    low = start.strftime(fmt) if start else ""
    high = end.strftime(fmt) if end else "\uffff"
    return low, high


def prune_files(
    root: Path,
    dataset: Dataset,
    *,
    symbols: Iterable[str] | None = None,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> list[Path]:
    """Files of ``dataset`` that can hold rows for ``symbols`` between ``start`` and ``end``.

    Pruning is done on directory names only, level by level (a symbol left out is never
    listed below), in sorted order (readers then pass the list through
    :func:`qbtc.lake.integrity.sound_files`, which quarantines and leaves out a corrupt file).
    """
    keys = {symbol_key(s) for s in symbols} if symbols is not None else None
    start_dt = start if isinstance(start, datetime) or start is None else None
    end_dt = end if isinstance(end, datetime) or end is None else None
    base = dataset_dir(root, dataset)
    if not base.is_dir():
        return []
    directories = [base]
    for partition in dataset.partition_by:
        directories = [
            directory / name
            for directory in directories
            for name in _entries(directory, dirs=True)
            if _kept(partition, name.partition("=")[2], keys, start_dt, end_dt)
        ]
    return [directory / name for directory in directories for name in _entries(directory)]


def _entries(directory: Path, *, dirs: bool = False) -> list[str]:
    """Sorted names of the sub-directories (``dirs``) or Parquet files of ``directory``."""
    try:
        with os.scandir(directory) as found:
            if dirs:
                return sorted(e.name for e in found if e.is_dir())
            return sorted(e.name for e in found if e.name.endswith(".parquet"))
    except FileNotFoundError:  # removed by a concurrent compaction since it was listed
        return []


def _kept(
    partition: Partition,
    value: str,
    keys: set[str] | None,
    start: datetime | None,
    end: datetime | None,
) -> bool:
    """Whether a partition directory's ``value`` can hold the rows asked for."""
    if partition.kind == "symbol" and keys is not None:
        return value in keys
    if partition.kind in ("date", "month") and (start or end) and value:
        low, high = _time_bounds(start, end, partition.kind)
        return low[: len(value)] <= value <= high[: len(value)]
    return True


def scan_files(dataset: Dataset, files: list[Path]) -> pl.LazyFrame:
    """A lazy frame over ``files`` of ``dataset`` with its schema columns and ``written_at``;
    files written before a column was added to the schema read it as null."""
    schema = pl.Schema({**dataset.schema, WRITTEN_AT: pl.Datetime("us", "UTC")})
    return pl.scan_parquet(
        files,
        hive_partitioning=False,
        schema=schema,
        missing_columns="insert",
        extra_columns="ignore",
    )
