"""The dashboard's speed in a real browser: first paint, a 500-row table, a 100,000-point chart.

A synthetic lake (500 perp positions, 3 option legs, 100,000 equity points) served by
``qbtc api``; each figure is the time from an action to the next painted frame, repeated
(median and worst). Figures are printed and written to ``data/e2e/dashboard/figures.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from qbtc.lake import write_dataset
from qbtc.schemas import get_dataset
from tests.api.lakedata import frame, position
from tests.e2e.dashboard_browser import (
    SHOTS,
    Api,
    browser,
    cycle_env,
    open_page,
    shoot,
    table_items,
)

pytestmark = pytest.mark.slow
__all__ = ["browser"]  # the fixture, used by name

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
    api = Api(cycle_env(data_dir, tmp_path), None)
    try:
        page, errors = open_page(browser)
        page.goto(f"{api.url}/?points={POINTS}")
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        paint = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        first_byte = page.evaluate("performance.getEntriesByType('navigation')[0].responseStart")
        ready = page.evaluate("qbtc.readyAt")
        assert table_items(page, "perps-table") == POSITIONS
        assert table_items(page, "options-table") == len(OPTION_LEGS)
        groups = page.locator("#options-table tr.group").all_inner_texts()
        assert len(groups) == 2
        assert groups[0].startswith("BTC · expiry 2026-12-08 · 2 legs · delta 0.800000 coin")
        figures = page.evaluate(_MEASURE)
        assert figures["chart_points"] == POINTS
        assert figures["table_focused_index"] == 20
        assert figures["table_last_row"] == page.evaluate(
            "qbtc.panels.book.tables.perps.sorted().at(-1).symbol"
        )
        assert table_items(page, "perps-table") == POSITIONS
        shoot(page, "large-book")
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
