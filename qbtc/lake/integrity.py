"""Corrupt Parquet files: found, named, moved aside to the lake's quarantine folder, alerted.

One damaged file (a truncated copy, a disk error) must not take down every read of the lake.
A file is checked once per process, when a read first lists it (its footer: a truncated file
has none); a read that still fails on a file's data checks the files it read in full. A bad
file moves to ``<lake>/_corrupt/<dataset>/<partition>/<file>`` (outside every dataset, so no
view or scan sees it), a critical ``alerts`` row names it, and the read goes on without it.
The rows it held are missing until the stage that wrote them runs again; nothing is deleted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow.parquet as pq

from qbtc.lake.layout import data_files, dataset_dir
from qbtc.schemas import DATASETS

log = logging.getLogger(__name__)

QUARANTINE_DIR = "_corrupt"
ALERT_KIND = "corrupt-file"

_T = TypeVar("_T")
_checked: dict[Path, tuple[int, int]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class QuarantinedFile:
    """A corrupt file and where it went."""

    path: Path
    moved_to: Path
    problem: str

    @property
    def message(self) -> str:
        return (
            f"corrupt Parquet file {self.path} ({self.problem}) moved to {self.moved_to}; the "
            "rest of the lake is served. Re-run the stage that wrote it to restore its rows"
        )


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _problem(path: Path, *, deep: bool) -> str | None:
    """Why ``path`` is not a readable Parquet file (None when it is, or is gone)."""
    try:
        if deep:
            pq.read_table(path)
        else:
            pq.read_metadata(path)
    except FileNotFoundError:
        return None  # compacted away meanwhile: not corrupt
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
    return None


def quarantine(root: Path, path: Path, problem: str) -> QuarantinedFile | None:
    """Move ``path`` (a file of the lake at ``root``) to the quarantine folder and alert."""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        relative = Path(path.name)
    target = root / QUARANTINE_DIR / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None  # another process moved it first (and alerted)
    found = QuarantinedFile(path, target, problem)
    log.error("%s", found.message)
    _alert(root, found)
    return found


def _alert(root: Path, found: QuarantinedFile) -> None:
    # Imported here, on purpose: the alert is written through the lake writer, which checks
    # files with this module (a deliberate, deferred cycle: see tests/test_imports.py).
    from qbtc.alerts import record_alert  # import-cycle: deliberate

    details = {"file": str(found.path), "moved_to": str(found.moved_to), "problem": found.problem}
    try:
        record_alert(
            root,
            kind=ALERT_KIND,
            run_id="lake",
            message=found.message,
            severity="critical",
            details=details,
        )
    except Exception as exc:  # the file is already aside; the log line above names it
        log.error("could not record the alert for %s: %s", found.path, exc)


def sound_files(
    root: Path, files: Iterable[Path], *, deep: bool = False, skip_missing: bool = False
) -> list[Path]:
    """``files`` without the corrupt ones, which are quarantined (each file checked once).

    ``deep`` reads every file in full (and again even if checked before): the path taken
    after a read failed on a file whose footer was sound. A listed file that is gone (merged
    away by a concurrent compaction) raises ``FileNotFoundError``, so a read lists again
    (:func:`qbtc.lake.layout.retry_vanished_files`) instead of silently losing its rows;
    ``skip_missing`` leaves it out instead (a whole-lake check).
    """
    kept: list[Path] = []
    for path in files:
        try:
            signature = _signature(path)
        except FileNotFoundError:
            if skip_missing:
                continue
            raise
        with _lock:
            known = _checked.get(path) == signature
        if known and not deep:
            kept.append(path)
            continue
        problem = _problem(path, deep=deep)
        if problem is None:
            with _lock:
                _checked[path] = signature
            kept.append(path)
        else:
            quarantine(root, path, problem)
    return kept


def lake_files(root: Path) -> list[Path]:
    """Every data file of every dataset under ``root``."""
    return [f for ds in DATASETS.values() for f in data_files(dataset_dir(root, ds))]


def check_lake(root: Path, *, deep: bool = False) -> list[Path]:
    """Quarantine every corrupt file of the lake; returns the files moved aside."""
    files = lake_files(root)
    kept = set(sound_files(root, files, deep=deep, skip_missing=True))
    return [f for f in files if f not in kept and not f.exists()]


def retry_corrupt_files(
    root: Path, action: Callable[[], _T], errors: tuple[type[BaseException], ...]
) -> _T:
    """Run ``action``; when it fails with ``errors``, quarantine the lake's corrupt files
    (footers first, then full reads) and run it once more. Re-raises when none was found."""
    try:
        return action()
    except errors as exc:
        about_a_file = "parquet" in str(exc).lower()
        if not (check_lake(root) or (about_a_file and check_lake(root, deep=True))):
            raise
    return action()
