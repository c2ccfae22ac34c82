"""A full disk: found before a run starts, and said in one line when it happens during one.

A cycle writes well under a megabyte, so a run refuses to start below ``min_free_mb`` of
free space rather than fail half-way. When the disk fills anyway, the error that reaches the
user names the path that could not be written and what to do, never a flood of tracebacks.
"""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_TEXT = re.compile(r"no space left on device|disk is full|disk quota exceeded", re.I)


class DiskFullError(OSError):
    """The disk holding the data directory is (about to be) full; the message says what to do."""


def is_disk_full(error: BaseException) -> bool:
    """True when ``error``, or any error it was raised from, is a full disk."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return True
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if _FULL_TEXT.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def full_path(error: BaseException) -> str | None:
    """The file a disk-full ``error`` (or an error it came from) was writing, when known."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.filename:
            return str(current.filename)
        current = current.__cause__ or current.__context__
    return None


def disk_full_message(error: BaseException, *, data_dir: Path, orders_sent: bool) -> str:
    """``disk full writing <path>: free space and re-run; ...`` (one line)."""
    where = full_path(error) or str(data_dir)
    after = (
        "no order was sent"
        if not orders_sent
        else "orders already sent are reconciled with the venue by the next run"
    )
    return f"disk full writing {where}: free space and re-run; {after}"


def free_mb(path: Path) -> float:
    """Free space (MiB) on the disk holding ``path`` (or its nearest existing parent)."""
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / 2**20


def check_free_space(data_dir: Path, *, min_free_mb: float) -> None:
    """Raise :class:`DiskFullError` when the data directory's disk has less than that free."""
    free = free_mb(data_dir)
    if free < min_free_mb:
        raise DiskFullError(
            f"disk full: {free:.1f} MiB free on the disk holding {data_dir} (a run needs "
            f"{min_free_mb:g} MiB, QBTC_MIN_FREE_MB): free space and re-run; no order was sent"
        )
