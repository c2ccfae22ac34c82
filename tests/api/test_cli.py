"""``qbtc api``: options, clear errors, and a real start on an ephemeral port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from qbtc.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_host_and_port():
    result = runner.invoke(app, ["api", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output
    assert "--port" in result.output


def test_port_in_use_is_one_clear_line(data_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["api", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is in use: pass --port or set QBTC_API_PORT" in result.output
    assert "Traceback" not in result.output


def test_bad_rate_limit_names_the_setting(data_dir, monkeypatch):
    monkeypatch.setenv("QBTC_API_RATE_LIMIT", "fast")
    result = runner.invoke(app, ["api"])
    assert result.exit_code == 2
    assert "QBTC_API_RATE_LIMIT" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serves_health_then_stops(data_dir):
    port = _free_port()
    code = "from qbtc.cli import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", code, "api", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={"QBTC_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90  # a busy 2-core machine imports the stack slowly
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.1)
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"  # empty lake: no gate yet
    assert f"qbtc API on http://127.0.0.1:{port}" in output


def test_a_public_bind_without_a_token_is_refused(data_dir, monkeypatch):
    monkeypatch.delenv("QBTC_API_TOKEN", raising=False)
    for host in ("0.0.0.0", "::"):
        result = runner.invoke(app, ["api", "--host", host, "--port", str(_free_port())])
        assert result.exit_code == 2, result.output
        assert f"refusing to serve the API on {host} without a token" in result.output
        assert "--allow-public" in result.output
        assert "Traceback" not in result.output


def test_public_bind_rule():
    from qbtc.cli.api import public_bind_problem
    from qbtc.config import Settings

    open_settings = Settings(api_token=None)
    assert public_bind_problem("127.0.0.1", open_settings) is None
    assert public_bind_problem("::1", open_settings) is None
    assert public_bind_problem("localhost", open_settings) is None
    assert public_bind_problem("0.0.0.0", open_settings) is not None
    assert public_bind_problem("192.168.1.5", open_settings) is not None
    assert public_bind_problem("0.0.0.0", open_settings, allow_public=True) is None
    assert public_bind_problem("0.0.0.0", Settings(api_allow_public=True)) is None
    assert public_bind_problem("0.0.0.0", Settings(api_token="t")) is None


def test_urls_are_printed_right_for_ipv6():
    from qbtc.urls import http_url

    assert http_url("::1", 8000) == "http://[::1]:8000"
    assert http_url("::", 8000, "/api/health") == "http://[::1]:8000/api/health"
    assert http_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert http_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
