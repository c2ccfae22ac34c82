"""Small state files shared between processes: an exclusive lock, atomic JSON writes, and
reads checked against the dataclass the file holds (:func:`read_state`)."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")


class StateFileError(ValueError):
    """A state file that is not what it must be; the message names the file and the fix."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"state file {path} is unreadable ({problem}): restore it, or remove it to reset "
            "that state"
        )
        self.path = path
        self.problem = problem


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[T]) -> TypeAdapter[T]:
    """One validator per state class (building one costs milliseconds; reads are frequent)."""
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def read_state(path: Path, kind: type[T]) -> T | None:
    """The dataclass ``kind`` stored as JSON at ``path``; None when there is no file.

    The file must be a JSON object with every field of ``kind``, each of its exact type
    (strict: ``null`` is not a bool, ``"1"`` not a number). Anything else raises
    :class:`StateFileError`, so a caller can fail closed instead of reading garbage as a
    default (a kill switch file of ``[]`` is not "off").
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(path, f"{type(exc).__name__}: {exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise StateFileError(path, f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise StateFileError(path, f"a JSON object was expected, found {type(raw).__name__}")
    missing = [name for name in getattr(kind, "__dataclass_fields__", {}) if name not in raw]
    if missing:
        raise StateFileError(path, f"missing field(s) {', '.join(missing)}")
    try:
        return _adapter(kind).validate_json(text, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise StateFileError(path, f"{where}: {first['msg']}") from None


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``path`` (created if missing) while inside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as JSON to ``path`` all at once: a reader sees the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
