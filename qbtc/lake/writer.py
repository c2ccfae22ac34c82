"""Atomic, idempotent writes of frames to lake datasets, and partition compaction.

A write validates the whole frame first (nothing is written when it does not match the
schema), then for each partition it touches keeps only the rows that are not stored yet
(``append``) or differ from the stored version (``upsert``), writes them to a temporary file
outside the dataset and renames it into place. A reader therefore sees a partition either
before or after a file, never half of one. Writers of one dataset are serialised by a lock
file, so concurrent processes cannot store the same row twice.
"""

from __future__ import annotations

import errno
import logging
import os
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from qbtc.diskspace import DiskFullError, free_mb, is_disk_full
from qbtc.lake.integrity import sound_files
from qbtc.lake.layout import (
    LOCK_DIR,
    TMP_DIR,
    data_files,
    dataset_dir,
    partition_dirs,
    partition_expr,
    partition_path,
    scan_files,
)
from qbtc.lake.validate import check_frame
from qbtc.schemas import WRITTEN_AT, Dataset, get_dataset
from qbtc.statefile import exclusive_lock

log = logging.getLogger(__name__)

_last_stamp = 0

#: A write that leaves more files than this in a partition compacts it on the spot, so
#: frequent small writes (an ingest every minute) cannot slow later writes and reads down
#: between two scheduled compactions. Compaction removes the merged files: a query of an
#: analyst's own DuckDB session that overlaps it may fail once ("No such file") and can be
#: re-run; the in-memory reader (API, ``qbtc sql``) retries by itself.
AUTO_COMPACT_FILES = 256


@dataclass(frozen=True)
class WriteResult:
    """What one write did: rows offered, rows stored, files created."""

    dataset: str
    rows_in: int
    rows_written: int
    files: tuple[Path, ...]


@dataclass(frozen=True)
class CompactResult:
    dataset: str
    partitions: int
    files_before: int
    files_after: int
    rows_before: int
    rows_after: int


def _stamp_us() -> int:
    """Strictly increasing microsecond wall-clock stamp within this process."""
    global _last_stamp
    now = time.time_ns() // 1000
    _last_stamp = max(now, _last_stamp + 1)
    return _last_stamp


def dataset_lock(root: Path, dataset: Dataset) -> AbstractContextManager[None]:
    """Exclusive inter-process lock for writers of one dataset."""
    return exclusive_lock(root / LOCK_DIR / f"{dataset.name}.lock")


def _resolve(dataset: Dataset | str) -> Dataset:
    return dataset if isinstance(dataset, Dataset) else get_dataset(dataset)


def _latest(frame: pl.DataFrame, dataset: Dataset) -> pl.DataFrame:
    """One row per primary key: the last written version."""
    return frame.sort(WRITTEN_AT, maintain_order=True).unique(
        subset=list(dataset.primary_key), keep="last", maintain_order=True
    )


def _row_hash(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    return frame.select(pl.struct(columns).hash(seed=0).alias("_h")).to_series()


def _stored_with_keys_of(
    dataset: Dataset, batch: pl.DataFrame, files: list[Path], columns: list[str]
) -> pl.DataFrame:
    """``columns`` of the stored rows whose key columns each hold a value of ``batch``'s: the
    key columns are scanned, other columns read only for those rows (a few), so a write does
    not read its whole partition."""
    match = pl.all_horizontal(
        [
            pl.col(c).is_in(batch[c].unique().implode(), nulls_equal=True)
            for c in dataset.primary_key
        ]
    )
    return scan_files(dataset, files).filter(match).select(columns).collect()


def _new_rows(dataset: Dataset, batch: pl.DataFrame, files: list[Path]) -> pl.DataFrame:
    """Rows of ``batch`` that change what ``files`` hold."""
    if not files:
        return batch
    pk = list(dataset.primary_key)
    if dataset.mode == "append":
        stored = _stored_with_keys_of(dataset, batch, files, pk)
        return batch.join(stored, on=pk, how="anti", nulls_equal=True)
    columns = list(dataset.columns)
    stored = _latest(_stored_with_keys_of(dataset, batch, files, [*columns, WRITTEN_AT]), dataset)
    stored_hashes = stored.select(pk).with_columns(_row_hash(stored, columns))
    mine = batch.with_columns(_row_hash(batch, columns))
    changed = mine.join(stored_hashes, on=[*pk, "_h"], how="anti", nulls_equal=True)
    return changed.drop("_h")


def _write_file(root: Path, frame: pl.DataFrame, target_dir: Path) -> Path:
    """Write ``frame`` to a temp file, fsync it, then rename it into ``target_dir``.

    A failed write leaves nothing behind; on a full disk it raises
    :class:`~qbtc.diskspace.DiskFullError` naming the file (polars reports a full disk as a
    bare "transport error").
    """
    tmp_dir = root / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    name = f"part-{_stamp_us():016d}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = tmp_dir / f"{name}.tmp"
    final = target_dir / name
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        target_dir.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc) or free_mb(root) < 1.0:
            raise DiskFullError(errno.ENOSPC, "No space left on device", str(final)) from exc
        raise
    return final


def write_dataset(
    root: Path,
    dataset: Dataset | str,
    frame: pl.DataFrame,
    *,
    auto_compact_files: int = AUTO_COMPACT_FILES,
) -> WriteResult:
    """Store ``frame`` in ``dataset`` under ``root`` atomically and idempotently.

    Raises :class:`~qbtc.lake.validate.SchemaMismatchError` (and writes nothing) when the
    frame does not match the schema. Returns how many rows were new.
    """
    ds = _resolve(dataset)
    batch = check_frame(ds, frame)
    rows_in = batch.height
    if rows_in == 0:
        return WriteResult(ds.name, 0, 0, ())
    batch = batch.unique(subset=list(ds.primary_key), keep="last", maintain_order=True)
    names = list(ds.partition_names)
    keyed = batch.with_columns([partition_expr(p) for p in ds.partition_by]) if names else batch
    groups = keyed.partition_by(names, as_dict=True) if names else {(): keyed}
    written: list[Path] = []
    total = 0
    with dataset_lock(root, ds):
        for key in sorted(groups, key=str):
            part = groups[key].drop(names)
            target = dataset_dir(root, ds) / partition_path(zip(names, map(str, key), strict=True))
            existing = sound_files(root, data_files(target), skip_missing=True)
            fresh = _new_rows(ds, part, existing)
            if fresh.height == 0:
                continue
            stamp = pl.lit(_stamp_us(), dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))
            written.append(_write_file(root, fresh.with_columns(stamp.alias(WRITTEN_AT)), target))
            total += fresh.height
            if len(existing) + 1 > auto_compact_files:
                _compact_partition(root, ds, target)
    log.debug("%s: %d rows in, %d written, %d files", ds.name, rows_in, total, len(written))
    return WriteResult(ds.name, rows_in, total, tuple(written))


def compact_dataset(root: Path, dataset: Dataset | str, *, min_files: int = 2) -> CompactResult:
    """Merge each partition's files into one, keeping the latest version of every row.

    The merged file is renamed into place before the old files are removed; readers
    deduplicate on the primary key, so they see the same rows throughout.
    """
    ds = _resolve(dataset)
    partitions = files_before = files_after = rows_before = rows_after = 0
    with dataset_lock(root, ds):
        for directory in list(partition_dirs(root, ds)):
            files = sound_files(root, sorted(directory.glob("*.parquet")), skip_missing=True)
            files_before += len(files)
            if len(files) < min_files:
                files_after += len(files)
                n = pl.scan_parquet(files).select(pl.len()).collect().item() if files else 0
                rows_before += n
                rows_after += n
                continue
            before, after = _compact_partition(root, ds, directory)
            partitions += 1
            files_after += 1
            rows_before += before
            rows_after += after
        _clean_tmp(root)
    return CompactResult(ds.name, partitions, files_before, files_after, rows_before, rows_after)


def _compact_partition(root: Path, ds: Dataset, directory: Path) -> tuple[int, int]:
    """Merge one partition's files into one (caller holds the dataset lock): rows before/after."""
    files = sound_files(root, sorted(directory.glob("*.parquet")), skip_missing=True)
    frame = pl.read_parquet(files)
    merged = _latest(frame, ds).sort(list(ds.primary_key))
    _write_file(root, merged, directory)
    for old in files:
        old.unlink()
    return frame.height, merged.height


def _clean_tmp(root: Path, max_age_s: float = 3600.0) -> None:
    """Remove temp files left by writers that died mid-write."""
    tmp_dir = root / TMP_DIR
    if not tmp_dir.is_dir():
        return
    cutoff = time.time() - max_age_s
    for leftover in tmp_dir.glob("*.tmp"):
        if leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)
