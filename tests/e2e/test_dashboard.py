"""The dashboard in a real browser (Debian's chromium driven by playwright).

On the lake of real ``qbtc run`` cycles, served by ``qbtc api`` with a token: the page asks
for the token once, every panel holds what the API returns, no console error, an order's
lineage opens on click, the keyboard moves between panels and rows, and a new cycle shows up
without a reload. Before any run, every panel says it is empty. Screenshots go to
``data/e2e/dashboard/``; ``test_dashboard_speed.py`` measures first paint and responsiveness.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.dashboard_browser import (
    SHOTS,
    Api,
    browser,
    cycle_env,
    open_page,
    run_cycle,
    shoot,
    table_items,
)

TOKEN = "e2e-dashboard-token"
FIRST_CYCLE, SECOND_CYCLE = "2026-12-01T00:00:00Z", "2026-12-01T00:30:00Z"
pytestmark = pytest.mark.slow
__all__ = ["browser"]  # the fixture, used by name


def _check_panels(page: Page, api: Api) -> dict[str, Any]:
    """Every panel holds what the API returns; returns what was compared."""
    positions = api.get("/api/positions", limit=1000)["items"]
    perps = [p for p in positions if p["type"] == "perp"]
    options = [p for p in positions if p["type"] == "option"]
    assert positions, "the pipeline left no open position to show"
    assert table_items(page, "perps-table") == len(perps)
    assert table_items(page, "options-table") == len(options)
    if not options:
        assert "no open option positions" in page.inner_text("#options-table")
    structures = {p["structure_id"] for p in options if p.get("structure_id")}
    if structures:
        groups = page.locator("#options-table tr.group").all_inner_texts()
        assert len(groups) == len(structures)
        for structure in structures:
            assert any(f"Structure {structure}" in g for g in groups)
    exposures = api.get("/api/exposures")
    assert table_items(page, "exposure-table") == len(exposures["by_underlying"])
    for row in exposures["by_underlying"]:
        assert row["underlying"] in page.inner_text("#exposure-table")

    pnl = api.get("/api/pnl", window="all", max_points=2000)
    assert page.evaluate("qbtc.panels.account.charts[0].data[0].length") == len(pnl["timestamp"])
    equity = next(value for value in reversed(pnl["equity"]) if value is not None)
    assert f"{equity:,.0f}" in page.inner_text("#account-kpis")

    risk = api.get("/api/risk/metrics", limit=1)
    assert table_items(page, "risk-table") == len(risk["latest"])
    assert table_items(page, "stress-table") == len(api.get("/api/risk/stress")["scenarios"])

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
    assert table_items(page, "prices-table") == len(desk["symbols"])
    for underlying in desk["option_underlyings"]:
        chain = api.get(f"/api/options/{underlying}/chain")
        assert chain["quotes"], f"no {underlying} option chain"
        assert page.locator(f"#chart-smile-{underlying} canvas").count() >= 1
    assert page.locator("#chart-term canvas").count() >= 1

    signals = api.get("/api/signals", limit=200)["items"]
    latest_run = signals[0]["run_id"]
    assert table_items(page, "signals-table") == sum(s["run_id"] == latest_run for s in signals)
    assert latest_run[:8] in page.inner_text("#signals-meta")
    views = api.get("/api/vol-views", limit=100)["items"]
    assert views, "the pipeline stored no volatility view"
    assert table_items(page, "vol-views-table") == sum(
        v["run_id"] == views[0]["run_id"] for v in views
    )

    orders = api.get("/api/orders", limit=300)
    assert table_items(page, "orders-table") == len(orders["items"])
    health = api.get("/api/health")
    assert table_items(page, "freshness-table") == len(health["datasets"])
    runs = api.get("/api/runs", limit=20)["items"]
    assert table_items(page, "runs-table") == len(runs)
    alerts = api.get("/api/alerts", limit=50)["items"]
    assert table_items(page, "alerts-table") == len(alerts)
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
        assert table_items(page, "backtests-table") == len(
            api.get("/api/backtests").get("items", [])
        )
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
    shoot(page, "lineage")
    page.keyboard.press("Escape")
    assert page.locator("#detail-dialog[open]").count() == 0


@pytest.mark.timeout(600)  # two real cycles; about a minute and a half on an idle machine
def test_dashboard_shows_the_book_of_a_real_run_and_follows_a_new_cycle(browser, tmp_path):
    data_dir = tmp_path / "data"
    env = cycle_env(data_dir, tmp_path, QBTC_API_TOKEN=TOKEN)
    run_cycle(env, FIRST_CYCLE)
    api = Api(env, TOKEN)
    try:
        page, errors = open_page(browser)
        page.goto(api.url + "/")
        page.locator("#token-dialog[open]").wait_for()
        shoot(page, "token")
        page.fill("#token-input", TOKEN)
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        page.wait_for_function("document.querySelector('#pill-live').textContent === 'live'")
        page.evaluate("window.notReloaded = true")
        before = _check_panels(page, api)
        shoot(page, "full-light")
        for panel in ("account", "book", "risk", "market", "signals", "orders", "operations"):
            page.locator(f"#{panel}").screenshot(path=str(SHOTS / f"panel-{panel}.png"))
        _check_lineage_and_keyboard(page, api)
        page.keyboard.press("t")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        shoot(page, "full-dark")
        page.keyboard.press("t")

        run_cycle(env, SECOND_CYCLE)
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
        shoot(page, "full-after-second-cycle")
        assert errors == []
    finally:
        api.stop()


def test_dashboard_of_a_fresh_desk_says_what_to_do_without_an_error(browser, tmp_path):
    """Before the first run (a fresh ``make up``): every panel says it is empty, no error."""
    api = Api(cycle_env(tmp_path / "data", tmp_path), None)
    try:
        page, errors = open_page(browser)
        page.goto(api.url + "/")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        for table in ("perps-table", "orders-table", "signals-table", "runs-table"):
            assert table_items(page, table) == 0
        assert "run a cycle" in page.inner_text("#account")
        assert "no market data yet" in page.inner_text("#market")
        assert page.locator("#main p.error").count() == 0
        shoot(page, "full-fresh-desk")
        assert errors == []
    finally:
        api.stop()
