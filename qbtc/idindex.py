"""An append-only set of ids on disk whose look-up reads one small file, however many ids.

Ids are spread over hash buckets (``<directory>/<3 hex digits>.txt``, one id a line): a
look-up reads only its bucket, so a set of a million ids answers from a file of a few hundred
lines. Adding appends and fsyncs the buckets it touches before returning, so an id added is
never forgotten by a crash. A line cut short by a crash (no newline) is ignored and closed
before the next append. Callers serialise writers (the venue's lock, the execution lock);
readers see what other processes appended since their last look.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

#: 16**3 buckets: a year of a desk's order ids (about a million) is ~250 lines a bucket.
_BUCKET_DIGITS = 3


def bucket_of(identifier: str) -> str:
    """The bucket name of ``identifier`` (hex digits of its SHA-256)."""
    return hashlib.sha256(identifier.encode()).hexdigest()[:_BUCKET_DIGITS]


class IdIndex:
    """The ids stored under ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._known: dict[str, set[str]] = {}
        self._offsets: dict[str, int] = {}

    def exists(self) -> bool:
        """True when at least one id was ever added."""
        try:
            with os.scandir(self.directory) as entries:  # stops at the first id found
                return any(e.name.endswith(".txt") and e.stat().st_size > 0 for e in entries)
        except FileNotFoundError:
            return False

    def __contains__(self, identifier: object) -> bool:
        if not isinstance(identifier, str):
            return False
        bucket = bucket_of(identifier)
        return identifier in self._read(bucket)

    def add(self, identifiers: Iterable[str], *, durable: bool = True) -> None:
        """Append ids not known yet, fsynced before returning unless not ``durable`` (an index
        of derived data that its owner can replay: see :mod:`qbtc.execution.book_checkpoint`)."""
        by_bucket: dict[str, list[str]] = {}
        for identifier in identifiers:
            if not identifier or "\n" in identifier:
                raise ValueError(f"an id is one non-empty line, got {identifier!r}")
            bucket = bucket_of(identifier)
            known = self._read(bucket)
            if identifier not in known and identifier not in by_bucket.get(bucket, ()):
                by_bucket.setdefault(bucket, []).append(identifier)
        if not by_bucket:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for bucket, new in by_bucket.items():
            path = self._path(bucket)
            with open(path, "ab") as handle:
                torn = handle.tell() > 0 and _last_byte(path) != b"\n"
                handle.write((b"\n" if torn else b"") + "".join(f"{i}\n" for i in new).encode())
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            self._known[bucket].update(new)

    def _path(self, bucket: str) -> Path:
        return self.directory / f"{bucket}.txt"

    def _read(self, bucket: str) -> set[str]:
        """The ids of ``bucket``, reading only what was appended since the last look."""
        known = self._known.setdefault(bucket, set())
        offset = self._offsets.get(bucket, 0)
        try:
            with open(self._path(bucket), "rb") as handle:
                handle.seek(offset)
                tail = handle.read()
        except FileNotFoundError:
            return known
        complete = tail[: tail.rfind(b"\n") + 1]
        known.update(line for line in complete.decode().split("\n") if line)
        self._offsets[bucket] = offset + len(complete)
        return known


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)
