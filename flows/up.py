"""``qbtc up`` / ``make up``: the local desk with its UI, schedules and API.

Starts a local Prefect server (UI at http://127.0.0.1:4200, telemetry off, home under the
data dir), serves every deployment with its schedule, starts the read-only API, triggers a
first pipeline run and prints where to look. Ctrl-C stops everything cleanly; the server's
database lives in ``<data_dir>/prefect``, so the next ``make up`` picks up where this one
left off (deployments, schedules and run history).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from flows.ports import process_on_port
from flows.prefect_server import (
    free_port,
    port_holder,
    port_in_use,
    prefect_home,
    probe_prefect,
)
from qbtc.cli.api import public_bind_problem
from qbtc.config import Settings
from qbtc.logs import RotatingLog
from qbtc.serving import ServingState, clear_serving_state, write_serving_state
from qbtc.urls import http_url

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Stack:
    """The child processes of ``qbtc up`` and their log files."""

    settings: Settings
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.prefect_port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.prefect_port}"

    def start(self, name: str, args: list[str]) -> None:
        log = RotatingLog(
            self.settings.data_dir / "logs" / f"{name}.log",
            max_mb=self.settings.log_max_mb,
            backups=self.settings.log_backups,
        )
        proc = subprocess.Popen(
            args,
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        log.follow(proc.stdout)  # rotated by size: a long `make up` never fills the disk
        self.procs[name] = proc

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the children in the reverse of their start order: ``serve`` first (it pauses
        its schedules through the server on SIGINT), then the API, then the server (the
        production profile: the API, the workers, the server); kill whatever does not stop in
        time.
        """
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def dead(self) -> str | None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return name
        return None


def prefect_env(settings: Settings) -> dict[str, str]:
    """Environment for the local server and everything that talks to it."""
    home = prefect_home(settings.data_dir)
    home.mkdir(parents=True, exist_ok=True)
    port = settings.prefect_port
    return {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "QBTC_DATA_DIR": str(settings.data_dir.resolve()),
        "PYTHONPATH": str(REPO),
    }


def wait_healthy(
    url: str,
    what: str,
    proc: subprocess.Popen[bytes],
    timeout: float,
    headers: dict[str, str] | None = None,
) -> None:
    """Poll ``url`` until it answers 200; fail early when ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {proc.returncode}; see its log in data/logs"
            )
        try:
            if httpx.get(url, timeout=2.0, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not become healthy at {url} within {timeout:.0f} s")


def api_auth_header(settings: Settings) -> dict[str, str]:
    """The bearer header the API wants when ``QBTC_API_TOKEN`` is set (never printed)."""
    token = settings.api_token
    return {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}


def wait_for_deployments(
    api_url: str, names: set[str], proc: subprocess.Popen[bytes], timeout: float
) -> None:
    """Wait until ``serve`` has registered every deployment."""
    deadline = time.monotonic() + timeout
    missing = names
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"serving deployments failed (exit {proc.returncode}); see data/logs/serve.log"
            )
        try:
            found = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=5).json()
            missing = names - {d["name"] for d in found}
            if not missing:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"deployments not registered within {timeout:.0f} s: {sorted(missing)}")


def trigger_first_run(env: dict[str, str], timeout: float = 120.0) -> str:
    """Create a pipeline run from its deployment once ``serve`` has registered it."""
    code = (
        "import sys, time\n"
        "from prefect.deployments import run_deployment\n"
        "deadline = time.monotonic() + float(sys.argv[1])\n"
        "while True:\n"
        "    try:\n"
        "        run = run_deployment('pipeline/pipeline', timeout=0)\n"
        "        print(run.id); break\n"
        "    except Exception:\n"
        "        if time.monotonic() > deadline: raise\n"
        "        time.sleep(1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(timeout)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )
    if out.returncode != 0:
        raise RuntimeError(f"could not trigger the first pipeline run: {out.stderr.strip()[-300:]}")
    return out.stdout.strip().splitlines()[-1]


def banner(stack: Stack, run_id: str) -> str:
    s = stack.settings
    return "\n".join(
        [
            "",
            "qbtc is up",
            f"  Prefect UI      {stack.ui_url}   (runs, deployments, schedules, artifacts)",
            f"  first run       {stack.ui_url}/runs/flow-run/{run_id}",
            f"  dashboard       {http_url(s.api_host, s.api_port, '/')}   (book, risk, market, runs; live)",
            f"  REST API        {http_url(s.api_host, s.api_port, '/api/health')}   (docs: /docs, spec: /openapi.json)",
            f"  data            {s.data_dir.resolve()}",
            f"  logs            {(s.data_dir / 'logs').resolve()}",
            "  schedules       pipeline 5 min, ingest 1 min, risk-monitor 1 min, compaction daily",
            '  try             qbtc sql "SELECT * FROM risk_metrics ORDER BY timestamp DESC LIMIT 5"',
            "Ctrl-C stops everything (schedules are paused until the next `make up`).",
            "",
        ]
    )


def start_api(stack: Stack) -> None:
    """The read-only API as a child of the stack (see :func:`wait_api`)."""
    s = stack.settings
    stack.start(
        "api",
        [sys.executable, "-m", "flows.cli", "api", "--host", s.api_host, "--port", str(s.api_port)],
    )


def wait_api(stack: Stack, timeout: float = 60) -> None:
    """Wait until the API answers its health check (with the token when one is set)."""
    s = stack.settings
    wait_healthy(
        http_url(s.api_host, s.api_port, "/api/health"),
        "API",
        stack.procs["api"],
        timeout,
        headers=api_auth_header(s),
    )


def startup_problem(settings: Settings) -> str | None:
    """Why the stack cannot start (an exposed API without a token, a port in use), or None.

    A port in use is named with what holds it: this data dir's own `qbtc up`, another data
    dir's Prefect server (which dir, its URL), or another program (its pid and command).
    """
    problem = public_bind_problem(settings.api_host, settings)
    if problem:
        return problem
    port = settings.prefect_port
    if port_in_use(port):
        found = probe_prefect(f"http://127.0.0.1:{port}", timeout=3.0)
        home = prefect_home(settings.data_dir)
        if found is not None and found.home and Path(found.home).resolve() == home:
            return (
                f"this data dir's `qbtc up` is already running (Prefect UI at {found.url}): "
                "use it, or stop it with Ctrl-C in its terminal first"
            )
        return (
            f"port {port} (Prefect) is held by {port_holder(port, found)}: stop it, or give "
            f"this desk other ports, e.g. QBTC_PREFECT_PORT={free_port()} "
            f"QBTC_API_PORT={free_port()} qbtc up"
        )
    if port_in_use(settings.api_port):
        holder = process_on_port(settings.api_port) or "another program"
        return (
            f"port {settings.api_port} (API) is held by {holder}: stop it, or set "
            f"QBTC_API_PORT to a free port, e.g. QBTC_API_PORT={free_port()}"
        )
    return None


def trap_stop_signals() -> dict[int, Any]:
    """Make Ctrl-C and SIGTERM raise KeyboardInterrupt; the handlers they replaced.

    Both stop the stack, also when started from a script whose background jobs inherit an
    ignored SIGINT.
    """

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}


def ignore_stop_signals(previous: dict[int, Any]) -> None:
    """While stopping: a second Ctrl-C must not cut the clean stop short."""
    for sig in previous:
        signal.signal(sig, signal.SIG_IGN)


def restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def watch(stack: Stack) -> int:
    """Block until a child dies (exit 1, saying which); Ctrl-C interrupts."""
    while True:
        dead = stack.dead()
        if dead:
            print(f"error: {dead} stopped unexpectedly; see data/logs/{dead}.log", file=sys.stderr)
            return 1
        time.sleep(0.5)


def run_up(settings: Settings, *, first_run: bool = True, server_timeout: float = 180.0) -> int:
    """Start the stack, block until Ctrl-C (or a child dies), stop it cleanly."""
    problem = startup_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    stack = Stack(settings, prefect_env(settings))
    previous = trap_stop_signals()
    try:
        print(f"starting Prefect server on {stack.ui_url} ...", flush=True)
        stack.start(
            "server",
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.prefect_port),
            ],
        )
        wait_healthy(
            f"{stack.api_url}/health", "Prefect server", stack.procs["server"], server_timeout
        )
        print(f"starting API on {http_url(settings.api_host, settings.api_port)} ...", flush=True)
        start_api(stack)
        stack.start("serve", [sys.executable, "-m", "deployments.serve"])
        wait_api(stack)
        from deployments.definitions import DEPLOYMENTS
        from flows.alerts import configure_alerts

        wait_for_deployments(
            stack.api_url, {d.name for d in DEPLOYMENTS}, stack.procs["serve"], 180
        )

        configure_alerts(settings, stack.env)
        pipeline = next(d for d in DEPLOYMENTS if d.name == "pipeline")
        # The API's health reads this: no completed pipeline run for a few intervals while
        # served means the scheduler is stuck.
        write_serving_state(
            settings.state_dir,
            ServingState(os.getpid(), datetime.now(UTC), pipeline.interval_s or 300),
        )
        run_id = trigger_first_run(stack.env) if first_run else "-"
        print(banner(stack, run_id), flush=True)
        return watch(stack)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        ignore_stop_signals(previous)
        print("stopping (pausing schedules) ...", flush=True)
        clear_serving_state(settings.state_dir)
        stack.stop()
        restore_signals(previous)
        print("stopped.", flush=True)
