"""The dashboard in a real browser (Debian's chromium driven by playwright).

On the lake of real ``qbtc run`` cycles, served by ``qbtc api`` with a token: the page asks
for the token once, every panel holds what the API returns, no console error, an order's
lineage opens on click, the keyboard moves between panels and rows, and a new cycle shows up
without a reload. On a synthetic lake of 500 positions and 100,000 equity points it measures
first paint and responsiveness. Screenshots and figures go to ``data/e2e/dashboard/``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from qbtc.lake import write_dataset
from qbtc.schemas import get_dataset
from tests.api.lakedata import frame, position

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "data" / "e2e" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "e2e-dashboard-token"
FIRST_CYCLE, SECOND_CYCLE = "2026-12-01T00:00:00Z", "2026-12-01T00:30:00Z"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, tmp: Path, **extra: str) -> dict[str, str]:
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


def _run_cycle(env: dict[str, str], as_of: str) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--as-of", as_of],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"qbtc run --as-of {as_of}: {time.monotonic() - started:.1f} s")


class Api:
    """``qbtc api`` in its own process, and an HTTP client with the token."""

    def __init__(self, env: dict[str, str], token: str | None) -> None:
        self.port = _free_port()
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


def _open(browser: Browser, dark: bool = False) -> tuple[Page, list[str]]:
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


def _rows(page: Page, table: str) -> int:
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


def _shoot(page: Page, name: str) -> None:
    full = name.startswith("full")
    if full:  # the sticky header would be painted once per viewport height
        page.add_style_tag(content=".top { position: static; }")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
    if full:
        page.add_style_tag(content=".top { position: sticky; }")


def _check_panels(page: Page, api: Api) -> dict[str, Any]:
    """Every panel holds what the API returns; returns what was compared."""
    positions = api.get("/api/positions", limit=1000)["items"]
    perps = [p for p in positions if p["type"] == "perp"]
    options = [p for p in positions if p["type"] == "option"]
    assert positions, "the pipeline left no open position to show"
    assert _rows(page, "perps-table") == len(perps)
    assert _rows(page, "options-table") == len(options)
    if not options:
        assert "no open option positions" in page.inner_text("#options-table")
    structures = {p["structure_id"] for p in options if p.get("structure_id")}
    if structures:
        groups = page.locator("#options-table tr.group").all_inner_texts()
        assert len(groups) == len(structures)
        for structure in structures:
            assert any(f"Structure {structure}" in g for g in groups)
    exposures = api.get("/api/exposures")
    assert _rows(page, "exposure-table") == len(exposures["by_underlying"])
    for row in exposures["by_underlying"]:
        assert row["underlying"] in page.inner_text("#exposure-table")

    pnl = api.get("/api/pnl", window="all", max_points=2000)
    assert page.evaluate("qbtc.panels.account.charts[0].data[0].length") == len(pnl["timestamp"])
    equity = next(value for value in reversed(pnl["equity"]) if value is not None)
    assert f"{equity:,.0f}" in page.inner_text("#account-kpis")

    risk = api.get("/api/risk/metrics", limit=1)
    assert _rows(page, "risk-table") == len(risk["latest"])
    assert _rows(page, "stress-table") == len(api.get("/api/risk/stress")["scenarios"])

    desk = api.get("/api/desk")
    symbol = desk["symbols"][0]
    bars = api.get(f"/api/market/{symbol}/ohlcv", timeframe="1m", limit=1000)["items"]
    assert page.evaluate("qbtc.panels.market.charts[0].data[0].length") == len(bars)
    since = bars[0]["timestamp"]
    signals_here = api.get("/api/signals", symbol=symbol, since=since, limit=1000)["items"]
    markers = page.evaluate(
        "qbtc.panels.market.charts[0].data.slice(2, 5)"
        ".reduce((n, s) => n + s.filter((v) => v !== null).length, 0)"
    )
    decision_bars = {s["timestamp"] for s in signals_here}
    assert markers == len(decision_bars) > 0
    assert _rows(page, "prices-table") == len(desk["symbols"])
    for underlying in desk["option_underlyings"]:
        chain = api.get(f"/api/options/{underlying}/chain")
        assert chain["quotes"], f"no {underlying} option chain"
        assert page.locator(f"#chart-smile-{underlying} canvas").count() >= 1
    assert page.locator("#chart-term canvas").count() >= 1

    signals = api.get("/api/signals", limit=200)["items"]
    latest_run = signals[0]["run_id"]
    assert _rows(page, "signals-table") == sum(s["run_id"] == latest_run for s in signals)
    assert latest_run[:8] in page.inner_text("#signals-meta")
    views = api.get("/api/vol-views", limit=100)["items"]
    assert views, "the pipeline stored no volatility view"
    assert _rows(page, "vol-views-table") == sum(v["run_id"] == views[0]["run_id"] for v in views)

    orders = api.get("/api/orders", limit=300)
    assert _rows(page, "orders-table") == len(orders["items"])
    health = api.get("/api/health")
    assert _rows(page, "freshness-table") == len(health["datasets"])
    runs = api.get("/api/runs", limit=20)["items"]
    assert _rows(page, "runs-table") == len(runs)
    alerts = api.get("/api/alerts", limit=50)["items"]
    assert _rows(page, "alerts-table") == len(alerts)
    gate = "gate pass" if health["quality_gate"]["passed"] else "gate FAIL"
    assert page.inner_text("#pill-gate") == gate
    quarantine = api.get("/api/quarantine")["datasets"]
    controls = page.inner_text("#controls")
    for row in quarantine:
        assert f"{row['dataset']} {row['last_gate_rows']} / {row['rows']}" in controls
    if not quarantine:
        assert re.search(r"Quarantined rows \(last gate / all\)\s+none", controls)
    spec = api.get("/openapi.json")
    if "/api/backtests" in spec["paths"]:
        assert _rows(page, "backtests-table") == len(api.get("/api/backtests").get("items", []))
    else:
        assert "no backtests yet" in page.inner_text("#backtests-table")
    return {"orders": orders["total"], "run": latest_run, "positions": len(positions)}


def _check_lineage_and_keyboard(page: Page, api: Api) -> None:
    first = api.get("/api/orders", limit=1)["items"][0]
    lineage = api.get(f"/api/orders/{first['client_order_id']}/lineage")
    page.keyboard.press("6")
    assert page.evaluate("document.activeElement.id") == "orders"
    row = page.locator("#orders-table tbody tr").first
    row.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement._index") == 1
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    dialog = page.locator("#detail-dialog[open]")
    dialog.wait_for()
    page.wait_for_function(
        "!document.querySelector('#detail-body').textContent.includes('loading')"
    )
    text = dialog.inner_text()
    assert first["client_order_id"] in text
    assert "[object" not in text
    for event in lineage["events"]:
        assert event["event"] in text
    if lineage["signal"]:
        assert lineage["signal"]["rationale"] in text
    assert lineage["run"]["run_id"] in text
    link = page.locator("#detail-body a[href*='/runs/flow-run/']").first
    assert link.get_attribute("href").endswith(f"/runs/flow-run/{first['run_id']}")
    _shoot(page, "lineage")
    page.keyboard.press("Escape")
    assert page.locator("#detail-dialog[open]").count() == 0


@pytest.mark.timeout(600)  # two real cycles; about a minute and a half on an idle machine
def test_dashboard_shows_the_book_of_a_real_run_and_follows_a_new_cycle(browser, tmp_path):
    data_dir = tmp_path / "data"
    env = _env(data_dir, tmp_path, QBTC_API_TOKEN=TOKEN)
    _run_cycle(env, FIRST_CYCLE)
    api = Api(env, TOKEN)
    try:
        page, errors = _open(browser)
        page.goto(api.url + "/")
        page.locator("#token-dialog[open]").wait_for()
        _shoot(page, "token")
        page.fill("#token-input", TOKEN)
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        page.wait_for_function("document.querySelector('#pill-live').textContent === 'live'")
        page.evaluate("window.notReloaded = true")
        before = _check_panels(page, api)
        _shoot(page, "full-light")
        for panel in ("account", "book", "risk", "market", "signals", "orders", "operations"):
            page.locator(f"#{panel}").screenshot(path=str(SHOTS / f"panel-{panel}.png"))
        _check_lineage_and_keyboard(page, api)
        page.keyboard.press("t")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        _shoot(page, "full-dark")
        page.keyboard.press("t")

        _run_cycle(env, SECOND_CYCLE)
        new_run = api.get("/api/signals", limit=1)["items"][0]["run_id"]
        assert new_run != before["run"]
        page.wait_for_function(
            f"document.querySelector('#signals-meta').textContent.includes('{new_run[:8]}')",
            timeout=60_000,
        )
        page.wait_for_timeout(1500)  # let the last refresh settle
        after = _check_panels(page, api)
        assert after["orders"] > before["orders"]
        assert page.evaluate("window.notReloaded") is True
        _shoot(page, "full-after-second-cycle")
        assert errors == []
    finally:
        api.stop()


# --- responsiveness on a large book ------------------------------------------------------------

END = datetime(2026, 12, 1, tzinfo=UTC)
POSITIONS, POINTS = 500, 100_000
#: Option legs of the large book: two expiries, so two groups in the options table.
OPTION_LEGS = (
    (END + timedelta(days=7), 40000, "call"),
    (END + timedelta(days=7), 40000, "put"),
    (END + timedelta(days=28), 45000, "call"),
)


def _large_lake(data_dir: Path) -> None:
    """500 perp positions, 3 option legs and 100,000 equity points (risk rows, phase book)."""
    root = data_dir / "lake"
    rows = [
        position(f"C{i:03d}/USDT:USDT", float(i % 7 + 1) * (1 if i % 2 else -1), 100.0 + i, END)
        for i in range(POSITIONS)
    ]
    for k, (expiry, strike, kind) in enumerate(OPTION_LEGS):
        leg = position(f"BTC/USD:BTC-{expiry:%y%m%d}-{strike}-{kind[0].upper()}", 1.0, 0.05, END)
        greeks = {"delta": 0.5 - k * 0.2, "gamma": 1e-5, "vega": 12.0, "theta": -3.0}
        leg.update(type="option", underlying="BTC", expiry=expiry, strike=float(strike))
        rows.append({**leg, "option_type": kind, **greeks})
    write_dataset(root, "positions", frame(rows, "positions"))
    dataset = get_dataset("risk_metrics")
    wave = pl.int_range(0, POINTS, eager=True).cast(pl.Float64) / 1000.0
    values = {
        "timestamp": pl.datetime_range(
            END - timedelta(minutes=POINTS - 1), END, "1m", time_zone="UTC", eager=True
        ),
        "portfolio_id": "main",
        "run_id": "synthetic",
        "method": "monte_carlo",
        "phase": "book",
        "equity": 1_000_000.0 + wave.sin() * 5_000.0,
        "drawdown": (wave.sin() * -0.005).clip(lower_bound=0.0),
        "var": 5_000.0,
        "confidence": 0.99,
        "horizon_days": 1.0,
    }
    risk = pl.DataFrame({"timestamp": values.pop("timestamp")}).with_columns(
        *(
            pl.lit(v).alias(k) if not isinstance(v, pl.Series) else v.alias(k)
            for k, v in values.items()
        ),
        *(
            pl.lit(None if name in dataset.nullable else 0.0, dtype).alias(name)
            for name, dtype in dataset.schema.items()
            if name not in values and name != "timestamp"
        ),
    )
    write_dataset(root, "risk_metrics", risk.select(list(dataset.schema)))


_MEASURE = """async () => {
  // Each figure: from the action to the next painted frame, repeated; median and worst.
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const time = async (act) => { const t = performance.now(); await act(); await frame(); return performance.now() - t; };
  const stats = (xs) => { const s = [...xs].sort((a, b) => a - b); return [s[s.length >> 1], s[s.length - 1]]; };
  const repeat = async (n, act) => { const xs = []; for (let i = 0; i < n; i++) xs.push(await time(() => act(i))); return stats(xs); };
  const out = {};
  const book = qbtc.panels.book.tables.perps;
  const rows = qbtc.positions.filter((p) => p.quantity !== 0 && p.type === 'perp').map((p) => ({...p, notional: p.quantity * p.mark_price}));
  [out.table_render_ms, out.table_render_ms_max] = await repeat(5, () => { book.signature = null; book.setRows(rows); });
  [out.table_sort_ms, out.table_sort_ms_max] = await repeat(6, () => document.querySelector('#perps-table th:nth-child(3)').click());
  document.querySelector('#perps-table tbody tr').focus();
  const key = (k) => document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}));
  [out.table_arrow_key_ms, out.table_arrow_key_ms_max] = await repeat(20, () => key('ArrowDown'));
  out.table_focused_index = document.activeElement._index;
  [out.table_end_key_ms, out.table_end_key_ms_max] = await repeat(4, (i) => key(i % 2 ? 'Home' : 'End'));
  await time(() => key('End'));
  out.table_last_row = document.activeElement.cells[0].textContent;
  const chart = qbtc.panels.account.charts[0];
  const u = chart.plot;
  out.chart_points = chart.data[0].length;
  [out.chart_draw_ms, out.chart_draw_ms_max] = await repeat(5, () => chart.setData(chart.data));
  [out.chart_cursor_ms, out.chart_cursor_ms_max] = await repeat(30, (i) => u.setCursor({left: (i + 1) * (u.over.clientWidth / 31), top: 40}));
  [out.chart_zoom_ms, out.chart_zoom_ms_max] = await repeat(4, (i) => u.setScale('x', {min: chart.data[0][1000 * (i + 1)], max: chart.data[0][50000 + i]}));
  return out;
}"""


def test_dashboard_first_paint_and_responsiveness_on_a_large_book(browser, tmp_path):
    data_dir = tmp_path / "data"
    _large_lake(data_dir)
    api = Api(_env(data_dir, tmp_path), None)
    try:
        page, errors = _open(browser)
        page.goto(f"{api.url}/?points={POINTS}")
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        paint = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        first_byte = page.evaluate("performance.getEntriesByType('navigation')[0].responseStart")
        ready = page.evaluate("qbtc.readyAt")
        assert _rows(page, "perps-table") == POSITIONS
        assert _rows(page, "options-table") == len(OPTION_LEGS)
        groups = page.locator("#options-table tr.group").all_inner_texts()
        assert len(groups) == 2
        assert groups[0].startswith("BTC · expiry 2026-12-08 · 2 legs · delta 0.800000 coin")
        figures = page.evaluate(_MEASURE)
        assert figures["chart_points"] == POINTS
        assert figures["table_focused_index"] == 20
        assert figures["table_last_row"] == page.evaluate(
            "qbtc.panels.book.tables.perps.sorted().at(-1).symbol"
        )
        assert _rows(page, "perps-table") == POSITIONS
        _shoot(page, "large-book")
        figures.update(
            first_byte_ms=first_byte, first_contentful_paint_ms=paint, data_ready_ms=ready
        )
        figures = {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}
        (SHOTS / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
        print("dashboard figures:", json.dumps(figures))
        assert paint is not None
        assert errors == []
    finally:
        api.stop()


def test_dashboard_of_a_fresh_desk_says_what_to_do_without_an_error(browser, tmp_path):
    """Before the first run (a fresh ``make up``): every panel says it is empty, no error."""
    api = Api(_env(tmp_path / "data", tmp_path), None)
    try:
        page, errors = _open(browser)
        page.goto(api.url + "/")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        for table in ("perps-table", "orders-table", "signals-table", "runs-table"):
            assert _rows(page, table) == 0
        assert "run a cycle" in page.inner_text("#account")
        assert "no market data yet" in page.inner_text("#market")
        assert page.locator("#main p.error").count() == 0
        _shoot(page, "full-fresh-desk")
        assert errors == []
    finally:
        api.stop()
