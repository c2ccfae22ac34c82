"""What a dataset gained since a reader last looked, read without re-reading what it had.

Lake files are immutable (written once, renamed into place, removed only by compaction or
quarantine), so a reader that remembers the files it read and their row counts
(:class:`FileSet`) needs to open only the files that appeared since. When files it read are
gone, their rows must be in the new files (compaction rewrites rows with their original
``written_at``): that is checked by count, and anything else (a quarantined file, a deleted
one, rows merged away) is reported as a lost base, so the caller re-reads from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from qbtc.lake.integrity import sound_files
from qbtc.lake.layout import prune_files, scan_files
from qbtc.schemas import WRITTEN_AT, Dataset


@dataclass(frozen=True)
class FileSet:
    """Files of a dataset a reader has read: path (relative to the lake) -> rows, and the
    newest ``written_at`` (microseconds since the epoch) among those rows."""

    files: dict[str, int]
    written_us: int = 0


@dataclass(frozen=True)
class Increment:
    """Rows stored since a :class:`FileSet` (schema columns plus ``written_at``) and the
    dataset's files now; ``rows`` is None when the base was lost (read everything again)."""

    rows: pl.DataFrame | None
    now: FileSet


def _written_us(frame: pl.DataFrame) -> int:
    if frame.is_empty():
        return 0
    return int(frame[WRITTEN_AT].cast(pl.Int64).max() or 0)  # type: ignore[arg-type]


def _read(dataset: Dataset, paths: list[Path]) -> pl.DataFrame:
    if not paths:
        return pl.DataFrame(schema={**dataset.schema, WRITTEN_AT: pl.Datetime("us", "UTC")})
    return scan_files(dataset, paths).collect()


def read_increment(
    root: Path, dataset: Dataset, base: FileSet | None, *, symbols: list[str] | None = None
) -> Increment:
    """Rows of ``dataset`` added since ``base`` (all rows when ``base`` is None).

    ``symbols`` prunes partitions as :func:`qbtc.lake.reader.scan_dataset` does (the caller
    filters rows). Rows appear in the increment once: new rows of a compacted file are those
    written after ``base.written_us``.
    """
    paths = sound_files(root, prune_files(root, dataset, symbols=symbols), skip_missing=True)
    names = {p.relative_to(root).as_posix(): p for p in paths}
    known = base.files if base is not None else {}
    new_paths = [p for name, p in names.items() if name not in known]
    counts = _counts(new_paths, root)
    files = {name: rows for name, rows in known.items() if name in names} | counts
    gone = {name: rows for name, rows in known.items() if name not in names}
    if not gone:
        frame = _read(dataset, new_paths)  # every row of a file written since is new
        return Increment(frame, FileSet(files, _newest(base, frame)))
    assert base is not None
    # A compacted file carries the rows of the files it replaced: read only the newer ones
    # (its ``written_at`` column, then those rows), and count the rest from the footers.
    newer = pl.col(WRITTEN_AT).cast(pl.Int64) > base.written_us
    frame = (
        scan_files(dataset, new_paths).filter(newer).collect() if new_paths else _read(dataset, [])
    )
    now = FileSet(files, _newest(base, frame))
    if sum(counts.values()) - frame.height != sum(gone.values()):
        return Increment(None, now)
    return Increment(frame, now)


def _newest(base: FileSet | None, frame: pl.DataFrame) -> int:
    return max(base.written_us if base else 0, _written_us(frame))


def _counts(paths: list[Path], root: Path) -> dict[str, int]:
    """Rows per file of ``paths``, from their footers."""
    import pyarrow.parquet as pq

    return {p.relative_to(root).as_posix(): pq.read_metadata(p).num_rows for p in paths}
