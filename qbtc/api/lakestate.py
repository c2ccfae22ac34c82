"""Cheap change detection on the lake: a token per dataset that changes with every write.

The lake writer only adds files (with increasing names) and compaction replaces several
files by one, so ``(number of files, greatest file name)`` of a dataset changes whenever its
rows can have changed, and listing directories is all it takes (no file is opened).
:class:`LakeWatcher` rescans every ``interval_s`` seconds in a worker thread and wakes the
WebSocket streams; REST responses are cached on the tokens of the datasets they read.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import anyio
import anyio.to_thread

from qbtc.schemas import DATASETS

Token = tuple[int, str]
#: The kill switch is not a dataset, but it is watched the same way.
KILL_SWITCH = "kill_switch"
KILL_SWITCH_FILE = "kill_switch.json"


def dataset_token(directory: Path) -> Token:
    """``(parquet files, greatest file name)`` below ``directory`` (``(0, "")`` if absent)."""
    count, newest = 0, ""
    stack = [str(directory)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.endswith(".parquet"):
                        count += 1
                        newest = max(newest, entry.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return count, newest


def file_token(path: Path) -> Token:
    """``(mtime ns, size)`` of a small state file, ``(0, "")`` when absent."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return 0, ""
    return stat.st_mtime_ns, str(stat.st_size)


def scan_lake(lake_dir: Path, state_dir: Path) -> dict[str, Token]:
    """Tokens of every dataset and of the kill switch file."""
    tokens = {name: dataset_token(lake_dir / name) for name in DATASETS}
    tokens[KILL_SWITCH] = file_token(state_dir / KILL_SWITCH_FILE)
    return tokens


class LakeWatcher:
    """Holds the latest tokens; :meth:`run` keeps them fresh and wakes waiters on change.

    Parameters
    ----------
    lake_dir, state_dir
        Roots of the lake and of the state files.
    interval_s
        Seconds between two scans.
    """

    def __init__(self, lake_dir: Path, state_dir: Path, *, interval_s: float = 0.25) -> None:
        self.lake_dir = lake_dir
        self.state_dir = state_dir
        self.interval_s = interval_s
        self._tokens = scan_lake(lake_dir, state_dir)
        self._notified = self._tokens
        self._scanned_at = time.monotonic()
        self._changed = asyncio.Event()

    @property
    def snapshot(self) -> Mapping[str, Token]:
        """Latest tokens (any thread); rescans inline when the background loop stalls."""
        if time.monotonic() - self._scanned_at > max(2.0, 8 * self.interval_s):
            self._store(scan_lake(self.lake_dir, self.state_dir))
        return self._tokens

    def tokens(self, names: Iterable[str]) -> tuple[Token, ...]:
        snapshot = self.snapshot
        return tuple(snapshot[name] for name in names)

    def _store(self, tokens: dict[str, Token]) -> None:
        self._tokens = tokens
        self._scanned_at = time.monotonic()

    async def run(self) -> None:
        """Scan forever (cancel to stop); scans run in a worker thread, waking waiters."""
        while True:
            tokens = await anyio.to_thread.run_sync(scan_lake, self.lake_dir, self.state_dir)
            self._store(tokens)
            if tokens != self._notified:
                self._notified = tokens
                event, self._changed = self._changed, asyncio.Event()
                event.set()
            await anyio.sleep(self.interval_s)

    async def wait_for_change(
        self, names: tuple[str, ...], seen: tuple[Token, ...] | None
    ) -> tuple[Token, ...]:
        """Return the tokens of ``names`` as soon as they differ from ``seen``."""
        while True:
            current = self.tokens(names)
            if current != seen:
                return current
            await self._changed.wait()
