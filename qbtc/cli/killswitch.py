"""``qbtc kill-switch on|off|status``: the kill switch by hand.

While it is on, pre-trade checks and execution pass only reduce-only orders. Turning it on
also records a critical ``alerts`` row (kind ``kill-switch``) so the API and the alert
stream see it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer

from qbtc.alerts import record_alert
from qbtc.cli.common import settings_or_exit
from qbtc.risk.killswitch import KillSwitch, KillSwitchState


class Action(StrEnum):
    on = "on"
    off = "off"
    status = "status"


def describe(state: KillSwitchState) -> str:
    """``kill switch: ON since <time> (<reason>)`` or ``kill switch: off``."""
    if not state.on:
        return "kill switch: off"
    since = f" since {state.since.isoformat()}" if state.since else ""
    return f"kill switch: ON{since} ({state.reason or 'no reason recorded'})"


def record_trip(lake_dir: Path, state: KillSwitchState) -> None:
    """A critical ``alerts`` row for a trip by hand."""
    stamp = state.since or datetime.now(UTC)
    record_alert(
        lake_dir,
        kind="kill-switch",
        run_id=f"cli-{stamp:%Y%m%dT%H%M%S}",
        message=f"kill switch tripped: {state.reason}",
        severity="critical",
        details={"source": "cli"},
        now=stamp,
    )


def kill_switch_command(
    action: Action = typer.Argument(..., help="on: block all but reduce-only orders; off; status."),
    reason: str | None = typer.Option(None, "--reason", "-r", help="Why (recorded with 'on')."),
) -> None:
    """Turn the kill switch on or off, or show it. While on, only reduce-only orders pass."""
    settings = settings_or_exit()
    switch = KillSwitch(settings.state_dir)
    before = switch.status()
    if action is Action.on:
        state = switch.trip((reason or "").strip() or "tripped by hand (qbtc kill-switch on)")
        if not before.on:
            record_trip(settings.lake_dir, state)
        typer.echo(describe(state) + (" (already on)" if before.on else ""))
    elif action is Action.off:
        switch.reset()
        was = f" (was on since {before.since.isoformat()}: {before.reason})" if before.since else ""
        typer.echo("kill switch: off" + (was if before.on else ""))
    else:
        typer.echo(describe(before))
