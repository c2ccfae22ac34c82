"""The kill switch: a persistent on/off flag that blocks every order except reduce-only ones.

State lives in ``<state_dir>/kill_switch.json`` (``state_dir`` is ``Settings.state_dir``,
i.e. ``<data_dir>/state``). Writes are atomic (temp file, fsync, rename) and serialised by
a lock file, so any process (the risk flow on a drawdown breach, execution on repeated venue
errors or a reconciliation mismatch, an operator with ``qbtc kill-switch on``) can trip it
while others read it. A missing file means off.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "kill_switch.json"


@dataclass(frozen=True)
class KillSwitchState:
    """Whether the switch is on, why and since when (UTC); ``reason``/``since`` None when off."""

    on: bool
    reason: str | None = None
    since: datetime | None = None


class KillSwitch:
    """Persistent kill switch stored under ``state_dir``."""

    def __init__(self, state_dir: Path | str) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / FILE_NAME

    def status(self) -> KillSwitchState:
        """The current state (off when the state file does not exist)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return KillSwitchState(on=False)
        except (OSError, ValueError) as exc:
            # A state file we cannot read must not silently mean "trading allowed".
            return KillSwitchState(on=True, reason=f"unreadable kill switch state: {exc}")
        since = raw.get("since")
        return KillSwitchState(
            on=bool(raw.get("on", False)),
            reason=raw.get("reason"),
            since=datetime.fromisoformat(since) if since else None,
        )

    def trip(self, reason: str, *, now: datetime | None = None) -> KillSwitchState:
        """Turn the switch on with ``reason``. Tripping it again keeps the first reason/time."""
        if not reason.strip():
            raise ValueError("a kill switch trip needs a reason, e.g. 'drawdown beyond limit'")
        with self._locked():
            current = self.status()
            if current.on and current.since is not None:
                return current
            stamp = (now or datetime.now(UTC)).astimezone(UTC)
            state = KillSwitchState(on=True, reason=reason.strip(), since=stamp)
            self._write(state)
            return state

    def reset(self) -> KillSwitchState:
        """Turn the switch off."""
        with self._locked():
            state = KillSwitchState(on=False)
            self._write(state)
            return state

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / f"{FILE_NAME}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, state: KillSwitchState) -> None:
        payload = {
            "on": state.on,
            "reason": state.reason,
            "since": state.since.isoformat() if state.since else None,
        }
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".kill_switch.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
