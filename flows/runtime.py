"""What every command that runs a flow does first: parse the clock, point Prefect somewhere.

Shared by ``qbtc run`` and ``qbtc ingest`` (:mod:`flows.cli`, :mod:`flows.ingest_cli`).
Prefect is not imported here: these run before it is.
"""

from __future__ import annotations

import atexit
import os
from datetime import datetime
from pathlib import Path

from flows.prefect_server import ServerChoice, choose_server, prefect_home
from qbtc.cli.common import fail


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


def prepare_prefect(data_dir: Path, port: int, *, wait: bool = True) -> ServerChoice:
    """Prefect settings for a run from the command line (before Prefect is imported).

    Telemetry off; Prefect's home under the data dir (never a SQLite file shared with other
    projects); runs go to the server of this data dir's `make up` when it is up, so they show
    in its UI, else to a temporary server this run starts at once and stops when it ends (see
    :mod:`flows.prefect_server`). With ``wait`` False the caller calls
    ``choice.wait_ready()`` before its first flow, after its own imports: the server starts
    meanwhile.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    home = prefect_home(data_dir)
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    # A local server that stopped answering is not worth minutes of retries.
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "1")
    try:
        choice = choose_server(data_dir, port)
    except RuntimeError as exc:
        fail(str(exc))
    assert choice is not None
    atexit.register(choice.stop)
    os.environ["PREFECT_API_URL"] = choice.api_url
    if wait:
        wait_for_server(choice)
    return choice


def wait_for_server(choice: ServerChoice, timeout: float = 180.0) -> float:
    """Wait for the run's temporary server (seconds it took to start); one line on failure."""
    try:
        return choice.wait_ready(timeout)
    except RuntimeError as exc:
        fail(str(exc), code=1)
