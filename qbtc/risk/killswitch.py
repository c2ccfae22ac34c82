"""The kill switch: a persistent on/off flag that blocks every order except reduce-only ones.

State lives in ``<state_dir>/kill_switch.json`` (``state_dir`` is ``Settings.state_dir``,
i.e. ``<data_dir>/state``). Writes are atomic (temp file, fsync, rename) and serialised by
a lock file, so any process (the risk flow on a drawdown breach, execution on repeated venue
errors or a reconciliation mismatch, an operator with ``qbtc kill-switch on``) can trip it
while others read it. A missing file means off; a file that is not a well-formed state
(``[]``, ``{"on": null}``, truncated JSON) means on, with a reason naming the file: an
unreadable switch never silently allows trading.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qbtc.statefile import StateFileError, exclusive_lock, read_state, write_json_atomic

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

    def read(self) -> tuple[KillSwitchState, StateFileError | None]:
        """The stored state and, when the file is malformed, why (the state is then "on").

        The one parser of the file, for the pipeline and the API alike.
        """
        try:
            state = read_state(self.path, KillSwitchState)
        except StateFileError as exc:
            # A state file we cannot read must not silently mean "trading allowed".
            reason = f"{exc} (qbtc kill-switch off rewrites it)"
            return KillSwitchState(on=True, reason=reason), exc
        return state or KillSwitchState(on=False), None

    def status(self) -> KillSwitchState:
        """The current state: off without a state file, on when the file is malformed."""
        return self.read()[0]

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

    def _locked(self) -> AbstractContextManager[None]:
        return exclusive_lock(self.state_dir / f"{FILE_NAME}.lock")

    def _write(self, state: KillSwitchState) -> None:
        payload = {
            "on": state.on,
            "reason": state.reason,
            "since": state.since.isoformat() if state.since else None,
        }
        write_json_atomic(self.path, payload)
