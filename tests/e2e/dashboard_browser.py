"""Driving the dashboard in Debian's chromium: the API in its own process, pages, tables.

Shared by the dashboard's browser tests; screenshots and figures go to ``data/e2e/dashboard/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.e2e.helpers import REPO, free_port, run_qbtc

SHOTS = REPO / "data" / "e2e" / "dashboard"
CHROMIUM = "/usr/bin/chromium"


def cycle_env(data_dir: Path, tmp: Path, **extra: str) -> dict[str, str]:
    """Environment of `qbtc run` and `qbtc api` over `data_dir`, nothing from this shell."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QBTC_"))}
    return {
        **keep,
        "QBTC_DATA_DIR": str(data_dir),
        "QBTC_BACKFILL_DAYS": "1",
        "QBTC_SYMBOLS": "BTC/USDT:USDT,ETH/USDT:USDT",
        "QBTC_API_RATE_LIMIT": "100000/minute",
        "PREFECT_HOME": str(tmp / "prefect"),
        "PYTHONPATH": str(REPO),
        **extra,
    }


def run_cycle(env: dict[str, str], as_of: str) -> None:
    started = time.monotonic()
    run_qbtc("run", "--as-of", as_of, env=env, timeout=300)
    print(f"qbtc run --as-of {as_of}: {time.monotonic() - started:.1f} s")


class Api:
    """``qbtc api`` in its own process, and an HTTP client with the token."""

    def __init__(self, env: dict[str, str], token: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "api", "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.http.get("/api/desk").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError("qbtc api did not answer within 60 s")

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is missing: run `make browser` (make test-e2e does)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def open_page(browser: Browser, dark: bool = False) -> tuple[Page, list[str]]:
    page = browser.new_page(
        viewport={"width": 1440, "height": 900}, color_scheme="dark" if dark else "light"
    )
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def table_items(page: Page, table: str) -> int:
    """Items the table holds (a long table renders only the rows in view)."""
    box = page.locator(f"#{table}")
    if box.locator("table").count() == 0:
        assert box.locator(".empty").count() == 1
        return 0
    items = int(box.locator("table").get_attribute("data-items") or -1)
    rendered = box.locator("tbody tr:not(.group):not(.spacer)").count()
    virtual = "virtual" in (box.locator("table").get_attribute("class") or "")
    assert rendered == items or (virtual and 0 < rendered < items)
    return items


def shoot(page: Page, name: str) -> None:
    full = name.startswith("full")
    if full:  # the sticky header would be painted once per viewport height
        page.add_style_tag(content=".top { position: static; }")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
    if full:
        page.add_style_tag(content=".top { position: sticky; }")
