"""Which Prefect server a command-line run reports to, checked before Prefect is imported.

A run started by ``qbtc run`` (or ``qbtc ingest``) uses the server of its own data dir's
``make up`` when it is up: the server answering on ``QBTC_PREFECT_PORT`` is asked whether it
is a Prefect server (``/api/health``), which version (``/api/admin/version``) and whose
(``/api/admin/settings``: its ``PREFECT_HOME``, ``<data_dir>/prefect`` for ``make up``).
Anything else on that port (another data dir's ``make up``, another program) is named and
left alone, and the run starts a temporary server of its own: the same uvicorn app Prefect's
own temporary server runs, started at once in a child process so that it comes up while the
run imports its libraries, and stopped when the run ends.

Importing this module is cheap: httpx and the standard library only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flows.ports import process_on_port

#: The bundled UI is left out of a temporary server: nobody could open it after the run.
TEMPORARY_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


@dataclass(frozen=True)
class PrefectServer:
    """A Prefect server that answered: its base URL, version and home directory."""

    url: str
    version: str
    home: str | None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def probe_prefect(url: str, timeout: float = 10.0) -> PrefectServer | None:
    """The Prefect server answering at ``url`` (no ``/api``), or None when nothing, or
    something that is not a Prefect server, answers there."""
    try:
        with httpx.Client(timeout=timeout) as client:
            health = client.get(f"{url}/api/health")
            if health.status_code != 200 or health.json() is not True:
                return None
            version = client.get(f"{url}/api/admin/version")
            settings = client.get(f"{url}/api/admin/settings")
    except (httpx.HTTPError, ValueError):
        return None
    if version.status_code != 200:
        return None
    home = settings.json().get("home") if settings.status_code == 200 else None
    return PrefectServer(url=url, version=str(version.json()), home=home and str(home))


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_home(data_dir: Path) -> Path:
    """Prefect's home for a data dir: ``<data_dir>/prefect`` (database, profiles, results)."""
    return (data_dir / "prefect").resolve()


@dataclass
class ServerChoice:
    """The server a run reports to, and a line saying which one and why.

    ``ui_url`` is set when the server has a UI that outlives the run (``make up``).
    ``process`` is the temporary server this run started (stopped by :meth:`stop`).
    """

    api_url: str
    description: str
    ui_url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = field(default_factory=time.perf_counter)

    def run_url(self, run_id: str) -> str | None:
        """The page of a flow run in the UI, when a UI is up."""
        return f"{self.ui_url}/runs/flow-run/{run_id}" if self.ui_url else None

    def wait_ready(self, timeout: float) -> float:
        """Block until the temporary server answers; seconds since it was started."""
        if self.process is None:
            return 0.0
        base = self.api_url.removesuffix("/api")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the temporary Prefect server exited with code {self.process.returncode}; "
                    "see data/logs/prefect-temporary.log"
                )
            if probe_prefect(base, timeout=1.0) is not None:
                return time.perf_counter() - self.started_at
            time.sleep(0.2)
        raise RuntimeError(
            f"the temporary Prefect server did not answer within {timeout:.0f} s: start "
            "`make up` in another terminal, or try again on a less busy machine"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_temporary_server(data_dir: Path, env: dict[str, str]) -> ServerChoice:
    """Start Prefect's API app (no UI) on a free port with the data dir's Prefect home."""
    port = free_port()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "prefect-temporary.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={**env, **TEMPORARY_SERVER_ENV},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServerChoice(
        api_url=f"http://127.0.0.1:{port}/api",
        description=f"a temporary Prefect server of this run (http://127.0.0.1:{port}, no UI)",
        process=process,
    )


def choose_server(data_dir: Path, port: int, *, start: bool = True) -> ServerChoice | None:
    """The server for a command-line run of ``data_dir`` (see the module docstring).

    ``PREFECT_API_URL``, when set, is used as it is (checked to be a Prefect server). Returns
    None only when ``start`` is False and no server of this data dir is up (the caller then
    lets Prefect start its own temporary server).
    """
    explicit = os.environ.get("PREFECT_API_URL")
    if explicit:
        found = probe_prefect(explicit.rstrip("/").removesuffix("/api"))
        if found is None:
            raise RuntimeError(
                f"PREFECT_API_URL={explicit} does not answer as a Prefect server: start it, "
                "or unset PREFECT_API_URL to use this data dir's server"
            )
        return ServerChoice(
            api_url=explicit,
            description=f"the Prefect {found.version} server of PREFECT_API_URL ({found.url})",
            ui_url=found.url,
        )
    url = f"http://127.0.0.1:{port}"
    home = prefect_home(data_dir)
    note = ""
    if port_in_use(port):
        found = probe_prefect(url)
        if found is not None and found.home and Path(found.home).resolve() == home:
            return ServerChoice(
                api_url=found.api_url,
                description=(
                    f"the Prefect {found.version} server of this data dir's `make up` at {url}"
                ),
                ui_url=url,
            )
        note = (
            f"; port {port} is held by {port_holder(port, found)}, left alone "
            "(to watch this data dir's runs in a UI, start its `qbtc up` with "
            "QBTC_PREFECT_PORT set to a free port)"
        )
    if not start:
        return None
    env = {**os.environ, "PREFECT_HOME": str(home)}
    choice = start_temporary_server(data_dir, env)
    choice.description += note
    return choice


def port_holder(port: int, found: PrefectServer | None) -> str:
    """What holds ``port``, in words: whose Prefect server (its data dir and URL), or which
    process (when it is not a Prefect server)."""
    if found is not None:
        home = Path(found.home) if found.home else None
        owner = (
            f"data dir {home.parent}"
            if home is not None and home.name == "prefect"
            else f"Prefect home {home}"
            if home is not None
            else "an unknown data dir"
        )
        return f"the Prefect {found.version} server of {owner} ({found.url})"
    process = process_on_port(port)
    if process is None:
        return "a program that is not a Prefect server"
    return f"a program that is not a Prefect server ({process})"


def describe_port(port: int) -> str:
    """:func:`port_holder` of a port known to be in use (probes it for a Prefect server)."""
    return port_holder(port, probe_prefect(f"http://127.0.0.1:{port}", timeout=3.0))
