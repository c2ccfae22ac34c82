"""``qbtc up --prod`` / ``make up-prod``: the production profile on one machine.

PostgreSQL (an own cluster under ``<data_dir>/postgres``, or ``QBTC_PREFECT_DATABASE_URL``),
the Prefect server on it (asyncpg), the ``qbtc-process`` work pool, ``QBTC_WORKERS`` process
workers (``prefect worker start``), every deployment of ``prefect.yaml`` (``prefect deploy
--all``) with its schedule, and the read-only API. Ctrl-C pauses the schedules, lets running
flow runs finish (up to a drain timeout), then stops the workers, the API, the server and the
cluster; the next start resumes the schedules where they stopped. More workers on other
machines join with ``prefect worker start --pool qbtc-process`` against the same server URL,
the same code and the lake on shared storage (README, "Running in production").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deployments.definitions import DEPLOYMENTS, WORK_POOL
from flows.postgres import Cluster, PostgresError, asyncpg_url, find_bin_dir, start_cluster
from flows.up import (
    REPO,
    Stack,
    ignore_stop_signals,
    port_in_use,
    prefect_env,
    restore_signals,
    start_api,
    startup_problem,
    trap_stop_signals,
    trigger_first_run,
    wait_api,
    wait_healthy,
    watch,
)
from qbtc.config import Settings
from qbtc.serving import ServingState, clear_serving_state, write_serving_state
from qbtc.urls import http_url

ACTIVE_STATES = ["PENDING", "RUNNING", "CANCELLING"]


def prod_env(settings: Settings) -> dict[str, str]:
    """Environment of the workers, the API and the CLI calls (no database credentials)."""
    return {
        **prefect_env(settings),
        "QBTC_HOME": str(REPO),
        "PREFECT_CLI_PROMPT": "false",
    }


def start_database(settings: Settings) -> tuple[str, Cluster | None]:
    """The asyncpg URL for the server, and the own cluster when one was started."""
    if settings.prefect_database_url is not None:
        return asyncpg_url(settings.prefect_database_url.get_secret_value()), None
    port, root = settings.postgres_port, own_cluster_root(settings)
    if port_in_use(port) and not (root / "cluster" / "postmaster.pid").exists():
        raise PostgresError(
            f"port {port} (PostgreSQL) is in use by another server: set QBTC_POSTGRES_PORT, "
            "or QBTC_PREFECT_DATABASE_URL to use that server"
        )
    print(f"starting PostgreSQL on 127.0.0.1:{port} ...", flush=True)
    cluster = start_cluster(root, port)
    return cluster.url(), cluster


def own_cluster_root(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "postgres"


def stop_own_cluster(settings: Settings) -> None:
    """Stop the own cluster if it runs (also when a Ctrl-C came while it was starting)."""
    bin_dir = find_bin_dir()
    if settings.prefect_database_url is not None or bin_dir is None:
        return
    try:
        Cluster(own_cluster_root(settings), settings.postgres_port, bin_dir).stop()
    except PostgresError as exc:
        print(f"warning: {exc}", file=sys.stderr)


def prefect_cli(env: dict[str, str], args: list[str], what: str, timeout: float = 300) -> str:
    """Run ``prefect <args>``; a failure raises with the end of its output."""
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {(done.stdout + done.stderr).strip()[-600:]}")
    return done.stdout


def ensure_work_pool(api_url: str, env: dict[str, str]) -> None:
    """The ``qbtc-process`` process work pool (created with the process worker's template)."""
    if httpx.get(f"{api_url}/work_pools/{WORK_POOL}", timeout=10).status_code == 200:
        return
    prefect_cli(env, ["work-pool", "create", WORK_POOL, "--type", "process"], "work-pool create")


def deployment_ids(api_url: str) -> dict[str, str]:
    """Name -> id of qbtc's deployments on the server."""
    body = {"deployments": {"name": {"any_": [d.name for d in DEPLOYMENTS]}}}
    found = httpx.post(f"{api_url}/deployments/filter", json=body, timeout=10).json()
    return {d["name"]: d["id"] for d in found if d.get("work_pool_name") == WORK_POOL}


def set_schedules(api_url: str, *, active: bool) -> int:
    """Resume (``active``) or pause every scheduled deployment; pausing deletes the runs the
    scheduler created ahead, so a stopped desk does not come back to a backlog of late runs."""
    action = "resume_deployment" if active else "pause_deployment"
    scheduled = {d.name for d in DEPLOYMENTS if d.interval_s or d.cron}
    ids = deployment_ids(api_url)
    for name in scheduled & set(ids):
        httpx.post(f"{api_url}/deployments/{ids[name]}/{action}", timeout=10).raise_for_status()
    return len(scheduled & set(ids))


def online_workers(api_url: str) -> int:
    """Workers of the pool that the server sees polling."""
    url = f"{api_url}/work_pools/{WORK_POOL}/workers/filter"
    workers = httpx.post(url, json={}, timeout=10).json()
    return sum(1 for w in workers if w.get("status") == "ONLINE")


def active_runs(api_url: str) -> int:
    """Flow runs of the pool that are pending, running or being cancelled."""
    body = {
        "flow_runs": {"state": {"type": {"any_": ACTIVE_STATES}}},
        "work_pools": {"name": {"any_": [WORK_POOL]}},
    }
    return len(httpx.post(f"{api_url}/flow_runs/filter", json=body, timeout=10).json())


def wait_until(check: Any, what: str, timeout: float, stack: Stack) -> None:
    """Poll ``check()`` until true; fail early when a child died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = stack.dead()
        if dead:
            raise RuntimeError(f"{dead} exited; see its log in {stack.settings.data_dir}/logs")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"{what} within {timeout:.0f} s")


def start_workers(stack: Stack) -> None:
    """``QBTC_WORKERS`` process workers pulling from the pool."""
    host = socket.gethostname().split(".")[0]
    for i in range(1, stack.settings.workers + 1):
        stack.start(
            f"worker-{i}",
            [
                sys.executable,
                "-m",
                "prefect",
                "worker",
                "start",
                "--pool",
                WORK_POOL,
                "--type",
                "process",
                "--name",
                f"qbtc-{host}-{i}",
                "--limit",
                str(stack.settings.worker_limit),
            ],
        )


def start_server(stack: Stack, database_url: str, timeout: float) -> None:
    """The Prefect server on PostgreSQL (its own environment holds the credentials)."""
    port = str(stack.settings.prefect_port)
    server_env = {**stack.env, "PREFECT_API_DATABASE_CONNECTION_URL": database_url}
    args = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    env, stack.env = stack.env, server_env
    try:
        stack.start("server", [*args, "--port", port])
    finally:
        stack.env = env
    wait_healthy(f"{stack.api_url}/health", "Prefect server", stack.procs["server"], timeout)


def drain(stack: Stack, timeout: float) -> None:
    """Pause the schedules, then let running flow runs end (up to ``timeout`` seconds)."""
    if "server" not in stack.procs or stack.procs["server"].poll() is not None:
        return
    try:
        set_schedules(stack.api_url, active=False)
        deadline, told = time.monotonic() + timeout, 0
        while (left := active_runs(stack.api_url)) and time.monotonic() < deadline:
            if left != told:
                print(f"waiting for {left} running flow run(s) to finish ...", flush=True)
                told = left
            time.sleep(1.0)
    except httpx.HTTPError as exc:
        print(f"warning: could not pause schedules or drain runs: {exc}", file=sys.stderr)


def prod_banner(stack: Stack, run_id: str, database: str) -> str:
    s = stack.settings
    first = [f"  first run       {stack.ui_url}/runs/flow-run/{run_id}"] if run_id else []
    return "\n".join(
        [
            "",
            "qbtc is up (production profile)",
            f"  Prefect UI      {stack.ui_url}   (runs, deployments, work pool, workers)",
            f"  database        {database}",
            f"  workers         {s.workers} process worker(s) on pool {WORK_POOL}, "
            f"{s.worker_limit} run(s) each",
            *first,
            f"  dashboard       {http_url(s.api_host, s.api_port, '/')}   (book, risk, market, runs; live)",
            f"  REST API        {http_url(s.api_host, s.api_port, '/api/health')}",
            f"  data            {s.data_dir.resolve()}",
            f"  logs            {(s.data_dir / 'logs').resolve()}",
            f"  add a worker    PREFECT_API_URL={stack.api_url} QBTC_HOME=<repo> "
            f"prefect worker start --pool {WORK_POOL}",
            "Ctrl-C stops everything (schedules are paused until the next start).",
            "",
        ]
    )


def bring_up(stack: Stack, database_url: str, first_run: bool, server_timeout: float) -> str:
    """Server, pool, workers and API (starting while ``prefect deploy`` runs), schedules;
    the first run's id."""
    s = stack.settings
    print(f"starting Prefect server on {stack.ui_url} (PostgreSQL) ...", flush=True)
    start_server(stack, database_url, server_timeout)
    ensure_work_pool(stack.api_url, stack.env)
    print(f"starting {s.workers} worker(s) and the API ...", flush=True)
    start_workers(stack)
    start_api(stack)
    print("deploying prefect.yaml (prefect deploy --all) ...", flush=True)
    prefect_cli(stack.env, ["deploy", "--all"], "prefect deploy --all")
    wait_api(stack, timeout=90)
    wait_until(
        lambda: online_workers(stack.api_url) >= s.workers,
        f"{s.workers} worker(s) did not come online",
        180,
        stack,
    )
    from flows.alerts import configure_alerts

    configure_alerts(s, stack.env)
    set_schedules(stack.api_url, active=True)
    return trigger_first_run(stack.env) if first_run else ""


def run_up_prod(
    settings: Settings,
    *,
    first_run: bool = True,
    server_timeout: float = 180.0,
    drain_timeout: float = 120.0,
) -> int:
    """Start the production stack, block until Ctrl-C (or a child dies), stop it cleanly."""
    problem = startup_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    stack = Stack(settings, prod_env(settings))
    previous = trap_stop_signals()
    try:
        database_url, cluster = start_database(settings)
        where = f"own cluster, 127.0.0.1:{settings.postgres_port}" if cluster else "external"
        run_id = bring_up(stack, database_url, first_run, server_timeout)
        write_serving_state(
            settings.state_dir,
            ServingState(os.getpid(), datetime.now(UTC), pipeline_interval_s()),
        )
        print(prod_banner(stack, run_id, f"PostgreSQL ({where})"), flush=True)
        return watch(stack)
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, httpx.HTTPError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        ignore_stop_signals(previous)
        print("stopping (pausing schedules, letting running flow runs finish) ...", flush=True)
        clear_serving_state(settings.state_dir)
        drain(stack, drain_timeout)
        stack.stop()
        stop_own_cluster(settings)
        restore_signals(previous)
        print("stopped.", flush=True)


def pipeline_interval_s() -> int:
    """The pipeline's schedule (the API's health expects a completed run every few)."""
    return next(d.interval_s or 300 for d in DEPLOYMENTS if d.name == "pipeline")
