"""Shared pieces of the end-to-end tests: ports, waiting, a stack started as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``predicate`` each second until it returns something true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise AssertionError(f"timed out waiting for {what}")


REPO = Path(__file__).resolve().parents[2]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without Prefect or qbtc settings, plus ``settings``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QBTC_"))}
    return {**base, "PYTHONPATH": str(REPO), **settings}


def run_qbtc(*args: str, env: dict[str, str], timeout: float = 600) -> str:
    """``python -m flows.cli <args>`` run to its end as a user would; its standard output.

    Fails the calling test when the command exits non-zero, with the tail of its standard
    output and standard error as the message (what the user would have read).
    """
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"qbtc {' '.join(args)} exited {done.returncode}:\n"
        + done.stdout[-3000:]
        + done.stderr[-3000:]
    )
    return done.stdout


@dataclass
class Command:
    """``python -m flows.cli <args>`` started as a user would, its output collected."""

    args: list[str]
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *self.args],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(
            target=lambda: self.lines.extend(self.proc.stdout or []), daemon=True
        )
        self.reader.start()

    def wait_for_line(self, text: str, timeout: float) -> None:
        wait_for(lambda: any(text in line for line in self.lines), timeout, repr(text))

    def interrupt(self, timeout: float) -> int:
        """Ctrl-C to the whole process group; its exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()  # the pipe is ours to close (else a ResourceWarning)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)
