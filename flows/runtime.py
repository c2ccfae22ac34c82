"""What every command that runs a flow does first: parse the clock, point Prefect somewhere.

Shared by ``qbtc run`` and ``qbtc ingest`` (:mod:`flows.cli`, :mod:`flows.ingest_cli`).
Prefect is not imported here: these run before it is.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

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


def prepare_prefect(data_dir: Path, port: int) -> bool:
    """Prefect settings for a run from the command line (before Prefect is imported).

    Telemetry off; Prefect's home under the data dir (never a SQLite file shared with other
    projects); runs go to the `make up` server when it is running, so they show in its UI,
    else to a temporary local server. Returns whether a running server is used.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    home = (data_dir / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    if os.environ.get("PREFECT_API_URL"):
        return True
    from flows.up import port_in_use

    if port_in_use(port):
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        return True
    # The temporary server takes 4-11 s to start here, more on a busy machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return False
