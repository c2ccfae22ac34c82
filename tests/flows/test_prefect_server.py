"""Which Prefect server a command-line run uses, and a server that goes away mid-run."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

import flows.api_guard as guard
from flows.ports import process_on_port
from flows.prefect_server import (
    choose_server,
    free_port,
    port_holder,
    prefect_home,
    probe_prefect,
)
from flows.up import startup_problem
from qbtc.config import Settings


def serve(routes: dict[str, object]) -> tuple[ThreadingHTTPServer, int]:
    """A local HTTP server answering ``routes`` (path -> JSON body) and 404 elsewhere."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in routes:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps(routes[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


@pytest.fixture
def fake_prefect(data_dir: Path) -> Iterator[tuple[int, dict[str, object]]]:
    """Answers like a Prefect 3.8.8 server (health, version, settings with its home)."""
    routes: dict[str, object] = {
        "/api/health": True,
        "/api/admin/version": "3.8.8",
        "/api/admin/settings": {"home": str(prefect_home(data_dir))},
    }
    server, port = serve(routes)
    yield port, routes
    server.shutdown()
    server.server_close()


def test_the_server_of_this_data_dirs_make_up_is_used_and_named(
    data_dir, fake_prefect, monkeypatch
):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    port, _ = fake_prefect
    choice = choose_server(data_dir, port, start=False)
    assert choice is not None
    assert choice.api_url == f"http://127.0.0.1:{port}/api"
    assert choice.description == (
        f"the Prefect 3.8.8 server of this data dir's `make up` at http://127.0.0.1:{port}"
    )
    assert choice.run_url("abc") == f"http://127.0.0.1:{port}/runs/flow-run/abc"


def test_another_data_dirs_server_is_left_alone(data_dir, fake_prefect, monkeypatch, tmp_path):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    port, routes = fake_prefect
    routes["/api/admin/settings"] = {"home": str(tmp_path / "elsewhere" / "prefect")}
    assert choose_server(data_dir, port, start=False) is None


def test_something_that_is_not_prefect_is_not_taken_for_it(data_dir):
    server, port = serve({"/": "hello"})
    try:
        assert probe_prefect(f"http://127.0.0.1:{port}") is None
    finally:
        server.shutdown()
        server.server_close()


def test_an_explicit_api_url_that_does_not_answer_is_one_clear_error(data_dir, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with pytest.raises(RuntimeError, match="does not answer as a Prefect server"):
        choose_server(data_dir, 9)


def _settings(data_dir: Path, prefect_port: int, api_port: int) -> Settings:
    return Settings(data_dir=data_dir, prefect_port=prefect_port, api_port=api_port)


def test_up_names_another_data_dirs_server_and_says_what_to_do(data_dir, fake_prefect, tmp_path):
    port, routes = fake_prefect
    other = tmp_path / "desk-b"
    routes["/api/admin/settings"] = {"home": str(other / "prefect")}
    problem = startup_problem(_settings(data_dir, port, free_port()))
    assert problem is not None
    assert (
        f"port {port} (Prefect) is held by the Prefect 3.8.8 server of data dir {other} "
        f"(http://127.0.0.1:{port}): stop it, or give this desk other ports, e.g. "
        "QBTC_PREFECT_PORT=" in problem
    )


def test_up_says_this_data_dirs_desk_is_already_running(data_dir, fake_prefect):
    port, _ = fake_prefect
    problem = startup_problem(_settings(data_dir, port, free_port()))
    assert problem == (
        f"this data dir's `qbtc up` is already running (Prefect UI at http://127.0.0.1:{port}): "
        "use it, or stop it with Ctrl-C in its terminal first"
    )


def test_up_names_the_program_holding_a_port_that_is_not_prefect(data_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert process_on_port(port) is not None
        prefect_problem = startup_problem(_settings(data_dir, port, free_port()))
        api_problem = startup_problem(_settings(data_dir, free_port(), port))
    me = f"pid {os.getpid()}: "
    assert prefect_problem is not None
    assert api_problem is not None
    assert f"port {port} (Prefect) is held by a program that is not a Prefect server" in (
        prefect_problem
    )
    assert me in prefect_problem
    assert api_problem.startswith(f"port {port} (API) is held by {me}")
    assert "QBTC_API_PORT=" in api_problem


def test_a_run_names_whose_server_it_left_alone(data_dir, fake_prefect, tmp_path):
    port, routes = fake_prefect
    other = tmp_path / "desk-b"
    routes["/api/admin/settings"] = {"home": str(other / "prefect")}
    found = probe_prefect(f"http://127.0.0.1:{port}")
    assert port_holder(port, found) == (
        f"the Prefect 3.8.8 server of data dir {other} (http://127.0.0.1:{port})"
    )


@pytest.fixture
def fresh_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "_GONE", threading.Event())
    monkeypatch.setattr(guard, "_REASON", [])


def test_a_server_gone_mid_run_skips_api_calls_instead_of_failing(fresh_guard):
    calls: list[str] = []

    def refused() -> None:
        calls.append("tried")
        raise httpx.ConnectError("[Errno 111] Connection refused")

    assert guard.call_prefect_api("artifact", refused) is None
    assert guard.server_gone()
    assert guard.call_prefect_api("artifact", refused) is None
    assert calls == ["tried"]  # later calls are skipped at once
    assert "Connection refused" in (guard.gone_reason() or "")


def test_the_watchdog_marks_a_vanished_server_gone(fresh_guard):
    server, port = serve({"/api/health": True})
    stop = guard.watch_server(f"http://127.0.0.1:{port}", interval=0.1, misses=2)
    try:
        server.shutdown()
        server.server_close()
        deadline = threading.Event()
        for _ in range(50):
            if guard.server_gone():
                break
            deadline.wait(0.1)
        assert guard.server_gone()
    finally:
        stop()
