"""The installed ``qbtc`` entry point: library commands plus orchestration commands.

Commands that run flows import Prefect only when they run, so ``qbtc --help``, ``qbtc sql``
and friends stay fast.
"""

from __future__ import annotations

import os
from datetime import datetime

import typer

from qbtc.cli import app
from qbtc.cli.common import fail, settings_or_exit


def parse_as_of(value: str | None) -> datetime | None:
    """ISO 8601 to a UTC-aware datetime (naive input is taken as UTC)."""
    if value is None:
        return None
    from datetime import UTC

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--as-of {value!r} is not ISO 8601, e.g. 2026-01-15T12:00:00Z")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def use_local_server_if_running(port: int) -> bool:
    """Send runs to the `make up` server when it is running (so they show in its UI)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    from flows.up import port_in_use

    if port_in_use(port):
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        return True
    return False


@app.command("up")
def up_command(
    no_first_run: bool = typer.Option(False, "--no-first-run", help="Do not trigger a run now."),
) -> None:
    """Start the Prefect server + UI, the scheduled deployments and the API (Ctrl-C stops)."""
    from flows.up import run_up

    raise typer.Exit(run_up(settings_or_exit(), first_run=not no_first_run))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
